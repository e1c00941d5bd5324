"""The fixed, class-stratified sample of rows a capture evaluates: drawn points, predictions, accuracy, activations.

A capture costs what its rows cost, so it runs on a sample of the data whose size does not grow with the data
set: ``POINTS`` rows by default (all rows of a smaller data set). The sample is chosen once (seeded), so a point
on screen is the same data row in every frame, and it is stratified: each class gets its share of the sample
(largest remainders, at least one row per class), so a rare class is drawn and counted in the accuracy.
"""

from __future__ import annotations

import numpy as np

from .._check import integer, is_number

POINTS = 2000  # rows evaluated per capture; 2,000 puts a 95 % interval of about +-2 points on an accuracy near 50 %


def stratified_rows(labels: np.ndarray, points, seed: int = 0) -> np.ndarray:
    """Sorted row indices: ``points`` rows with each class's share, or every row (``points="all"``, or more
    points than rows).

    >>> y = np.array([0] * 90 + [1] * 10)
    >>> rows = stratified_rows(y, 20)
    >>> len(rows), int((y[rows] == 1).sum())
    (20, 2)
    >>> len(stratified_rows(y, "all")), len(stratified_rows(y, 500))
    (100, 100)
    """
    n = len(labels)
    if isinstance(points, str) and points == "all":
        return np.arange(n)
    if not is_number(points) or integer("points", points) < 2:
        raise ValueError(f"points must be an int >= 2 (rows drawn and evaluated each capture) or 'all', got {points!r}")
    points = integer("points", points)
    if points >= n:
        return np.arange(n)
    counts = np.bincount(labels)
    share = counts * (points / n)
    take = np.floor(share).astype(np.int64)
    left = int(points - take.sum())
    if left > 0:  # largest remainders first; ties to the lower class index
        order = np.argsort(-(share - take), kind="stable")
        take[order[:left]] += 1
    take = np.maximum(take, np.minimum(counts, 1))  # every class present in the data is drawn
    rng = np.random.default_rng(seed)
    rows = [rng.choice(np.flatnonzero(labels == k), int(t), replace=False) for k, t in enumerate(take) if t]
    return np.sort(np.concatenate(rows))
