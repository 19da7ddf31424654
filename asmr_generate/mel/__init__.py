"""DeepASMR's generators (Moon 2020): autoencoder, VAE and conditional GAN on ~1 s log-mel slices,
with their training, vary / blend / sample, the posterior-collapse diagnostic and the timbral judge."""
