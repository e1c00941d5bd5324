"""Frames from a Run to one widget's front-end, without ever making training wait.

``capture()`` only marks a frame unsent and wakes this widget's sender thread. While captures keep coming the
thread sends the newest unsent frame at most every ``LIVE_INTERVAL`` (newest wins, so the view is never more
than a moment behind however fast training runs); once captures pause for ``IDLE`` it backfills every frame
the browser lacks in paced batches. The browser says what it holds with ``sync`` messages
(docs/wire-format.md), so lost frames and reloaded pages get the history again.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from ..run import Frame, Run
from ..run.codec import wire

LIVE_INTERVAL = 0.04  # s between live frames: ~25 per second, what a person can see
IDLE = 0.25  # s without a capture before backfilling the history
BATCH_BYTES = 1_000_000  # per backfill message; Chromium takes ~3-5 ms per message plus ~20 MB/s
BACKFILL_RATE = 8_000_000  # bytes/s while backfilling, below what the browser can take
IDLE_EXIT = 5.0  # s with nothing to send before the sender thread ends (the next frame or sync starts another)

log = logging.getLogger(__name__)


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
        self._unsubscribe = run.subscribe(self._on_frame)
        # the thread runs only while there is something to send: a view that is no longer shown (a re-run
        # cell) or whose run has ended holds no thread, so threads never pile up with views
        self._thread: threading.Thread | None = None

    def _wake(self) -> None:
        """Under ``_cond``: notify the sender thread, starting one when none runs."""
        if self._closed:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"nnviz-sender-{id(self.widget):x}", daemon=True)
            self._thread.start()
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
                self._wake()

    def close(self) -> None:
        self._unsubscribe()
        with self._cond:
            self._closed = True
            self._cond.notify()

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
                if now - self._last_capture < IDLE:
                    wait = LIVE_INTERVAL - (now - self._last_send)
                    if wait > 0:
                        self._cond.wait(wait)
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
            nbytes = self._send(seq, batch)
            with self._cond:
                self._in_flight = 0
            if len(batch) > 1:
                time.sleep(nbytes / BACKFILL_RATE)

    def _backfill_batch(self) -> list[int]:
        batch, size = [], 0
        for i in sorted(self._unsent):
            frame_bytes = sum(self.run[i].arrays[name].nbytes for name in self.arrays)
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


def frames_message(run: Run, indices: list[int], arrays: tuple[str, ...], seq: int) -> tuple[dict, list[bytes]]:
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
                "arrays": wire({name: f.arrays[name] for name in arrays}, buffers),
            }
        )
    return {"type": "frames", "seq": seq, "total": len(run), "frames": frames}, buffers
