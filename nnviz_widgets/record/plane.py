"""The 2-D plane a decision boundary is drawn on: the data's own two features, or a plane through
higher-dimensional data (by default its first two principal components).

A grid point ``p`` on the plane is the model input ``origin + p @ basis``; a data point ``x`` is drawn at
``(x - origin) @ basis.T``. With orthonormal rows, points on the plane map back to themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .._blas import blas_threads_for
from ._hooks import global_hooks


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


def choose_plane(X: np.ndarray, plane, names: list[str] | None = None) -> Plane:
    """``plane``: None (the two features of 2-D data, labelled with their ``names`` when given, else PCA
    components 1 and 2), a pair of 0-based component indices ``(i, j)``, or a (2, D) array of basis vectors
    (drawn through the data mean)."""
    n, d = X.shape
    X64 = X.astype(np.float64)
    if plane is None and d == 2:
        return Plane(np.zeros(2), np.eye(2), tuple(names) if names is not None and len(names) == 2 else ("x₁", "x₂"))
    if plane is None:
        plane = (0, 1)
    arr = np.asarray(plane)
    if arr.shape == (2,) and arr.dtype.kind in "iu":
        i, j = (int(v) for v in arr)
        limit = min(n, d)
        if i == j or not (0 <= i < limit and 0 <= j < limit):
            raise ValueError(f"plane=(i, j) needs two different component indices in 0..{limit - 1}, got {plane!r}")
        mean = X64.mean(axis=0)
        s, vt = _components(X64 - mean, max(i, j) + 1)
        var = s**2 / max(1, float(((X64 - mean) ** 2).sum()))
        vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]  # a deterministic sign
        labels = (f"PC{i + 1} ({100 * var[i]:.1f} %)", f"PC{j + 1} ({100 * var[j]:.1f} %)")
        return Plane(mean, vt[[i, j]], labels)
    if arr.shape == (2, d) and arr.dtype.kind in "biuf":
        return Plane(X64.mean(axis=0), orthonormal_basis(arr), ("u₁", "u₂"))
    raise ValueError(
        f"plane must be None, a pair of principal-component indices like (0, 2), or a (2, {d}) array of basis "
        f"vectors; got {plane!r}"
    )


def orthonormal_basis(basis) -> np.ndarray:
    """The orthonormal basis of the plane two vectors span: the first vector's direction, then the part of the
    second orthogonal to it (Gram-Schmidt). Drawing ``(x - origin) @ basis.T`` puts a point where it is only
    with orthonormal rows; any other basis would stretch or shear the picture, so it is never used as given.

    >>> orthonormal_basis([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0]]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    b = np.asarray(basis, dtype=np.float64)
    if not np.isfinite(b).all():
        raise ValueError("plane: the two basis vectors must be finite")
    scale = np.abs(b).max(axis=1, keepdims=True)  # 1e200-sized vectors: normalise before squaring
    if not (scale > 0).all():
        raise ValueError("plane: a basis vector is zero; give two vectors that span a plane")
    q, r = np.linalg.qr((b / scale).T)
    if abs(r[1, 1]) <= 1e-9 * abs(r[0, 0]):
        raise ValueError("plane: the two basis vectors are parallel; give two that are not parallel")
    q = q.T * np.sign(np.diag(r))[:, None]  # keep each vector's own direction
    return np.ascontiguousarray(q) + 0.0  # no negative zeros


EXACT_SVD = 1000  # up to this many rows or columns the components are exact (LAPACK); beyond, randomized


def _components(centered: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Singular values and right singular vectors (rows) of ``centered``, at least the first ``k``. Wide data
    (2,000 images of 3x32x32: 3,072 columns) takes the randomized SVD (Halko et al., scikit-learn), whose leading
    components agree with the exact ones to well under a pixel on the plane, in a fraction of the time."""
    with blas_threads_for(centered.size):  # a small SVD with several BLAS threads spins on a busy machine
        if min(centered.shape) <= EXACT_SVD:
            _, s, vt = np.linalg.svd(centered, full_matrices=False)
            return s, vt
        from sklearn.utils.extmath import randomized_svd

        _, s, vt = randomized_svd(centered, n_components=k, n_oversamples=20, n_iter=7, random_state=0)
        return s, vt


# -- folding the plane into the model's first layer ------------------------------------------------------
# A grid on a plane through D-dimensional data is ny*nx full input rows (100x100x784 floats for MNIST-sized
# data), and the model's first Linear layer dominates its cost. When that layer is the first thing the model
# computes, it can take the plane coordinates directly:
#     W (origin + basis.T p) + b = (W origin + b) + (W basis.T) p,
# a 2-column layer. The fold is used only when it is exactly the model's own computation (see first_linear).
PASS_THROUGH = (nn.Identity, nn.Dropout)  # identity on an (N, D) input in eval mode (capture runs in eval mode)


def first_linear(model: nn.Module, row_shape) -> tuple[nn.Linear, list[nn.Module]] | None:
    """``(layer, rest)`` when ``model(x)`` is exactly ``rest[-1](...rest[0](layer(x.flatten(1))))`` for an input of
    rows shaped ``row_shape`` (an int: ``(N, row_shape)``; a tuple such as ``(C, H, W)``: images) and ``layer`` is
    a plain ``nn.Linear`` reading that input, else None.

    That holds for an ``nn.Sequential`` (or a subclass keeping its ``forward``) whose first modules are
    ``Flatten`` (over dims 1..-1: the identity on rows), ``Identity`` or ``Dropout`` (eval mode) and then a
    ``Linear``, with no forward hooks on the container or on those modules, and no global module hooks:
    anything a hook could observe or change must see the real computation. It is checked at every call, as
    hooks come and go (the probes' own hooks included). Rows of more than one dimension (images) must meet a
    ``Flatten`` before the ``Linear``.

    >>> from torch import nn
    >>> layer, rest = first_linear(nn.Sequential(nn.Flatten(), nn.Linear(5, 3), nn.ReLU()), 5)
    >>> type(layer).__name__, [type(m).__name__ for m in rest]
    ('Linear', ['ReLU'])
    >>> first_linear(nn.Sequential(nn.BatchNorm1d(5), nn.Linear(5, 3)), 5) is None
    True
    """
    if not isinstance(model, nn.Sequential) or type(model).forward is not nn.Sequential.forward:
        return None
    if global_hooks() or _hooked(model):
        return None
    shape = (row_shape,) if isinstance(row_shape, int) else tuple(row_shape)
    n_features, flat = math.prod(shape), len(shape) == 1
    modules = list(model)
    for i, m in enumerate(modules):
        if _hooked(m):
            return None
        if type(m) in PASS_THROUGH:
            continue
        if type(m) is nn.Flatten and _flattens_rows(m):
            flat = True
            continue
        if (
            flat
            and isinstance(m, nn.Linear)
            and type(m).forward is nn.Linear.forward
            and not isinstance(m.weight, nn.parameter.UninitializedParameter)
            and m.weight.ndim == 2
            and m.weight.shape[1] == n_features
        ):
            return m, modules[i + 1 :]
        return None
    return None


def fold_linear(layer: nn.Linear, plane: Plane) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W2, b2)``, the layer applied to plane coordinates: ``layer(plane.from_plane(P)) == P @ W2.T + b2``
    (up to rounding; the fold is computed in float64 and cast to the layer's dtype, on its device).

    >>> import numpy as np, torch
    >>> from torch import nn
    >>> X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    >>> plane, layer = choose_plane(X, None), nn.Linear(4, 3)
    >>> W2, b2 = fold_linear(layer, plane)
    >>> P = np.array([[0.5, -1.0]], dtype=np.float32)
    >>> want = layer(torch.as_tensor(plane.from_plane(P)))
    >>> bool(torch.allclose(torch.as_tensor(P) @ W2.T + b2, want, atol=1e-5)), tuple(W2.shape)
    (True, (3, 2))
    """
    w = layer.weight.detach()
    work = w.device if w.device.type != "mps" else torch.device("cpu")  # MPS has no float64
    w64 = w.to(work, torch.float64)
    basis = torch.as_tensor(plane.basis, dtype=torch.float64, device=work)
    origin = torch.as_tensor(plane.origin, dtype=torch.float64, device=work)
    b64 = w64 @ origin
    if layer.bias is not None:
        b64 = b64 + layer.bias.detach().to(work, torch.float64)
    return (w64 @ basis.T).to(w.device, w.dtype), b64.to(w.device, w.dtype)


def run_after(rest: list[nn.Module], h: torch.Tensor, *, owned: bool = True) -> torch.Tensor:
    """``rest[-1](...rest[0](h))``: the modules after the folded layer on its output ``h`` (or a whole Sequential
    on its input: :func:`sequential_forward`).

    ``h`` is a fresh tensor that only this call holds (``owned=False`` when the caller keeps it), and so is the
    output of a stock ``nn.Linear`` without hooks; a stock ``nn.ReLU`` without hooks that follows one of those
    runs in place: the same values, one memory pass and one allocation less, which shows when other processes
    compete for memory bandwidth. A stock last ``nn.Linear`` without hooks computes its (N, K) output
    transposed, as ``W @ h.T + b`` viewed back as (N, K): the same sums, but MKL's GEMM is slow at a short
    output width, and the recorder's softmax runs down the columns of that transpose anyway (no copy). Anything
    else runs as the module itself. ``benchmarks/bench_boundary.py`` times the grid evaluation this serves.

    >>> from torch import nn
    >>> rest = [nn.ReLU(), nn.Linear(3, 2)]
    >>> h = torch.tensor([[-1.0, 0.5, 2.0]])
    >>> bool(torch.allclose(run_after(rest, h.clone()), rest[1](torch.relu(h))))
    True
    """
    for i, module in enumerate(rest):
        if owned and type(module) is nn.ReLU and not _hooked(module):
            h = h.relu_()
            continue
        if i == len(rest) - 1 and _stock_linear(module) and h.ndim == 2:
            w, b = module.weight, module.bias
            return (torch.mm(w, h.t()) if b is None else torch.addmm(b[:, None], w, h.t())).t()
        h = module(h)
        owned = _stock_linear(module)
    return h


def sequential_forward(model: nn.Module, row_shape) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``model``'s own computation on rows shaped ``row_shape``, run layer by layer through :func:`run_after`
    (in-place ReLUs, a transposed last layer), when ``model`` is a Sequential that :func:`first_linear`
    accepts; else None. Forward hooks on the later modules still fire (a hooked module runs as itself).

    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> x = torch.randn(5, 4)
    >>> bool(torch.allclose(sequential_forward(model, 4)(x), model(x), atol=1e-6))
    True
    """
    split = first_linear(model, row_shape)
    if split is None:
        return None
    layer, rest = split
    return lambda x: run_after([layer, *rest], x.flatten(1), owned=False)


def _stock_linear(m: nn.Module) -> bool:
    return type(m) is nn.Linear and not _hooked(m)


def _hooked(m: nn.Module) -> bool:
    return bool(m._forward_hooks or m._forward_pre_hooks)


def _flattens_rows(m: nn.Flatten) -> bool:
    return m.start_dim == 1 and m.end_dim == -1
