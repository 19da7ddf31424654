"""The table scripts reproducing each paper's tables (`python experiments/tableN.py`, `python -m experiments.tableN`)."""
