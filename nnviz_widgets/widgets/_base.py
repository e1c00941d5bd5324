"""What every frame-streaming view shares: its source Run, its sender thread, its player traits."""

from __future__ import annotations

import base64
import io
import pathlib
import uuid

import anywidget
import traitlets as t

from .._check import integer, is_number
from ..run import Run
from . import _stream
from ._stream import KEEP_STATE, FrameSender, StateKeeper, check_budget, resolve_transport

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"

# tab10: distinct, colour-blind-friendlier than a rainbow; class k gets PALETTE[k]
PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip


# keyword arguments every frame view takes besides its player traits (how frames travel, how many are saved)
STREAM_OPTIONS = frozenset({"transport", "keep_state"})
# the player's traits, which FrameView declares for every view (a Player moves them; js/src/lib/controls.js
# names the same list): each view's constructor takes them as keywords
PLAYER_TRAITS = frozenset({"epoch", "playing", "speed", "loop", "follow"})


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

    # Frames in synced state (docs/wire-format.md, "Frames in state"): a thinned history that saved notebooks and
    # static pages keep, and with transport="state" the newest frame as it is captured.
    _history = t.Dict().tag(sync=True)
    _live = t.Dict().tag(sync=True)

    def __init__(self, source, *, transport: str = "auto", keep_state: int | None = KEEP_STATE, **traits):
        self.run = source_run(source)
        self.transport = resolve_transport(transport)
        budget = check_budget(keep_state)
        super().__init__(_uid=uuid.uuid4().hex, **traits)
        # The messages path needs the browser's `sync` replies; the state path needs nothing from the browser.
        run, self._arrays = self._stream_source()
        self._sender = FrameSender(self, run, self._arrays) if self.transport == "messages" else None
        self._state = StateKeeper(self, run, self._arrays, budget=budget, live=self.transport == "state")
        self.on_msg(self._on_custom)

    def _on_custom(self, _widget, content, _buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "sync" and self._sender is not None:
            self._sender.sync(content.get("have") or [], content.get("seen_seq"))
        elif kind == "drawn":  # how long the page took to draw the newest frame: live frames are paced by it
            _stream.CLOCK.drawn(content.get("ms"))

    def keep_state(self, max_bytes: int | None = KEEP_STATE) -> FrameView:
        """Keep up to ``max_bytes`` of frames (thinned evenly, always the newest) in the widget's saved state, so
        a notebook saved with its widget state, or converted to HTML, shows and plays this view without a kernel.
        ``keep_state(0)`` (or ``None``) keeps none. Returns the view.

        >>> view.keep_state(20_000_000)               # doctest: +SKIP
        """
        self._state.budget = check_budget(max_bytes)
        self._state.push_history()
        return self

    def current_index(self) -> int | None:
        """The position of the frame the view shows now (the newest while it, or the player driving it, follows
        live), None before any frame."""
        if not len(self.run):
            return None
        player = getattr(self, "_player", None)
        follow = self.follow if player is None else player.follow
        return len(self.run) - 1 if follow else min(max(self.epoch, 0), len(self.run) - 1)

    def _picture(self):
        """A PIL image of the current frame for renderers that run no JavaScript, or None (the default)."""
        return None

    def _repr_mimebundle_(self, **kwargs):
        # Besides the widget view, a PNG of the frame shown when the view is displayed: GitHub's preview, nbviewer
        # without widget state and PNG exports show it; front-ends with a widget manager draw the live view.
        bundle = super()._repr_mimebundle_(**kwargs)
        try:
            picture = self._picture()
        except ImportError:  # Pillow (the `video` extra) is not installed: no picture, the view still works
            picture = None
        if bundle is None or picture is None:
            return bundle
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        buf = io.BytesIO()
        picture.save(buf, format="PNG", optimize=True)
        return {**data, "image/png": base64.b64encode(buf.getvalue()).decode("ascii")}, metadata

    def _stream_source(self) -> tuple:
        """What travels to the browser: ``(run, array names)``; a view that sends part of a frame overrides it."""
        return self.run, self._arrays

    def _set_stream(self, run, arrays: tuple[str, ...]) -> None:
        """Stream ``arrays`` of ``run`` (a view of this view's run) from now on, every frame again."""
        self._arrays = arrays
        if self._sender is not None:
            self._sender.run, self._sender.arrays = run, arrays
            self._sender.sync([], None)
        self._state.run, self._state.arrays = run, arrays
        self._state.restream()

    @t.validate("speed")
    def _valid_speed(self, proposal):
        if not 0 < proposal["value"] <= 120:
            raise t.TraitError(f"speed must be between 0 and 120 frames per second, got {proposal['value']}")
        return proposal["value"]

    def wait_sent(self, timeout: float = 10.0) -> bool:
        """Block until every recorded frame has been handed to the front-end (scripts and tests)."""
        if self._sender is not None and not self._sender.wait_idle(timeout):
            return False
        self._state.flush()
        return True

    def close(self) -> None:
        for part in (getattr(self, "_sender", None), getattr(self, "_state", None)):
            if part is not None:  # absent when __init__ failed (Widget.__del__ still closes)
                part.close()
        super().close()
