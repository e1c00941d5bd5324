"""DecisionBoundary: class-probability contours over the data, live while training runs."""

from __future__ import annotations

import numpy as np
import traitlets as t

from .._check import flag, text
from ..run import Run
from ._base import PALETTE, PLAYER_TRAITS, STREAM_OPTIONS, Float, FrameView, Int, pixels, source_run


class DecisionBoundary(FrameView):
    """The model's class probabilities over the data plane, one frame per capture, played in the browser.

    Filled contours are coloured by the predicted class, lighter where the model is less sure; the decision
    boundary is drawn where the top two classes tie; data points are coloured by their true class, and the
    ones the model gets wrong are ringed. ``epoch`` (synced) is the index of the frame shown.

    Like every view it takes ``transport`` (``"auto"``: custom messages, or synced traits only in Colab;
    ``"messages"``; ``"state"``) and ``keep_state`` (bytes of frames kept in the saved widget state, so a saved
    notebook plays without a kernel; default 2,000,000, 0 for none). See the README, "How frames travel".

    >>> view = nnv.DecisionBoundary(rec)          # doctest: +SKIP
    >>> view.epoch = 10                           # doctest: +SKIP
    """

    _bundle = "boundary.js"
    _arrays = ("boundary", "predictions")

    controls = t.Bool(True).tag(sync=True)
    show_points = t.Bool(True).tag(sync=True)
    extent = t.List(Float()).tag(sync=True)
    grid_shape = t.List(Int()).tag(sync=True)
    classes = t.List(t.Unicode()).tag(sync=True)
    colors = t.List(t.Unicode()).tag(sync=True)
    points = t.Bytes(b"").tag(sync=True)  # float32 little-endian (N, 2)
    labels = t.Bytes(b"").tag(sync=True)  # uint8 (N,) true class index
    axis_labels = t.List(t.Unicode(), default_value=["x₁", "x₂"]).tag(sync=True)
    width = Int(480).tag(sync=True)
    height = Int(400).tag(sync=True)
    title = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        source,
        *,
        controls: bool = True,
        show_points: bool = True,
        width: int = 480,
        height: int = 400,
        title: str = "",
        **player,
    ):
        unknown = set(player) - PLAYER_TRAITS - STREAM_OPTIONS
        if unknown:
            raise TypeError(f"DecisionBoundary got unexpected keyword argument(s) {sorted(unknown)}")
        run = source_run(source)
        super().__init__(
            run,
            controls=flag("controls", controls),
            show_points=flag("show_points", show_points),
            width=pixels("width", width),
            height=pixels("height", height),
            title=text("title", title),
            **boundary_state(run),
            **player,
        )

    def _picture(self):
        index = self.current_index()
        if index is None:
            return None
        from ..export.video import render_frame  # noqa: PLC0415 - Pillow is optional, loaded when a picture is made

        return render_frame(self.run, index, size=(self.width, self.height))


def boundary_state(run: Run) -> dict:
    """The traits a boundary view derives from its run (shared by the widget and the HTML export)."""
    return {
        "extent": run.grid.extent,
        "grid_shape": [len(run.grid.ys), len(run.grid.xs)],
        "classes": list(run.classes),
        "colors": PALETTE[: len(run.classes)],
        "points": np.ascontiguousarray(run.points, dtype="<f4").tobytes(),
        "labels": np.asarray(run.labels, dtype=np.uint8).tobytes(),
        "axis_labels": list(run.axis_labels),
    }
