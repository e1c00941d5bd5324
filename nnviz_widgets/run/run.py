"""The history of one training: an append-only sequence of Frames.

A Frame keeps its arrays encoded (quantised, see ``codec.py``) exactly as they travel to the browser, so
memory is bounded and stated (a 200x200 two-class boundary is 80 KB) and what Python reads back is what
the browser draws. Widgets subscribe to a Run to hear about new frames; a Run knows nothing of drawing.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .codec import Encoded


@dataclass(frozen=True)
class Frame:
    """One capture: what the network had become at ``epoch``.

    ``boundary`` is the (H, W, K) class-probability grid (row i at ``ys[i]``, column j at ``xs[j]``),
    ``predictions`` the predicted class of every data point (-1 where the model output was not finite).

    >>> import torch.nn as nn, nnviz_widgets as nnv
    >>> X, y = nnv.datasets.moons(100)
    >>> frame = nnv.Recorder(nn.Linear(2, 2), X, y, grid=20).capture(loss=0.5)
    >>> frame.index, frame.metrics["loss"], frame.boundary.shape, frame.predictions.shape
    (0, 0.5, (20, 20, 2), (100,))
    """

    index: int
    epoch: int
    metrics: dict
    diverged: bool
    arrays: dict[str, Encoded] = field(repr=False)

    @property
    def boundary(self) -> np.ndarray:
        """The (H, W, K) class probabilities on the grid, as float32 (decoded from one byte per value)."""
        return self.arrays["boundary"].decode()

    @property
    def predictions(self) -> np.ndarray:
        """The predicted class index of every data point, int64 (-1 where the model output was not finite)."""
        codes = self.arrays["predictions"].decode()
        return np.where(np.isnan(codes), -1, codes).astype(np.int64)

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """Each recorded layer's weights as float32, by module name: ``run[i].weights["fc1"]``."""
        return {name[8:]: a.decode() for name, a in self.arrays.items() if name.startswith("weights/")}

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        """Each recorded layer's neuron outputs on the coarse grid: (neurons, rows, cols), row 0 at the bottom."""
        return {name[8:]: a.decode() for name, a in self.arrays.items() if name.startswith("outputs/")}

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """Each recorded layer's activations on the run's fixed sample (``run.sample`` rows): (S, features)."""
        return {name[12:]: a.decode() for name, a in self.arrays.items() if name.startswith("activations/")}

    @property
    def histograms(self) -> dict[str, Histogram]:
        """Each layer's weight histogram and norms (``record/histograms.py``), by module name."""
        return self._histograms("weights")

    @property
    def gradient_histograms(self) -> dict[str, Histogram]:
        """Each layer's gradient histogram and norms (recorded with ``gradients=True``), by module name."""
        return self._histograms("grads")

    def _histograms(self, kind: str) -> dict[str, Histogram]:
        head = f"hist/{kind}/"
        return {
            name[len(head) :]: Histogram(a.decode(), self.arrays[f"stats/{kind}/{name[len(head) :]}"].decode())
            for name, a in self.arrays.items()
            if name.startswith(head)
        }

    @property
    def nbytes(self) -> int:
        """Bytes held by this frame's encoded arrays."""
        return sum(a.nbytes for a in self.arrays.values())


@dataclass(frozen=True)
class Histogram:
    """One layer's values at one frame: ``counts`` in equal bins between ``edges`` (``bins + 1``), and its norms.

    >>> h = Histogram(np.array([1.0, 3.0]), np.array([0, 2, 0, 2, 1.5, 0.5, 3.2, 0, 0, 0.1]))
    >>> h.edges.tolist(), h.stats["mean"], h.norm
    ([0.0, 1.0, 2.0], 1.5, 3.2)
    """

    counts: np.ndarray
    values: np.ndarray  # the STATS row of record/histograms.py, in that order

    STATS = ("lo", "hi", "min", "max", "mean", "std", "norm", "nonfinite", "zeros", "change")

    @property
    def stats(self) -> dict[str, float]:
        """``lo``/``hi`` (the bins' range), ``min``, ``max``, ``mean``, ``std``, ``norm`` (L2), ``nonfinite`` and
        ``zeros`` (counts of such values), ``change`` (relative change since the previous frame; NaN on the first)."""
        return dict(zip(self.STATS, (float(v) for v in self.values), strict=True))

    @property
    def edges(self) -> np.ndarray:
        """The ``bins + 1`` bin edges, equal steps from ``lo`` to ``hi``."""
        return np.linspace(float(self.values[0]), float(self.values[1]), len(self.counts) + 1)

    @property
    def norm(self) -> float:
        """The L2 norm of the layer's finite values."""
        return float(self.values[6])


@dataclass(frozen=True)
class Grid:
    """The evaluation grid: ``xs`` (W,) and ``ys`` (H,) increasing, in data (or plane) coordinates.

    >>> import numpy as np
    >>> xs, ys = Grid(np.linspace(0, 1, 3), np.linspace(-1, 1, 5))
    >>> len(xs), len(ys), Grid(xs, ys).extent
    (3, 5, [0.0, 1.0, -1.0, 1.0])
    """

    xs: np.ndarray
    ys: np.ndarray

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.xs, self.ys))

    @property
    def extent(self) -> list[float]:
        """``[xmin, xmax, ymin, ymax]`` of the grid."""
        return [float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1])]


class MemoryFrames:
    """Where a Run keeps its frames when nothing else does: a list in memory.

    A store (``store.py``) replaces it with an index in memory and the frames on disk or in a bucket; both
    answer the same few calls, so a Run and every view read either the same way.
    """

    def __init__(self):
        self._list: list[Frame] = []

    def __len__(self) -> int:
        return len(self._list)

    def get(self, i: int) -> Frame:
        return self._list[i]

    def add(self, frame: Frame) -> None:
        self._list.append(frame)

    def epochs(self) -> np.ndarray:
        return np.array([f.epoch for f in self._list], dtype=np.int64)

    def metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for f in self._list:
            names.update(dict.fromkeys(f.metrics))
        return list(names)

    def metric(self, name: str) -> np.ndarray:
        return np.array([f.metrics.get(name, math.nan) for f in self._list], dtype=np.float64)

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self._list)


class Run(Sequence):
    """Frames in capture order, plus what every view needs to draw them (grid, data as drawn on the plane,
    class names, axis labels).

    ``run[i]`` is a :class:`Frame`; ``run.grid`` is ``(xs, ys)``, or None for a run whose frames hold no
    boundary (a view's own frames, such as an embedding's projections). Appending is cheap and thread-safe;
    listeners added with :meth:`subscribe` are called with each new frame on the appending thread and
    must return quickly (widgets only wake their sender thread).

    >>> import torch.nn as nn, nnviz_widgets as nnv
    >>> X, y = nnv.datasets.moons(100)
    >>> rec = nnv.Recorder(nn.Linear(2, 2), X, y, grid=20)
    >>> for epoch in range(3):
    ...     _ = rec.capture(loss=1.0 / (epoch + 1))
    >>> run = rec.run
    >>> len(run), [f.epoch for f in run], run.classes, run.grid.extent == rec.run.grid.extent
    (3, [0, 1, 2], ['0', '1'], True)
    """

    def __init__(
        self,
        *,
        grid: Grid | None,
        points: np.ndarray,
        labels: np.ndarray,
        classes: list[str],
        axis_labels: Sequence[str] = ("x₁", "x₂"),
    ):
        self.grid = grid
        self.axis_labels = [str(a) for a in axis_labels]
        self.points = np.asarray(points, dtype=np.float32)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.classes = list(classes)
        self.layers: dict[str, dict] = {}  # recorded weight layers by name (see record/weights.describe_layer)
        self.sample = np.zeros(0, np.int64)  # rows of the data whose activations frames carry (record/activations)
        self._frames = MemoryFrames()  # or a store's index (see store.py): frames on disk, read on demand
        self._lock = threading.RLock()  # re-entrant: a listener may subscribe or read the run
        self._listeners: list[list] = []  # [listener, alive] entries (see subscribe)

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, i):
        n = len(self._frames)
        if isinstance(i, slice):
            return [self._frames.get(j) for j in range(*i.indices(n))]
        i = operator.index(i)
        if not -n <= i < n:
            raise IndexError(f"frame index {i} out of range: the run has {n} frames")
        return self._frames.get(i % n)

    @property
    def epochs(self) -> np.ndarray:
        """Every frame's epoch, int64, without reading the frames (curves use it on runs of any length)."""
        with self._lock:
            return self._frames.epochs()

    @property
    def metric_names(self) -> list[str]:
        """The metric names of the run's frames, in order of first appearance."""
        with self._lock:
            return self._frames.metric_names()

    def metric(self, name: str) -> np.ndarray:
        """One metric over every frame, float64 (NaN where a frame lacks it), without reading the frames."""
        with self._lock:
            return self._frames.metric(name)

    def __repr__(self) -> str:
        grid = "no grid" if self.grid is None else f"grid {len(self.grid.ys)}x{len(self.grid.xs)}"
        return f"<Run {len(self)} frames, {len(self.classes)} classes, {grid}>"

    def append(self, *, epoch: int, metrics: dict, diverged: bool, arrays: dict[str, Encoded]) -> Frame:
        """Add one frame of encoded ``arrays`` (what ``Recorder.capture`` does) and tell every listener."""
        # listeners are called under the lock, so frames captured from two threads reach them in index order
        with self._lock:
            frame = Frame(len(self._frames), int(epoch), dict(metrics), bool(diverged), dict(arrays))
            self._frames.add(frame)
            for entry in list(self._listeners):
                if entry[1]:
                    entry[0](frame)
            self._listeners = [entry for entry in self._listeners if entry[1]]
        return frame

    def subscribe(self, listener: Callable[[Frame], None]) -> Callable[[], None]:
        """Call ``listener(frame)`` for every frame appended from now on; returns an unsubscribe function.

        Unsubscribing never waits for the run's lock: a view collected by the garbage collector unsubscribes from
        whatever thread the collection runs in, possibly one a listener is starting while ``append`` holds the
        lock (waiting there deadlocked training). The entry is marked dead and ``append`` drops it."""
        entry = [listener, True]
        with self._lock:
            self._listeners.append(entry)

        def unsubscribe() -> None:
            entry[1] = False

        return unsubscribe

    def to_html(self, path, *, views=None, title: str | None = None):
        """Write one self-contained offline HTML page that plays this run (every view it can show, or ``views``);
        see :func:`nnviz_widgets.export.to_html`.

        >>> rec.run.to_html("moons.html", views=["boundary", "curves"])   # doctest: +SKIP
        """
        return _exporter("html")(self, path, views=views, title=title)

    def to_video(self, path, *, view: str = "boundary", fps: float = 10, progress: bool = True, layer=None):
        """Write an MP4 or GIF (by ``path``'s suffix) of this run; see :func:`nnviz_widgets.export.to_video`.

        >>> rec.run.to_video("moons.mp4", view="dashboard")   # doctest: +SKIP
        """
        return _exporter("video")(self, path, view=view, fps=fps, progress=progress, layer=layer)

    @property
    def nbytes(self) -> int:
        """Bytes this run holds in memory: every encoded frame, or, for a run on disk, its index and cache."""
        return self._frames.nbytes


# The layers that draw and export runs build on this one, never the other way: ``nnviz_widgets.export``
# registers its functions here when it is imported (``import nnviz_widgets`` does), so Run.to_html needs no import.
EXPORTERS: dict[str, Callable] = {}


def _exporter(kind: str) -> Callable:
    if kind not in EXPORTERS:
        raise RuntimeError(
            f"Run.to_{kind} needs nnviz_widgets.export, which registers it: `import nnviz_widgets` (or "
            "nnviz_widgets.export) first"
        )
    return EXPORTERS[kind]
