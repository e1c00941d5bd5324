"""Which captures become frames: every capture, every k-th, or at most ``max_frames`` of a long run.

The decision is made at capture time and never revised: a frame, once appended, is never deleted, so the
frame indices a browser already holds stay valid. Thinning keeps every k-th capture counted from the first
one (capture 0 is always a frame):

- ``expected`` known (``fit()`` knows its epochs): ``k`` is chosen once so the whole run fits in
  ``max_frames`` (one slot kept for the final capture, which ``fit`` forces); the frames are evenly spaced.
- ``expected`` unknown (your own loop): the first half of the budget keeps every ``every``-th capture, the
  next quarter every ``2 * every``-th, the next eighth every ``4 * every``-th, and so on. The run never
  exceeds ``max_frames``; early training, where the network changes fastest, is densest. Once the budget is
  spent only forced captures (``capture(force=True)``) add frames.
"""

from __future__ import annotations

import math


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
    [0, 1, 2, 3, 4, 6, 8]
    """

    def __init__(self, every: int = 1, max_frames: int | None = None, expected: int | None = None):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (keep every n-th capture), got {every!r}")
        if max_frames is not None and (
            isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 2
        ):
            raise ValueError(f"max_frames must be an int >= 2 or None (no limit), got {max_frames!r}")
        if expected is not None and (not isinstance(expected, int) or expected < 1):
            raise ValueError(f"expected must be a positive int (captures the run will make) or None, got {expected!r}")
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
        level, bound = 0, self.max_frames // 2
        while frames >= bound:  # segment j holds max_frames / 2**(j+1) frames at stride every * 2**j
            level += 1
            size = self.max_frames >> (level + 1)
            if size == 0:
                return 0
            bound += size
        return self.every << level

    def keep(self, tick: int, frames: int) -> bool:
        k = self.stride(frames)
        return k > 0 and tick % k == 0
