"""Frames from a Run to one widget's front-end, without ever making training wait.

``capture()`` only marks a frame unsent and wakes this widget's sender thread. While captures keep coming the
thread sends the newest unsent frame on the ticks of the process's :class:`LiveClock` (newest wins, so the view is
never more than a tick behind however fast training runs); once captures pause for ``IDLE`` it backfills every
frame the browser lacks in paced batches. The browser says what it holds with ``sync`` messages and how long its
last draw took with ``drawn`` messages (docs/wire-format.md), so lost frames and reloaded pages get the history
again and live frames come no faster than the page can draw them at a small share of the machine.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import sys
import threading
import time
import weakref

from .._check import _as_int, is_number
from ..run import Frame, Run
from ..run.codec import wire

LIVE_INTERVAL = 0.04  # s between live frames at least: ~25 per second, what a person can see
LIVE_SHARE = 0.1  # of the time while captures come, what sending and drawing live frames may cost (all views)
LIVE_JOIN = 0.05  # s: a view whose frame comes this soon after a tick joins it (one draw in the browser)
LIVE_ACTIVE = 2.0  # s: a view that sent within this (or two ticks) counts towards the tick's cost
PAGE_PRIOR = 0.02  # s a tick costs the page until the page says (a dashboard on two loaded cores: 60-100 ms)
PAGE_MAX_MS = 2000  # a longer "draw" is a page that was hidden or suspended, not what drawing costs: ignored
IDLE = 0.25  # s without a capture before backfilling the history
BATCH_BYTES = 1_000_000  # per backfill message; Chromium takes ~3-5 ms per message plus ~20 MB/s
BACKFILL_RATE = 8_000_000  # bytes/s while backfilling, below what the browser can take
IDLE_EXIT = 5.0  # s with nothing to send before the sender thread ends (the next frame or sync starts another)

log = logging.getLogger(__name__)


class LiveClock:
    """When live views send their newest frame: together, on one tick, and far enough apart to stay cheap.

    Views sending on one tick reach the browser together and are drawn in one animation frame, so the page's
    style, layout and paint run once per tick, not once per view. Ticks are ``LIVE_INTERVAL`` apart, or more:
    the cost of a tick (the kernel's sending, CPU time of the sending threads, plus the page's, which views
    measure from asking for an animation frame for new frames until the page is painted and report in ``drawn``
    messages) over ``LIVE_SHARE``.
    A kernel takes no message while a cell runs, so the page's cost is known from the first cell that ends
    after a view drew (or at once, when training runs in a thread); until then it is taken as ``PAGE_PRIOR``.
    On a fast machine views update many times a second; where drawing is slow (two loaded cores, WebGL drawn in
    software) less often, so that watching costs training little. Every frame still reaches the browser once
    captures pause (the backfill), so playback has all of them.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._tick = -math.inf
        self._next = -math.inf  # the earliest the next tick may come: no view was told of a sooner one (wait)
        self._gap, self._gap_at = LIVE_INTERVAL, -math.inf  # the interval between ticks, and when computed
        self._page = PAGE_PRIOR  # s: what drawing a tick costs the page (a moving average of its reports)
        self._sends: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # member -> [send s, last sent]

    def interval(self, now: float | None = None) -> float:
        """Seconds between ticks now: ``LIVE_INTERVAL`` or a tick's cost over ``LIVE_SHARE``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._interval(now)

    def _interval(self, now: float) -> float:
        window = max(LIVE_ACTIVE, 2 * self._gap)
        sending = sum(c[0] for c in list(self._sends.values()) if now - c[1] <= window)
        return max(LIVE_INTERVAL, (sending + self._page) / LIVE_SHARE)

    def wait(self, member, last_sent: float, now: float, floor: float = LIVE_INTERVAL) -> float:
        """Seconds until ``member`` (which last sent at ``last_sent``) may send its newest frame; 0: send now."""
        with self._lock:
            if now - last_sent < floor:
                return floor - (now - last_sent)
            if last_sent < self._tick and now - self._tick <= LIVE_JOIN:
                return 0.0  # the tick in progress: drawn with the views that sent on it
            if now - self._gap_at >= LIVE_JOIN:  # the interval, recomputed at most this often (views may be many)
                self._gap, self._gap_at = self._interval(now), now
            # the next tick never comes sooner than a view was told: a larger gap puts it later (a view told
            # sooner wakes, asks again and waits on), a smaller one counts from the tick after it; so the views
            # waiting for a tick (tick_wait: new frames do not wake them) all wake for it together
            due = self._next = max(self._next, self._tick + self._gap)
            if now >= due:
                self._tick, self._next = now, now + self._gap
                return 0.0
            return due - now

    def sent(self, member, seconds: float, now: float) -> None:
        """``member`` sent a live frame, which took ``seconds`` of its thread's CPU time."""
        with self._lock:
            cost = self._sends.setdefault(member, [seconds, now])
            cost[0], cost[1] = 0.5 * (cost[0] + seconds), now

    def drawn(self, ms) -> None:
        """The page took ``ms`` milliseconds to draw new frames (until painted)."""
        if not is_number(ms) or not 0 <= float(ms) <= PAGE_MAX_MS:
            return  # a message from the page: never trusted beyond a plain, plausible duration
        with self._lock:
            self._page = 0.5 * (self._page + float(ms) / 1e3)


CLOCK = LiveClock()  # one per process: every live view ticks together


class FrameSender:
    """Streams ``run``'s frames to ``widget`` on a daemon thread; ``arrays`` names the arrays each frame carries."""

    def __init__(self, widget, run: Run, arrays: tuple[str, ...]):
        self.widget = widget
        self.run = run
        self.arrays = arrays
        self._cond = threading.Condition()
        # Frames recorded before this widget existed wait for the browser's first `sync`: by then the view's
        # initial traits (say a Player's follow=False and epoch) have reached it, so a history arriving first
        # cannot make it jump to the newest frame. Frames captured from now on are sent as they come.
        self._unsent: set[int] = set()
        self._sent_seq: dict[int, int] = {}  # frame index -> seq of the last message that carried it
        self._seq = 0
        self._last_capture = 0.0
        self._last_send = 0.0
        self._closed = False
        self._in_flight = 0  # frames taken from _unsent whose message is being sent
        self._ticking = False  # the thread waits for the live clock's tick: a new frame changes nothing until then
        self._unsubscribe = run.subscribe(self._on_frame)
        # the thread runs only while there is something to send: a view that is no longer shown (a re-run
        # cell) or whose run has ended holds no thread, so threads never pile up with views
        self._thread: threading.Thread | None = None

    def _wake(self, always: bool = False) -> None:
        """Under ``_cond``: notify the sender thread, starting one when none runs; a new frame does not wake a
        thread that waits for the live clock's tick (``always``: the browser's sync does)."""
        if self._closed:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"nnviz-sender-{id(self.widget):x}", daemon=True)
            self._thread.start()
        if always or not self._ticking:  # waiting for the tick, the thread sends the newest frame then
            self._cond.notify()

    # -- called from other threads -----------------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        with self._cond:
            self._unsent.add(frame.index)
            self._last_capture = time.monotonic()
            self._wake()

    def sync(self, have: list, seen_seq: int | None) -> None:
        """The browser holds the frames in ``have`` (half-open ranges) and has seen messages up to ``seen_seq``."""
        held: set[int] = set()
        for start, stop in have:
            held.update(range(int(start), int(stop)))
        with self._cond:
            limit = -1 if seen_seq is None else int(seen_seq)
            for i in range(len(self.run)):
                in_flight = seen_seq is not None and self._sent_seq.get(i, -1) > limit
                if i not in held and not in_flight:
                    self._unsent.add(i)
            if self._unsent:
                self._wake(always=True)

    def close(self) -> None:
        # never blocks: close() also runs from Widget.__del__, in whatever thread the garbage collector picked,
        # possibly one that holds this lock; the thread sees _closed at its next wake-up (IDLE_EXIT at most)
        self._unsubscribe()
        self._closed = True
        _notify_if_free(self._cond)

    @property
    def pending(self) -> int:
        """Frames not yet handed to the comm (unsent, or in the message being sent)."""
        with self._cond:
            return len(self._unsent) + self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every frame has been sent (for scripts and tests); False on timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.pending:
                return True
            time.sleep(0.01)
        return not self.pending

    # -- the sender thread ------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._unsent and not self._closed:
                    if not self._cond.wait(IDLE_EXIT) and not self._unsent:
                        self._thread = None  # idle: end; _wake starts a new thread for the next frame
                        return
                if self._closed:
                    self._thread = None
                    return
                now = time.monotonic()
                live = now - self._last_capture < IDLE
                if live:
                    wait = CLOCK.wait(self, self._last_send, now)
                    if wait > 0:
                        tick_wait(self, wait)
                        continue
                    batch = [max(self._unsent)]
                else:
                    batch = self._backfill_batch()
                self._unsent.difference_update(batch)
                self._in_flight = len(batch)
                self._seq += 1
                seq = self._seq
                for i in batch:
                    self._sent_seq[i] = seq
                self._last_send = now
            cpu = time.thread_time()
            nbytes = self._send(seq, batch)
            if live:
                CLOCK.sent(self, time.thread_time() - cpu, now)
            with self._cond:
                self._in_flight = 0
            if len(batch) > 1:
                time.sleep(nbytes / BACKFILL_RATE)

    def _backfill_batch(self) -> list[int]:
        batch, size = [], 0
        for i in sorted(self._unsent):
            frame_bytes = sum(a.nbytes for a in _present(self.run[i].arrays, self.arrays).values())
            if batch and size + frame_bytes > BATCH_BYTES:
                break
            batch.append(i)
            size += frame_bytes
        return batch

    def _send(self, seq: int, batch: list[int]) -> int:
        content, buffers = frames_message(self.run, batch, self.arrays, seq)
        try:
            self.widget.send(content, buffers)
        except Exception:  # noqa: BLE001 - a closed comm or a dead connection must not kill the thread silently
            log.exception("nnviz_widgets: sending frames failed")
        return sum(len(b) for b in buffers)


def frames_message(run: Run, indices: list[int], arrays: tuple[str, ...], seq: int | None) -> tuple[dict, list[bytes]]:
    """The ``frames`` message of docs/wire-format.md for ``run[indices]``, carrying the named arrays."""
    buffers: list[bytes] = []
    frames = []
    for i in indices:
        f = run[i]
        frames.append(
            {
                "index": f.index,
                "epoch": f.epoch,
                "metrics": {k: (v if math.isfinite(v) else None) for k, v in f.metrics.items()},  # JSON has no NaN
                "diverged": f.diverged,
                "arrays": wire(_present(f.arrays, arrays), buffers),
            }
        )
    return {"type": "frames", "seq": seq, "total": len(run), "frames": frames}, buffers


# -- frames in synced state: saved notebooks, static pages, and front-ends that drop custom messages ----------
TRANSPORTS = ("auto", "messages", "state")
KEEP_STATE = 2_000_000  # bytes of frame arrays per view kept in the synced `_history` trait (base64 adds 1/3 in .ipynb)
HISTORY_INTERVAL = 2.0  # s: with transport="state", the history is resent at most this often while captures continue
HISTORY_IDLE = 2.0  # s without a capture before the history is resent when messages carry the live frames
FRAME_OVERHEAD = 100  # bytes a frame's header and metrics take in the state, beside its arrays


def in_colab() -> bool:
    """True in a Google Colab kernel (``google.colab`` is imported at its start, and importable)."""
    if "google.colab" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):  # no `google` package, or a namespace package without a spec
        return False


def resolve_transport(transport: str) -> str:
    """``"messages"`` or ``"state"`` for a view's ``transport=`` argument.

    ``"auto"`` picks ``"state"`` in Colab (whose widget manager is not known to deliver custom messages to every
    view, see the README) and ``"messages"`` elsewhere; the environment variable ``NNVIZ_TRANSPORT`` overrides it.

    >>> resolve_transport("state"), resolve_transport("messages")
    ('state', 'messages')
    """
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    if transport != "auto":
        return transport
    env = os.environ.get("NNVIZ_TRANSPORT", "").strip().lower()
    if env:
        if env not in TRANSPORTS[1:]:
            raise ValueError(f"the environment variable NNVIZ_TRANSPORT must be 'messages' or 'state', got {env!r}")
        return env
    return "state" if in_colab() else "messages"


def check_budget(keep_state) -> int:
    """A history budget in bytes: a non-negative int, ``None``/``False``/``0`` meaning none.

    >>> check_budget(1_000), check_budget(None), check_budget(False)
    (1000, 0, 0)
    """
    if keep_state is None or keep_state is False:
        return 0
    if is_number(keep_state) and not isinstance(keep_state, int) and _as_int(keep_state) is not None:
        keep_state = _as_int(keep_state)
    if isinstance(keep_state, bool) or not isinstance(keep_state, int) or keep_state < 0:
        raise ValueError(
            f"keep_state must be a number of bytes (an int >= 0; 0 or None keeps no history), got {keep_state!r}"
        )
    return keep_state


def thinned(count: int, frame_bytes: int, budget: int) -> list[int]:
    """The frame indices a history of ``count`` frames of ``frame_bytes`` each keeps within ``budget`` bytes.

    Every ``stride``-th frame from the first, with the smallest power-of-two stride that fits, and always the
    newest (the one frame kept when even two do not fit). The browser's store thins the same way.

    >>> thinned(10, 100, 10_000), thinned(10, 100, 500), thinned(10, 100, 150), thinned(0, 100, 500)
    ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 4, 8, 9], [9], [])
    """
    if count <= 0:
        return []
    stride = 1
    while True:
        kept = sorted(set(range(0, count, stride)) | {count - 1})
        if len(kept) * frame_bytes <= budget or len(kept) <= 1:
            return kept
        if len(kept) == 2:  # first and newest do not fit: the newest alone
            return [count - 1]
        stride *= 2


_keepers: weakref.WeakSet = weakref.WeakSet()
_hooked = False


def _flush_after_cell(*_args) -> None:
    """IPython's post_run_cell: push every view's state while the cell's output is still open.

    Front-ends that route a widget's messages by the cell that sent them (Colab) drop messages sent after
    the cell finished from a background thread; this runs in the kernel's main thread before the reply.
    """
    for keeper in list(_keepers):
        keeper.flush()


def _hook_cells() -> None:
    global _hooked
    if _hooked:
        return
    try:
        from IPython import get_ipython  # noqa: PLC0415 - only where a kernel runs
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", _flush_after_cell)
        _hooked = True


class StateKeeper:
    """Keeps ``run``'s frames in ``widget``'s synced traits: ``_history`` (thinned to ``budget`` bytes) and,
    with ``live=True`` (the traits-only transport), ``_live`` (the newest frame, on the ticks of :class:`LiveClock`).

    Each trait update resends its whole value (and the browser reads it whole), so the history is pushed at the
    end of every notebook cell and when captures pause: for ``IDLE`` and at most every ``HISTORY_INTERVAL`` while
    they continue when traits are the transport, for ``HISTORY_IDLE`` when messages carry the live frames (the
    history then only has to be there when the notebook is saved). The newest frame travels on its own trait.
    """

    def __init__(self, widget, run, arrays: tuple[str, ...], *, budget: int, live: bool):
        self.widget = widget
        self.run = run
        self.arrays = arrays
        self.budget = budget
        self.live = live
        self._lock = threading.RLock()  # one trait update at a time, from any thread
        self._cond = threading.Condition()
        self._live_sent = -1  # newest index pushed to _live
        self._history_sent: tuple | None = None  # (indices, arrays) last pushed to _history
        self._last_live = 0.0
        self._last_history = 0.0
        self._last_capture = 0.0
        self._last_live_check = 0.0  # when an idle pass last found everything pushed
        self._sleeping = False  # the keeper thread waits for a capture (not for captures to pause)
        self._closed = False
        self.push_history()  # a view made after training gets its history without asking for it
        self.push_live()
        self._thread: threading.Thread | None = None  # runs while captures come, ends when idle (as FrameSender's)
        self._unsubscribe = run.subscribe(self._on_frame)
        _keepers.add(self)
        _hook_cells()

    # -- what to push ------------------------------------------------------------------------------
    def _frame_bytes(self) -> int:
        if not len(self.run):
            return FRAME_OVERHEAD
        newest = self.run[len(self.run) - 1]
        return FRAME_OVERHEAD + sum(a.nbytes for a in _present(newest.arrays, self.arrays).values())

    def history_indices(self) -> list[int]:
        if not self.budget:
            return []
        return thinned(len(self.run), self._frame_bytes(), self.budget)

    def _set(self, name: str, indices: list[int]) -> None:
        content, buffers = frames_message(self.run, indices, self.arrays, None)
        value = {**content, "buffers": buffers}
        try:
            setattr(self.widget, name, value)
        except Exception:  # noqa: BLE001 - a closed comm must not break training
            log.exception("nnviz_widgets: updating %s failed", name)

    def push_history(self, force: bool = False) -> None:
        with self._lock:
            indices = self.history_indices()
            key = (tuple(indices), self.arrays, len(self.run))
            if force or key != self._history_sent:
                self._set("_history", indices)
                self._history_sent = key
            self._last_history = time.monotonic()

    def push_live(self) -> None:
        with self._lock:
            newest = len(self.run) - 1
            now, cpu = time.monotonic(), time.thread_time()
            if self.live and newest >= 0 and newest != self._live_sent:
                self._set("_live", [newest])
                self._live_sent = newest
                CLOCK.sent(self, time.thread_time() - cpu, now)
            self._last_live = now

    def restream(self) -> None:
        """The arrays changed (a mosaic's page): push the newest frame and the history with the new arrays."""
        with self._lock:
            self._live_sent = -1
            self.push_live()
            self.push_history(force=True)

    def flush(self) -> None:
        """Push whatever is not yet in the traits, now, from the calling thread."""
        if self._closed:
            return
        self.push_live()
        self.push_history()

    # -- called from other threads -----------------------------------------------------------------
    def _on_frame(self, _frame: Frame) -> None:
        now = time.monotonic()
        with self._cond:
            self._last_capture = now
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name=f"nnviz-state-{id(self.widget):x}", daemon=True)
                self._thread.start()
            if self.live or self._sleeping:  # else the thread waits for captures to pause: this one defers that
                self._cond.notify()
        # The newest frame goes out from the capturing thread (the notebook cell's) when it is due: Colab
        # delivers what a running cell sends; the sender thread takes frames that arrive closer together.
        if self.live and self._live_due(now) and self._lock.acquire(blocking=False):
            try:
                self.push_live()
            finally:
                self._lock.release()

    def _live_due(self, now: float) -> bool:
        return CLOCK.wait(self, self._last_live, now) == 0

    def close(self) -> None:
        self._unsubscribe()  # never blocks, as FrameSender.close
        _keepers.discard(self)
        self._closed = True
        _notify_if_free(self._cond)

    # -- the keeper thread ----------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._last_capture <= max(self._last_history, self._last_live_check):
                    # nothing new since the last push: sleep until a capture, or end when idle (the next starts one)
                    self._sleeping = True
                    try:
                        woken = self._cond.wait(IDLE_EXIT)
                    finally:
                        self._sleeping = False
                    if not woken and self._last_capture <= max(self._last_history, self._last_live_check):
                        self._thread = None
                        return
                if self._closed:
                    self._thread = None
                    return
                if self.live:
                    self._cond.wait(LIVE_INTERVAL)
                elif (pause := self._last_capture + HISTORY_IDLE - time.monotonic()) > 0:
                    # messages carry the live frames, so only the history is left, once captures pause: one
                    # wake-up per pause (captures do not wake this wait), not one every LIVE_INTERVAL while they come
                    self._cond.wait(pause)
                if self._closed:
                    self._thread = None
                    return
                now = time.monotonic()
                idle = now - self._last_capture >= (IDLE if self.live else HISTORY_IDLE)
            if self.live and self._live_due(now):
                self.push_live()
            if self.budget and (idle or (self.live and now - self._last_history >= HISTORY_INTERVAL)):
                self.push_history()
            if idle:  # everything is out: the history (if kept) and the newest frame
                self._last_live_check = now


def tick_wait(waiter, seconds: float) -> None:
    """Under ``waiter._cond``: wait ``seconds`` for the live clock's tick with ``waiter._ticking`` set, so that the
    frames arriving meanwhile do not wake the thread (it would only find the tick still ahead); ``close`` does."""
    waiter._ticking = True
    try:
        waiter._cond.wait(seconds)
    finally:
        waiter._ticking = False


def _notify_if_free(cond: threading.Condition) -> None:
    """Wake ``cond``'s waiter now if its lock is free; a holder that is busy will look at the state it changed."""
    if cond.acquire(blocking=False):
        try:
            cond.notify_all()
        finally:
            cond.release()


def _present(arrays, names: tuple[str, ...]) -> dict:
    """The named arrays a frame has: some are not in every frame (no gradient histogram before the first
    ``backward()``). Looked up one by one: a mosaic's frames cut pages on lookup and list none of them."""
    out = {}
    for name in names:
        try:
            out[name] = arrays[name]
        except KeyError:
            continue
    return out
