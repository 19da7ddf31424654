"""audioprep.allocator: after TensorFlow's mallopt(M_TRIM_THRESHOLD, 128 KB), arrays of a few MB made and freed
in a loop (a training step's batches) are reused from the heap instead of faulting in afresh each time."""

from __future__ import annotations

import subprocess
import sys

LOOP = """
import ctypes, resource, sys
import numpy as np
from audioprep import allocator
if sys.argv[1] == "tuned":
    assert allocator.tune()
ctypes.CDLL("libc.so.6").mallopt(-1, 128 * 1024)  # what TensorFlow's generator dataset sets (M_TRIM_THRESHOLD)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(100):
    a = np.ones(1_000_000)  # 8 MB, touched
    del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", LOOP, mode], capture_output=True, text=True, timeout=120, check=True)
    return int(done.stdout)


def test_big_arrays_are_reused_not_faulted_in_afresh():
    plain, tuned = _faults("plain"), _faults("tuned")
    # each plain 8 MB array is a fresh mapping whose pages fault in again every round (42,100-93,200 faults
    # measured, fewer where numpy's huge-page advice takes); tuned, the heap's pages are reused (407-918)
    assert plain > 10 * 1000
    assert tuned < plain / 20
