"""Dashboard: every view of one run and its metric curves, moved together by one Player.

The player's ``epoch`` reaches each view through ``jslink`` and the curves' cursor through ``jsdlink``, all in
the browser; only a click on a curve goes through the kernel (it sets the player's ``epoch``).
"""

from __future__ import annotations

import html
import threading

import ipywidgets

from .._check import names as check_names
from ._base import pixels, source_run
from ._stream import KEEP_STATE
from .boundary import DecisionBoundary
from .curves import MetricCurves
from .histograms import WeightHistograms, histogram_arrays
from .mosaic import WeightMosaic
from .player import Player
from .scatter import EmbeddingScatter

VIEWS = ("boundary", "mosaic", "embedding", "histograms", "curves")
# One line cut with an ellipsis. Width 0 growing to 100 %: the line never widens the flex boxes ipywidgets' HTML
# widget wraps it in (their minimum width is their content's), so they shrink to the header and the cut shows.
ONE_LINE = "white-space: nowrap; overflow: hidden; text-overflow: ellipsis; width: 0; min-width: 100%"


class Dashboard(ipywidgets.VBox):
    """Decision boundary, weight mosaic, activation embedding (when recorded), weight histograms and metric curves
    with ONE player.

    ``views`` picks and orders them (default: every one the run can show). One header line states the newest
    frame's epoch and metrics (with ``training``, set by ``fit``: its state and a stop button); the views carry
    short labels and sit side by side where the page is wide enough, stacked where it is not. ``width`` and
    ``height`` size each view in px. ``dash.player`` and ``dash.views`` (name -> widget) are there for scripting.
    ``transport`` and ``keep_state`` go to every view (see :class:`DecisionBoundary`).

    >>> dash = nnv.Dashboard(rec, views=["boundary", "curves"])   # doctest: +SKIP
    """

    def __init__(
        self,
        source,
        *,
        views=None,
        training=None,
        width: int = 380,
        height: int = 340,
        transport: str = "auto",
        keep_state: int | None = KEEP_STATE,
    ):
        run = source_run(source)
        if training is not None and not all(hasattr(training, a) for a in ("subscribe", "stop")):
            raise TypeError(
                f"training must be the Training handle fit() returns (rec.training) or None, got {training!r}"
            )
        stream = {"transport": transport, "keep_state": keep_state}  # for every view and the player
        wanted = _check_views(views)
        width, height = pixels("width", width), pixels("height", height)
        self.run = run
        self.training = training
        self.views: dict[str, ipywidgets.Widget] = {}
        for name in wanted:
            view = _make(name, source, run, width, height, stream, explicit=views is not None)
            if view is not None:
                self.views[name] = view
        self.player = Player(run, *(v for k, v in self.views.items() if k != "curves"), status=False, **stream)
        if "curves" in self.views:
            self.views["curves"].link(self.player)
            self.views["curves"].on_update(self._update_status)
        # one line: a long metrics list is cut with an ellipsis (the whole line is its tooltip), never wrapped; its
        # width never follows the text (flex basis 0), so the Stop button stays put while the numbers change
        self.status = ipywidgets.HTML(
            layout=ipywidgets.Layout(margin="0 12px 0 0", flex="1 1 0%", min_width="0", overflow="hidden")
        )
        self.status.add_class("nnviz-status")
        self.stop_button = ipywidgets.Button(
            description="Stop", icon="stop", button_style="warning", tooltip="End training after this epoch"
        )
        self.stop_button.add_class("nnviz-stop")
        self.stop_button.on_click(lambda _b: self.stop())
        self.stop_button.layout.display = "none" if training is None else None
        self._status_lock = threading.Lock()
        pictures = [v for k, v in self.views.items() if k != "curves"]
        header = ipywidgets.HBox([self.status, self.stop_button], layout=ipywidgets.Layout(align_items="center"))
        header.add_class("nnviz-header")
        rows = [header, self.player]
        if pictures:
            grid = ipywidgets.Box(pictures, layout=ipywidgets.Layout(flex_flow="row wrap", align_items="flex-start"))
            grid.add_class("nnviz-dashboard-views")
            rows.append(grid)
        if "curves" in self.views:
            rows.append(self.views["curves"])
        super().__init__(rows)
        self.add_class("nnviz-dashboard")
        if training is not None:
            training.subscribe(lambda _t: self._update_status())
        self._update_status()

    def stop(self) -> None:
        """End the attached training after its current epoch (the stop button does this)."""
        if self.training is not None:
            self.training.stop()
        self._update_status()

    def _update_status(self) -> None:
        with self._status_lock:
            parts = []
            tr = self.training
            last = self.run[-1] if len(self.run) else None
            if tr is not None:
                # the newest frame's epoch, so the metrics beside it are that epoch's
                parts.append(f"epoch {last.epoch if last is not None else tr.epoch} / {tr.epochs}")
                self.stop_button.disabled = tr.state != "running"
            elif last is not None:
                parts.append(f"epoch {last.epoch}")
            if last is not None:
                parts += [f"{k} {v:.4g}" for k, v in last.metrics.items()]
            else:
                parts.append("no frames yet")
            state = f"<b>{html.escape(str(tr.state))}</b> · " if tr is not None else ""
            line = html.escape(" · ".join(parts))
            self.status.value = f'<div title="{line}" style="{ONE_LINE}">{state}{line}</div>'

    def to_html(self, path, *, title: str | None = None):
        """Write these views, with one player, as one self-contained offline page (the curves drawn from the
        frames, no kernel needed); see :func:`nnviz_widgets.export.to_html`.

        >>> dash.to_html("moons.html")   # doctest: +SKIP
        """
        from ..export.html import to_html  # the exporter reads this dashboard's views; they never need it

        return to_html(self, path, title=title)

    def to_video(self, path, *, fps: float = 10, progress: bool = True):
        """Write an MP4 or GIF of the dashboard: boundary, weights and curves side by side, frame by frame.

        >>> dash.to_video("moons.mp4")   # doctest: +SKIP
        """
        from ..export.video import to_video

        return to_video(self.run, path, view="dashboard", fps=fps, progress=progress)

    def close(self) -> None:
        for view in getattr(self, "views", {}).values():  # absent when __init__ failed (Widget.__del__ still closes)
            view.close()
        if getattr(self, "player", None) is not None:
            self.player.close()
        super().close()


def _check_views(views) -> list[str]:
    if views is None:
        return list(VIEWS)
    if not isinstance(views, (str, list, tuple)):
        raise TypeError(f"views must be a view name or a list of them, from {list(VIEWS)}; got {views!r}")
    names = check_names("views", views)
    unknown = [v for v in names if v not in VIEWS]
    if unknown:
        raise ValueError(f"views: unknown view(s) {unknown}; choose from {list(VIEWS)}")
    return names


def _make(name, source, run, width, height, stream: dict, *, explicit: bool):
    """One view, or None when the run cannot show it and the caller did not ask for it by name."""
    if name == "boundary":
        return DecisionBoundary(run, width=width, height=height, title="decision boundary", **stream)
    if name == "curves":
        return MetricCurves(run)
    if name == "histograms":
        probe = getattr(source, "_histograms", None)
        if not histogram_arrays(run, "weights", probe):
            if explicit:
                raise ValueError("views: 'histograms' needs recorded histograms: Recorder(..., histograms=True)")
            return None
        return WeightHistograms(source, width=width, title="weight histograms", **stream)
    if name == "mosaic":
        if not run.layers:
            if explicit:
                raise ValueError("views: 'mosaic' needs recorded layer weights; the run has none")
            return None
        layer = next(iter(run.layers))
        show = "outputs" if run.layers[layer].get("outputs") else "weights"
        return WeightMosaic(source, layer=layer, show=show, width=width, **stream)
    layer = _activation_layer(source, run)
    if layer is None:
        if explicit:
            raise ValueError(
                "views: 'embedding' needs recorded activations: create the recorder with "
                "Recorder(model, X, y, activations='<layer name>')"
            )
        return None
    try:
        return EmbeddingScatter(
            source, layer=layer, width=width, height=height, title=f"activations · layer {layer}", **stream
        )
    except (TypeError, ValueError):
        if explicit:
            raise
        return None


def _activation_layer(source, run) -> str | None:
    """The first layer whose activations the recorder (or the run's first frame) holds; None when none."""
    names = list(getattr(source, "activation_layers", None) or [])
    if not names and len(run):
        names = sorted(run[0].activations)
    return str(names[0]) if names else None
