"""The time budget: captures may take at most a stated share of the training time between them.

The recorder measures both sides: the seconds inside each capture it evaluates, and the seconds between
``capture()`` calls (the user's training, whatever it is). A capture the schedule keeps is skipped when it would
push the captures' total past ``budget`` times the training time so far, plus a small grace: so the share of
training spent watching stays at or under the budget over a run, and a capture that costs as much as 100 training
steps happens about once per 2,000 steps at ``budget=0.05``. Skipping is how ``every`` adapts: the frames that
remain are the schedule's, never moved or deleted; ``capture(force=True)`` always records (and is counted).

The first capture is not charged (it is always recorded, and pays one-time costs: first kernel launches, lazy
imports, moving the grid to the device); it still counts in ``rec.cost``. ``budget=None`` turns the budget off.

The default, ``budget="auto"``, is ``BUDGET`` (0.05) after a warm-up: nothing is skipped until the run has
``FREE_FRAMES`` frames, ``GRACE`` seconds of capture time and ``WARM_TRAIN`` seconds of training behind it. A short
run, a demo, a test or a loop that only captures (no training between the calls: no share to keep) records every
frame it asks for, and a long run's first frames, where the network changes fastest, are dense; over a run of hours
the warm-up is noise. A number (``budget=0.05``) holds from the second capture on.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

BUDGET = 0.05  # default share of training time that captures may take
GRACE = 2.0  # seconds of capture time never skipped under budget="auto"
FREE_FRAMES = 100  # nor are the first this many frames
WARM_TRAIN = 30.0  # nor anything in the first this many seconds of training


def check_budget(budget) -> tuple[float | None, bool]:
    """``(share, warm_up)`` for a ``budget`` argument: ``"auto"``, a share in (0, 1], or None."""
    if isinstance(budget, str) and budget == "auto":
        return BUDGET, True
    return _share(budget), False


def _share(budget) -> float | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not (0 < budget <= 1):
        raise ValueError(
            f"budget must be 'auto', a share of training time between 0 and 1 (e.g. 0.05) or None (no budget), "
            f"got {budget!r}"
        )
    return float(budget)


@dataclass
class Cost:
    """What watching costs: ``rec.cost``.

    ``seconds``: mean seconds per capture; ``share``: capture seconds over training seconds (time between
    ``capture()`` calls, from the first call on); ``captures``: frames evaluated; ``skipped``: captures the
    schedule wanted that the budget skipped.

    >>> c = Cost(*check_budget(0.05))
    >>> c.capture_s, c.train_s, c.captures = 1.0, 40.0, 4
    >>> c.seconds, c.share
    (0.25, 0.025)
    """

    budget: float | None = BUDGET
    warm_up: bool = False  # budget="auto": FREE_FRAMES frames, GRACE capture and WARM_TRAIN training seconds first
    captures: int = 0
    skipped: int = 0
    capture_s: float = 0.0
    train_s: float = 0.0
    last_s: float = 0.0  # the latest capture's seconds: what the next one is expected to cost
    first_s: float = 0.0  # the first capture's seconds, not charged to the budget
    _since: float | None = field(default=None, repr=False)  # when the latest capture() call returned

    @property
    def seconds(self) -> float:
        return self.capture_s / self.captures if self.captures else math.nan

    @property
    def share(self) -> float:
        return self.capture_s / self.train_s if self.train_s > 0 else (math.nan if not self.captures else math.inf)

    def __repr__(self) -> str:
        budget = "off" if self.budget is None else f"{self.budget:g}"
        return (
            f"<Cost {self.seconds:.3g} s per capture, {self.share:.1%} of training "
            f"({self.captures} captures, {self.skipped} skipped by the budget of {budget})>"
        )

    def called(self) -> None:
        """At the start of every ``capture()`` call: the time since the previous one was training."""
        now = time.perf_counter()
        if self._since is not None:
            self.train_s += now - self._since
        self._since = now

    def affordable(self) -> bool:
        """Whether a capture now keeps the captures within the budget (plus the grace)."""
        if self.budget is None or self.captures < 2:
            return True  # the first capture's time is no estimate of the next one's (see the module doc)
        if self.warm_up and (self.captures < FREE_FRAMES or self.capture_s < GRACE or self.train_s < WARM_TRAIN):
            return True
        return self.capture_s - self.first_s + self.last_s <= self.budget * self.train_s

    def returned(self, seconds: float | None = None) -> None:
        """At the end of every ``capture()`` call; ``seconds`` when it evaluated a frame."""
        if seconds is not None:
            if not self.captures:
                self.first_s = seconds
            self.captures += 1
            self.capture_s += seconds
            self.last_s = seconds
        self._since = time.perf_counter()
