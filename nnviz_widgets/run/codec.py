"""The one place that turns arrays into wire bytes and back.

The byte layout is written down in ``docs/wire-format.md``; ``js/src/lib/codec.js`` implements the same
spec and both are tested against the fixture files in ``tests/fixtures/codec/``.

An encoded array is a small JSON-able header plus one little-endian buffer::

    {"dtype": "uint8", "shape": [200, 200, 2], "scale": 1/254, "offset": 0.0, "nan": 255}

decoded value = ``code * scale + offset``; the dtype's maximum code (255 / 65535) stands for a
non-finite value, and ``nan`` is ``None`` when the array had none.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"), "float32": np.dtype("<f4")}
TOPS = {"uint8": 255, "uint16": 65535}  # each integer dtype's largest code: the non-finite marker


@dataclass(frozen=True)
class Encoded:
    """One encoded array: ``header`` (JSON-able dict, no buffer index) and ``data`` (bytes)."""

    header: dict
    data: bytes

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def decode(self) -> np.ndarray:
        return decode(self.header, self.data)


def encode(
    values: np.ndarray,
    dtype: str = "uint8",
    lo: float | None = None,
    hi: float | None = None,
    *,
    overwrite: bool = False,
) -> Encoded:
    """Quantise ``values`` to ``dtype`` over ``[lo, hi]`` (default: the finite min and max). ``overwrite``: the
    caller no longer needs ``values`` (a float32 array of its own), so the codes may be worked out in it, sparing
    a copy; the codes are the same.

    >>> e = encode(np.array([0.0, 0.5, 1.0]), lo=0, hi=1)
    >>> e.decode().round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    a = np.asarray(values)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"values must be a numeric array, got dtype {a.dtype}")
    # float32 stays float32: no float64 copy of a big weight matrix (much the larger cost); its 24-bit
    # mantissa is exact enough for 16-bit codes (a code can differ from float64 arithmetic only at a tie)
    a = a if a.dtype == np.float32 else a.astype(np.float64)
    shape = [int(s) for s in a.shape]
    if dtype == "float32":
        header = {"dtype": dtype, "shape": shape, "scale": 1.0, "offset": 0.0, "nan": None}
        return Encoded(header, a.astype(DTYPES[dtype]).tobytes())
    top = TOPS[dtype]
    # every value already in a finite [lo, hi] (probabilities in [0, 1]: a capture's grid): finite, and clip
    # would change nothing, so neither pass is made; NaN fails the test (min and max propagate it), as does +-inf
    inside = (
        lo is not None
        and hi is not None
        and a.size > 0
        and math.isfinite(lo := float(lo))
        and math.isfinite(hi := float(hi))
        and lo <= a.min()
        and a.max() <= hi
    )
    if inside:
        all_finite = True
    else:
        finite = np.isfinite(a)
        all_finite = bool(finite.all())
    if lo is None or hi is None:
        fin = a[finite] if not all_finite else a
        lo = float(fin.min()) if lo is None and fin.size else (0.0 if lo is None else lo)
        hi = float(fin.max()) if hi is None and fin.size else (lo if hi is None else hi)
    lo, hi = float(lo), float(hi)
    if a.dtype == np.float32 and max(abs(lo), abs(hi), hi - lo) > 1e37:
        a = a.astype(np.float64)  # a diverging model's values near float32's limit: x - lo would overflow
    scale = _step(lo, hi, top)
    in_place = overwrite and a is values and a.dtype == np.float32
    if inside:  # rint((x - lo) / scale) as below, with clip the identity: one array, worked in place
        codes = a if in_place else None
        if lo != 0:  # x - 0.0 is x, bit for bit (-0.0 too)
            codes = np.subtract(a, lo, out=codes)
        codes = np.divide(a if codes is None else codes, scale, out=codes)
        np.rint(codes, out=codes)
    elif all_finite:  # in place on clip's copy: the same arithmetic as rint((clip - lo) / scale), one array
        codes = np.clip(a, lo, hi, out=a if in_place else None)
        if lo != 0:
            codes -= lo
        codes /= scale
        np.rint(codes, out=codes)
    else:
        codes = np.zeros_like(a)
        codes[finite] = np.rint((np.clip(a[finite], lo, hi) - lo) / scale)
        codes[~finite] = top
    header = {
        "dtype": dtype,
        "shape": shape,
        "scale": scale,
        "offset": lo,
        "nan": None if all_finite else top,
    }
    return Encoded(header, codes.astype(DTYPES[dtype]).tobytes())


def from_codes(codes: np.ndarray, lo: float, hi: float, *, nan: bool) -> Encoded:
    """The uint8 array :func:`encode` makes of values in ``[lo, hi]``, from ``codes`` its caller has worked out
    the same way (``rint((clip(v, lo, hi) - lo) / scale)``, 255 where a value is not finite; ``nan``: whether
    any is).

    >>> from_codes(np.array([0, 127, 254], np.uint8), 0.0, 1.0, nan=False).decode().round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    top, lo, hi = TOPS["uint8"], float(lo), float(hi)
    scale = _step(lo, hi, top)  # as encode() works it out
    header = {"dtype": "uint8", "shape": [int(s) for s in codes.shape], "scale": scale, "offset": lo}
    header["nan"] = top if nan else None
    return Encoded(header, np.ascontiguousarray(codes, dtype=np.uint8).tobytes())


def _step(lo: float, hi: float, top: int) -> float:
    """The value one code step stands for: codes 0 .. top - 1 span [lo, hi] (top itself marks non-finite)."""
    return (hi - lo) / (top - 1) if hi > lo else 1.0


def check(header: dict, nbytes: int) -> tuple:
    """``(dtype, shape, scale, offset, nan)`` of a valid header for ``nbytes`` of data, else ``ValueError``.

    >>> check({"dtype": "uint8", "shape": [2, 2], "scale": 1.0, "offset": 0.0, "nan": None}, 4)[1]
    (2, 2)
    """
    try:
        dt = DTYPES[header["dtype"]]
        shape = tuple(int(s) for s in header["shape"])
        scale, offset, nan = float(header["scale"]), float(header["offset"]), header.get("nan")
        nan = None if nan is None else int(nan)
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"not an encoded-array header: {header!r} ({err})") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {list(shape)}")
    need = math.prod(shape) * dt.itemsize  # Python ints: a hostile shape cannot wrap around as in int64
    if nbytes != need:
        raise ValueError(f"data holds {nbytes} bytes but shape {list(shape)} of {header['dtype']} needs {need}")
    return dt, shape, scale, offset, nan


def decode(header: dict, data: bytes | memoryview) -> np.ndarray:
    """Decode one array to float32 (NaN where the ``nan`` code stands). Raises ``ValueError`` on a bad header."""
    dt, shape, scale, offset, nan = check(header, len(data))
    codes = np.frombuffer(data, dtype=dt).reshape(shape)
    if header["dtype"] == "float32":
        return codes.astype(np.float32)
    if max(abs(offset), abs(scale) * float(np.iinfo(dt).max)) > 1e37:  # a range near float32's limit: in float64
        with np.errstate(over="ignore"):  # a value beyond float32 (only from float64 data) decodes to inf
            out = np.asarray(codes * float(scale) + float(offset)).astype(np.float32)
    else:
        out = codes.astype(np.float32)  # in place from here, so a 0-d array stays an array
        out *= np.float32(scale)
        out += np.float32(offset)
    if nan is not None:
        out[codes == nan] = np.nan
    return out


def encode_classes(indices: np.ndarray) -> Encoded:
    """Class indices (0..254; negative means "no prediction", e.g. a diverged model) as uint8 codes."""
    a = np.asarray(indices)
    if a.dtype.kind in "iu" and a.size and 0 <= a.min() and a.max() <= 254:
        # what encode() below makes of them (scale 1, offset 0, no NaN code), without its float passes
        header = {"dtype": "uint8", "shape": list(a.shape), "scale": 1.0, "offset": 0.0, "nan": None}
        return Encoded(header, a.astype(np.uint8).tobytes())
    a = np.where(a < 0, np.nan, a.astype(np.float64))
    return encode(a, "uint8", lo=0, hi=254)


def wire(arrays: dict[str, Encoded], buffers: list) -> dict:
    """Headers for a message: each header gets the index of its buffer, appended to ``buffers``."""
    out = {}
    for name, enc in arrays.items():
        out[name] = {**enc.header, "buffer": len(buffers)}
        buffers.append(enc.data)
    return out


def _fixtures() -> dict[str, Encoded]:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(4, 5)).astype(np.float32)
    probs[1, 2] = np.nan
    return {
        "probs_uint8": encode(probs, "uint8", lo=0, hi=1),
        "weights_uint16": encode(rng.normal(size=(3, 4)) * 2.5, "uint16"),
        "classes_uint8": encode_classes(np.array([0, 1, 2, -1, 9])),
        "float32": encode(np.array([[1.5, -2.25], [1e30, 3.0]]), "float32"),
        "constant_uint8": encode(np.full((2, 2), 7.0), "uint8"),
        "empty_uint8": encode(np.zeros((0, 3)), "uint8"),
    }


def write_fixtures(folder: str | Path) -> list[Path]:
    """Write the shared codec fixtures that the Python and JS tests both read."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, enc in _fixtures().items():
        (folder / f"{name}.json").write_text(json.dumps({**enc.header, "buffer": 0}, indent=1) + "\n")
        (folder / f"{name}.bin").write_bytes(enc.data)
        flat = enc.decode().reshape(-1)
        expected = {"shape": enc.header["shape"], "values": [None if np.isnan(v) else float(v) for v in flat]}
        (folder / f"{name}.expected.json").write_text(json.dumps(expected) + "\n")
        written.append(folder / f"{name}.json")
    return written
