"""Where the bytes of a .tflite file go, to say what a size goal can and cannot reach.

Constants are counted by type (int8 weights, int32 biases and index tables, float constants of a
float front end, sparse index arrays), quantization parameters by their scale and zero-point
values; the graph is the rest (operator and tensor tables, flatbuffer offsets); the metadata is its
buffers plus the zip of label files appended to the flatbuffer.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

PARTS = ("int8_constants", "int32_constants", "float_constants", "other_constants", "sparse_indices",
         "quantization", "graph", "metadata")


def _appended_zip_bytes(data: bytes) -> int:
    stream = io.BytesIO(data)
    if not zipfile.is_zipfile(stream):
        return 0
    with zipfile.ZipFile(stream) as archive:
        return len(data) - min((info.header_offset for info in archive.infolist()), default=len(data))


def _sparse_index_bytes(sparsity) -> int:
    total = 0
    for dim in sparsity.dimMetadata or []:
        for vector in (dim.arraySegments, dim.arrayIndices):
            values = getattr(vector, "values", None) if vector is not None else None
            total += 0 if values is None else np.asarray(values).nbytes
    return total


def size_breakdown(path) -> dict[str, int]:
    """Bytes of the file at `path` per part (PARTS); they sum to the file's size."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    data = Path(path).read_bytes()
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    parts = dict.fromkeys(PARTS, 0)
    metadata = {entry.buffer for entry in model.metadata or []}
    parts["metadata"] = _appended_zip_bytes(data) + sum(
        len(model.buffers[i].data) for i in metadata if model.buffers[i].data is not None)
    kinds = {schema.TensorType.INT8: "int8_constants", schema.TensorType.INT32: "int32_constants",
             schema.TensorType.FLOAT32: "float_constants", schema.TensorType.FLOAT16: "float_constants"}
    counted = set(metadata)
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors:
            q = tensor.quantization
            if q is not None:
                parts["quantization"] += 4 * len(q.scale if q.scale is not None else ()) + 8 * len(
                    q.zeroPoint if q.zeroPoint is not None else ())
            if tensor.sparsity is not None:
                parts["sparse_indices"] += _sparse_index_bytes(tensor.sparsity)
            buffer = model.buffers[tensor.buffer]
            if buffer.data is not None and tensor.buffer not in counted:
                counted.add(tensor.buffer)
                parts[kinds.get(tensor.type, "other_constants")] += len(buffer.data)
    parts["graph"] = len(data) - sum(parts.values())
    return parts
