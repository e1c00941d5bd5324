"""What every frame-streaming view shares: its source Run, its sender thread, its player traits."""

from __future__ import annotations

import pathlib
import uuid

import anywidget
import traitlets as t

from .._check import integer, is_number
from ..run import Run
from ._stream import FrameSender

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"

# tab10: distinct, colour-blind-friendlier than a rainbow; class k gets PALETTE[k]
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip


def bundle(name: str) -> pathlib.Path:
    """Path of a built front-end module, with a clear error when the JS was never built."""
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(
            f"the front-end bundle {path} is missing: build it with `npm --prefix js ci && npm --prefix js run build` "
            "or reinstall nnviz_widgets (`pip install -e .` builds it)"
        )
    return path


def pixels(name: str, value) -> int:
    """A view size in px (an int from 1 to 10,000), or a TypeError/ValueError naming ``name``.

    >>> pixels("width", 480)
    480
    """
    if not is_number(value) or value != value:
        raise TypeError(f"{name} must be a number of pixels, got {value!r}")
    value = float(value)
    if not 1 <= value <= 10_000:
        raise ValueError(f"{name} must be between 1 and 10,000 px, got {value!r}")
    return int(value)


class Int(t.Int):
    """An int trait that also takes NumPy integers (and floats that are whole numbers), never truncating."""

    def validate(self, obj, value):
        if not isinstance(value, int) and is_number(value):
            try:
                value = integer(self.name, value)
            except ValueError as err:
                raise t.TraitError(str(err)) from None
        return super().validate(obj, value)


class Float(t.Float):
    """A float trait that also takes NumPy numbers."""

    def validate(self, obj, value):
        if not isinstance(value, float) and is_number(value):
            value = float(value)
        return super().validate(obj, value)


def source_run(source) -> Run:
    """A Recorder (anything with ``.run``) or a Run."""
    run = getattr(source, "run", source)
    if not isinstance(run, Run):
        raise TypeError(f"source must be a nnviz_widgets Recorder or Run, got {type(source).__name__}")
    return run


class FrameView(anywidget.AnyWidget):
    """Base of the views: ``epoch`` selects the frame shown; the browser plays frames with no kernel round trip.

    Subclasses set ``_bundle`` (their built front-end module) and ``_arrays`` (the frame arrays it draws).
    """

    _bundle = ""
    _arrays: tuple[str, ...] = ()

    @property
    def _esm(self) -> str:
        # read at construction, not import: the package imports (and records) even before its JS is built
        return bundle(self._bundle).read_text()

    # one id per widget: anywidget gives each JS view its own proxy of the model, the front-end keys its
    # per-model state (frames, playback) by this instead
    _uid = t.Unicode().tag(sync=True)
    epoch = Int(0).tag(sync=True)  # index of the frame shown (0-based position in the run)
    playing = t.Bool(False).tag(sync=True)
    speed = Float(10.0).tag(sync=True)  # frames per second when playing
    loop = t.Bool(True).tag(sync=True)
    follow = t.Bool(True).tag(sync=True)  # jump to each new frame as it arrives

    def __init__(self, source, **traits):
        self.run = source_run(source)
        super().__init__(_uid=uuid.uuid4().hex, **traits)
        self._sender = FrameSender(self, self.run, self._arrays)
        self.on_msg(self._on_custom)

    def _on_custom(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "sync":
            self._sender.sync(content.get("have") or [], content.get("seen_seq"))

    @t.validate("speed")
    def _valid_speed(self, proposal):
        if not 0 < proposal["value"] <= 120:
            raise t.TraitError(f"speed must be between 0 and 120 frames per second, got {proposal['value']}")
        return proposal["value"]

    def wait_sent(self, timeout: float = 10.0) -> bool:
        """Block until every recorded frame has been handed to the front-end (scripts and tests)."""
        return self._sender.wait_idle(timeout)

    def close(self) -> None:
        sender = getattr(self, "_sender", None)  # absent when __init__ failed (Widget.__del__ still closes)
        if sender is not None:
            sender.close()
        super().close()
