"""Which captures become frames: every capture, every k-th, or at most ``max_frames`` of a long run.

A *capture* is one call of ``Recorder.capture()``, whatever the loop calls it from: ``every=n`` keeps one
frame per n calls. ``nnv.fit`` calls it once per epoch, or once per optimizer step when given ``every``, so
``fit(every=n)`` records every n steps; the Lightning and Keras callbacks call it once per epoch.

The decision is made at capture time and never revised: a frame, once appended, is never deleted, so the
frame indices a browser already holds stay valid. Thinning keeps every k-th capture counted from the first
one (capture 0 is always a frame):

- ``expected`` known (``fit()`` knows its epochs): ``k`` is chosen once so the whole run fits in
  ``max_frames`` (one slot kept for the final capture, which ``fit`` forces); the frames are evenly spaced.
- ``expected`` unknown (your own loop): the first half of the budget keeps every ``every``-th capture; the
  other half is split into up to ``LEVELS`` (16) equal parts kept at strides ``2, 4, 8, ... * every``. The run
  never exceeds ``max_frames``; early training, where the network changes fastest, is densest, and later
  frames are spaced ever wider (log-spaced) so the budget lasts: with ``max_frames=1000`` (``every=1``) 10,000
  captures keep 728 frames, the newest 15 captures behind the live one, and frames keep coming for about 4
  million captures.
  Pass ``expected`` when you know the run's length to get evenly spaced frames instead.

``max_frames`` is a hard bound either way: once that many frames are held, no capture adds one, not even a
forced one, and a run longer than ``expected`` stops recording at the bound instead of growing past it.
"""

from __future__ import annotations

import math

from .._check import integer

LEVELS = 16  # log-spaced levels after the dense half, when the run's length is unknown


class CaptureSchedule:
    """Decides, for capture number ``tick`` (0-based) with ``frames`` frames kept so far, whether to keep it.

    >>> s = CaptureSchedule(max_frames=10, expected=100)
    >>> [t for t in range(100) if s.keep(t, 0)][:4], s.stride(0)
    ([0, 12, 24, 36], 12)
    >>> g = CaptureSchedule(max_frames=8)
    >>> kept = []
    >>> for t in range(64):
    ...     if g.keep(t, len(kept)):
    ...         kept.append(t)
    >>> kept
    [0, 1, 2, 3, 4, 8, 16, 32]
    """

    def __init__(self, every: int = 1, max_frames: int | None = None, expected: int | None = None):
        every = integer("every", every, lo=1, what="keep every n-th capture")
        if max_frames is not None:
            max_frames = integer("max_frames", max_frames, lo=2, what="or None for no limit")
        if expected is not None:
            expected = integer("expected", expected, lo=1, what="the number of captures the run will make, or None")
        self.every = every
        self.max_frames = max_frames
        self.expected = expected
        self._fixed = every
        if max_frames is not None and expected is not None:
            n = math.ceil(expected / every)  # captures the `every` rule alone would keep
            if n > max_frames - 1:
                self._fixed = every * math.ceil(n / (max_frames - 1))

    def stride(self, frames: int) -> int:
        """Keep every ``stride``-th capture while ``frames`` frames are held (0: the budget is spent)."""
        if self.max_frames is None or self.expected is not None:
            return self._fixed
        dense = self.max_frames - self.max_frames // 2  # the first half: every `every`-th capture
        if frames < dense:
            return self.every
        rest = self.max_frames - dense
        levels = min(LEVELS, rest)
        size, extra = divmod(rest, levels)  # level j (1-based) holds size (+1 for the first `extra`) frames
        held = frames - dense
        for level in range(1, levels + 1):
            held -= size + (level <= extra)
            if held < 0:
                return self.every << level
        return 0

    def keep(self, tick: int, frames: int) -> bool:
        if self.max_frames is not None and frames >= self.max_frames - (self.expected is not None):
            # a hard bound, even when the run makes more captures than `expected` said (with `expected`, the
            # last slot stays for a forced final capture, as fit() makes)
            return False
        k = self.stride(frames)
        return k > 0 and tick % k == 0

    def room(self, frames: int) -> bool:
        """Whether a forced capture may still add a frame (``max_frames`` bounds forced ones too)."""
        return self.max_frames is None or frames < self.max_frames
