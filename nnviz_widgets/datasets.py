"""Small 2-D classification data sets, generated offline and seeded (TensorFlow-Playground style).

Every function returns ``(X, y)``: ``X`` float32 of shape (n, 2), ``y`` int64 class indices.

>>> X, y = moons(500, noise=0.2, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((500, 2), [0, 1])
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sklearn import datasets as _sk

__all__ = ["blobs", "circles", "digits", "load_csv", "mnist", "moons", "spiral", "xor"]


def _check_n(n: int, minimum: int = 2) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"n must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _out(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


def moons(n: int = 500, *, noise: float = 0.2, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``): ``n`` points, Gaussian ``noise``.

    >>> X, y = moons(100, noise=0.1, seed=1)
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((100, 2), dtype('float32'), [0, 1])
    """
    return _out(*_sk.make_moons(_check_n(n), noise=noise, random_state=seed))


def circles(
    n: int = 500, *, noise: float = 0.1, factor: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1) inside a large one (class 0) (scikit-learn's ``make_circles``); ``factor`` is
    the inner radius relative to the outer one.

    >>> X, y = circles(200, noise=0.05, factor=0.3)
    >>> X.shape, int(y.sum())
    ((200, 2), 100)
    """
    return _out(*_sk.make_circles(_check_n(n), noise=noise, factor=factor, random_state=seed))


def xor(n: int = 500, *, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants, opposite ones of the same class: class 1 where ``x * y < 0``.

    Points are uniform in [-1, 1]^2 kept a little away from the axes (as the Playground does), then jittered
    by ``noise``; labels come from the noiseless position.

    >>> X, y = xor(400, noise=0.0)
    >>> bool(((X[:, 0] * X[:, 1] < 0) == (y == 1)).all())
    True
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(_check_n(n), 2))
    X += np.sign(X) * 0.05  # a gap along the axes makes the four quadrants readable
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return _out(X + rng.normal(scale=noise, size=X.shape), y)


def spiral(
    n: int = 500, *, classes: int = 2, turns: float = 1.75, noise: float = 0.05, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (``classes`` between 2 and 10), each winding ``turns`` times.

    >>> X, y = spiral(300, classes=3)
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 2), [0, 1, 2])
    """
    n = _check_n(n)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or not 2 <= classes <= 10:
        raise ValueError(f"classes must be between 2 and 10, got {classes!r}")
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    r = rng.uniform(0.05, 1.0, size=n)
    theta = r * turns * 2 * np.pi + y * 2 * np.pi / classes
    X = np.c_[r * np.cos(theta), r * np.sin(theta)] + rng.normal(scale=noise, size=(n, 2))
    return _out(X, y)


def blobs(n: int = 500, *, centers: int = 3, std: float = 1.0, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class (scikit-learn's ``make_blobs``); ``centers`` between 2 and 10, each with
    standard deviation ``std``.

    >>> X, y = blobs(400, centers=4, std=1.5)
    >>> X.shape, sorted(set(y.tolist()))
    ((400, 2), [0, 1, 2, 3])
    """
    if isinstance(centers, bool) or not isinstance(centers, (int, np.integer)) or not 2 <= centers <= 10:
        raise ValueError(f"centers must be between 2 and 10, got {centers!r}")
    return _out(*_sk.make_blobs(_check_n(n), centers=centers, cluster_std=std, random_state=seed))


def load_csv(path: str | Path, *, x: list[str] | None = None, y: str = "cluster") -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV with a header row: ``x`` feature columns (default: every column but ``y`` and an unnamed
    index column) and a label column ``y``. Labels stay integers when they all are, else strings.

    >>> X, y = load_csv("../shared/seed-data/moons.csv", x=["x", "y"], y="cluster")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_csv: no file at path={str(path)!r}")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2:
        raise ValueError(f"load_csv: path={str(path)!r} has no data rows under its header")
    header, body = rows[0], rows[1:]
    if y not in header:
        raise ValueError(f"load_csv: y={y!r} is not a column of {path}; columns are {header}")
    x = [c for c in header if c not in (y, "")] if x is None else list(x)
    missing = [c for c in x if c not in header]
    if missing or not x:
        raise ValueError(f"load_csv: x columns {missing or x} not in {path}; columns are {header}")
    cols = [header.index(c) for c in x]
    try:
        X = np.array([[float(r[i]) for i in cols] for r in body], dtype=np.float32)
    except (ValueError, IndexError) as err:
        raise ValueError(f"load_csv: a feature value in path={str(path)!r} is not a number ({err})") from None
    raw = [r[header.index(y)] for r in body]
    try:
        labels = np.array([int(v) for v in raw], dtype=np.int64)
    except ValueError:
        labels = np.array(raw, dtype=object)
    return X, labels


# -- images (for weight mosaics): rows are flattened square images, values in [0, 1] -------------------------
MNIST_CACHE = Path.home() / ".cache" / "nnviz_widgets"


def digits(*, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes, offline): ``X`` is (1797,
    size * size) in [0, 1], each row a size x size image, upsampled bilinearly when ``size > 8`` (``size=28``
    gives MNIST-shaped rows of 784).

    >>> X, y = digits(size=28)
    >>> X.shape, int(y.max())
    ((1797, 784), 9)
    """
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 8:
        raise ValueError(f"size must be an integer >= 8 (the images are 8x8), got {size!r}")
    d = _sk.load_digits()
    images = d.images.astype(np.float32) / 16.0
    if size != 8:
        import torch  # a runtime dependency; imported here so the 2-D data sets stay light

        t = torch.nn.functional.interpolate(torch.from_numpy(images)[:, None], size=(size, size), mode="bilinear")
        images = t[:, 0].clamp(0, 1).numpy()
    return _out(images.reshape(len(images), -1), d.target)


def mnist(n: int | None = None, *, cache: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST (70,000 28x28 digits, OpenML ``mnist_784``): ``X`` (n, 784) in [0, 1], ``y`` int64.

    Downloaded once with scikit-learn's ``fetch_openml`` into ``cache`` (default ``~/.cache/nnviz_widgets``)
    and read from there afterwards; needs the network the first time (offline, use ``digits(size=28)``).
    ``n`` keeps the first n images.

    >>> X, y = mnist(1000)          # doctest: +SKIP
    >>> X.shape, y[:5].tolist()     # doctest: +SKIP
    ((1000, 784), [5, 0, 4, 1, 9])
    """
    from sklearn.datasets import fetch_openml

    cache = Path(cache) if cache is not None else MNIST_CACHE
    try:
        cache.mkdir(parents=True, exist_ok=True)
        X, y = fetch_openml("mnist_784", version=1, data_home=str(cache), as_frame=False, return_X_y=True)
    except OSError as err:  # URLError and socket errors are OSErrors
        raise ConnectionError(
            f"mnist: could not download MNIST from OpenML ({err}) and it is not cached in {str(cache)!r}; "
            "connect to the internet once, or use nnv.datasets.digits(size=28) offline"
        ) from None
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"mnist: expected rows of 784 pixels, got shape {X.shape} from {str(cache)!r}")
    y = np.asarray(y).astype(np.int64)
    if n is not None:
        X, y = X[: _check_n(n, 1)], y[: _check_n(n, 1)]
    return X / np.float32(255.0), y
