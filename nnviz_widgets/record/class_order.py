"""A training loop that numbers the classes in another order than the recorder gets a silently wrong picture: the
model learns "column 0 is 'dog'" while the recorder reads column 0 as ``rec.classes[0] == 'cat'``, so accuracy
looks near 0 and the boundary names the wrong classes. That shows in the captures: the model's predictions agree
with the recorder's labels under a permutation of the classes far better than as they are. When they do,
consistently, the recorder warns once, with the order the loop seems to use and the fix."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

CAPTURES = 3  # the same permutation in this many captures in a row: not a passing phase of training
SURE = 0.9  # accuracy under the permutation that says the model has learned that mapping
GAP = 0.3  # and how much better than the recorder's own order it must be


class ClassOrderCheck:
    """Fed each capture's predictions and labels (class indices into ``classes``); warns once."""

    def __init__(self, classes: list):
        self.classes = list(classes)
        self.streak = 0
        self.last: tuple[int, ...] | None = None
        self.warned = False

    def see(self, predictions: np.ndarray, labels: np.ndarray, stacklevel: int = 2) -> None:
        k = len(self.classes)
        if self.warned or k < 2 or not len(labels):
            return
        shown = (predictions >= 0) & (predictions < k)  # -1: a diverged row; a column past the classes: none
        confusion = np.bincount(labels[shown] * k + predictions[shown], minlength=k * k).reshape(k, k)
        plain = np.trace(confusion) / len(labels)
        # a permutation takes one cell per row and per column, so it never beats every row's (or every column's)
        # best cell: when even that bound cannot qualify (a model that has learned the recorder's order, or one
        # that predicts one class everywhere), the assignment problem needs no solving
        bound = min(confusion.max(axis=1).sum(), confusion.max(axis=0).sum()) / len(labels)
        perm, best = None, bound
        if bound >= SURE and bound - plain >= GAP:
            true, column = linear_sum_assignment(confusion, maximize=True)
            best = confusion[true, column].sum() / len(labels)
            perm = tuple(int(c) for c in column)  # rows come back as 0..k-1: class i is predicted as column perm[i]
        if perm is not None and best >= SURE and best - plain >= GAP and perm != tuple(range(k)):
            self.streak = self.streak + 1 if perm == self.last else 1
            self.last = perm
        else:
            self.streak, self.last = 0, None
        if self.streak < CAPTURES:
            return
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
