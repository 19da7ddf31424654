"""BLAS held to one thread while the toolkit's own threads share the cores.

The streaming pipelines (decode, features, model and YAMNet's tag pass, each in a thread) and the tiled
feature kernels (audioprep.tiles) already keep every core busy; a small matrix product in one of them
would wake OpenBLAS's pools (numpy's and scipy's), whose threads spin on the cores those threads need.
Measured on a 10-minute mp3 catalogued with an exported classifier on 2 cores: 3.74-4.10 s end to end and
6.4-6.8 s of user CPU with the pools free (five runs), 2.21-2.32 s and 3.4-3.6 s held (three runs).
"""

from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    # made once (1-30 ms), on first use: it holds the BLAS libraries loaded by then. numpy's, which the
    # pipelines' matrix products use, is loaded with numpy; scipy's only once scipy is imported.
    return ThreadpoolController()


def one_thread():
    """A context in which numpy's BLAS (and scipy's, when scipy was imported before the first call) runs in
    the calling thread only."""
    return _controller().limit(limits=1, user_api="blas")
