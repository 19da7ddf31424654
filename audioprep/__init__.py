"""Shared audio core: loading, segmentation, features, inversion, dataset adapters and the synthetic corpus."""
