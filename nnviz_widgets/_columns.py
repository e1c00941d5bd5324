"""Feature names that travel with the data: ``load_csv``'s X keeps its CSV header, so the boundary and the scatter
label their axes with the columns' own names (a pandas DataFrame's columns are read the same way)."""

from __future__ import annotations

import numpy as np


class Columns(np.ndarray):
    """A 2-D array whose columns have names, ``X.columns``. Selecting rows, elementwise arithmetic and selecting
    columns keep (or select) the names; anything that may move or mix columns (a transpose, a reshape, a matrix
    product, a reduction across columns) drops them, so a name never labels another column.

    >>> X = Columns(np.zeros((3, 2), np.float32), ["age", "income"])
    >>> X[1:].columns, X[:, ::-1].columns, (X * 2).columns, (X @ np.eye(2)).columns, feature_names(X.T)
    (('age', 'income'), ('income', 'age'), ('age', 'income'), None, None)
    """

    columns: tuple[str, ...] | None

    def __new__(cls, data, columns):
        obj = np.asarray(data).view(cls)
        names = tuple(str(c) for c in columns)
        if obj.ndim != 2 or obj.shape[1] != len(names):
            raise ValueError(f"columns: {len(names)} names for an array of shape {obj.shape}; give one per column")
        obj.columns = names
        return obj

    def __array_finalize__(self, obj) -> None:
        names = getattr(obj, "columns", None)
        self.columns = names if names is not None and self.ndim == 2 and self.shape[1] == len(names) else None

    def __reduce__(self):  # pickling (multiprocessing, joblib) keeps the names
        cls, args, state = super().__reduce__()
        return cls, args, (state, self.columns)

    def __setstate__(self, state) -> None:
        state, self.columns = state
        super().__setstate__(state)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        out = super().__array_wrap__(array, context, return_scalar)
        if isinstance(out, Columns) and context is not None and context[0].signature is not None:
            out.columns = None  # a generalised ufunc such as matmul mixes columns
        return out

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, Columns):
            out.columns = self._selected(key) if out.ndim == 2 else None
        return out

    def _selected(self, key) -> tuple[str, ...] | None:
        if self.columns is None:
            return None
        if not isinstance(key, tuple):
            key = (key,)
        if len(key) == 2 and key[1] is Ellipsis:
            key = key[:1]  # X[rows, ...], as scikit-learn's train_test_split indexes
        elif len(key) == 2 and key[0] is Ellipsis:
            key = (slice(None), key[1])
        if any(k is None or k is Ellipsis for k in key) or len(key) > 2:
            return None  # new axes or an ellipsis: not plainly rows and columns
        if len(key) == 1:
            return self.columns  # rows only
        picked = np.arange(len(self.columns))[key[1]]
        return tuple(self.columns[i] for i in np.atleast_1d(picked)) if np.ndim(picked) == 1 else None

    # these reorder axes: the result is a plain array
    def transpose(self, *axes):
        return np.asarray(self).transpose(*axes)

    @property
    def T(self):  # noqa: N802 - numpy's name
        return np.asarray(self).T

    def swapaxes(self, a, b):
        return np.asarray(self).swapaxes(a, b)

    def reshape(self, *shape, **kwargs):
        out = np.asarray(self).reshape(*shape, **kwargs)
        return Columns(out, self.columns) if out.shape == self.shape and self.columns is not None else out


def feature_names(X) -> list[str] | None:
    """The names of X's columns when it carries them as strings (``load_csv``'s X, a pandas DataFrame), else None.

    >>> feature_names(Columns(np.zeros((2, 2)), ["x", "y"])), feature_names(np.zeros((2, 2)))
    (['x', 'y'], None)
    """
    names = getattr(X, "columns", None)
    if names is None or len(getattr(X, "shape", ())) != 2:
        return None
    names = list(names)
    if len(names) != X.shape[1] or not all(isinstance(c, str) for c in names):
        return None
    return names
