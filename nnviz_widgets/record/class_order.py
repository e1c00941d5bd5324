"""A training loop that numbers the classes in another order than the recorder gets a silently wrong picture: the
model learns "column 0 is 'dog'" while the recorder reads column 0 as ``rec.classes[0] == 'cat'``, so accuracy
looks near 0 and the boundary names the wrong classes. That shows in the captures: the model's predictions agree
with the recorder's labels under a permutation of the classes far better than as they are. When they do,
consistently, the recorder warns once, with the order the loop seems to use and the fix."""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

CAPTURES = 3  # the same permutation in this many captures in a row: not a passing phase of training
SURE = 0.9  # accuracy under the permutation that says the model has learned that mapping
GAP = 0.3  # and how much better than the recorder's own order it must be


class ClassOrderCheck:
    """Fed each capture's predictions and labels (class indices into ``classes``); warns once. Each :meth:`see`
    returns the accuracy, which its counts give for free (a capture's ``accuracy`` metric on its points)."""

    def __init__(self, classes: list):
        self.classes = list(classes)
        self.streak = 0
        self.last: tuple[int, ...] | None = None
        self.warned = False
        self._labels: np.ndarray | None = None  # the labels last seen (a recorder's are the same each capture)
        self._cells: np.ndarray | None = None  # and labels * k, each row's first cell in the k x k counts

    def see(self, predictions: np.ndarray, labels: np.ndarray, stacklevel: int = 2) -> float:
        """Count this capture; returns the share of rows predicted as labelled (NaN for no rows)."""
        k, n = len(self.classes), len(labels)
        if not n:
            return math.nan
        if predictions.min() < 0 or predictions.max() >= k:  # -1: a diverged row; a column past the classes: none
            shown = (predictions >= 0) & (predictions < k)
            cells = labels[shown] * k + predictions[shown]
        else:
            if labels is not self._labels:
                self._labels, self._cells = labels, labels * k
            cells = self._cells + predictions
        # the k x k counts as lists: k is at most 10, and a few list operations cost less than NumPy's per-call
        # overhead on arrays this small (this runs at every capture)
        counts = np.bincount(cells, minlength=k * k).tolist()
        rows = [counts[i * k : (i + 1) * k] for i in range(k)]
        plain = sum(row[i] for i, row in enumerate(rows)) / n
        if self.warned or k < 2:
            return plain
        # a permutation takes one cell per row and per column, so it never beats every row's (or every column's)
        # best cell: when even that bound cannot qualify (a model that has learned the recorder's order, or one
        # that predicts one class everywhere), the assignment problem needs no solving
        bound = min(sum(map(max, rows)), sum(map(max, zip(*rows, strict=True)))) / n
        perm, best = None, bound
        if bound >= SURE and bound - plain >= GAP:
            confusion = np.array(rows)
            true, column = linear_sum_assignment(confusion, maximize=True)
            best = confusion[true, column].sum() / n
            perm = tuple(int(c) for c in column)  # rows come back as 0..k-1: class i is predicted as column perm[i]
        if perm is not None and best >= SURE and best - plain >= GAP and perm != tuple(range(k)):
            self.streak = self.streak + 1 if perm == self.last else 1
            self.last = perm
        else:
            self.streak, self.last = 0, None
        if self.streak < CAPTURES:
            return plain
        self.warned = True
        order = [None] * k
        for i, c in enumerate(perm):
            order[c] = self.classes[i]
        warnings.warn(
            f"accuracy is {plain:.2f} against rec.y, but {best:.2f} if the model's output columns were the classes "
            f"in the order {order}: your training loop seems to number the labels in that order, not in "
            f"rec.classes={self.classes}, so the views name the wrong classes. Train on rec.y (the labels as indices "
            f"into rec.classes), or create the Recorder with classes={order}",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )
        return plain
