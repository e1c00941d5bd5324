"""``embed(X, method, dims)``: PCA and t-SNE (scikit-learn; openTSNE when installed) and UMAP (umap-learn).

Rows with NaN or inf are not embedded: they get NaN coordinates (a warning says how many), so row ``i`` of the
result is always row ``i`` of ``X`` and indices (labels, images, selections) stay aligned.
Results are cached per (data, method, dims, seed, options) for the session: calling again is free.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections import OrderedDict

import numpy as np
import scipy.linalg

from .._blas import blas_threads_for
from .._check import flag, integer, is_number, real

METHODS = ("pca", "tsne", "umap")
EXTRA = "pip install 'nnviz_widgets[embed]'"
# options each method accepts (anything else is a TypeError, not silently ignored)
OPTIONS = {
    "pca": set(),
    "tsne": {"perplexity", "max_iter", "learning_rate", "early_exaggeration", "exaggeration", "metric", "init",
             "backend", "pca_dims", "n_jobs"},
    "umap": {"n_neighbors", "min_dist", "metric", "init", "pca_dims", "n_jobs"},
}  # fmt: skip
CACHE_SIZE = 16
# 2-D t-SNE from this many points (openTSNE): the FFT-interpolated gradient on boxes 2 units wide (openTSNE's
# default is 1: twice the boxes per side, 4x the FFT grid) and exaggeration 2 after the early phase, which keeps
# clusters tighter, so the layout spans fewer boxes, and neighbourhoods as trustworthy as scikit-learn's
# (upsampled digits, k=10; README, Embeddings): 20,000 x 784 in 34-37 s, trustworthiness 0.9984 / 0.9985 / 0.9984
# (seeds 0-2), scikit-learn 130-143 s, 0.9981; 10,000 rows: 22 s, 0.9983 / 0.9981, scikit-learn 60 s, 0.9982.
# Below it, openTSNE's defaults (Barnes-Hut, no exaggeration): exaggeration 2 costs trustworthiness at 5,000 rows
# (0.9977 / 0.9975; Barnes-Hut 0.9981 / 0.9979; scikit-learn 0.9981). Boxes 3 units wide cost it too (0.9906
# at 20,000).
FFT_FROM = 10_000
FFT_BOX = 2
LARGE_EXAGGERATION = 2.0
_cache: OrderedDict = OrderedDict()


def cache_clear() -> None:
    """Forget every cached embedding (``embed(..., cache=True)`` keeps them for the session).

    >>> import numpy as np
    >>> a = embed(np.random.default_rng(0).normal(size=(50, 5)), "pca")
    >>> cache_clear()
    """
    _cache.clear()


def embed(X, method: str = "pca", dims: int = 2, *, seed: int = 0, cache: bool = True, **options) -> np.ndarray:
    """Coordinates (N, dims) float32 of the rows of ``X`` (N, D).

    ``method``: ``"pca"``, ``"tsne"`` (openTSNE when installed, else scikit-learn; ``backend="sklearn"`` forces
    it) or ``"umap"`` (needs umap-learn). Options: t-SNE ``perplexity`` (default 30, must be below the number of
    points), ``max_iter``, ``learning_rate``, ``early_exaggeration``, ``exaggeration`` (openTSNE: after the early
    phase; default 1, and 2 for 2-D from 10,000 points, where the FFT gradient is used), ``metric``, ``init`` (an
    (N, dims) array to start from), ``pca_dims`` (default 50: wider data is first reduced by PCA, as is usual for
    t-SNE; 0: never); UMAP ``n_neighbors``, ``min_dist``, ``metric``, ``init``, ``pca_dims``. Same seed, same result.

    >>> import numpy as np
    >>> embed(np.random.default_rng(0).normal(size=(50, 5)), "pca", 3).shape
    (50, 3)
    """
    X = _check_X(X)
    method = _check_method(method)
    dims = _check_dims(dims)
    seed = integer("seed", seed, lo=0, hi=2**32 - 1)
    cache = flag("cache", cache)
    unknown = set(options) - OPTIONS[method]
    if unknown:
        raise TypeError(
            f"embed(method={method!r}) got unexpected option(s) {sorted(unknown)}; it accepts {sorted(OPTIONS[method])}"
        )
    options = _check_options(options)
    ok = np.isfinite(X).all(axis=1)
    if not ok.all():
        bad = int((~ok).sum())
        warnings.warn(
            f"X has {bad} row(s) with NaN or inf (first at row {int(np.argmax(~ok))}): they are not embedded and "
            "get NaN coordinates",
            stacklevel=2,
        )
    n = int(ok.sum())
    if n < 3:
        raise ValueError(f"embedding needs at least 3 rows with finite values, got {n}")
    key = (_digest(X), method, dims, seed, _digest_options(options)) if cache else None
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        return _cache[key].copy()
    try:
        coords = _RUN[method](X[ok], dims, seed, dict(options), ok)
    except ValueError as err:
        if type(err).__name__ != "InvalidParameterError":
            raise
        # scikit-learn's own check: its parameter names are embed()'s option names
        raise ValueError(f"embed(method={method!r}): {err}") from None
    out = np.full((len(X), dims), np.nan, dtype=np.float32)
    out[ok] = coords
    if key is not None:
        _cache[key] = out.copy()
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return out


# -- methods ------------------------------------------------------------------------------------------------
def _pca(X: np.ndarray, dims: int, seed: int, options: dict, ok) -> np.ndarray:
    return pca_fit(X, dims)[0]


def pca_fit(X: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates, explained variance ratios), exact, with a deterministic sign per component (its largest
    entry positive).

    With more rows than features the components are the eigenvectors of the D x D scatter matrix (float64): one
    N x D x D product and a small symmetric eigenproblem instead of an SVD of the N x D data, the same subspace at a
    fraction of the cost (the embedding view projects 1,000 x 64 activations every frame: 4.4 ms by SVD, 70,000 x
    784 for t-SNE's reduction). Otherwise an SVD of the centred data."""
    centred = X.astype(np.float64)  # a copy, centred in place (70,000 x 784 is 440 MB in float64)
    centred -= centred.mean(axis=0)
    n, d = centred.shape
    if n > d:
        with blas_threads_for(centred.size):  # a small product with several BLAS threads spins on a busy machine
            scatter = centred.T @ centred
            k = min(dims, d)
            # only the top k eigenpairs (half the time of all 64 for the embedding view's 2); the total
            # variance, for the ratios, is the trace
            values, vectors = scipy.linalg.eigh(scatter, subset_by_index=[d - k, d - 1], driver="evr")
        values, vt = np.maximum(values[::-1], 0.0), vectors[:, ::-1].T  # eigh sorts ascending
        total = float(np.trace(scatter))
    else:
        with blas_threads_for(centred.size):
            _, s, vt = np.linalg.svd(centred, full_matrices=False)
        values = s**2
        total = float(values.sum())
    vt = vt[:dims]
    sign = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    sign[sign == 0] = 1
    vt = vt * sign[:, None]
    coords = centred @ vt.T
    if coords.shape[1] < dims:  # fewer features than dims: pad with zeros
        coords = np.pad(coords, ((0, 0), (0, dims - coords.shape[1])))
    var = values[:dims] / max(total, 1e-300)
    return coords.astype(np.float32), np.pad(var, (0, max(0, dims - len(var))))


def _reduce(X: np.ndarray, options: dict) -> np.ndarray:
    """PCA to ``pca_dims`` (default 50; None: the default; 0: never) first when the data is wider: faster
    neighbours, much the same structure (README: at 70,000 near-copied digits it cost 0.012 of trustworthiness;
    on the second data set, mostly noise features, skipping it cost 0.054)."""
    k = options.pop("pca_dims", None)
    k = 50 if k is None else int(k)
    if k and X.shape[1] > k and len(X) > k:
        return pca_fit(X, k)[0]
    return X.astype(np.float32)


def _init(options: dict, ok, dims: int):
    init = options.pop("init", None)
    if init is None or isinstance(init, str):
        return init
    arr = np.asarray(init, dtype=np.float64)
    if arr.shape != (len(ok), dims):
        raise ValueError(f"init must have shape ({len(ok)}, {dims}) (one row per row of X), got {arr.shape}")
    return arr[ok]


def _tsne(X: np.ndarray, dims: int, seed: int, options: dict, ok) -> np.ndarray:
    n = len(X)
    perplexity = float(options.pop("perplexity", min(30.0, max(2.0, (n - 1) / 3))))
    if not 0 < perplexity < n:
        raise ValueError(f"perplexity must be between 0 and the number of points ({n}), got {perplexity}")
    backend = options.pop("backend", "auto")
    if backend not in ("auto", "opentsne", "sklearn"):
        raise ValueError(f"backend must be 'auto', 'opentsne' or 'sklearn', got {backend!r}")
    init = _init(options, ok, dims)
    X = _reduce(X, options)
    X = _separate_duplicates(X, perplexity, seed)
    if backend != "sklearn":
        try:
            import openTSNE
        except ImportError:
            if backend == "opentsne":
                raise ImportError(f"backend='opentsne' needs the openTSNE package: {EXTRA}") from None
        else:
            return _opentsne(openTSNE, X, dims, seed, perplexity, init, options)
    from sklearn.manifold import TSNE

    exaggeration = options.pop("exaggeration", None)
    if exaggeration is not None and exaggeration != 1:
        raise ValueError(
            f"exaggeration={exaggeration!r} needs openTSNE (scikit-learn's TSNE exaggerates only its early phase: "
            f"see early_exaggeration): {EXTRA}, or leave exaggeration out"
        )
    kw = {"max_iter": options.pop("max_iter", 1000), "n_jobs": options.pop("n_jobs", None), **options}
    model = TSNE(dims, perplexity=perplexity, init="pca" if init is None else init, random_state=seed,
                 method="barnes_hut" if dims <= 3 else "exact", **kw)  # fmt: skip
    return model.fit_transform(X).astype(np.float32)


def _opentsne(openTSNE, X, dims, seed, perplexity, init, options) -> np.ndarray:
    # openTSNE needs 3 * perplexity < n - 1 for its neighbour graph; cap it rather than let it warn
    perplexity = min(perplexity, max(1.0, (len(X) - 2) / 3))
    # 500 after early exaggeration: openTSNE's own default
    kw = {"n_iter": options.pop("max_iter", 500), "n_jobs": options.pop("n_jobs", -1), **options}
    fft = dims == 2 and len(X) >= FFT_FROM
    if fft:
        kw.setdefault("exaggeration", LARGE_EXAGGERATION)
        kw["ints_in_interval"] = FFT_BOX
    if init is not None and not isinstance(init, str):
        init = np.ascontiguousarray(init)
        kw.setdefault("early_exaggeration_iter", 0)  # warm start: the layout is already there
    tsne = openTSNE.TSNE(
        n_components=dims, perplexity=perplexity, random_state=seed, initialization="pca" if init is None else init,
        negative_gradient_method="fft" if fft else "bh", verbose=False, **kw,
    )  # fmt: skip
    quiet = logging.getLogger("openTSNE")
    level, quiet.level = quiet.level, logging.ERROR  # it warns that a warm start's std is above 1e-4: intended
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(tsne.fit(X), dtype=np.float32)
    finally:
        quiet.level = level


def _umap(X: np.ndarray, dims: int, seed: int, options: dict, ok) -> np.ndarray:
    try:
        import umap
    except ImportError:
        raise ImportError(f"method='umap' needs the umap-learn package: {EXTRA}") from None
    init = _init(options, ok, dims)
    X = _reduce(X, options)
    n_neighbors = int(options.pop("n_neighbors", min(15, len(X) - 1)))
    if not 2 <= n_neighbors < len(X):
        raise ValueError(
            f"n_neighbors must be between 2 and the number of points - 1 ({len(X) - 1}), got {n_neighbors}"
        )
    model = umap.UMAP(n_components=dims, n_neighbors=n_neighbors, random_state=seed,
                      init="spectral" if init is None else init, **options)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state"
        coords = np.asarray(model.fit_transform(X), dtype=np.float32)
    _warn_if_disconnected(model.graph_, n_neighbors, model.n_epochs)
    return coords


def _warn_if_disconnected(graph, n_neighbors: int, n_epochs) -> None:
    """Say when UMAP's layout sees its neighbour graph in disconnected pieces: each piece is laid out on its own
    and where the pieces sit relative to each other is arbitrary. Edges UMAP never samples (weight below
    max / n_epochs, as in umap-learn's own optimisation) do not connect. Near-copies of rows cause it: a row's
    weights are calibrated to sum to log2(n_neighbors), which a handful of copies at almost the same distance
    already reach, so every other neighbour gets a weight of ~0."""
    from scipy.sparse.csgraph import connected_components

    epochs = n_epochs if isinstance(n_epochs, int) else (500 if graph.shape[0] <= 10_000 else 200)
    strong = graph.copy()
    strong.data[strong.data < strong.data.max() / epochs] = 0
    strong.eliminate_zeros()
    pieces = connected_components(strong, directed=False)[0]
    if pieces > 1:
        warnings.warn(
            f"UMAP's neighbour graph (n_neighbors={n_neighbors}) falls into {pieces} disconnected pieces: each is "
            "laid out on its own and where they sit relative to each other is arbitrary, so distances between them "
            "mean little. Unless the data really are separate clusters, near-duplicate rows (augmented or resampled "
            "copies) cause this: drop the duplicates, or use method='tsne'",
            stacklevel=4,
        )


_RUN = {"pca": _pca, "tsne": _tsne, "umap": _umap}


# -- validation and keys --------------------------------------------------------------------------------------
def _check_X(X) -> np.ndarray:
    if hasattr(X, "detach"):  # a torch tensor, without importing torch here
        X = X.detach().cpu().numpy()
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"X must be a numeric array of shape (N, D), got dtype {arr.dtype}")
    if arr.ndim != 2:
        arr = arr.reshape(len(arr), -1) if arr.ndim > 2 else arr
    if arr.ndim != 2:
        raise ValueError(f"X must be 2-D, shape (N, features), got shape {arr.shape}")
    if len(arr) < 3:
        raise ValueError(f"X needs at least 3 rows for an embedding, got {len(arr)}")
    out = arr.astype(np.float32)
    overflow = np.isfinite(arr).all(axis=1) & ~np.isfinite(out).all(axis=1)
    if overflow.any():
        raise ValueError(
            f"X has {int(overflow.sum())} rows with values beyond float32's range (first at row "
            f"{int(np.argmax(overflow))}), where embeddings are computed: rescale X, e.g. X = X / np.abs(X).max()"
        )
    return out


# option -> (kind, lowest value): counts and positive reals are checked here, before any work starts
_NUMERIC = {
    "perplexity": ("real", 0), "max_iter": ("int", 1), "learning_rate": ("real", 0), "early_exaggeration": ("real", 0),
    "exaggeration": ("real", 0), "pca_dims": ("int", 0), "n_neighbors": ("int", 2), "min_dist": ("real", None),
    "n_jobs": ("int", None),
}  # fmt: skip


def _check_options(options: dict) -> dict:
    out = dict(options)
    for name, (kind, lo) in _NUMERIC.items():
        value = out.get(name)
        if value is None or isinstance(value, str):  # None: the default; "auto": a learning_rate scikit-learn takes
            continue
        if kind == "int":
            out[name] = integer(name, value, lo=lo)
        else:
            checked = real(name, value, lo=lo, lo_open=lo is not None)
            out[name] = value if type(value) in (int, float) else checked  # messages show the value as given
    return out


def _separate_duplicates(X: np.ndarray, perplexity: float, seed: int) -> np.ndarray:
    """t-SNE needs distinct neighbours: identical rows make scikit-learn's Barnes-Hut crash and openTSNE return
    NaN. When fewer distinct rows than the perplexity's neighbourhood remain, a jitter far below the data's own
    scale separates them (with a warning); otherwise X is returned as is."""
    distinct = len(np.unique(X, axis=0))
    if distinct > max(3, perplexity):
        return X
    scale = float(np.abs(X).max()) or 1.0
    warnings.warn(
        f"X has only {distinct} distinct rows of {len(X)}: t-SNE cannot place identical points, so a jitter of "
        f"{1e-4 * scale:.2g} (1e-4 of the data's scale) separates them",
        RuntimeWarning,
        stacklevel=4,
    )
    rng = np.random.default_rng(seed)
    return (X + rng.normal(scale=1e-4 * scale, size=X.shape)).astype(X.dtype)


def _check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def _check_dims(dims) -> int:
    if not is_number(dims) or dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims!r}")
    return int(dims)


def _digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    h = hashlib.blake2b(a.view(np.uint8).reshape(-1), digest_size=16)
    h.update(repr((a.shape, a.dtype.str)).encode())
    return h.hexdigest()


def _digest_options(options: dict) -> tuple:
    return tuple(
        (k, _digest(np.asarray(v, dtype=np.float64)) if isinstance(v, (np.ndarray, list)) else repr(v))
        for k, v in sorted(options.items())
    )
