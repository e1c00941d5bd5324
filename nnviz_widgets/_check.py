"""Argument checks shared by every public function: one rule for what a number is.

A count (``every``, ``epochs``, ``grid``, ...) is a Python or NumPy integer, a 0-d integer array or one-element
integer tensor, or a float that is exactly an integer (``20.0``); ``True``/``False`` and ``2.7`` are refused,
never truncated. A real (``lr``, ``fps``, ``width``, ...) is any finite Python or NumPy number. Each check
raises :class:`ArgumentError` (both a ``TypeError`` and a ``ValueError``, so callers catching either see it)
whose message names the argument and says what it needs.
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np


class ArgumentError(TypeError, ValueError):
    """An argument of the wrong kind or out of range; the message names it."""


def integer(name: str, value, *, lo: int | None = None, hi: int | None = None, what: str = "") -> int:
    """``value`` as a Python int, checked against ``lo <= value <= hi``.

    >>> integer("every", np.int64(3)), integer("grid", 20.0)
    (3, 20)
    >>> integer("grid", 2.7)
    Traceback (most recent call last):
    ...
    nnviz_widgets._check.ArgumentError: grid must be an int, got 2.7
    """
    need = _range("an int", lo, hi) + (f" ({what})" if what else "")
    out = _as_int(value)
    if out is None:
        raise ArgumentError(f"{name} must be {need}, got {value!r}")
    if (lo is not None and out < lo) or (hi is not None and out > hi):
        raise ArgumentError(f"{name} must be {need}, got {value!r}")
    return out


def real(
    name: str,
    value,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    what: str = "",
) -> float:
    """``value`` as a finite Python float in the given range (``lo_open``: ``value > lo``).

    >>> real("lr", np.float32(0.5), lo=0, lo_open=True)
    0.5
    >>> real("timeout", float("nan"))
    Traceback (most recent call last):
    ...
    nnviz_widgets._check.ArgumentError: timeout must be a finite number, got nan
    """
    bounds = ""
    if lo is not None:
        bounds += f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        bounds += f"{' and' if bounds else ''} {'<' if hi_open else '<='} {hi:g}"
    need = f"a finite number{bounds}" + (f" ({what})" if what else "")
    out = _as_float(value)
    if out is None or not math.isfinite(out):
        raise ArgumentError(f"{name} must be {need}, got {value!r}")
    if lo is not None and (out <= lo if lo_open else out < lo):
        raise ArgumentError(f"{name} must be {need}, got {value!r}")
    if hi is not None and (out >= hi if hi_open else out > hi):
        raise ArgumentError(f"{name} must be {need}, got {value!r}")
    return out


def flag(name: str, value) -> bool:
    """A Python or NumPy bool (a 0/1 int would hide a swapped argument, so it is refused)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ArgumentError(f"{name} must be True or False, got {value!r}")


def text(name: str, value, *, single_line: bool = False) -> str:
    """A string (NumPy's ``str_`` too); ``single_line`` refuses line breaks."""
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be a string, got {type(value).__name__} {value!r}")
    if single_line and any(c in value for c in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"):
        raise ArgumentError(f"{name} must be one line of text, got {value!r} (it holds a line break)")
    return str(value)


def is_number(value) -> bool:
    """A real number (Python or NumPy scalar), not a bool."""
    return _as_float(value) is not None


def _as_int(value) -> int | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, np.ndarray) and (value.ndim != 0 or value.dtype.kind == "b"):
        return None
    if type(value).__module__.startswith("torch") and getattr(value, "dtype", None) is not None:
        if (
            value.numel() != 1
            or value.dtype.is_floating_point
            or value.dtype.is_complex
            or str(value.dtype) == "torch.bool"
        ):
            return None
        return int(value.item())
    try:
        return int(operator.index(value))
    except TypeError:
        pass
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return None


def _as_float(value) -> float | None:
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
        return float(value)
    if type(value).__module__.startswith("torch") and getattr(value, "dtype", None) is not None:
        if value.numel() != 1 or value.dtype.is_complex or str(value.dtype) == "torch.bool":
            return None
        return float(value.item())
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def _range(kind: str, lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{kind} from {lo} to {hi}"
    if lo is not None:
        return f"{kind} >= {lo}"
    if hi is not None:
        return f"{kind} <= {hi}"
    return kind


def names(name: str, value) -> list[str]:
    """A name or a list (tuple, ...) of names, as a list of strings.

    >>> names("layers", "fc1"), names("layers", ("a", "b"))
    (['fc1'], ['a', 'b'])
    """
    if isinstance(value, str):
        return [str(value)]
    if isinstance(value, (bytes, dict)) or not hasattr(value, "__iter__"):
        raise ArgumentError(f"{name} must be a name or a list of names (strings), got {value!r}")
    out = list(value)
    for item in out:
        if not isinstance(item, str):
            raise ArgumentError(f"{name} must be a name or a list of names (strings), got {item!r} in it")
    return [str(v) for v in out]
