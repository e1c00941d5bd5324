"""Small 2-D classification data sets, generated offline and seeded (TensorFlow-Playground style).

Every function returns ``(X, y)``: ``X`` float32 of shape (n, 2), ``y`` int64 class indices.

>>> X, y = moons(500, noise=0.2, seed=0)
>>> X.shape, sorted(set(y.tolist()))
((500, 2), [0, 1])
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
from sklearn import datasets as _sk

from ._check import integer, real, text
from ._check import names as check_names
from ._columns import Columns

__all__ = ["blobs", "circles", "digits", "load_csv", "mnist", "moons", "spiral", "xor"]


def _check_n(n: int, minimum: int = 2) -> int:
    return integer("n", n, lo=minimum, what="the number of points")


def _seed(seed) -> int | None:
    return None if seed is None else integer("seed", seed, lo=0, hi=2**32 - 1, what="or None")


def _noise(noise) -> float:
    return real("noise", noise, lo=0, what="the standard deviation of the Gaussian noise")


def _out(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)


def moons(n: int = 500, *, noise: float = 0.2, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``): ``n`` points, Gaussian ``noise``.

    >>> X, y = moons(100, noise=0.1, seed=1)
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((100, 2), dtype('float32'), [0, 1])
    """
    return _out(*_sk.make_moons(_check_n(n), noise=_noise(noise), random_state=_seed(seed)))


def circles(
    n: int = 500, *, noise: float = 0.1, factor: float = 0.5, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1) inside a large one (class 0) (scikit-learn's ``make_circles``); ``factor`` is
    the inner radius relative to the outer one.

    >>> X, y = circles(200, noise=0.05, factor=0.3)
    >>> X.shape, int(y.sum())
    ((200, 2), 100)
    """
    factor = real("factor", factor, lo=0, hi=1, hi_open=True, what="the inner radius relative to the outer one")
    return _out(*_sk.make_circles(_check_n(n), noise=_noise(noise), factor=factor, random_state=_seed(seed)))


def xor(n: int = 500, *, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants, opposite ones of the same class: class 1 where ``x * y < 0``.

    Points are uniform in [-1, 1]^2 kept a little away from the axes (as the Playground does), then jittered
    by ``noise``; labels come from the noiseless position.

    >>> X, y = xor(400, noise=0.0)
    >>> bool(((X[:, 0] * X[:, 1] < 0) == (y == 1)).all())
    True
    """
    n, noise = _check_n(n), _noise(noise)
    rng = np.random.default_rng(_seed(seed))
    X = rng.uniform(-1, 1, size=(n, 2))
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
    n, noise = _check_n(n), _noise(noise)
    classes = integer("classes", classes, lo=2, hi=10, what="one spiral arm each")
    turns = real("turns", turns, lo=0, lo_open=True)
    rng = np.random.default_rng(_seed(seed))
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
    centers = integer("centers", centers, lo=2, hi=10, what="one blob per class")
    std = real("std", std, lo=0, what="each blob's standard deviation")
    return _out(*_sk.make_blobs(_check_n(n), centers=centers, cluster_std=std, random_state=_seed(seed)))


def load_csv(
    path: str | Path, *, x: list[str] | None = None, y: str | None = None, encoding: str = "utf-8"
) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV with a header row: ``x`` feature columns (default: every column but ``y`` and an unnamed
    index column) and a label column ``y`` (default: the column named ``"cluster"`` when there is one, else the
    last column). Labels stay integers when they all are, else strings: ``Recorder(model, X, y)`` encodes them,
    and its ``rec.y`` holds the class indices (in the order of ``rec.classes``) a training loop needs.

    ``X`` keeps the CSV's column names (``X.columns``), so the views label their axes with them.

    ``encoding`` is the file's text encoding (a UTF-8 byte-order mark is skipped). Blank lines are skipped;
    duplicate column names, rows of the wrong length, empty label cells and non-numeric features are refused
    with the line they are on.

    >>> X, y = load_csv("../shared/seed-data/moons.csv")  # doctest: +SKIP
    >>> X.columns                                          # doctest: +SKIP
    ('x', 'y')
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_csv: path must be a file path (str or pathlib.Path), got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_csv: no file at path={str(path)!r}")
    y = None if y is None else text("y", y)
    if x is not None:
        x = check_names("x", x)
    encoding = text("encoding", encoding)
    try:
        with path.open(
            newline="", encoding="utf-8-sig" if encoding.lower().replace("_", "-") in UTF8 else encoding
        ) as fh:
            rows = [(line, r) for line, r in enumerate(csv.reader(fh), 1) if any(cell.strip() for cell in r)]
    except LookupError:
        raise ValueError(f"load_csv: encoding={encoding!r} is not a text encoding Python knows") from None
    except UnicodeDecodeError as err:
        raise ValueError(
            f"load_csv: path={str(path)!r} is not {encoding} text (byte {err.start}: {err.reason}); pass the file's "
            "encoding, e.g. encoding='latin-1' or 'cp1252'"
        ) from None
    except csv.Error as err:
        raise ValueError(f"load_csv: path={str(path)!r} is not a readable CSV file: {err}") from None
    if len(rows) < 2:
        raise ValueError(f"load_csv: path={str(path)!r} has no data rows under its header")
    header = [c.strip() for c in rows[0][1]]
    body = rows[1:]
    index = {}
    for i, c in enumerate(header):
        if c in index and c != "":
            raise ValueError(f"load_csv: path={str(path)!r} has the column {c!r} twice; give columns distinct names")
        index.setdefault(c, i)
    if y is None:
        y = _label_column(header, x, path)
    if y not in index:
        raise ValueError(f"load_csv: y={y!r} is not a column of {path}; columns are {header[:50]}")
    x = [c for c in header if c not in (y, "")] if x is None else x
    missing = [c for c in x if c not in index]
    if missing or not x:
        raise ValueError(f"load_csv: x columns {missing[:20] or x} not in {path}; columns are {header[:50]}")
    cols = np.array([index[c] for c in x])
    width, ycol = len(header), index[y]
    X = np.empty((len(body), len(cols)), dtype=np.float32)
    labels = []
    for k, (line, r) in enumerate(body):
        if len(r) != width:
            raise ValueError(
                f"load_csv: line {line} of path={str(path)!r} has {len(r)} cells; the header has {width} columns"
            )
        try:
            X[k] = np.asarray(r, dtype=object)[cols].astype(np.float64)
        except ValueError as err:
            raise ValueError(
                f"load_csv: a feature value on line {line} of path={str(path)!r} is not a number ({err})"
            ) from None
        label = r[ycol].strip()
        if not label:
            raise ValueError(f"load_csv: the label (column y={y!r}) on line {line} of path={str(path)!r} is empty")
        labels.append(label)
    X = Columns(X, x)
    try:
        return X, np.array([int(v) for v in labels], dtype=np.int64)
    except ValueError:
        return X, np.array(labels, dtype=object)


def _label_column(header: list[str], x: list[str] | None, path: Path) -> str:
    """load_csv's default label column: "cluster" (the seed data's name), else the last column."""
    if "cluster" in header:
        return "cluster"
    last = header[-1]
    features = [c for c in header if c not in (last, "")] if x is None else x
    why = "is unnamed" if last == "" else "is one of x" if last in features else "would leave no feature columns"
    if last == "" or last in features or not features:
        raise ValueError(
            f"load_csv: {path} has no column named 'cluster', and its last column ({last!r}) {why}; name the "
            f"label column with y=..., one of {header[:50]}"
        )
    return last


UTF8 = ("utf-8", "utf8", "utf-8-sig")


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
    size = integer("size", size, lo=8, what="the images are 8x8")
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
