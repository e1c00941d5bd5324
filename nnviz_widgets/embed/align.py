"""Projections of one layer's activations epoch after epoch, aligned so points move only as much as the
network changed: PCA axes flip and rotate freely from one fit to the next, so each epoch's PCA is rotated
(or reflected) onto the previous one by orthogonal Procrustes; t-SNE and UMAP start from the previous
epoch's layout and are then aligned the same way (a rigid motion only, no scaling: sizes stay true).
"""

from __future__ import annotations

import numpy as np

from .. import _blas
from .core import _check_dims, _check_method, embed, pca_fit


def procrustes(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """``moving`` (N, d) rotated/reflected and translated to best match ``reference`` (N, d) in least squares
    (rows with NaN in either are ignored for the fit and stay NaN).

    >>> import numpy as np
    >>> a = np.random.default_rng(0).normal(size=(20, 2))
    >>> rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> bool(np.allclose(procrustes(a, a @ rot + 3), a, atol=1e-5))
    True
    """
    ref, mov = np.asarray(reference, np.float64), np.asarray(moving, np.float64)
    if ref.shape != mov.shape:
        raise ValueError(f"procrustes: reference and moving need one shape, got {ref.shape} and {mov.shape}")
    if np.isfinite(ref).all() and np.isfinite(mov).all():  # the common case: no row to leave out
        r, m = ref.T, mov.T
    else:
        ok = np.isfinite(ref).all(axis=1) & np.isfinite(mov).all(axis=1)
        if ok.sum() < 2:
            return mov.astype(np.float32)
        r, m = ref[ok].T, mov[ok].T
    # as (d, N) rows: NumPy's reductions and products along a short last axis (N x 2) cost 5-10x more
    r, m = np.ascontiguousarray(r), np.ascontiguousarray(m)
    mr, mm = r.mean(axis=1), m.mean(axis=1)
    u, _, vt = np.linalg.svd((m - mm[:, None]) @ (r - mr[:, None]).T)
    return ((mov - mm) @ (u @ vt) + mr).astype(np.float32)


class EpochProjector:
    """Projects each epoch's activations (S, F) to (S, dims), aligned with the previous epoch.

    >>> import numpy as np
    >>> p = EpochProjector("pca", 2)
    >>> A = np.random.default_rng(0).normal(size=(30, 8))
    >>> bool(np.allclose(p.project(A), p.project(-A), atol=1e-4))  # a sign flip of the axes is undone
    True
    """

    def __init__(self, method: str = "pca", dims: int = 2, *, seed: int = 0, **options):
        self.method = _check_method(method)
        self.dims = _check_dims(dims)
        self.seed = int(seed)
        # one thread: it runs beside training, which needs the other core (DESIGN: measured on these machines)
        self.options = {**({"n_jobs": 1} if method != "pca" else {}), **options}
        self.previous: np.ndarray | None = None
        _blas.controller()  # made now, not at the first projection beside training
        self.explained: np.ndarray | None = None  # PCA: variance ratio of each axis, last epoch

    def project(self, activations: np.ndarray) -> np.ndarray:
        """Project one epoch's (S, features) activations to (S, dims), aligned with the previous epoch's layout."""
        # one BLAS thread at any size: this runs beside training, and a two-thread OpenBLAS SVD of 1,000 x 64
        # activations spun against the training thread, 300 ms of CPU instead of 6 ms (benchmarks/bench_live.py)
        with _blas.one_blas_thread():
            return self._project(activations)

    def _project(self, activations: np.ndarray) -> np.ndarray:
        A = np.asarray(activations, dtype=np.float32).reshape(len(activations), -1)
        if self.method == "pca":
            finite = bool(np.isfinite(A).all())  # the common case: every row placed, A used as it is (no copy)
            ok = slice(None) if finite else np.isfinite(A).all(axis=1)
            coords = np.full((len(A), self.dims), np.nan, np.float32)
            if (len(A) if finite else int(ok.sum())) >= 2:
                coords[ok], self.explained = pca_fit(A[ok], self.dims)
        else:
            options = dict(self.options)
            if self.previous is not None and np.isfinite(self.previous).all():
                options["init"] = self.previous
                if self.method == "tsne":
                    options.setdefault("max_iter", 250)  # a warm start needs far fewer iterations
            coords = embed(A, self.method, self.dims, seed=self.seed, cache=False, **options)
        if self.previous is not None:
            coords = procrustes(self.previous, coords)
        self.previous = coords
        return coords
