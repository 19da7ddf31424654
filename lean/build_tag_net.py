"""Builds asmr_audioset/assets/yamnet_tags.tflite, the batched YAMNet the tag pass runs (`asmr_audioset.tag_net`):
`python -m lean.build_tag_net`.

The bundled lite YAMNet takes one waveform a call and computes its log-mel with an int8 DFT; its conv stack's
int8 weights run as dynamically quantized matrix products. The tag pass scores hours of windows, so it runs
the same weights differently: the log-mel in numpy (YAMNet's float front end, `asmr_audioset.log_mel`) and
the conv stack and head as a float network of `BATCH` patches a call. The weights are the bundled model's,
dequantized into the native Keras YAMNet (`lean.yamnet_weights.load_yamnet_tflite`) and stored as float16
(half the bytes of float32; LiteRT widens them to float32 when it loads the file). Needs TensorFlow, which
the tag pass itself never imports.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from asmr_audioset.lite_yamnet import TAG_NET_TFLITE, YAMNET_TFLITE

BATCH = 16  # patches a call: 16 ran at 1.7 ms a patch on one core here, one a call at 2.2 ms


def build(out: Path = TAG_NET_TFLITE, source: Path = YAMNET_TFLITE, batch: int = BATCH) -> Path:
    """Convert the native YAMNet with `source`'s weights, from its log-mel patch to its scores, to `out`."""
    import keras
    import tensorflow as tf

    from lean.params import LeanParams
    from lean.yamnet import yamnet
    from lean.yamnet_weights import load_yamnet_tflite

    params = LeanParams()
    net = load_yamnet_tflite(yamnet(params), source)
    stack = keras.Model(net.get_layer("patch_image").output, net.outputs[0])
    frames, bands = params.front_end.patch_frames, params.front_end.mel_bands
    patches = keras.Input((frames, bands, 1), batch_size=batch, name="log_mel_patches")
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(patches, stack(patches)))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    out.write_bytes(converter.convert())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lean.build_tag_net", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=TAG_NET_TFLITE, help="where to write (default: the asset)")
    args = parser.parse_args(argv)
    print(build(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
