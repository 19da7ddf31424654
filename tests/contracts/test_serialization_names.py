"""Keras registered names of the project's custom layers and models.

A saved `.keras` file finds each custom class by its registered name (`package>Name`), so those names
must survive any move of the modules that define them. REGISTERED is the set as it stood before
asmr_generate was split into `mel/` and `wave/` (and before the YAMNet front end moved to `lean`).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import zipfile

import keras
import numpy as np
import pytest

PACKAGES = ("asmr_classify", "asmr_generate", "audioprep", "lean")
REGISTERED = (
    "asmr_generate>CoarseFineInputs",
    "asmr_generate>DualSoftmax",
    "asmr_generate>MelAE",
    "asmr_generate>MelCGAN",
    "asmr_generate>MelVAE",
    "asmr_generate>OneHotCodes",
    "asmr_generate>ResidualBlock",
    "asmr_generate>SplitChannels",
    "asmr_generate>WaveRNNLayer",
    "audioprep>YamnetLogMel",
    "lean>AffinityAttention",
    "lean>BahdanauAttention",
    "lean>HubYamnet",
    "lean>UnrolledBiLSTM",
)
# Names added since (new layers, not renames): listed so that an accidental rename still fails.
ADDED = ("lean>SpecAugment", "audioprep>ReplicaLossScaleOptimizer")
# Where asmr_generate's Keras classes lived before the split: files saved then record these modules.
OLD_MODULES = {
    "asmr_generate.mel.models": "asmr_generate.mel_models",
    "asmr_generate.wave.wavenet": "asmr_generate.wavenet",
    "asmr_generate.wave.wavernn": "asmr_generate.wavernn",
}


def _import_every_module() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            if not info.name.endswith(".__main__"):
                importlib.import_module(info.name)


def _project_objects() -> dict[str, type]:
    _import_every_module()
    return {k: v for k, v in keras.saving.get_custom_objects().items() if k.split(">")[0] in PACKAGES}


def test_registered_names_are_unchanged():
    assert sorted(_project_objects()) == sorted(REGISTERED + ADDED)


def test_each_class_reports_the_name_it_is_registered_under():
    for name, cls in _project_objects().items():
        assert keras.saving.get_registered_name(cls) == name


def _as_if_saved_before_the_split(path, patched):
    """Rewrite a saved model's config so every asmr_generate class names its pre-split module."""
    with zipfile.ZipFile(path) as src:
        files = {n: src.read(n) for n in src.namelist()}
    moved = []

    def rewrite(node):
        if isinstance(node, dict):
            if node.get("module") in OLD_MODULES:
                moved.append(node["module"])
                node["module"] = OLD_MODULES[node["module"]]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    config = json.loads(files["config.json"])
    rewrite(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(patched, "w") as dst:
        for name, data in files.items():
            dst.writestr(name, data)
    return set(moved)


def _wavenet():
    from asmr_generate.wave.params import WaveNetParams
    from asmr_generate.wave.wavenet import build_wavenet

    model = build_wavenet(WaveNetParams(layers_per_stack=2, stacks=1, residual_channels=4, skip_channels=4,
                                        channels=2), triggers=2)
    codes = np.random.default_rng(0).integers(0, 256, (1, 20, 2))
    return model, lambda m: np.asarray(m({"audio": codes, "trigger": np.array([1])}))


def _wavernn():
    from asmr_generate.wave.params import WaveRNNParams
    from asmr_generate.wave.wavernn import build_wavernn

    model = build_wavernn(WaveRNNParams(hidden=8, output_hidden=8, embedding=2), 2, "concat")
    samples = np.random.default_rng(0).integers(0, 65536, (1, 21))
    return model, lambda m: np.asarray(m({"samples": samples, "trigger": np.array([1])})["fine"])


def _mel_vae():
    from asmr_generate.mel.models import build
    from asmr_generate.mel.params import VAEParams

    model = build("vae", VAEParams(filters=2, latent_dim=4), 16, 16, -8.0, 0.0)
    x = np.random.default_rng(0).normal(-4.0, 1.0, (2, 16, 16)).astype(np.float32)
    return model, lambda m: np.asarray(m.decode(m.posterior(x)[0]))


def _mel_cgan():
    from asmr_generate.mel.models import build
    from asmr_generate.mel.params import CGANParams

    model = build("cgan", CGANParams(noise_dim=4, embedding_dim=2, filters=2), 16, 16, -8.0, 0.0, classes=["a", "b"])
    return model, lambda m: m.sample("b", 2, seed=3)


@pytest.mark.parametrize("make,modules", [
    (_wavenet, {"asmr_generate.wave.wavenet"}),
    (_wavernn, {"asmr_generate.wave.wavernn"}),
    (_mel_vae, {"asmr_generate.mel.models"}),
    (_mel_cgan, {"asmr_generate.mel.models"}),
])
def test_a_file_naming_the_old_modules_still_loads(make, modules, tmp_path):
    keras.utils.set_random_seed(0)
    model, outputs = make()
    model.save(tmp_path / "new.keras")
    assert _as_if_saved_before_the_split(tmp_path / "new.keras", tmp_path / "old.keras") == modules
    np.testing.assert_allclose(outputs(keras.models.load_model(tmp_path / "old.keras")), outputs(model), atol=1e-6)
