"""Lin 2024's Conv1D and DeepASMR's six trigger classifiers: build, train, predict, catalogue, sweep.

Python API (stable names, used by asmr_generate as the judge of generated slices):
`models.build(name, input_shape=None, num_classes=None, **params)`, `models.NAMES`,
`models.embedding_model(model)`, `train_classifier(name, RunSpec(out, data, ...), **overrides) -> RunResult`
(asmr_training.run_spec, asmr_training.start) and `predict_proba(model, x)`.
"""

__all__ = ["predict_proba", "train_classifier"]


def __getattr__(name):
    # Lazy, so `import asmr_classify` stays cheap until training or prediction is needed.
    if name == "train_classifier":
        from asmr_classify.train import train_classifier

        return train_classifier
    if name == "predict_proba":
        from asmr_classify.predict import predict_proba

        return predict_proba
    raise AttributeError(f"module 'asmr_classify' has no attribute {name!r}")
