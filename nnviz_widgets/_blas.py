"""How many threads NumPy's BLAS may use for the small linear algebra the package does.

OpenBLAS's helper threads spin while they wait. On a machine whose cores are busy (training beside the views, other
jobs, a two-core Colab or Binder machine) a small multi-threaded SVD spends most of its time spinning against them:
an SVD of digits' 1,797 x 64 rows took 0.23-1.0 s with OpenBLAS's two threads and 10-14 ms with one, measured on a
loaded two-core machine. Threads only pay on large matrices, so one thread is used up to :data:`SMALL` elements.
"""

from __future__ import annotations

import contextlib

SMALL = 1 << 20  # elements (8 MB of float64): up to here one BLAS thread is as fast as several, and never spins

_controller = None  # threadpoolctl's controller, made on first use (it scans the loaded libraries once)


def controller():
    """threadpoolctl's controller, made once (25-35 ms: it scans the loaded libraries). Views that will limit BLAS
    beside training make it when they are made, so that cost is not paid inside the training loop."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread (for work that runs beside training, whatever its size)."""
    return controller().limit(limits=1, user_api="blas")


def blas_threads_for(size: int):
    """One BLAS thread for a problem of at most :data:`SMALL` elements; BLAS's own choice above it."""
    return one_blas_thread() if size <= SMALL else contextlib.nullcontext()
