"""MetricCurves: every recorded metric against epoch, drawn with bqplot, with a cursor at the shown frame.

One figure per metric family (``loss`` with ``val_loss``, ``accuracy`` with ``val_accuracy``, then one per
other metric). The curves are redrawn by a daemon thread at most every ``REDRAW`` seconds, on the ticks of
the live views' clock (``_stream.LiveClock``: the page reports how long its last redraw took to paint): a
capture only marks them stale, so training never waits for the browser. The cursor follows ``epoch`` (a frame
index) in the browser: a small anywidget (``js/src/curves.js``) moves the bqplot cursor marks, so a Player linked
to it moves the cursor with no kernel round trip. Clicking a point on a curve moves ``epoch`` (and a linked
player) to that frame.

The epoch axis is drawn from values Python computes (the scale's ``min``/``max`` and whole-number
``tick_values`` with an explicit format), never from bqplot's guesses: a bqplot axis first drawn while its
scale spans a single value (only frame 0 recorded, as when a dashboard is shown before training) builds a
tick formatter from zero ticks that throws on every later redraw, and that exception, raised inside the
shared x scale's ``domain_changed`` event, keeps every mark listening after it at the old domain.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable

import anywidget
import bqplot as bq
import ipywidgets
import numpy as np
import traitlets as t

from . import _stream
from ._base import bundle, pixels, source_run

REDRAW = 0.25  # s between redraws while frames arrive
# figures made when the curves are, before the first capture: a figure and its marks are ~13 widgets, one comm
# each, which would otherwise all open at the first redraw, inside the training loop (the common families are two:
# loss and accuracy); a family takes a prepared figure and gets its title then
PREPARED = 2
log = logging.getLogger(__name__)
COLORS = {"train": "#1f77b4", "val": "#ff7f0e"}
KIND_NAMES = {"train": "training", "val": "validation"}
BOUNDED = {"accuracy", "acc"}  # families that live in [0, 1]: their axis shows 0 to 1 (unless values leave it)


def nice_ticks(lo: float, hi: float, n: int = 6, *, integer: bool = False) -> list[float]:
    """At most about ``n`` round tick values between ``lo`` and ``hi``: multiples of 1, 2, 2.5 or 5 times a
    power of ten (whole numbers only with ``integer``, for epochs).

    >>> nice_ticks(0, 150)
    [0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0]
    >>> nice_ticks(1, 12, integer=True)
    [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    step = _nice_step(lo, hi, n, integer)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [float(round(k * step, 12)) for k in range(first, last + 1)]


def nice_top(hi: float, n: int = 6) -> float:
    """``hi`` rounded up to the next round tick of an axis from 0, so the axis ends on a tick.

    >>> nice_top(0.71), nice_top(137.0)
    (0.8, 150.0)
    """
    if not hi > 0:
        return 1.0
    step = _nice_step(0.0, hi, n, False)
    return float(round(math.ceil(hi / step - 1e-9) * step, 12))


def _assign(widget, **values) -> None:
    """Set traits only where they change: every assignment is a message the browser redraws a figure for."""
    for name, value in values.items():
        old = getattr(widget, name)
        same = np.array_equal(np.asarray(old), value) if isinstance(value, list) else old == value
        if old is None or not same:
            setattr(widget, name, np.array(value) if isinstance(value, list) else value)


def _nice_step(lo: float, hi: float, n: int, integer: bool) -> float:
    raw = max(hi - lo, 1e-12) / max(1, n)
    power = 10 ** math.floor(math.log10(raw))
    if integer:  # whole steps only: nothing below 1, and 2.5 only from 25 up
        power = max(1, power)
    mults = (1, 2, 5, 10) if integer and power == 1 else (1, 2, 2.5, 5, 10)
    return next(m * power for m in mults if m * power >= raw * (1 - 1e-9))


# A mid grey, at least 3:1 (WCAG's contrast for graphics) on a light figure (3.5:1 on white) and a dark one (5.3:1
# on JupyterLab Dark's #111): bqplot colours must be literal, so the cursor cannot take a theme variable.
CURSOR_COLOR = "#888888"


class _Cursor(anywidget.AnyWidget):
    """Moves the figures' cursor marks to frame ``epoch`` in the browser (``xs[epoch]`` on the x axis)."""

    @property
    def _esm(self) -> str:
        return bundle("curves.js").read_text()

    _uid = t.Unicode().tag(sync=True)
    epoch = t.Int(0).tag(sync=True)
    xs = t.List(t.Float()).tag(sync=True)  # x position (the frame's epoch) of each frame, by index
    cursors = t.List(t.Instance(bq.Lines)).tag(sync=True, **ipywidgets.widget_serialization)


class MetricCurves(ipywidgets.VBox):
    """Train/validation loss and accuracy (and every other metric passed to ``capture``) against epoch.

    ``epoch`` is the frame shown (the cursor); clicking a point sets it. ``link(player)`` ties both ways to
    a :class:`Player`: the player moves the cursor in the browser, a click moves the player.

    >>> curves = nnv.MetricCurves(rec)             # doctest: +SKIP
    """

    def __init__(self, source, *, metrics=None, width: int = 360, height: int = 240):
        self.run = source_run(source)
        if metrics is not None and (isinstance(metrics, str) or not isinstance(metrics, (list, tuple))):
            raise TypeError(f"metrics must be a list of metric names, e.g. ['loss'], got {metrics!r}")
        self._only = None if metrics is None else [str(m) for m in metrics]
        self._size = (int(pixels("width", width)), int(pixels("height", height)))
        self._x = bq.LinearScale(min=0.0, max=1.0)
        self._cursor = _Cursor(_uid=uuid.uuid4().hex)
        self._figures: dict[str, bq.Figure] = {}
        self._y: dict[str, bq.LinearScale] = {}
        self._dot_frames: dict[int, np.ndarray] = {}  # id(scatter) -> frame index of each dot
        self._lines: dict[str, tuple[bq.Lines, bq.Scatter]] = {}
        self._row = ipywidgets.HBox(layout=ipywidgets.Layout(flex_flow="row wrap"))
        self._key = ipywidgets.HTML()  # which colour is which curve, once for every figure
        self._key.add_class("nnviz-curves-key")
        self._axes: dict[str, tuple[bq.Axis, bq.Axis]] = {}
        self._spare: dict[str, list[tuple[bq.Lines, bq.Scatter]]] = {}  # prepared marks a family has not used
        self._pick: list[Callable[[int], None]] = []
        self._listeners: list[Callable[[], None]] = []
        # (figure, y scale, axes, [(lines, dots) for a training and a validation metric]) made ahead: see PREPARED
        self._prepared = [self._make_figure() for _ in range(PREPARED)]
        super().__init__([self._key, self._row, self._cursor])
        self._cond = threading.Condition()
        self._stale = True
        self._closed = False
        self._ticking = False  # the thread waits for the live clock's tick (_stream.tick_wait)
        self._lock = threading.Lock()  # one redraw at a time (the thread, or redraw() from the caller)
        self.redraw()
        self._last_redraw = 0.0
        self._thread: threading.Thread | None = None  # runs while redraws are due, ends when idle
        self._unsubscribe = self.run.subscribe(self._on_frame)
        self._cursor.on_msg(self._on_cursor_msg)

    def _on_cursor_msg(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "drawn":  # the page drew a redraw in `ms`
            _stream.CLOCK.drawn(content.get("ms"))

    # -- public -------------------------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """The frame index the dashed cursor marks (set it to move the cursor; a Player links it in the browser)."""
        return self._cursor.epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self._cursor.epoch = int(value)

    @property
    def figures(self) -> dict[str, bq.Figure]:
        """The bqplot figures by metric family (``"loss"``, ``"accuracy"``, ...)."""
        return dict(self._figures)

    def link(self, player) -> MetricCurves:
        """The player's ``epoch`` moves the cursor (in the browser); clicking a curve moves the player."""
        ipywidgets.jsdlink((player, "epoch"), (self._cursor, "epoch"))
        self._cursor.epoch = player.epoch

        def move(index: int) -> None:
            player.follow = False
            player.playing = False
            player.epoch = index

        self._pick.append(move)
        return self

    def on_update(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` (on the redraw thread) after each redraw."""
        self._listeners.append(fn)

    def redraw(self) -> None:
        """Redraw every curve from the run now (the thread does this by itself while frames arrive)."""
        with self._lock:
            # columns of the run's index: a run on disk answers without reading a frame
            xs = self.run.epochs.astype(np.float64)
            names = [n for n in self.run.metric_names if self._only is None or n in self._only]
            new_marks: dict[str, list[bq.Mark]] = {}
            for name in names:
                lines, dots = self._lines.get(name) or self._add(name, new_marks)
                ys = self.run.metric(name)[: len(xs)]
                ys[~np.isfinite(ys)] = np.nan
                keep = ~np.isnan(ys)
                with lines.hold_sync(), dots.hold_sync():
                    lines.x, lines.y = xs, ys
                    dots.x, dots.y = xs[keep], ys[keep]
                self._dot_frames[id(dots)] = np.flatnonzero(keep)
            self._set_x_extent(xs)
            self._set_ticks(xs)
            kinds = [k for k in COLORS if any((n.startswith("val_")) == (k == "val") for n in names)]
            self._key.value = " ".join(
                f'<span style="color:{COLORS[k]}">━━</span> {KIND_NAMES[k]}&nbsp;&nbsp;' for k in kinds
            )
            self._show(new_marks)
            self._cursor.xs = xs.tolist()
        for fn in list(self._listeners):
            fn()

    def close(self) -> None:
        if not hasattr(self, "_unsubscribe"):  # __init__ failed early (ipywidgets still closes in __del__)
            return super().close()
        self._unsubscribe()
        self._closed = True  # never blocks (close also runs from __del__ in any thread: see _stream.FrameSender)
        _stream._notify_if_free(self._cond)
        self._cursor.close()
        unused = [m for *_, spare in self._prepared for pair in spare for m in pair]  # nothing else holds them
        unused += [fig for fig, *_ in self._prepared] + [m for spare in self._spare.values() for p in spare for m in p]
        for widget in unused:
            widget.close()
        self._prepared, self._spare = [], {}
        super().close()

    # -- figures ------------------------------------------------------------------------------------------
    def _set_x_extent(self, xs: np.ndarray) -> None:
        """The epoch scale spans the recorded epochs and at least one unit: never a single value (see above)."""
        lo, hi = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
        _assign(self._x, min=lo, max=max(hi, lo + 1.0))

    def _show(self, new_marks: dict[str, list[bq.Mark]]) -> None:
        """Hand new marks (already holding their data) to their figures, then show new figures, so a figure's
        view is created once with everything in it rather than while its marks list is still changing."""
        shown = {id(f) for f in self._row.children}
        for family, marks in new_marks.items():
            fig = self._figures[family]
            fig.marks = [*fig.marks, *marks]
        new = [f for f in self._figures.values() if id(f) not in shown]
        if new:
            self._cursor.cursors = [f.marks[0] for f in self._figures.values()]
            self._row.children = [*self._row.children, *new]

    def _add(self, name: str, new_marks: dict[str, list[bq.Mark]]) -> tuple[bq.Lines, bq.Scatter]:
        family = name[4:] if name.startswith("val_") else name
        kind = "val" if name.startswith("val_") else "train"
        if family not in self._figures:
            self._figure(family)
        spare = self._spare.get(family) or []
        lines, dots = spare.pop(0) if spare else self._make_marks(self._y[family])
        with lines.hold_sync(), dots.hold_sync(), dots.tooltip.hold_sync():
            lines.colors, lines.labels = [COLORS[kind]], [name]
            dots.colors, dots.tooltip.labels = [COLORS[kind]], ["epoch", name]
        dots.on_element_click(lambda _mark, event, dots=dots: self._clicked(dots, event))
        new_marks.setdefault(family, []).extend([lines, dots])
        self._lines[name] = (lines, dots)
        return lines, dots

    def _make_marks(self, y: bq.LinearScale) -> tuple[bq.Lines, bq.Scatter]:
        """A metric's line and clickable dots on the epoch scale and ``y`` (colours and names set by ``_add``)."""
        lines = bq.Lines(scales={"x": self._x, "y": y}, colors=[COLORS["train"]], stroke_width=2)
        dots = bq.Scatter(
            scales={"x": self._x, "y": y},
            colors=[COLORS["train"]],
            default_size=24,
            stroke="white",
            tooltip=bq.Tooltip(fields=["x", "y"], labels=["epoch", "value"], formats=["", ".4g"]),
            interactions={"click": "select", "hover": "tooltip"},
            unselected_style={"opacity": 1.0},
            selected_style={"opacity": 1.0},
        )
        return lines, dots

    def _figure(self, family: str) -> bq.Figure:
        """The figure of ``family``: a prepared one (see PREPARED) titled now, or a new one."""
        fig, y, axes, spare = self._prepared.pop(0) if self._prepared else self._make_figure(with_marks=False)
        with fig.hold_sync():
            fig.title = family
            fig.add_class("nnviz-figure-" + re.sub(r"[^A-Za-z0-9_-]", "_", family))  # a class token: no spaces/HTML
        self._y[family], self._axes[family], self._spare[family] = y, axes, spare
        self._figures[family] = fig
        return fig

    def _make_figure(self, *, with_marks: bool = True):
        """An untitled figure on the epoch scale with its own y scale, axes and cursor, and (``with_marks``) the
        line and dots of a training and a validation metric: (figure, y scale, (x axis, y axis), marks)."""
        y = bq.LinearScale()
        cursor = bq.Lines(
            x=[0.0, 0.0], y=[0.0, 1.0], scales={"x": self._x, "y": bq.LinearScale(min=0.0, max=1.0)},
            colors=[CURSOR_COLOR], line_style="dashed", stroke_width=1, preserve_domain={"x": True, "y": True},
        )  # fmt: skip
        width, height = self._size
        fig = bq.Figure(
            marks=[cursor],
            # the title names the metric (no y label to collide with the tick labels); the legend is the
            # coloured key above the figures, never over the curves
            axes=[
                bq.Axis(scale=self._x, label="epoch", tick_format="d"),
                bq.Axis(scale=y, orientation="vertical", tick_format=".3~g"),
            ],
            fig_margin={"top": 36, "bottom": 40, "left": 50, "right": 15},
            layout=ipywidgets.Layout(width=f"{width}px", height=f"{height}px", max_width="100%"),
        )
        marks = [self._make_marks(y) for _ in range(2 if with_marks else 0)]
        return fig, y, (fig.axes[0], fig.axes[1]), marks

    def _set_ticks(self, xs: np.ndarray) -> None:
        """Round ticks; y from 0 (or the lowest value) to a round top, accuracies from 0 to 1."""
        # x: the scale follows the data (first to last epoch recorded), only its ticks are chosen here
        lo, hi = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
        x_ticks = nice_ticks(lo, hi if hi > lo else lo + 1, integer=True)
        for family, (x_axis, y_axis) in self._axes.items():
            _assign(x_axis, tick_values=x_ticks)
            values = [v for n, (line, _) in self._lines.items() if n in (family, f"val_{family}") for v in line.y]
            finite = np.array(values, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            if family in BOUNDED and (not len(finite) or (finite.min() >= 0 and finite.max() <= 1)):
                bottom, top = 0.0, 1.0
            elif len(finite):
                bottom = min(0.0, float(finite.min()))
                top = nice_top(float(finite.max()) - bottom) + bottom
            else:
                bottom, top = 0.0, 1.0
            _assign(self._y[family], min=bottom, max=top)
            _assign(y_axis, tick_values=nice_ticks(bottom, top))

    def _clicked(self, dots: bq.Scatter, event: dict) -> None:
        i = (event or {}).get("data", {}).get("index")
        if i is None:
            return
        frames = self._dot_frames.get(id(dots))
        if frames is None or not 0 <= int(i) < len(frames):
            return
        index = int(frames[int(i)])
        self._cursor.epoch = index
        for fn in list(self._pick):
            fn(index)

    # -- the redraw thread ------------------------------------------------------------------------------
    def _on_frame(self, _frame) -> None:
        with self._cond:
            self._stale = True
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name=f"nnviz-curves-{id(self):x}", daemon=True)
                self._thread.start()
            if not self._ticking:  # waiting for the tick, the redraw happens then anyway
                self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stale and not self._closed:
                    if not self._cond.wait(_stream.IDLE_EXIT) and not self._stale:
                        self._thread = None  # idle: the next frame starts another
                        return
                if self._closed:
                    self._thread = None
                    return
                now = time.monotonic()
                wait = _stream.CLOCK.wait(self, self._last_redraw, now, floor=REDRAW)  # on the views' ticks
                if wait > 0:
                    _stream.tick_wait(self, wait)
                    continue
                self._stale = False
            cpu, created = time.thread_time(), len(self._lines)
            try:
                self.redraw()
            except Exception:  # noqa: BLE001 - a closed comm must not kill the thread silently
                log.exception("nnviz_widgets: redrawing the curves failed")
            if len(self._lines) == created:  # a redraw that made figures (once per metric) is not what a tick costs
                _stream.CLOCK.sent(self, time.thread_time() - cpu, now)
            self._last_redraw = now
