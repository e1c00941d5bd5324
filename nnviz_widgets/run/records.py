"""One frame as bytes: the record both run layouts store (docs/run-format.md), and the errors of reading runs.

A record is ``b"NNVF" | u32 header length | JSON header | array bytes | u32 crc32``. Frames are stored exactly
as the codec encoded them (``codec.py``), so nothing is quantised twice and what a reader gets back is
bit-identical to what the writer held. Nothing here unpickles or evaluates anything: headers are JSON and the
arrays raw codec bytes, each checked against its header before it is trusted.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from .codec import Encoded, check
from .run import Frame, Histogram

MAGIC = b"NNVF"
_U32 = struct.Struct("<I")
_HEAD = len(MAGIC) + _U32.size  # magic + header length


class NotARunError(ValueError):
    """The path is not a run (no readable manifest), or a file of it is not what the format says."""


class RunVersionError(ValueError):
    """The run was written by a newer nnviz_widgets, in a format version this one cannot read."""


class TornRecordWarning(UserWarning):
    """The frames end in an incomplete or damaged record (a writer stopped mid-write)."""


class RunWriteWarning(UserWarning):
    """Frames could not be written to the run's files (a full disk): they are kept in memory until they can."""


@dataclass(frozen=True)
class Torn:
    """Where the readable frames end: ``offset`` of the first bad byte, ``nbytes`` ignored after it, ``why``."""

    offset: int
    nbytes: int
    why: str


# -- what a run declares its frames hold -------------------------------------------------------------------
@dataclass(frozen=True)
class FrameSpec:
    """What every frame of a run must hold, from the run's own header (manifest, points, sample): a record can
    pass its checksum and still be hand-made or written by another run, and its arrays must not reach a view
    unless they fit the run they are drawn in. :meth:`check` raises ``ValueError`` saying what does not fit.

    ``grid`` is (H, W), ``classes`` K, ``points`` N, ``sample`` S (rows whose activations frames carry),
    ``layers`` the recorded weight layers (name -> ``{"shape": [...], "outputs": [rows, cols] | None}``).
    """

    grid: tuple[int, int]
    classes: int
    points: int
    sample: int
    layers: dict

    @classmethod
    def of(cls, run) -> FrameSpec:
        return cls((len(run.grid.ys), len(run.grid.xs)), len(run.classes), len(run.points), len(run.sample), run.layers)

    def check(self, arrays: dict) -> None:
        if "boundary" not in arrays or "predictions" not in arrays:
            raise ValueError(f"a frame needs 'boundary' and 'predictions' arrays, got {sorted(arrays)[:8]}")
        shape = lambda name: tuple(arrays[name].header["shape"])  # noqa: E731 - checked by codec.check already
        k = self.classes
        if shape("boundary") != (*self.grid, k):
            raise ValueError(f"'boundary' has shape {list(shape('boundary'))}; the run's grid and {k} classes "
                             f"need {[*self.grid, k]}")  # fmt: skip
        probs = arrays["boundary"].decode()
        if probs.size and not (np.nanmin(probs, initial=0) >= -1e-3 and np.nanmax(probs, initial=0) <= 1 + 1e-3):
            raise ValueError("'boundary' holds values outside 0..1, so they are not class probabilities")
        if shape("predictions") != (self.points,):
            raise ValueError(f"'predictions' has shape {list(shape('predictions'))}; the run has {self.points} points")
        predicted = arrays["predictions"].decode()
        predicted = predicted[~np.isnan(predicted)]
        if predicted.size and (predicted.min() < 0 or predicted.max() > k - 1 or (predicted % 1).any()):
            raise ValueError(f"'predictions' holds values outside the {k} class indices 0..{k - 1}")
        for name in arrays:
            kind, _, rest = name.partition("/")
            if kind in ("weights", "outputs"):
                self._check_layer(kind, rest, shape(name))
            elif kind == "activations" and (len(shape(name)) != 2 or shape(name)[0] != self.sample):
                raise ValueError(f"{name!r} has shape {list(shape(name))}; the run's sample needs ({self.sample}, F)")
            elif kind == "hist":
                stats = "stats/" + rest
                if len(shape(name)) != 1 or stats not in arrays or shape(stats) != (len(Histogram.STATS),):
                    raise ValueError(f"{name!r} needs a 1-D histogram and {stats!r} of {len(Histogram.STATS)} values")

    def _check_layer(self, kind: str, layer: str, shape: tuple) -> None:
        info = self.layers.get(layer)
        if not isinstance(info, dict):
            raise ValueError(f"'{kind}/{layer}' is not one of the run's recorded layers {sorted(self.layers)[:8]}")
        weights = tuple(info.get("shape") or ())
        if kind == "weights" and shape != weights:
            raise ValueError(f"'weights/{layer}' has shape {list(shape)}; the run declares {list(weights)}")
        maps = info.get("outputs")
        if kind == "outputs" and (not maps or not weights or shape != (weights[0], *maps)):
            raise ValueError(
                f"'outputs/{layer}' has shape {list(shape)}; the run declares {weights[:1]} neurons on {maps} maps"
            )


# -- records ----------------------------------------------------------------------------------------------
def _metric_to_json(value: float):
    # strict JSON has no NaN/inf: a non-finite metric (a diverged loss) is stored as its name, "nan"/"inf"/"-inf"
    return value if math.isfinite(value) else str(value)


def encode_record(frame: Frame) -> bytes:
    """One frame as a ``frames.bin`` record (see docs/run-format.md)."""
    arrays, at = {}, 0
    for name, enc in frame.arrays.items():
        arrays[name] = {**enc.header, "byte_offset": at, "byte_length": len(enc.data)}
        at += len(enc.data)
    header = {
        "index": frame.index,
        "epoch": frame.epoch,
        "metrics": {k: _metric_to_json(v) for k, v in frame.metrics.items()},
        "diverged": frame.diverged,
        "arrays": arrays,
    }
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    body = head + b"".join(enc.data for enc in frame.arrays.values())
    return MAGIC + _U32.pack(len(head)) + body + _U32.pack(zlib.crc32(body))


def iter_records(data: bytes | memoryview, start: int = 0, problems: list | None = None, spec: FrameSpec | None = None):
    """Yield ``(offset, end, fields)`` for each complete, checked record in ``data[start:]``.

    ``fields`` are ``Run.append`` keywords (``epoch``, ``metrics``, ``diverged``, ``arrays``). When the data
    does not end exactly after a record, one entry is added to ``problems``: ``(offset, "incomplete")`` when a
    record is cut short (a writer may still be writing it), else ``(offset, description)`` of the damage (bad
    magic, bad header, CRC mismatch, a hand-made header whose fields do not check, or, given the run's ``spec``,
    arrays that do not fit the run: a record that passed its checksum is still checked before it is trusted).
    """
    view = memoryview(data)
    at = start
    problems = [] if problems is None else problems
    while at < len(view):
        if len(view) - at < _HEAD:
            problems.append((at, "incomplete"))
            return
        if bytes(view[at : at + 4]) != MAGIC:
            problems.append((at, f"no record marker at byte {at}"))
            return
        (hlen,) = _U32.unpack_from(view, at + 4)
        if len(view) - at < _HEAD + hlen:
            problems.append((at, "incomplete"))
            return
        try:
            header = json.loads(bytes(view[at + _HEAD : at + _HEAD + hlen]))
            specs = header["arrays"]
            lengths = [int(s["byte_length"]) for s in specs.values()]
            if min(lengths, default=0) < 0:
                raise ValueError(f"negative byte_length in {lengths}")
            size = sum(lengths)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as err:
            problems.append((at, f"unreadable record header at byte {at} ({err})"))
            return
        end = at + _HEAD + hlen + size + _U32.size
        if len(view) < end:
            problems.append((at, "incomplete"))
            return
        body = view[at + _HEAD : end - _U32.size]
        if zlib.crc32(body) != _U32.unpack_from(view, end - _U32.size)[0]:
            problems.append((at, f"checksum mismatch in the record at byte {at}"))
            return
        try:  # a header that passed its checksum can still be hand-made: check every field before trusting it
            fields = _frame_fields(header, specs, body[hlen:])
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as err:
            problems.append((at, f"unreadable record at byte {at} ({err})"))
            return
        try:
            if spec is not None:
                spec.check(fields["arrays"])
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as err:
            problems.append((at, f"the record at byte {at} does not fit the run ({err})"))
            return
        yield at, end, fields
        at = end


def decode_records(data: bytes | memoryview, start: int = 0) -> tuple[list[dict], int, str | None]:
    """Parse complete records from ``data[start:]``.

    Returns ``(frames, end, problem)``: each frame a dict of ``epoch``, ``metrics``, ``diverged``, ``arrays``
    (name -> :class:`Encoded`); ``end`` the offset just past the last complete record; ``problem`` ``None``
    when the data ended exactly there, ``"incomplete"`` when a record is cut short (a writer may still be
    writing it), or a description of damage (bad magic, bad header, CRC mismatch).
    """
    problems: list = []
    frames, end = [], start
    for _, stop, fields in iter_records(data, start, problems):
        frames.append(fields)
        end = stop
    return frames, end, (problems[0][1] if problems else None)


def _frame_fields(header: dict, specs: dict, payload: memoryview) -> dict:
    """``append()`` keywords from one record's checked header and payload; ValueError/KeyError/... if malformed."""
    arrays = {}
    for name, spec in specs.items():
        o, n = int(spec["byte_offset"]), int(spec["byte_length"])
        if not (0 <= o and 0 <= n and o + n <= len(payload)):
            raise ValueError(f"array {name!r} lies outside the record (bytes {o}..{o + n} of {len(payload)})")
        codec_header = {k: v for k, v in spec.items() if k not in ("byte_offset", "byte_length")}
        check(codec_header, n)
        arrays[str(name)] = Encoded(codec_header, bytes(payload[o : o + n]))
    metrics = header["metrics"]
    if not isinstance(metrics, dict) or isinstance(header["diverged"], (dict, list)):
        raise ValueError("metrics must be an object and diverged a boolean")
    return {
        "epoch": int(header["epoch"]),
        "metrics": {str(k): float(v) for k, v in metrics.items()},
        "diverged": bool(header["diverged"]),
        "arrays": arrays,
    }
