"""glibc's allocator set so that big arrays are reused, not mapped afresh: far fewer page faults in training.

TensorFlow's generator datasets (Keras feeds a PyDataset through one) call `mallopt(M_TRIM_THRESHOLD, 128 KB)`,
which also switches off glibc's dynamic mmap threshold: from then on every allocation over 128 KB (a batch,
a window block) is a fresh mmap whose pages fault in one by one, and every free hands them back. Measured
on `python experiments/table1.py --quick` with its corpus and embeddings already made (2026-12-07, 2-core
machine, load about 4): 17.0 million minor page faults and 51.9 s of system time in 134 s wall; with the
settings below given as MALLOC_MMAP_THRESHOLD_ / MALLOC_TOP_PAD_, 0.21 million, 4.5 s and 94 s. Setting
them once at start-up (before TensorFlow's call, which changes only the trim threshold) keeps allocations
up to 32 MiB on the heap and 64 MiB of its top when trimming. No-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TOP_PAD, M_MMAP_THRESHOLD = -2, -3  # glibc's malloc.h
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed threshold on 64-bit systems
TOP_PAD = 64 * 1024 * 1024


def tune() -> bool:
    """Apply the settings to this process; False where glibc's mallopt is not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TOP_PAD, TOP_PAD))
