"""Compare: two or more runs side by side (different widths, learning rates, seeds), aligned by epoch, one player.

Each run gets its own view, titled with its name. The player drives the run with the most frames; every other
view shows its own frame of the same epoch (the last one recorded at or before it). When every run recorded the
same epochs the views follow the player in the browser (``jslink``, no kernel); otherwise the kernel maps the
player's epoch onto each run. ``view="curves"`` overlays every run's metrics, one colour per run.
"""

from __future__ import annotations

import bisect
import math
from pathlib import Path

import bqplot as bq
import ipywidgets
import numpy as np

from ..run import Run
from ._base import PALETTE, source_run
from .boundary import DecisionBoundary
from .mosaic import WeightMosaic
from .player import Player

VIEWS = ("boundary", "mosaic", "curves")


class Compare(ipywidgets.VBox):
    """Runs side by side with one player: ``nnv.Compare(run_a, run_b, view="boundary")``.

    ``runs`` are Recorders or Runs, in memory or from disk (``nnv.open_run``); ``names`` label them (default: the
    run's ``name`` or its folder, else "run 1", "run 2", ...). ``view`` is ``"boundary"``, ``"mosaic"`` (each run's
    ``layer``, default its first recorded layer) or ``"curves"`` (every metric family in one figure, one colour per
    run). ``cmp.player`` moves them all; ``cmp.views`` lists the per-run views; ``cmp.to_html(path)`` writes them,
    with the player, as one offline page.

    >>> nnv.Compare(wide, deep, view="boundary", names=["wide", "deep"])   # doctest: +SKIP
    """

    def __init__(self, *runs, view: str = "boundary", names=None, layer=None, width: int = 360, height: int = 320):
        if len(runs) < 2:
            raise TypeError(f"Compare needs two or more runs (Recorders or Runs), got {len(runs)}")
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        if layer is not None and not isinstance(layer, str):
            raise TypeError(f"layer must be a recorded layer's name (a string) or None, got {layer!r}")
        self.sources = list(runs)
        self.runs: list[Run] = [source_run(r) for r in runs]
        if not all(len(r) for r in self.runs):
            empty = [k for k, r in enumerate(self.runs) if not len(r)]
            raise ValueError(f"runs: run(s) {empty} have no frames yet; compare runs that have recorded something")
        self.names = _names(self.runs, names)
        self.view = view
        self.reference = max(range(len(self.runs)), key=lambda k: len(self.runs[k]))
        self.player = Player(self.runs[self.reference], follow=False, epoch=len(self.runs[self.reference]) - 1)
        self.views: list = []
        self._links: list = []
        epochs = [[f.epoch for f in r] for r in self.runs]
        self._epochs = epochs
        if view == "curves":
            body = self._curves(width, height)
        else:
            for k, run in enumerate(self.runs):
                title = self.names[k]
                if view == "boundary":
                    v = DecisionBoundary(run, width=width, height=height, title=title, controls=False, follow=False)
                else:
                    if not run.layers:
                        raise ValueError(f"view='mosaic': run {self.names[k]!r} recorded no layer weights")
                    shown = layer if layer is not None and layer in run.layers else next(iter(run.layers))
                    v = WeightMosaic(run, layer=shown, width=width, title=title, controls=False, follow=False)
                self.views.append(v)
            aligned = all(e == epochs[self.reference] for e in epochs)
            if aligned:  # the same epochs everywhere: the browser moves every view, no kernel needed
                for v in self.views:
                    v.epoch = self.player.epoch
                    self._links.append(ipywidgets.jslink((self.player, "epoch"), (v, "epoch")))
            else:
                self.player.observe(self._align, "epoch")
                self._align()
            body = ipywidgets.HBox(self.views, layout=ipywidgets.Layout(flex_flow="row wrap"))
        super().__init__([self.player, body])
        self.add_class("nnviz-compare")

    def frame_for(self, k: int, epoch: int) -> int:
        """Run ``k``'s frame for ``epoch``: the last one recorded at or before it (its first before that)."""
        return max(0, bisect.bisect_right(self._epochs[k], epoch) - 1)

    def _align(self, _change=None) -> None:
        epoch = self._epochs[self.reference][min(self.player.epoch, len(self._epochs[self.reference]) - 1)]
        for k, v in enumerate(self.views):
            v.epoch = self.frame_for(k, epoch)

    def _curves(self, width: int, height: int):
        """One figure per metric family, a line per run and metric (validation dashed), a cursor at the epoch."""
        x = bq.LinearScale()
        names = list(dict.fromkeys(n for r in self.runs for f in r for n in f.metrics))
        families: dict[str, list[str]] = {}
        for n in names:
            families.setdefault(n.removeprefix("val_").removeprefix("train_"), []).append(n)
        figures, self._cursors = [], []
        for family, members in families.items():
            y = bq.LinearScale()
            marks = []
            for k, run in enumerate(self.runs):
                xs = np.array([f.epoch for f in run], float)
                for j, n in enumerate(members):
                    ys = np.array([f.metrics.get(n, math.nan) for f in run], float)
                    marks.append(bq.Lines(
                        x=xs, y=ys, scales={"x": x, "y": y}, colors=[PALETTE[k % len(PALETTE)]],
                        line_style="dashed" if j else "solid", labels=[f"{self.names[k]} {n}"], display_legend=True,
                        stroke_width=2,
                    ))  # fmt: skip
            cursor = bq.Lines(x=[0.0, 0.0], y=[0.0, 1.0], scales={"x": x, "y": bq.LinearScale(min=0.0, max=1.0)},
                              colors=["#555"], line_style="dashed")  # fmt: skip
            self._cursors.append(cursor)
            figures.append(bq.Figure(
                marks=[*marks, cursor], title=family, legend_location="top-right",
                axes=[bq.Axis(scale=x, label="epoch", num_ticks=5),
                      bq.Axis(scale=y, orientation="vertical", label=family, num_ticks=5, tick_format=".3g")],
                layout=ipywidgets.Layout(width=f"{width}px", height=f"{height}px"),
                fig_margin={"top": 40, "bottom": 40, "left": 55, "right": 10},
            ))  # fmt: skip
        self.figures = dict(zip(families, figures, strict=True))
        self.player.observe(self._move_cursor, "epoch")
        self._move_cursor()
        return ipywidgets.HBox(figures, layout=ipywidgets.Layout(flex_flow="row wrap"))

    def _move_cursor(self, _change=None) -> None:
        epochs = self._epochs[self.reference]
        epoch = float(epochs[min(self.player.epoch, len(epochs) - 1)])
        for cursor in self._cursors:
            cursor.x = [epoch, epoch]

    def to_html(self, path, *, title: str | None = None):
        """Write the runs' views and the player as one self-contained offline page (curves: each run's own
        panel, named); see :func:`nnviz_widgets.export.to_html`.

        >>> cmp.to_html("wide-vs-deep.html")   # doctest: +SKIP
        """
        from ..export.html import write_compare  # the page reads these views; they never need it

        return write_compare(self, path, title=title)

    def close(self) -> None:
        """Close every run's view and the player (their sender threads stop)."""
        for v in getattr(self, "views", []):
            v.close()
        if getattr(self, "player", None) is not None:
            self.player.close()
        super().close()


def _names(runs: list[Run], names) -> list[str]:
    if names is not None:
        if isinstance(names, str) or not hasattr(names, "__len__") or len(names) != len(runs):
            raise ValueError(f"names must be a list of {len(runs)} names, one per run, got {names!r}")
        return [str(n) for n in names]
    out = []
    for k, run in enumerate(runs):
        named = getattr(run, "name", None) or getattr(run, "path", None) or getattr(run, "url", None)
        out.append(Path(str(named)).name if named else f"run {k + 1}")
    return out
