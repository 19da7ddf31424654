"""The versions and machine facts written beside every result."""

from __future__ import annotations

import platform
import sys


def environment() -> dict:
    """Versions and machine facts written beside every result."""
    import keras
    import librosa
    import numpy
    import tensorflow as tf

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "librosa": librosa.__version__,
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }
