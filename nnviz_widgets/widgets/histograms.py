"""WeightHistograms: how each layer's weights (or gradients) are spread, epoch by epoch, as heat strips.

Reads the histogram probe's arrays (``record/histograms.py``): per layer and frame, counts in equal bins and ten
numbers (range, norm, change...). The browser puts every frame of a layer on one value range for the whole run
(``js/src/lib/histograms.js``), marks the player's frame, and flags layers that died or blew up.
"""

from __future__ import annotations

import traitlets as t

from ..run import Run
from ._base import STREAM_OPTIONS, FrameView, pixels, source_run

SHOWS = ("weights", "gradients")
_KIND = {"weights": "weights", "gradients": "grads"}


class WeightHistograms(FrameView):
    """One heat strip per layer: epochs across, values up, darker where more of the layer's weights lie.

    Each layer's strip spans the layer's range over the whole run (so a spreading or collapsing layer shows as a
    widening or narrowing band), the player's frame is marked and its histogram drawn beside the strip, and the
    header gives the layer's norm and how much it changed since the previous frame. A layer whose weights stopped
    moving is flagged DEAD, one with non-finite values or a norm ten times its first EXPLODING.
    ``show="gradients"`` draws the gradient histograms (record them with ``Recorder(..., gradients=True)``).

    >>> nnv.WeightHistograms(rec)                       # doctest: +SKIP
    >>> nnv.WeightHistograms(rec, show="gradients")     # doctest: +SKIP
    """

    _bundle = "histograms.js"

    show = t.Unicode("weights").tag(sync=True)
    layer_labels = t.Dict().tag(sync=True)  # name -> "Linear 16x2", shown in each strip's header
    row_height = t.Int(64).tag(sync=True)
    controls = t.Bool(True).tag(sync=True)
    width = t.Int(480).tag(sync=True)
    title = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        source,
        *,
        show: str = "weights",
        row_height: int = 64,
        controls: bool = True,
        width: int = 480,
        title: str = "",
        **player,
    ):
        unknown = set(player) - {"epoch", "playing", "speed", "loop", "follow"} - STREAM_OPTIONS
        if unknown:
            raise TypeError(f"WeightHistograms got unexpected keyword argument(s) {sorted(unknown)}")
        run = source_run(source)
        if show not in SHOWS:
            raise ValueError(f"show must be one of {SHOWS}, got {show!r}")
        probe = getattr(source, "_histograms", None)
        if probe is None and hasattr(source, "_histograms"):
            raise ValueError("source: this recorder records no histograms; use Recorder(..., histograms=True)")
        if show == "gradients" and probe is not None and not probe.gradients:
            raise ValueError("show='gradients' needs gradient histograms: create the recorder with gradients=True")
        self._probe = probe
        self._arrays = histogram_arrays(run, show, probe)
        if not self._arrays and len(run):
            raise ValueError(
                f"the run holds no {show} histograms: record them with Recorder(..., histograms=True"
                + (", gradients=True)" if show == "gradients" else ")")
            )
        super().__init__(
            run,
            show=show,
            layer_labels=_labels(source, run),
            row_height=pixels("row_height", row_height),
            controls=controls,
            width=pixels("width", width),
            title=title,
            **player,
        )

    @t.validate("show")
    def _valid_show(self, proposal):
        if proposal["value"] not in SHOWS:
            raise t.TraitError(f"show must be one of {SHOWS}, got {proposal['value']!r}")
        return proposal["value"]

    @t.observe("show")
    def _reshow(self, change):
        if getattr(self, "_state", None) is None:
            return  # still constructing
        self._set_stream(self.run, histogram_arrays(self.run, change["new"], self._probe))


def histogram_arrays(run: Run, show: str = "weights", probe=None) -> tuple[str, ...]:
    """The frame arrays a histogram view of ``show`` needs: from the recorder's probe when there is one (frames
    still to come), else every such array any frame of the run holds."""
    kind = _KIND[show]
    if probe is not None:
        return tuple(name for name in probe.arrays if name.split("/")[1] == kind)
    names: dict[str, None] = {}
    for frame in run:
        for name in frame.arrays:
            parts = name.split("/", 2)
            if parts[0] in ("hist", "stats") and parts[1:2] == [kind]:
                names[name] = None
    return tuple(names)


def _labels(source, run: Run) -> dict[str, str]:
    """``{layer: "Linear 16x2"}`` from the model when the source is a recorder, else from the run's layers."""
    model = getattr(source, "model", None)
    if model is not None:
        modules = dict(model.named_modules())
        names = getattr(getattr(source, "_histograms", None), "layers", {})
        return {n: f"{type(modules[n]).__name__} {'x'.join(map(str, modules[n].weight.shape))}" for n in names}
    return {n: f"{info['type']} {'x'.join(map(str, info['shape']))}" for n, info in run.layers.items()}
