"""The 2-D plane a decision boundary is drawn on: the data's own two features, or a plane through
higher-dimensional data (by default its first two principal components).

A grid point ``p`` on the plane is the model input ``origin + p @ basis``; a data point ``x`` is drawn at
``(x - origin) @ basis.T``. With orthonormal rows, points on the plane map back to themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Plane:
    origin: np.ndarray  # (D,)
    basis: np.ndarray  # (2, D)
    axis_labels: tuple[str, str]

    def to_plane(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.origin) @ self.basis.T).astype(np.float32)

    def from_plane(self, P: np.ndarray) -> np.ndarray:
        return (self.origin + P @ self.basis).astype(np.float32)

    def to_json(self) -> dict:
        return {"origin": self.origin.tolist(), "basis": self.basis.tolist(), "axis_labels": list(self.axis_labels)}


def choose_plane(X: np.ndarray, plane) -> Plane:
    """``plane``: None (the two features of 2-D data, else PCA components 1 and 2), a pair of 0-based component
    indices ``(i, j)``, or a (2, D) array of basis vectors (drawn through the data mean)."""
    n, d = X.shape
    X64 = X.astype(np.float64)
    if plane is None and d == 2:
        return Plane(np.zeros(2), np.eye(2), ("x₁", "x₂"))
    if plane is None:
        plane = (0, 1)
    arr = np.asarray(plane)
    if arr.shape == (2,) and arr.dtype.kind in "iu":
        i, j = (int(v) for v in arr)
        limit = min(n, d)
        if i == j or not (0 <= i < limit and 0 <= j < limit):
            raise ValueError(f"plane=(i, j) needs two different component indices in 0..{limit - 1}, got {plane!r}")
        mean = X64.mean(axis=0)
        _, s, vt = np.linalg.svd(X64 - mean, full_matrices=False)
        var = s**2 / max(1, (s**2).sum())
        vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]  # a deterministic sign
        labels = (f"PC{i + 1} ({100 * var[i]:.1f} %)", f"PC{j + 1} ({100 * var[j]:.1f} %)")
        return Plane(mean, vt[[i, j]], labels)
    if arr.shape == (2, d) and arr.dtype.kind in "biuf":
        basis = arr.astype(np.float64)
        if not np.isfinite(basis).all() or np.linalg.matrix_rank(basis) < 2:
            raise ValueError("plane: the two basis vectors must be finite and not parallel")
        return Plane(X64.mean(axis=0), basis, ("u₁", "u₂"))
    raise ValueError(
        f"plane must be None, a pair of principal-component indices like (0, 2), or a (2, {d}) array of basis "
        f"vectors; got {plane!r}"
    )
