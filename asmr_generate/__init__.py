"""Trigger-sound generation: DeepASMR's AE / VAE / cGAN on log-mel slices, Adell's WaveNet and WaveRNN."""
