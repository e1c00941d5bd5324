"""EmbeddingScatter: points in 2-D or 3-D (PCA, t-SNE, UMAP), drawn with WebGL, coloured by class.

Two sources, one subclass each (``EmbeddingScatter(...)`` returns the one its source needs):

- data, ``EmbeddingScatter(X, y, method="tsne")`` (a ``DataScatter``): X is embedded once (``nnv.embed``,
  cached) and the coordinates travel once as a binary trait (``coords``, float32 little-endian, (N, dims)); no
  frames.
- a recorder, ``EmbeddingScatter(rec, layer="2")`` (an ``EpochScatter``): the recorder captured that layer's
  activations on a fixed sample every frame (``Recorder(..., activations="2")``); each frame is projected here,
  aligned with the previous one (``embed.EpochProjector``) on a background thread, and streamed as frame arrays
  (``embedding``, uint16) through the same sender as every view, so the shared Player moves it.

``selection`` (row indices) is synced both ways: lasso or box in the browser, or set it from Python.
"""

from __future__ import annotations

import dataclasses
import threading
import warnings

import numpy as np
import traitlets as t

from .._check import flag, integer, is_number, real, text
from .._columns import feature_names
from ..embed import EpochProjector, embed
from ..run import Run
from ..run.codec import encode
from . import _stream
from ._base import PALETTE, PLAYER_TRAITS, STREAM_OPTIONS, Float, FrameView, Int, pixels, source_run

MAX_CLASSES = 64  # colours the shader holds
NO_LABEL = 255
DENSITY = ("off", "over", "only")
FITS = ("frame", "all")


class EmbeddingScatter(FrameView):
    """A scatter of an embedding: pan, zoom, box and lasso in 2-D; orbit and zoom in 3-D; hover for the label
    (and the image, with ``images``); click a legend entry to hide or show a class; ``density="over"`` or
    ``"only"`` draws per-class density contours.

    >>> view = nnv.EmbeddingScatter(X, y, method="tsne", images=digits.images)  # doctest: +SKIP
    >>> view.selection                                                          # doctest: +SKIP
    [12, 40, 41]

    ``method=None`` takes ``X`` as coordinates already ((N, 2) or (N, 3)). ``options`` go to :func:`nnv.embed`
    (``perplexity``, ``n_neighbors`` ...). With a recorder, ``layer`` names the recorded activation layer, and
    point ``i`` (and ``selection``) is drawn point ``rec.run.sample[i]`` of the run, row
    ``rec.rows[rec.run.sample[i]]`` of the recorder's X; ``images`` may be given for every row of X (or for the
    drawn points, or the sample), channels first or last. Over epochs the view fits each frame shown
    (``fit="frame"``: early, tightly bunched activations fill the view too; "Reset view" fits the frame shown);
    ``fit="all"`` keeps one scale for every frame received, so growth shows as growth (the "fixed scale" box).
    """

    _bundle = "scatter.js"
    _arrays = ("embedding",)

    dims = Int(2).tag(sync=True)
    coords = t.Bytes(b"").tag(sync=True)  # static data: float32 little-endian (N, dims); NaN rows are not drawn
    n_points = Int(0).tag(sync=True)
    labels = t.Bytes(b"").tag(sync=True)  # uint8 (N,) class index, 255 = none
    classes = t.List(t.Unicode()).tag(sync=True)
    colors = t.List(t.Unicode()).tag(sync=True)
    hidden = t.List(Int()).tag(sync=True)  # class indices toggled off in the legend
    selection = t.List(Int()).tag(sync=True)
    images = t.Bytes(b"").tag(sync=True)  # uint8 (N, h, w[, 3]) thumbnails, or empty
    image_shape = t.List(Int()).tag(sync=True)  # [h, w] or [h, w, 3]
    density = t.Unicode("off").tag(sync=True)
    fit = t.Unicode("frame").tag(sync=True)  # over epochs: the view fits each frame, or "all" frames at once
    point_size = Float(0.0).tag(sync=True)  # px; 0 = chosen from the number of points
    axis_labels = t.List(t.Unicode()).tag(sync=True)
    source_kind = t.Unicode("data").tag(sync=True)  # "data" (one set of coordinates) or "frames"
    controls = t.Bool(True).tag(sync=True)
    width = Int(520).tag(sync=True)
    height = Int(420).tag(sync=True)
    title = t.Unicode("").tag(sync=True)

    def __new__(cls, *args, **kwargs):
        # One public class for both sources; the subclass says which one this is (see DataScatter, EpochScatter).
        if cls is EmbeddingScatter:
            source = args[0] if args else kwargs.get("source")
            cls = EpochScatter if isinstance(getattr(source, "run", source), Run) else DataScatter
        return super().__new__(cls, *args, **kwargs)

    def __init__(
        self,
        source,
        y=None,
        *,
        method: str | None = "pca",
        dims: int = 2,
        layer: str | None = None,
        images=None,
        classes=None,
        density: str = "off",
        fit: str = "frame",
        point_size: float = 0.0,
        seed: int = 0,
        width: int = 520,
        height: int = 420,
        title: str = "",
        controls: bool = True,
        **options,
    ):
        player = {k: options.pop(k) for k in list(options) if k in PLAYER_TRAITS | STREAM_OPTIONS}
        if not is_number(dims) or dims not in (2, 3):
            raise ValueError(f"dims must be 2 or 3, got {dims!r}")
        dims, seed = int(dims), integer("seed", seed, lo=0, hi=2**32 - 1)
        width, height = pixels("width", width), pixels("height", height)
        point_size = real("point_size", point_size, lo=0, what="px; 0 chooses from the number of points")
        controls, title = flag("controls", controls), text("title", title)
        if density not in DENSITY:
            raise ValueError(f"density must be one of {DENSITY}, got {density!r}")
        if fit not in FITS:
            raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
        points = self._points(source, y, layer=layer, method=method, dims=dims, seed=seed, classes=classes,
                              options=options)  # fmt: skip
        image_bytes, image_shape = _images(images, points.n, points.rows)
        super().__init__(
            points.run,
            dims=dims, coords=points.coords, n_points=points.n, labels=points.labels.astype(np.uint8).tobytes(),
            classes=points.classes, colors=[PALETTE[k % len(PALETTE)] for k in range(len(points.classes))],
            images=image_bytes, image_shape=image_shape, density=density, fit=fit, point_size=float(point_size),
            axis_labels=points.axis_labels, source_kind=self._kind, width=width, height=height, title=title,
            controls=controls, **player,
        )  # fmt: skip

    # What each source does differently, in its subclass: ``_kind`` (the ``source_kind`` trait), ``_points(...)``
    # (what the source gives the view, as _Points) and ``_shown_coords()`` (the coordinates shown now, or None).
    _kind = ""

    def _picture(self):
        """The points shown, coloured by class, on white: the first two axes, each scaled to the points' range;
        classes toggled off in the legend are left out."""
        coords = self._shown_coords()
        if coords is None:
            return None
        from PIL import Image, ImageDraw  # noqa: PLC0415 - Pillow is optional (the video extra)

        labels = np.frombuffer(self.labels, np.uint8)
        xy = coords[:, :2]
        keep = np.isfinite(xy).all(axis=1) & ~np.isin(labels, self.hidden)
        img = Image.new("RGB", (self.width, self.height), "white")
        if not keep.any():
            return img
        lo, hi = xy[keep].min(axis=0), xy[keep].max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        margin = 12
        px = margin + (xy - lo) / span * [self.width - 2 * margin, self.height - 2 * margin]
        draw, r = ImageDraw.Draw(img), 2.5
        for (x, y), label, shown in zip(px, labels, keep, strict=True):
            if shown:
                colour = self.colors[label % len(self.colors)] if label != 255 and self.colors else "#7f7f7f"
                draw.ellipse((x - r, self.height - y - r, x + r, self.height - y + r), fill=colour)
        return img

    # -- selection ---------------------------------------------------------------------------------------
    @t.validate("selection")
    def _valid_selection(self, proposal):
        idx = sorted({int(i) for i in proposal["value"]})
        if idx and (idx[0] < 0 or idx[-1] >= self.n_points):
            raise t.TraitError(f"selection holds indices outside 0..{self.n_points - 1}")
        return idx

    @t.validate("fit")
    def _valid_fit(self, proposal):
        if proposal["value"] not in FITS:
            raise t.TraitError(f"fit must be one of {FITS}, got {proposal['value']!r}")
        return proposal["value"]

    @t.validate("density")
    def _valid_density(self, proposal):
        if proposal["value"] not in DENSITY:
            raise t.TraitError(f"density must be one of {DENSITY}, got {proposal['value']!r}")
        return proposal["value"]


@dataclasses.dataclass
class _Points:
    """What a source gives the view: the run it streams, N points, their class labels and names, axis titles;
    static coordinates (float32 bytes) for data, and for a recorder the rows of its X the points are."""

    run: Run
    n: int
    labels: np.ndarray
    classes: list[str]
    axis_labels: list[str]
    coords: bytes = b""
    rows: np.ndarray | None = None


class DataScatter(EmbeddingScatter):
    """``EmbeddingScatter(X, y)``: X embedded once; the coordinates travel once, as the ``coords`` trait. There
    are no frames (the view's run stays empty), so a player has nothing to move here."""

    _kind = "data"

    def _points(self, source, y, *, layer, method, dims, seed, classes, options) -> _Points:
        if layer is not None:
            raise TypeError("layer: only a recorder (or run) has layers; with data X leave layer out")
        if not hasattr(source, "__len__"):
            raise TypeError(f"source must be data X of shape (N, D), a Recorder or a Run, got {source!r}")
        columns = feature_names(source)
        X = np.asarray(source.detach().cpu().numpy() if hasattr(source, "detach") else source)
        points, axis = _coordinates(X, method, dims, seed, options)
        if method is None and columns is not None and len(columns) == dims:
            axis = list(columns)  # coordinates given as named columns: the axes are those columns
        labels, names = _labels(y, len(points), classes)
        run = Run(grid=None, points=np.zeros((0, 2)), labels=np.zeros(0), classes=names, axis_labels=axis)
        return _Points(run, len(points), labels, names, axis, coords=points.astype("<f4").tobytes())

    def _shown_coords(self) -> np.ndarray:
        return np.frombuffer(self.coords, "<f4").reshape(-1, self.dims)


class EpochScatter(EmbeddingScatter):
    """``EmbeddingScatter(rec, layer=...)``: the recorder captured that layer's activations on a fixed sample
    every frame; each frame is projected here, aligned with the previous one (``embed.EpochProjector``), on a
    background thread that runs while frames wait, into this view's own run of ``embedding`` frames (uint16),
    which travels like every view's frames, so the shared Player moves it."""

    _kind = "frames"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with self._cond:
            self._start_projecting()

    def _points(self, source, y, *, layer, method, dims, seed, classes, options) -> _Points:
        if y is not None:
            raise TypeError("y: a recorder's view takes its labels from the recorder; pass y only with data X")
        run = source_run(source)
        known = getattr(source, "activation_layers", None)  # a Recorder knows its layers before any frame
        recorded = sorted({name[12:] for f in run[:1] for name in f.arrays if name.startswith("activations/")})
        recorded = recorded or known or []  # before the first frame, the recorder's own list
        sample = getattr(run, "sample", np.zeros(0))
        if layer is None:
            hint = f" (this one records {recorded})" if recorded else ""
            raise TypeError(
                f"EmbeddingScatter(rec, layer=...) needs the name of a layer recorded with activations={hint}"
            )
        if not len(sample):
            raise ValueError(
                "the recorder records no activations: create it with Recorder(model, X, y, activations="
                f"{str(layer)!r}) to show that layer here"
            )
        if recorded and str(layer) not in recorded:
            raise ValueError(f"layer {layer!r} was not recorded; recorded activation layers are {recorded}")
        axis = [f"{_method_name(method)} {i + 1}" for i in range(dims)]
        self._projector = EpochProjector(method or "pca", dims, seed=seed, **options)
        self._source, self._name = run, f"activations/{layer}"
        self._projected = Run(grid=None, points=np.zeros((0, 2)), labels=np.zeros(0), classes=list(run.classes),
                              axis_labels=axis)  # fmt: skip
        self._todo: list[int] = list(range(len(run)))
        self._cond = threading.Condition()
        self._projector_thread = None  # runs while frames wait to be projected (see _start_projecting)
        self._unsubscribe_source = run.subscribe(self._on_source_frame)
        rows = np.asarray(sample)  # the sample's rows of the recorder's X (a run alone: of its drawn points)
        if getattr(source, "rows", None) is not None and len(rows):
            rows = np.asarray(source.rows)[rows]
        labels = np.asarray(run.labels)[sample]
        return _Points(self._projected, len(sample), labels, list(run.classes), axis, rows=rows)

    def _shown_coords(self) -> np.ndarray | None:
        index = self.current_index()
        return None if index is None else self.run[index].arrays["embedding"].decode()

    def _on_source_frame(self, frame) -> None:
        with self._cond:
            self._todo.append(frame.index)
            self._start_projecting()

    def _start_projecting(self) -> None:
        """Under ``_cond``: wake the projector thread, starting one if none runs (it ends when idle, so views no
        longer shown hold no thread)."""
        if self._todo and self._todo[0] >= 0 and self._projector_thread is None:
            self._projector_thread = threading.Thread(target=self._project_loop, name="nnviz-embed", daemon=True)
            self._projector_thread.start()
        self._cond.notify_all()

    def _project_loop(self) -> None:
        while True:
            with self._cond:
                while not self._todo:
                    if not self._cond.wait(_stream.IDLE_EXIT) and not self._todo:
                        self._projector_thread = None
                        return
                index = self._todo[0]
                if index < 0:
                    self._projector_thread = None
                    return
            frame = self._source[index]
            try:
                coords = self._projector.project(frame.arrays[self._name].decode())
            except (ValueError, KeyError, np.linalg.LinAlgError):  # a diverged frame: nothing to place
                coords = np.full((self.n_points, self.dims), np.nan, np.float32)
            self._projected.append(epoch=frame.epoch, metrics=frame.metrics, diverged=frame.diverged,
                                   arrays={"embedding": encode(coords, "uint16")})  # fmt: skip
            with self._cond:
                self._todo.pop(0)
                self._cond.notify_all()

    def wait_sent(self, timeout: float = 30.0) -> bool:
        """Block until every frame is projected and handed to the front-end (scripts and tests)."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._todo, timeout):
                return False
        return super().wait_sent(timeout)

    def close(self) -> None:
        if hasattr(self, "_unsubscribe_source"):  # absent when construction failed before subscribing
            self._unsubscribe_source()
            self._todo.insert(0, -1)  # never blocks (close also runs from __del__ in any thread: see _stream)
            _stream._notify_if_free(self._cond)
        super().close()


def _method_name(method) -> str:
    return {"pca": "PC", "tsne": "t-SNE", "umap": "UMAP", None: "x"}[method]


def _coordinates(X: np.ndarray, method, dims: int, seed: int, options: dict) -> tuple[np.ndarray, list[str]]:
    if method is None:
        if options:
            raise TypeError(f"method=None takes X as coordinates; options {sorted(options)} have nothing to do")
        if X.ndim != 2 or X.shape[1] != dims:
            raise ValueError(
                f"with method=None X must be coordinates of shape (N, {dims}) (dims={dims}), got {X.shape}"
            )
        if len(X) < 1:
            raise ValueError("X has no rows")
        return X.astype(np.float32), [f"x{i + 1}" for i in range(dims)]
    coords = embed(X, method, dims, seed=seed, **options)
    return coords, [f"{_method_name(method)} {i + 1}" for i in range(dims)]


def _labels(y, n: int, classes) -> tuple[np.ndarray, list[str]]:
    if y is None:
        return np.zeros(n, np.uint8), ["points"]
    if classes is not None and (isinstance(classes, str) or not hasattr(classes, "__iter__")):
        raise TypeError(f"classes must be a list of class names (the order of y's labels), got {classes!r}")
    arr = np.asarray(y.detach().cpu().numpy() if hasattr(y, "detach") else y).reshape(-1)
    if len(arr) != n:
        raise ValueError(f"y has {len(arr)} labels for {n} points: one label per row of X")
    order = list(classes) if classes is not None else sorted(set(arr.tolist()), key=lambda v: (str(type(v)), v))
    if len(order) > MAX_CLASSES:
        raise ValueError(f"y has {len(order)} classes; the scatter colours at most {MAX_CLASSES}")
    index = {str(c): i for i, c in enumerate(order)}
    missing = sorted({str(v) for v in arr.tolist()} - set(index))
    if missing:
        raise ValueError(f"y has labels {missing[:5]} that are not in classes={order}")
    return np.array([index[str(v)] for v in arr.tolist()], np.uint8), [str(c) for c in order]


def _images(images, n: int, sample) -> tuple[bytes, list[int]]:
    """uint8 bytes and [h, w] or [h, w, 3] of the thumbnails; floats are stretched over their own range. Images
    may be (N, h, w), (N, h, w, 3) or channels first, (N, 3, h, w) or (N, 1, h, w), as a CNN takes them."""
    if images is None:
        return b"", []
    if not hasattr(images, "__len__"):
        raise TypeError(f"images must be an array of N images, (N, h, w) or (N, h, w, 3), got {images!r}")
    arr = np.asarray(images)
    if sample is not None and len(sample) and len(arr) != n and len(arr) > int(np.max(sample)):
        arr = arr[sample]  # images of every row of the recorder's X: keep the sample's
    if len(arr) != n:
        raise ValueError(f"images has {len(arr)} rows for {n} points; expected shape ({n}, h, w) or ({n}, h, w, 3)")
    if arr.ndim == 4 and arr.shape[1] in (1, 3) and arr.shape[3] not in (3, 4):
        arr = arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)  # channels first, as a CNN takes them
    if arr.ndim == 2:
        side = int(round(np.sqrt(arr.shape[1])))
        if side * side != arr.shape[1]:
            raise ValueError(f"images of shape {arr.shape}: flat rows must be square images (h*w values)")
        arr = arr.reshape(n, side, side)
    if not (arr.ndim == 3 or (arr.ndim == 4 and arr.shape[3] in (3, 4))):
        raise ValueError(f"images must have shape ({n}, h, w) or ({n}, h, w, 3), got {arr.shape}")
    if arr.ndim == 4:
        arr = arr[..., :3]  # RGBA: drop alpha
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        lo, hi = np.nanmin(a), np.nanmax(a)
        arr = np.nan_to_num((a - lo) / max(hi - lo, 1e-12) * 255).round().astype(np.uint8)
    if arr.nbytes > 256 * 2**20:
        warnings.warn(f"images are {arr.nbytes / 2**20:.0f} MiB; thumbnails of that many points slow the notebook",
                      stacklevel=3)  # fmt: skip
    return arr.tobytes(), list(arr.shape[1:])
