"""Run a batch kernel over cache-sized tiles of clips, one tile per core at a time.

A whole-batch array program streams every intermediate (frames, spectra, power) through main
memory; tiles of a few MiB of frames keep them in a core's cache, and a thread per core keeps
every core busy. numpy, scipy.fft and OpenBLAS release the GIL, so threads suffice; BLAS is held
to one thread while tiles run, so that the tiles, not BLAS's own threads, share the cores.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from audioprep import blas

TILE_BYTES = 4 << 20  # frames per tile: about one 10 s clip at 22.05 kHz framed for a 2048-point FFT


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="audioprep-tile")


if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's pool threads
    os.register_at_fork(after_in_child=_pool.cache_clear)


def map_tiles(kernel, clips: np.ndarray, frame_bytes_per_clip: int) -> np.ndarray:
    """`kernel(clips[a:b])` over consecutive tiles of about TILE_BYTES of frames, concatenated.

    `kernel` maps a (k, ...) tile to a (k, ...) result and must accept k == 0.
    """
    per_tile = max(1, TILE_BYTES // max(frame_bytes_per_clip, 1))
    if len(clips) <= per_tile or cores() == 1:
        return kernel(clips)
    tiles = [clips[start : start + per_tile] for start in range(0, len(clips), per_tile)]
    with blas.one_thread():
        return np.concatenate(list(_pool().map(kernel, tiles)))
