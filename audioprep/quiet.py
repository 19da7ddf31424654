"""Imported first by a script that imports TensorFlow: its start-up lines are silenced from the start.

`python experiments/tableN.py` and `python benchmarks/X.py` import Keras (third-party imports sort first)
before any of the toolkit's command plumbing, so the quiet import (audioprep.console) must be armed by an
import of its own, placed before them (ruff's isort keeps it there: the "quiet" section in pyproject.toml).
`--verbose` on the command line leaves TensorFlow's lines alone. The allocator is set up here too, before
TensorFlow changes it (audioprep.allocator).
"""

from audioprep import allocator, console

console.arm_quiet_import()
allocator.tune()
