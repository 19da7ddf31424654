"""Adell et al. 2020's waveform generators: WaveNet on 8-bit mu-law and WaveRNN on 16-bit coarse/fine
samples, with their data pipeline, training, fast sampling and sample codecs."""
