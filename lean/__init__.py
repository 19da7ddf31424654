"""LEAN (Choudhary et al. 2023): YAMNet + Wave Encoder + cross attention, evaluation and TFLite export."""
