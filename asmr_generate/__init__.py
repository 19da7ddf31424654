"""Trigger-sound generation in two packages that share no code: `mel` (DeepASMR's AE / VAE / cGAN on
log-mel slices) and `wave` (Adell's WaveNet and WaveRNN on raw samples); `python -m asmr_generate` fronts both.

`SERIALIZATION_PACKAGE` prefixes the Keras registered name of every custom layer and model in both
(`asmr_generate>MelVAE`). Saved `.keras` files find their classes by that name, not by module path,
so it stays fixed however the modules move.
"""

SERIALIZATION_PACKAGE = "asmr_generate"
