"""TFLite Model Metadata for audio classifiers: written into our exports, read back by our tools, displayed.

Android's audio engine (MediaPipe Tasks' AudioClassifier) refuses a model without metadata: it
reads the input's sample rate and channel count from `AudioProperties` and the class names from
the output's `TENSOR_AXIS_LABELS` file, packed into the .tflite as a zip archive appended to the
flatbuffer (the metadata spec's way; the model bytes are unchanged in front of it).

Why our own writer: `tflite-support` (the metadata library) pins protobuf < 4 and cannot be
installed beside TensorFlow 2.21, and `mediapipe`'s copy of its writer imports a compiled module
its wheel lacks (`_pywrap_metadata_version`, used to compute the minimum parser version), so it
fails at import. Both only assemble the flatbuffer below from the schema that `mediapipe` ships
(`mediapipe/tasks/metadata/metadata_schema_py_generated.py`), which we load as a plain file:
importing the `mediapipe` package would import TensorFlow, and reading labels must not.

    python -m asmr_tflite.metadata MODEL.tflite     # print a file's metadata as JSON
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import sys
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import flatbuffers
import numpy as np

from audioprep.errors import BadFileError

METADATA_NAME = "TFLITE_METADATA"  # the Model.metadata entry readers look for
METADATA_IDENTIFIER = b"M001"
LABELS_FILE = "labels.txt"
# The schema's change log puts AudioProperties in 1.3.0, the newest feature we write; readers
# older than that would not know the input is audio (the writer's missing helper computed this).
MIN_PARSER_VERSION = "1.3.0"


@dataclass(frozen=True)
class AudioModelInfo:
    """What an exported audio classifier says about itself."""

    name: str
    description: str
    labels: tuple[str, ...]
    sample_rate: int
    version: str = "1"
    author: str = "asmr-toolkit"
    licence: str = "Apache-2.0"
    input_name: str = "waveform"
    output_name: str = "scores"


@cache
def schema():
    """mediapipe's generated metadata schema module, loaded from its file (no TensorFlow import)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mediapipe is not installed: pip install -r requirements.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / "tasks" / "metadata" / "metadata_schema_py_generated.py"
    module_spec = importlib.util.spec_from_file_location("_tflite_metadata_schema", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def metadata_flatbuffer(info: AudioModelInfo) -> bytes:
    """The ModelMetadata flatbuffer: audio in (sample rate, mono), scores out with the labels file."""
    fb = schema()
    audio = fb.ContentT()
    audio.contentPropertiesType = fb.ContentProperties.AudioProperties
    audio.contentProperties = fb.AudioPropertiesT()
    audio.contentProperties.sampleRate = info.sample_rate
    audio.contentProperties.channels = 1
    waveform = fb.TensorMetadataT()
    waveform.name, waveform.content = info.input_name, audio
    waveform.description = f"float32 [1, samples] mono waveform in [-1, 1] at {info.sample_rate} Hz"

    labels = fb.AssociatedFileT()
    labels.name, labels.type = LABELS_FILE, fb.AssociatedFileType.TENSOR_AXIS_LABELS
    labels.description = "class names, one a line, in output order"
    features = fb.ContentT()
    features.contentPropertiesType = fb.ContentProperties.FeatureProperties
    features.contentProperties = fb.FeaturePropertiesT()
    scores = fb.TensorMetadataT()
    scores.name, scores.content, scores.associatedFiles = info.output_name, features, [labels]
    scores.description = f"float32 [1, {len(info.labels)}] class scores"

    subgraph = fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [waveform], [scores]
    model = fb.ModelMetadataT()
    model.name, model.description, model.version = info.name, info.description, info.version
    model.author, model.license, model.minParserVersion = info.author, info.licence, MIN_PARSER_VERSION
    model.subgraphMetadata = [subgraph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


def pack_files(flatbuffer: bytes, files: dict[str, bytes]) -> bytes:
    """`flatbuffer` with `files` appended as an uncompressed zip archive (readers map them in place)."""
    out = io.BytesIO(flatbuffer)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def populate(flatbuffer: bytes, info: AudioModelInfo) -> bytes:
    """A converted model with `info` as its metadata and the labels packed in. The input and output
    tensors are renamed to the metadata's names (they are the only names a stripped model keeps)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    subgraph = model.subgraphs[0]
    if len(subgraph.inputs) != 1 or len(subgraph.outputs) != 1:
        raise ValueError(f"{info.name}: an audio classifier has one input and one output tensor")
    classes = int(subgraph.tensors[subgraph.outputs[0]].shape[-1])
    if classes != len(info.labels):
        raise ValueError(f"{info.name}: {len(info.labels)} labels for {classes} outputs")
    subgraph.tensors[subgraph.inputs[0]].name = info.input_name
    subgraph.tensors[subgraph.outputs[0]].name = info.output_name
    buffer = type(model.buffers[0])()
    buffer.data = np.frombuffer(metadata_flatbuffer(info), np.uint8)
    model.buffers.append(buffer)
    entry = type(model.metadata[0])() if model.metadata else flatbuffer_utils.schema_fb.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [m for m in model.metadata or [] if m.name not in (METADATA_NAME, METADATA_NAME.encode())] + [entry]
    packed = bytes(flatbuffer_utils.convert_object_to_bytearray(model))
    return pack_files(packed, {LABELS_FILE: "".join(f"{name}\n" for name in info.labels).encode()})


def _metadata_bytes(model_bytes: bytes) -> bytes | None:
    from ai_edge_litert import schema_py_generated as tfl

    model = tfl.Model.GetRootAs(model_bytes, 0)
    for i in range(model.MetadataLength()):
        if model.Metadata(i).Name() == METADATA_NAME.encode():
            return model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy().tobytes()
    return None


def packed_files(model_bytes: bytes) -> dict[str, bytes]:
    """The files zip-appended to a model (empty when there are none)."""
    stream = io.BytesIO(model_bytes)
    if not zipfile.is_zipfile(stream):
        return {}
    with zipfile.ZipFile(stream) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_metadata_object(path):
    """The file's ModelMetadataT, or None for a .tflite without metadata."""
    data = _metadata_bytes(Path(path).read_bytes())
    return None if data is None else schema().ModelMetadataT.InitFromPackedBuf(data, 0)


def read_info(path) -> AudioModelInfo | None:
    """An exported audio classifier's metadata and labels; None if the file has no metadata."""
    model_bytes = Path(path).read_bytes()
    data = _metadata_bytes(model_bytes)
    if data is None:
        return None
    fb = schema()
    meta = fb.ModelMetadataT.InitFromPackedBuf(data, 0)
    try:
        waveform = meta.subgraphMetadata[0].inputTensorMetadata[0]
        scores = meta.subgraphMetadata[0].outputTensorMetadata[0]
        rate = waveform.content.contentProperties.sampleRate
        label_file = next(_text(f.name) for f in scores.associatedFiles if f.type == fb.AssociatedFileType.TENSOR_AXIS_LABELS)
        labels = packed_files(model_bytes)[label_file]
    except (TypeError, IndexError, AttributeError, StopIteration, KeyError) as err:
        raise BadFileError(path, f"metadata lacks audio properties or a packed labels file ({err!r})") from err
    return AudioModelInfo(
        name=_text(meta.name), description=_text(meta.description), labels=tuple(labels.decode().splitlines()),
        sample_rate=int(rate), version=_text(meta.version), author=_text(meta.author), licence=_text(meta.license),
        input_name=_text(waveform.name), output_name=_text(scores.name),
    )


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _plain(value):
    """A metadata object tree as JSON-ready values (None fields left out)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {key: _plain(v) for key, v in vars(value).items() if v is not None}
    return value


def _enum_names(enum) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_")}


def describe(path) -> dict:
    """The file's metadata (enum values named) and its packed files, for people to read."""
    fb = schema()
    meta = read_metadata_object(path)
    if meta is None:
        raise BadFileError(path, "no TFLite Model Metadata (MediaPipe's AudioClassifier would refuse it)")
    plain = _plain(meta)
    kinds, files = _enum_names(fb.ContentProperties), _enum_names(fb.AssociatedFileType)
    for subgraph in plain.get("subgraphMetadata", []):
        for tensor in subgraph.get("inputTensorMetadata", []) + subgraph.get("outputTensorMetadata", []):
            content = tensor.get("content", {})
            if "contentPropertiesType" in content:
                content["contentPropertiesType"] = kinds[content["contentPropertiesType"]]
            for file in tensor.get("associatedFiles", []):
                file["type"] = files[file["type"]]
    packed = {name: data.decode(errors="replace").splitlines() for name, data in packed_files(Path(path).read_bytes()).items()}
    return {"file": str(path), "bytes": Path(path).stat().st_size, "metadata": plain, "packed_files": packed}


def main(argv: list[str] | None = None) -> int:
    from audioprep.cli import existing_path, run_cli

    def _main(args_list):
        parser = argparse.ArgumentParser(prog="python -m asmr_tflite.metadata", description=__doc__.split("\n")[0])
        parser.add_argument("model", type=existing_path, help="an exported .tflite file")
        args = parser.parse_args(args_list)
        print(json.dumps(describe(args.model), indent=1))
        return 0

    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())

