"""Lin 2024's Conv1D and DeepASMR's six trigger classifiers: build, train, predict, catalogue, sweep.

Python API (stable names, used by asmr_generate as the judge of generated slices):
`models.build(name, input_shape=None, num_classes=None, **params)`, `models.NAMES`,
`models.embedding_model(model)`, `train_classifier(name, data_root, out, epochs, resume=False,
seed=0, **overrides) -> Path` and `predict_proba(model, x)`.
"""
