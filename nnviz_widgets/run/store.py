"""Runs on disk: a directory that grows one appended record per frame, readable while it is written.

The layout is written down in ``docs/run-format.md``. In short::

    manifest.json   format name and version, grid xs/ys, classes, axis labels, recorded layers
    points.npy      (N, 2) float32, the data as drawn        labels.npy  (N,) int64 true class index
    sample.npy      (S,) int64 rows whose activations frames carry (only when activations are recorded)
    frames.bin      records: b"NNVF" | u32 header length | JSON header | array bytes | u32 crc32

Frames are stored exactly as the codec encoded them (``codec.py``), so nothing is quantised twice and what a
reader gets back is bit-identical to what the writer held. Nothing here unpickles or evaluates a file: the
manifest and headers are JSON, the arrays ``.npy`` read with ``allow_pickle=False`` or raw codec bytes.

A writer only ever appends and flushes one whole record per frame, so a killed writer leaves at most one torn
record at the end; a reader keeps every complete frame before it and warns about the rest.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .codec import Encoded, check
from .run import Frame, Grid, Run

FORMAT = "nnviz-run"
VERSION = 1
MAGIC = b"NNVF"
MANIFEST, POINTS, LABELS, FRAMES = "manifest.json", "points.npy", "labels.npy", "frames.bin"
SAMPLE = "sample.npy"  # optional: the rows of the data whose activations frames carry (run.sample)
_U32 = struct.Struct("<I")
_HEAD = len(MAGIC) + _U32.size  # magic + header length


class NotARunError(ValueError):
    """The path is not a run directory (no readable manifest)."""


class RunVersionError(ValueError):
    """The run was written by a newer nnviz_widgets, in a format version this one cannot read."""


class TornRecordWarning(UserWarning):
    """The end of ``frames.bin`` holds an incomplete or damaged record (a writer stopped mid-write)."""


@dataclass(frozen=True)
class Torn:
    """Where the readable frames end: ``offset`` of the first bad byte, ``nbytes`` ignored after it, ``why``."""

    offset: int
    nbytes: int
    why: str


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


def decode_records(data: bytes | memoryview, start: int = 0) -> tuple[list[dict], int, str | None]:
    """Parse complete records from ``data[start:]``.

    Returns ``(frames, end, problem)``: each frame a dict of ``epoch``, ``metrics``, ``diverged``, ``arrays``
    (name -> :class:`Encoded`); ``end`` the offset just past the last complete record; ``problem`` ``None``
    when the data ended exactly there, ``"incomplete"`` when a record is cut short (a writer may still be
    writing it), or a description of damage (bad magic, bad header, CRC mismatch).
    """
    view = memoryview(data)
    frames, at = [], start
    while at < len(view):
        if len(view) - at < _HEAD:
            return frames, at, "incomplete"
        if bytes(view[at : at + 4]) != MAGIC:
            return frames, at, f"no record marker at byte {at}"
        (hlen,) = _U32.unpack_from(view, at + 4)
        if len(view) - at < _HEAD + hlen:
            return frames, at, "incomplete"
        try:
            header = json.loads(bytes(view[at + _HEAD : at + _HEAD + hlen]))
            specs = header["arrays"]
            lengths = [int(s["byte_length"]) for s in specs.values()]
            if min(lengths, default=0) < 0:
                raise ValueError(f"negative byte_length in {lengths}")
            size = sum(lengths)
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as err:
            return frames, at, f"unreadable record header at byte {at} ({err})"
        end = at + _HEAD + hlen + size + _U32.size
        if len(view) < end:
            return frames, at, "incomplete"
        body = view[at + _HEAD : end - _U32.size]
        if zlib.crc32(body) != _U32.unpack_from(view, end - _U32.size)[0]:
            return frames, at, f"checksum mismatch in the record at byte {at}"
        try:  # a header that passed its checksum can still be hand-made: check every field before trusting it
            frames.append(_frame_fields(header, specs, body[hlen:]))
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as err:
            return frames, at, f"unreadable record at byte {at} ({err})"
        at = end
    return frames, at, None


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


# -- writing ----------------------------------------------------------------------------------------------
class RunWriter:
    """Appends every frame of ``run`` to the directory ``path``: the frames it holds now, then each new one.

    Refuses a directory that already holds a run (or other files) unless ``overwrite=True``, which replaces
    only the run's own four files. The manifest is written last (atomically), so a reader that sees it finds
    a complete start. Records are written in frame order on the capturing thread, one ``write`` + ``flush``
    each: a few tens of microseconds for an 80 KB frame.

    >>> writer = RunWriter(rec.run, "runs/moons")   # doctest: +SKIP
    """

    def __init__(self, run: Run, path: str | os.PathLike, *, overwrite: bool = False):
        self.run = run
        self.path = Path(path)
        _prepare_dir(self.path, overwrite)
        np.save(self.path / POINTS, np.ascontiguousarray(run.points, dtype="<f4"), allow_pickle=False)
        np.save(self.path / LABELS, np.ascontiguousarray(run.labels, dtype="<i8"), allow_pickle=False)
        sample = np.asarray(getattr(run, "sample", ()), dtype="<i8")
        if len(sample):
            np.save(self.path / SAMPLE, np.ascontiguousarray(sample), allow_pickle=False)
        self._file = open(self.path / FRAMES, "wb")  # noqa: SIM115 - held open for the run's life
        self._lock = threading.Lock()
        self._next = 0  # index of the next frame to write: records go in frame order
        self._pending: dict[int, Frame] = {}
        self._unsubscribe = run.subscribe(self._on_frame)
        for frame in list(run):
            self._on_frame(frame)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "grid": {"xs": [float(v) for v in run.grid.xs], "ys": [float(v) for v in run.grid.ys]},
            "classes": list(run.classes),
            "axis_labels": list(run.axis_labels),
            "points": POINTS,
            "labels": LABELS,
            "frames": FRAMES,
            "layers": getattr(run, "layers", {}),  # recorded weight layers, for the weight views
        }
        if len(sample):
            manifest["sample"] = SAMPLE  # activation rows, for EmbeddingScatter(run, layer=...)
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / MANIFEST)

    def _on_frame(self, frame: Frame) -> None:
        with self._lock:
            if self._file.closed or frame.index < self._next:
                return
            self._pending[frame.index] = frame
            while self._next in self._pending:
                self._file.write(encode_record(self._pending.pop(self._next)))
                self._next += 1
            self._file.flush()

    def close(self) -> None:
        """Stop writing (new frames stay in memory only) and close the file."""
        self._unsubscribe()
        with self._lock:
            self._file.close()

    def __repr__(self) -> str:
        return f"<RunWriter {str(self.path)!r}, {self._next} frames written>"


def _prepare_dir(path: Path, overwrite: bool) -> None:
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"path={str(path)!r} is a file; a run is written to a directory")
    ours = [path / n for n in (MANIFEST, POINTS, LABELS, FRAMES, SAMPLE)]
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            what = "a run" if (path / MANIFEST).exists() else "other files"
            raise FileExistsError(
                f"path={str(path)!r} already holds {what}; choose a new directory, or pass overwrite=True to "
                "replace the run there (only manifest.json, points.npy, labels.npy, sample.npy and frames.bin are "
                "replaced)"
            )
        for p in ours:  # the manifest first, so a follower never pairs the old manifest with new frames
            p.unlink(missing_ok=True)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / (FRAMES + ".tmp")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise OSError(f"cannot write a run to path={str(path)!r}: {err.strerror or err}") from err


# -- reading ----------------------------------------------------------------------------------------------
class DiskRun(Run):
    """A :class:`Run` read from a directory; with ``follow=True`` it keeps appending frames as they are written.

    ``torn`` says where the readable frames end when the file ends in a torn record (else ``None``);
    :meth:`close` stops following.
    """

    def __init__(self, path: Path, manifest: dict, *, poll: float):
        grid = manifest["grid"]
        super().__init__(
            grid=Grid(np.asarray(grid["xs"], dtype=np.float64), np.asarray(grid["ys"], dtype=np.float64)),
            points=_load_npy(path / manifest.get("points", POINTS)),
            labels=_load_npy(path / manifest.get("labels", LABELS)),
            classes=[str(c) for c in manifest["classes"]],
            axis_labels=manifest.get("axis_labels", ("x₁", "x₂")),
        )
        self.layers = dict(manifest.get("layers", {}))
        if manifest.get("sample"):
            self.sample = _load_sample(path / manifest["sample"], len(self.points))
        self.path = path
        self.torn: Torn | None = None
        self._frames_file = path / manifest.get("frames", FRAMES)
        self._offset = 0  # bytes of frames.bin read into frames
        self._poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read_new(self, *, final: bool) -> None:
        """Append the complete records past ``_offset``; on a bad tail set ``torn`` (and warn when ``final``)."""
        try:
            with open(self._frames_file, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            data = b""
        frames, end, problem = decode_records(data)
        for fr in frames:
            self.append(**fr)
        self._offset += end
        self.torn = None if problem is None else Torn(self._offset, len(data) - end, problem)
        if self.torn is not None and (final or problem != "incomplete"):
            warnings.warn(
                f"{self._frames_file} ends in a torn record ({problem}): read {len(self)} complete frames, "
                f"ignored the last {self.torn.nbytes} bytes from byte {self._offset} (the writer likely stopped "
                "mid-write)",
                TornRecordWarning,
                stacklevel=3,
            )

    def _follow(self) -> None:
        size = -1
        while not self._stop.wait(self._poll):
            try:
                now = os.stat(self._frames_file).st_size
            except OSError:
                continue
            if now != size:
                size = now
                self._read_new(final=False)
                if self.torn is not None and self.torn.why != "incomplete":
                    return  # damaged, not just unfinished: nothing after it can be trusted

    @property
    def following(self) -> bool:
        """True while a thread keeps appending the frames another process writes."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop following the directory (frames read so far stay)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __repr__(self) -> str:
        state = ", following" if self.following else ""
        return f"<Run {len(self)} frames from {str(self.path)!r}{state}>"


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except Exception as err:  # noqa: BLE001 - numpy raises OSError, ValueError, EOFError, SyntaxError... on a bad file
        raise NotARunError(f"{str(path)!r} is missing or not a readable .npy array: {err}") from None


def _load_sample(path: Path, n: int) -> np.ndarray:
    """The activation sample's row indices: 1-D integers within the run's ``n`` data rows."""
    sample = _load_npy(path)
    if sample.ndim != 1 or sample.dtype.kind not in "iu" or (len(sample) and not 0 <= sample.min() <= sample.max() < n):
        raise NotARunError(
            f"{str(path)!r} must hold 1-D integer row indices within 0..{n - 1}, got {sample.dtype} {sample.shape}"
        )
    return sample.astype(np.int64)


def read_manifest(path: Path) -> dict:
    """The checked manifest of the run at ``path``; raises NotARunError or RunVersionError."""
    file = path / MANIFEST
    if not file.is_file():
        if not path.exists():
            raise FileNotFoundError(f"no run at path={str(path)!r}: it does not exist")
        raise NotARunError(f"path={str(path)!r} is not a nnviz run: it has no {MANIFEST}")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise NotARunError(f"{str(file)!r} is not a readable JSON manifest: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise NotARunError(f'{str(file)!r} is not a nnviz run manifest (no "format": "{FORMAT}")')
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise NotARunError(f"{str(file)!r} has no valid format version (got {version!r})")
    if version > VERSION:
        raise RunVersionError(
            f"the run at {str(path)!r} has format version {version}, written by a newer nnviz_widgets; this one "
            f"reads versions up to {VERSION}: upgrade with `pip install -U nnviz_widgets`"
        )
    missing = [k for k in ("grid", "classes") if k not in manifest]
    if missing:
        raise NotARunError(f"{str(file)!r} lacks {missing}")
    grid, layers = manifest["grid"], manifest.get("layers", {})
    if not (isinstance(grid, dict) and all(isinstance(grid.get(k), list) and len(grid[k]) >= 2 for k in ("xs", "ys"))):
        raise NotARunError(f'{str(file)!r}: "grid" must hold lists "xs" and "ys" of at least 2 numbers')
    if not isinstance(manifest["classes"], list) or not isinstance(layers, dict):
        raise NotARunError(f'{str(file)!r}: "classes" must be a list and "layers" an object')
    return manifest


def open_run(path: str | os.PathLike, *, follow: bool = False, timeout: float | None = 60.0, poll: float = 0.05):
    """Open a run written by ``Recorder(..., path=...)``; every view accepts the result.

    With ``follow=True`` a daemon thread keeps appending the frames another process writes (checking the
    file's size every ``poll`` seconds), so views of the run update live; ``run.close()`` stops it. If the
    run does not exist yet, ``open_run(..., follow=True)`` waits up to ``timeout`` seconds (``None``: forever)
    for the writer to create it. A torn last record (a killed writer) gives a :class:`TornRecordWarning`
    and every complete frame.

    >>> run = nnv.open_run("runs/moons", follow=True)   # doctest: +SKIP
    >>> nnv.DecisionBoundary(run)                         # doctest: +SKIP
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a directory path (str or pathlib.Path), got {type(path).__name__}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if isinstance(poll, bool) or not isinstance(poll, (int, float)) or not poll > 0:
        raise ValueError(f"poll must be a positive number of seconds, got {poll!r}")
    path = Path(path)
    if follow:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (path / MANIFEST).is_file():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no run appeared at path={str(path)!r} within timeout={timeout} s")
            time.sleep(poll)
    run = DiskRun(path, read_manifest(path), poll=poll)
    run._read_new(final=not follow)
    if follow and not (run.torn is not None and run.torn.why != "incomplete"):
        run._thread = threading.Thread(target=run._follow, name=f"nnviz-follow-{path.name}", daemon=True)
        run._thread.start()
    return run


def disk_size(path: str | os.PathLike) -> int:
    """Bytes of the run's files at ``path``."""
    return sum(p.stat().st_size for p in Path(path).iterdir() if p.is_file())
