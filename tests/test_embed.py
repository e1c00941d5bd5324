"""nnv.embed: shapes, determinism, quality (trustworthiness), caching, alignment over epochs, errors."""

from __future__ import annotations

import importlib.util
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.manifold import trustworthiness

import nnviz_widgets as nnv
from nnviz_widgets.embed import EpochProjector, cache_clear, procrustes

TRUST_FLOOR = 0.95  # t-SNE of 600 digits, k=5: measured 0.98-0.99 with both backends


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.data[:600].astype(np.float32), d.target[:600]


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(c, 0.3, size=(40, 6)) for c in (0, 3, 6)]).astype(np.float32)


@pytest.mark.parametrize("dims", [2, 3])
def test_pca_shapes_and_variance_order(blobs, dims):
    coords = nnv.embed(blobs, "pca", dims)
    assert coords.shape == (len(blobs), dims) and coords.dtype == np.float32
    var = coords.var(axis=0)
    assert np.all(np.diff(var) <= 1e-6), "components come in order of explained variance"
    assert np.allclose(coords.mean(axis=0), 0, atol=1e-4)


@pytest.mark.parametrize("shape", [(2000, 120), (1000, 64), (100, 120)], ids=["tall", "activations", "wide"])
def test_pca_is_the_exact_svd_pca(shape):
    """PCA (the embedding view's per-frame projection and the reduction before t-SNE/UMAP) takes the scatter
    matrix's eigenvectors when there are more rows than features: the coordinates and explained-variance ratios of
    an SVD of the centred data, signs included (each component's largest entry positive)."""
    from nnviz_widgets.embed.core import _reduce, pca_fit

    rng = np.random.default_rng(0)
    n, d = shape
    X = (rng.normal(size=shape) * np.linspace(6, 0.1, d) + 3).astype(np.float32)
    centred = X.astype(np.float64) - X.astype(np.float64).mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]
    k = min(50, n, d)
    coords, explained = pca_fit(X, k)
    np.testing.assert_allclose(coords, centred @ vt[:k].T, atol=2e-4)
    np.testing.assert_allclose(explained, (s**2 / (s**2).sum())[:k], atol=1e-9)
    if d > 50 and n > 50:
        np.testing.assert_array_equal(_reduce(X, {}), coords)  # t-SNE's reduction to 50 is that PCA


def test_tsne_is_deterministic_with_a_seed_and_cached(blobs):
    cache_clear()
    a = nnv.embed(blobs, "tsne", seed=3, perplexity=10)
    t = time.perf_counter()
    b = nnv.embed(blobs, "tsne", seed=3, perplexity=10)
    assert time.perf_counter() - t < 0.05, "the second call is served from the cache"
    np.testing.assert_array_equal(a, b)
    c = nnv.embed(blobs, "tsne", seed=3, perplexity=10, cache=False)
    np.testing.assert_allclose(a, c, atol=1e-5)
    b[0, 0] = 1e9  # a returned array is the caller's to change
    assert nnv.embed(blobs, "tsne", seed=3, perplexity=10)[0, 0] != 1e9


def test_tsne_trustworthiness_on_digits(digits):
    X, _ = digits
    for backend in ["auto", "sklearn"]:
        coords = nnv.embed(X, "tsne", backend=backend, cache=False)
        score = trustworthiness(X, coords, n_neighbors=5)
        assert score > TRUST_FLOOR, f"{backend}: trustworthiness {score:.3f}"


def test_tsne_3d(blobs):
    coords = nnv.embed(blobs, "tsne", 3, perplexity=10)
    assert coords.shape == (len(blobs), 3) and np.isfinite(coords).all()


@pytest.mark.skipif(importlib.util.find_spec("openTSNE") is None, reason="openTSNE (the embed extra) not installed")
def test_tsne_default_path_by_size(monkeypatch):
    """2-D from FFT_FROM points: FFT gradient on 2-unit boxes and exaggeration 2 (README's benchmark); else BH."""
    import openTSNE

    from nnviz_widgets.embed import core

    made = []

    class Recording(openTSNE.TSNE):
        def __init__(self, **kw):
            made.append(kw)
            super().__init__(**kw)

    monkeypatch.setattr(openTSNE, "TSNE", Recording)
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.5, size=(core.FFT_FROM // 2, 8)) for c in (0, 4)]).astype(np.float32)
    big = nnv.embed(X, "tsne", max_iter=20, cache=False)
    assert made[-1]["negative_gradient_method"] == "fft" and made[-1]["ints_in_interval"] == core.FFT_BOX == 2
    assert made[-1]["exaggeration"] == core.LARGE_EXAGGERATION == 2
    assert np.isfinite(big).all() and big.shape == (len(X), 2)
    a, b = big[: len(X) // 2], big[len(X) // 2 :]
    assert np.linalg.norm(a.mean(0) - b.mean(0)) > 3 * max(a.std(0).max(), b.std(0).max()), "two blobs, two places"
    # the rest only choose: openTSNE's fit is not run again (its 250 early iterations cost seconds each time)
    monkeypatch.setattr(Recording, "fit", lambda self, Z: np.zeros((len(Z), self.n_components)))
    nnv.embed(X, "tsne", max_iter=20, exaggeration=1, cache=False)
    assert made[-1]["exaggeration"] == 1, "an explicit exaggeration wins"
    nnv.embed(X[: core.FFT_FROM - 1], "tsne", max_iter=20, cache=False)
    assert made[-1]["negative_gradient_method"] == "bh" and "exaggeration" not in made[-1]
    nnv.embed(X, "tsne", 3, max_iter=20, cache=False)
    assert made[-1]["negative_gradient_method"] == "bh", "3-D uses Barnes-Hut"
    with pytest.raises(ValueError, match="exaggeration=2 needs openTSNE"):
        nnv.embed(X[:100], "tsne", backend="sklearn", exaggeration=2)


@pytest.mark.skipif(importlib.util.find_spec("umap") is None, reason="umap-learn (the embed extra) not installed")
def test_umap(blobs):
    coords = nnv.embed(blobs, "umap", n_neighbors=10)
    assert coords.shape == (len(blobs), 2) and np.isfinite(coords).all()


@pytest.mark.skipif(importlib.util.find_spec("umap") is None, reason="umap-learn (the embed extra) not installed")
def test_umap_says_when_its_neighbour_graph_falls_apart():
    # 60 rows along a curve, each with 9 noisy copies: UMAP's weights go to the copies, 60 islands
    rng = np.random.default_rng(0)
    t = np.linspace(0, 3, 60)[:, None]
    base = np.concatenate([np.cos(t * np.arange(1, 5)), np.sin(t * np.arange(1, 5))], axis=1)
    X = np.repeat(base, 10, axis=0) + rng.normal(0, 0.01, size=(600, 8))
    with pytest.warns(UserWarning, match=r"n_neighbors=5\) falls into 60 disconnected pieces.*drop the duplicates"):
        nnv.embed(X, "umap", n_neighbors=5, cache=False)
    t = np.linspace(0, 3, 600)[:, None]  # the same curve, no copies: one piece, no warning
    X = np.concatenate([np.cos(t * np.arange(1, 5)), np.sin(t * np.arange(1, 5))], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nnv.embed(X, "umap", n_neighbors=5, cache=False)


def test_nan_rows_get_nan_coordinates_with_a_warning(blobs):
    X = blobs.copy()
    X[[4, 9], 2] = np.nan
    with pytest.warns(UserWarning, match=r"2 row\(s\) with NaN or inf \(first at row 4\)"):
        coords = nnv.embed(X, "pca")
    assert np.isnan(coords[[4, 9]]).all() and np.isfinite(np.delete(coords, [4, 9], axis=0)).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"dims": 4}, ValueError, "dims must be 2 or 3, got 4"),
        ({"dims": True}, ValueError, "dims must be 2 or 3"),
        ({"method": "mds"}, ValueError, r"method must be one of \('pca', 'tsne', 'umap'\)"),
        (
            {"method": "tsne", "perplexity": 120},
            ValueError,
            r"perplexity must be between 0 and the number of points \(120\)",
        ),
        ({"method": "pca", "perplexity": 5}, TypeError, r"unexpected option\(s\) \['perplexity'\]"),
        ({"method": "tsne", "bogus": 1}, TypeError, r"unexpected option\(s\) \['bogus'\]"),
    ],
)
def test_bad_arguments(blobs, kwargs, error, match):
    with pytest.raises(error, match=match):
        nnv.embed(blobs, **kwargs)


def test_too_few_points():
    with pytest.raises(ValueError, match="X needs at least 3 rows for an embedding, got 2"):
        nnv.embed(np.zeros((2, 4)))
    X = np.array([[0, 1.0], [np.nan, 1], [2, 2], [np.nan, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="at least 3 rows with finite values, got 2"):
            nnv.embed(X)


def test_missing_extra_is_named(monkeypatch, blobs):
    import builtins

    real = builtins.__import__

    def no_umap(name, *args, **kwargs):
        if name == "umap":
            raise ImportError("no umap")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_umap)
    with pytest.raises(ImportError, match=r"umap-learn .*pip install 'nnviz_widgets\[embed\]'"):
        nnv.embed(blobs, "umap", cache=False)


# -- alignment ------------------------------------------------------------------------------------------
def test_procrustes_undoes_rotation_reflection_and_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 3))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # any orthogonal matrix, maybe a reflection
    np.testing.assert_allclose(procrustes(a, a @ q + [1, -2, 5]), a, atol=1e-5)
    b = a.copy()
    b[3] = np.nan
    out = procrustes(a, b @ q)
    assert np.isnan(out[3]).all()
    np.testing.assert_allclose(np.delete(out, 3, 0), np.delete(a, 3, 0), atol=1e-5)


def test_pca_over_epochs_moves_smoothly():
    """Slowly changing activations: aligned projections move a little each epoch, even when the raw PCA flips."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 10)) * np.linspace(3, 0.5, 10)
    proj = EpochProjector("pca", 2)
    prev = raw_prev = None
    steps, raw_steps = [], []
    for epoch in range(6):
        acts = base + 0.02 * epoch * rng.normal(size=base.shape)
        acts = acts * (-1 if epoch % 2 else 1)  # a sign flip: PCA's axes would jump
        coords = proj.project(acts)
        raw = nnv.embed(acts, "pca", cache=False)
        if prev is not None:
            steps.append(np.abs(coords - prev).mean())
            raw_steps.append(np.abs(raw - raw_prev).mean())
        prev, raw_prev = coords, raw
    scale = np.abs(prev).mean()
    assert max(steps) < 0.05 * scale, steps
    assert max(raw_steps) > 10 * max(steps), "the test's data does make unaligned PCA jump"


def test_tsne_over_epochs_starts_from_the_previous_layout(blobs):
    proj = EpochProjector("tsne", 2, perplexity=10)
    first = proj.project(blobs)
    second = proj.project(blobs + 0.01)
    scale = np.abs(first - first.mean(0)).mean()
    assert np.abs(second - first).mean() < 0.5 * scale


def test_pca_plane_round_trip():
    """Item 6: points on the PCA plane map back to themselves (the plane's own tests live in test_plane.py)."""
    from nnviz_widgets.record.plane import choose_plane

    X = np.random.default_rng(0).normal(size=(100, 7)).astype(np.float32)
    plane = choose_plane(X, None)
    P = np.random.default_rng(1).normal(size=(30, 2)).astype(np.float32)
    np.testing.assert_allclose(plane.to_plane(plane.from_plane(P)), P, atol=1e-4)


def test_projections_made_beside_training_use_one_blas_thread(monkeypatch):
    """Multi-threaded BLAS in the projector's thread spins against the training thread (bench_live.py)."""
    from threadpoolctl import threadpool_info

    from nnviz_widgets.embed import align

    seen, real = [], align.pca_fit

    def spy(X, dims):
        seen.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
        return real(X, dims)

    monkeypatch.setattr(align, "pca_fit", spy)
    align.EpochProjector("pca", 2).project(np.random.default_rng(0).normal(size=(50, 8)))
    assert seen == [{1}]


def test_small_svds_use_one_blas_thread_and_large_ones_blas_own_choice(monkeypatch):
    """A small SVD with several OpenBLAS threads spins on a busy machine (digits' PCA plane: 0.2-1 s instead of
    10 ms), so the plane's and PCA's SVDs take one thread up to _blas.SMALL elements, and BLAS's own count above."""
    import scipy.linalg
    from threadpoolctl import threadpool_info

    from nnviz_widgets import _blas
    from nnviz_widgets.embed.core import pca_fit
    from nnviz_widgets.record.plane import choose_plane

    def blas_threads():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    seen = []

    def spied(real):
        def spy(*args, **kwargs):
            seen.append(blas_threads())
            return real(*args, **kwargs)

        return spy

    monkeypatch.setattr(np.linalg, "svd", spied(np.linalg.svd))
    monkeypatch.setattr(scipy.linalg, "eigh", spied(scipy.linalg.eigh))
    X = np.random.default_rng(0).normal(size=(200, 16)).astype(np.float32)
    choose_plane(X, (0, 1))
    pca_fit(X, 2)  # more rows than features: eigh
    pca_fit(X.T, 2)  # fewer: svd
    assert seen == [{1}, {1}, {1}]
    outside = blas_threads()
    seen.clear()
    monkeypatch.setattr(_blas, "SMALL", 100)  # the same data counts as large: BLAS keeps its own thread count
    choose_plane(X, (0, 1))
    pca_fit(X, 2)
    pca_fit(X.T, 2)
    assert seen == [outside, outside, outside]
    assert blas_threads() == outside  # and the limit ends with the SVD


def test_pca_dims_zero_skips_the_reduction_and_none_is_the_default():
    from nnviz_widgets.embed.core import _reduce

    X = np.random.default_rng(0).normal(size=(80, 60)).astype(np.float32)
    np.testing.assert_array_equal(_reduce(X, {"pca_dims": 0}), X)  # 0: the raw features
    assert _reduce(X, {}).shape == _reduce(X, {"pca_dims": None}).shape == (80, 50)  # None: the default, 50
    assert _reduce(X, {"pca_dims": 10}).shape == (80, 10)
    with pytest.raises(ValueError, match="pca_dims"):
        nnv.embed(X, "tsne", pca_dims=-1)
