"""Runs that live in a store as they grow: a local directory, or any fsspec file system, followed live.

The layout is written down in ``docs/run-format.md``. In short::

    manifest.json   format name and version, grid xs/ys, classes, axis labels, recorded layers, layout
    points.npy      (N, 2) float32, the data as drawn        labels.npy  (N,) int64 true class index
    sample.npy      (S,) int64 rows whose activations frames carry (only when activations are recorded)
    status.json     live/ended, frames, last epoch and metrics, last update (rewritten as the run grows)
    local directory:  frames.bin  (records appended one per frame)  +  frames.idx  (one JSON line per record)
    fsspec URL:       segments/00000000.nnvf (records, written whole every N frames or T seconds) + .idx (JSON)

A run with a store keeps only an *index* in memory (where each frame lies, its epoch, metrics and divergence:
about 30 bytes plus 8 per metric per frame) and a small cache of recent frames; a frame's arrays are read
when a view asks for them (memory-mapped on a local disk, a ranged GET on an object store). Writers only
append (locally) or add whole new objects (remotely), so a killed writer loses at most the frame it was
writing (locally) or the frames not yet flushed (remotely): every record and segment written before stays
readable. Nothing here unpickles or evaluates a file.
"""

from __future__ import annotations

import atexit
import gc
import io
import json
import math
import mmap
import os
import sys
import threading
import time
import warnings
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np

from .._check import flag, real
from .backends import LOCK, FsspecStore, LocalStore, RemoteStoreError, is_url, store_for
from .records import (
    MAGIC,
    FrameSpec,
    NotARunError,
    RunVersionError,
    RunWriteWarning,
    Torn,
    TornRecordWarning,
    decode_records,
    encode_record,
    iter_records,
)
from .run import Frame, Grid, Run

__all__ = [
    "FRAMES", "MAGIC", "MANIFEST", "NotARunError", "RunInfo", "RunTable", "RunVersionError", "RunWriteWarning",
    "RunWriter", "Torn", "TornRecordWarning", "decode_records", "disk_size", "encode_record", "open_run",
    "read_manifest", "runs",
]  # fmt: skip

FORMAT = "nnviz-run"
VERSION = 2  # 2: frames.idx, status.json, the segments layout; version-1 runs still open
MANIFEST, POINTS, LABELS, FRAMES, INDEX = "manifest.json", "points.npy", "labels.npy", "frames.bin", "frames.idx"
SAMPLE = "sample.npy"  # optional: the rows of the data whose activations frames carry (run.sample)
STATUS = "status.json"
SEGMENTS = "segments"
OWN_FILES = (MANIFEST, STATUS, POINTS, LABELS, SAMPLE, FRAMES, INDEX, SEGMENTS)  # what overwrite=True replaces

FLUSH_FRAMES = 64  # a remote writer flushes a segment every 64 frames ...
FLUSH_SECONDS = 0.5  # ... or 0.5 s after its oldest unflushed frame, whichever comes first
MAX_POLL = 1.0  # a remote follower's poll interval backs off to at most this: capture -> view <= ~1.5 s + a GET
POLL_TIMEOUT = 10.0  # a follower's request that has not answered by then is dropped and asked again
HEARTBEAT = 30.0  # a live writer rewrites status.json at least this often; 4 missed beats read as "stopped"
STATUS_EVERY = 1.0  # a local writer rewrites status.json at most once a second while frames arrive
VERIFY_BYTES = 64 << 20  # local runs up to this size and ...
VERIFY_FRAMES = 1000  # ... this many frames are checked record by record at open (~1 ms a frame); others trust
#                       frames.idx and check each record's CRC when it is read (open in ~1 s whatever the size)
CACHE_BYTES = 32 << 20  # recently read or written frames kept decoded in memory, per run, ...
CACHE_FRAMES = 1024  # ... and at most this many: a frame of a few bytes still costs ~2 KB of Python objects
BACKLOG_BYTES = 256 << 20  # a remote writer whose uploads fall this far behind makes capture() wait


# -- the index: what memory holds for a stored run ----------------------------------------------------------
_ENTRY = np.dtype([("segment", "<i4"), ("offset", "<i8"), ("length", "<i8"), ("epoch", "<i8"), ("diverged", "?")])


class IndexedFrames:
    """A Run's frames as an index in memory plus a reader: ``get(i)`` reads frame ``i`` when it is asked for.

    ``read(segment, offset, length)`` returns a record's bytes. ``sink(frame)`` (a writer) stores a new frame
    and returns where it lies, or None to keep it in memory (a closed writer); a reader instead announces each
    frame's place with :meth:`expect` before appending it.
    """

    def __init__(self, read, where: str, sink=None, spec: FrameSpec | None = None):
        self._read, self._sink, self.where, self.spec = read, sink, where, spec
        self._entries = np.zeros(64, _ENTRY)
        self._metrics: dict[str, np.ndarray] = {}
        self._n = 0
        self._held: dict[int, Frame] = {}  # frames that live only in memory (written after the writer closed)
        self._cache: OrderedDict[int, Frame] = OrderedDict()
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()  # views read frames from their own threads
        self._expected: list[tuple[int, int, int]] = []

    def __len__(self) -> int:
        return self._n

    def expect(self, location: tuple[int, int, int]) -> None:
        self._expected.append(location)

    def add(self, frame: Frame) -> None:
        if self._expected:
            location = self._expected.pop(0)
        else:
            location = self._sink(frame) if self._sink is not None else None
        if location is None:
            self._held[frame.index] = frame
            location = (-1, -1, -1)
        self._add_entry(location, frame.epoch, frame.metrics, frame.diverged)
        self._remember(frame)

    def place(self, index: int, location: tuple[int, int, int]) -> None:
        """Frame ``index``, held in memory until now (a full disk), has been written at ``location``."""
        if index >= self._n:  # not indexed yet (frames moving into the store): add() gets its place
            return
        entry = self._entries[index : index + 1]  # set before it leaves _held, so get() always finds it
        entry["segment"], entry["offset"], entry["length"] = location
        self._held.pop(index, None)

    def _add_entry(self, location, epoch: int, metrics: dict, diverged: bool) -> None:
        if self._n == len(self._entries):  # grow by doubling: amortised O(1), memory at most 2x the index
            self._entries = np.resize(self._entries, 2 * self._n)
            for name, col in self._metrics.items():
                self._metrics[name] = np.concatenate([col, np.full(len(col), np.nan)])
        self._entries[self._n] = (*location, epoch, diverged)
        for name, value in metrics.items():
            col = self._metrics.get(name)
            if col is None:
                col = self._metrics[name] = np.full(len(self._entries), np.nan)
            col[self._n] = value
        self._n += 1

    def extend(self, cols: dict) -> None:
        """Add many index entries at once (``_entries_from_json`` columns): how a run opens without its frames."""
        m = len(cols["offset"])
        if not m:
            return
        need = self._n + m
        if need > len(self._entries):
            size = max(need, 2 * len(self._entries))
            self._entries = np.resize(self._entries, size)
            for name, col in self._metrics.items():
                self._metrics[name] = np.concatenate([col, np.full(size - len(col), np.nan)])
        rows = slice(self._n, need)
        block = self._entries[rows]
        block["segment"], block["offset"], block["length"] = cols["segment"], cols["offset"], cols["length"]
        block["epoch"], block["diverged"] = cols["epoch"], cols["diverged"]
        self._entries[rows] = block
        for name, values in cols["metrics"].items():
            col = self._metrics.get(name)
            if col is None:
                col = self._metrics[name] = np.full(len(self._entries), np.nan)
            if isinstance(values, tuple):  # (rows, values) arrays, from _entries_at_once
                col[self._n + values[0]] = values[1]
            else:
                col[self._n + np.fromiter(values.keys(), np.int64, len(values))] = np.fromiter(
                    values.values(), np.float64, len(values)
                )
        self._n = need

    def _remember(self, frame: Frame) -> None:
        with self._cache_lock:
            if frame.index in self._cache:
                return
            self._cache[frame.index] = frame
            self._cache_bytes += frame.nbytes
            while (self._cache_bytes > CACHE_BYTES or len(self._cache) > CACHE_FRAMES) and len(self._cache) > 1:
                _, old = self._cache.popitem(last=False)
                self._cache_bytes -= old.nbytes

    def get(self, i: int) -> Frame:
        with self._cache_lock:
            frame = self._cache.get(i)
            if frame is not None:
                self._cache.move_to_end(i)
                return frame
        if i in self._held:
            return self._held[i]
        segment, offset, length, epoch, diverged = self._entries[i].tolist()
        data = self._read(segment, offset, length)
        problems: list = []
        records = list(iter_records(data, 0, problems, self.spec))
        if len(records) != 1 or records[0][1] != len(data):
            why = problems[0][1] if problems else "more than one record"
            raise NotARunError(f"frame {i} of the run at {self.where!r} is damaged on disk ({why})")
        fields = records[0][2]
        frame = Frame(i, fields["epoch"], fields["metrics"], fields["diverged"], fields["arrays"])
        self._remember(frame)
        return frame

    def epochs(self) -> np.ndarray:
        return self._entries["epoch"][: self._n].copy()

    def metric_names(self) -> list[str]:
        return list(self._metrics)

    def metric(self, name: str) -> np.ndarray:
        col = self._metrics.get(name)
        return np.full(self._n, np.nan) if col is None else col[: self._n].copy()

    @property
    def nbytes(self) -> int:
        index = self._entries.nbytes + sum(c.nbytes for c in self._metrics.values())
        return index + self._cache_bytes + sum(f.nbytes for f in self._held.values())


def _entry_json(location, frame) -> dict:
    segment, offset, length = location
    return {
        "o": offset,
        "n": length,
        "e": frame.epoch,
        "d": frame.diverged,
        "m": {k: _metric_to_json(v) for k, v in frame.metrics.items()},
    }


def _metric_to_json(value: float):
    return value if math.isfinite(value) else str(value)


def _entries_from_json(items, segment: int, size: int | None) -> dict:
    """Checked index entries as columns (``offset``, ``length``, ``epoch``, ``diverged``, ``metrics``: name ->
    {row: value} or a (rows, values) pair of arrays): contiguous from 0, inside ``size`` bytes. Stops at the first
    entry that does not check (an index is only a shortcut; the records are the truth)."""
    fast = _entries_at_once(items, segment, size)
    if fast is not None:
        return fast
    cols: dict = {"segment": segment, "offset": [], "length": [], "epoch": [], "diverged": [], "metrics": {}}
    at, gc_was = 0, gc.isenabled()
    gc.disable()  # a million small dicts would trigger full collections over the whole (torch-sized) heap
    try:
        for row, item in enumerate(items):
            try:
                o, n, e, d, m = int(item["o"]), int(item["n"]), int(item["e"]), item["d"], item["m"]
                if o != at or n <= 0 or (size is not None and o + n > size) or not isinstance(d, bool):
                    break
                values = {str(k): float(v) for k, v in m.items()}
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
                break
            for name, value in values.items():
                cols["metrics"].setdefault(name, {})[row] = value
            cols["offset"].append(o)
            cols["length"].append(n)
            cols["epoch"].append(e)
            cols["diverged"].append(d)
            at = o + n
    finally:
        if gc_was:
            gc.enable()
    return cols


def _entries_at_once(items: list, segment: int, size: int | None) -> dict | None:
    """``_entries_from_json`` for an index whose every entry checks, a column at a time (a 10 GB run's index
    opens in about a second); None when any entry does not, and the entry-by-entry reading finds where it stops."""
    m = len(items)
    if not m:
        return None
    try:
        if not all(type(item) is dict for item in items):
            return None
        diverged = list(map(itemgetter("d"), items))
        if not all(type(d) is bool for d in diverged):
            return None
        offset = np.array(list(map(itemgetter("o"), items)))
        length = np.array(list(map(itemgetter("n"), items)))
        epoch = np.array(list(map(itemgetter("e"), items)))
        found = list(map(itemgetter("m"), items))
        if not all(type(values) is dict for values in found):
            return None
        if any(column.dtype.kind != "i" for column in (offset, length, epoch)):  # a float, a string, a bool
            return None
        offset, length, epoch = offset.astype(np.int64), length.astype(np.int64), epoch.astype(np.int64)
        if offset[0] != 0 or (length <= 0).any() or (offset[1:] != offset[:-1] + length[:-1]).any():
            return None
        if size is not None and offset[-1] + length[-1] > size:
            return None
        first = found[0].keys()
        same = all(values.keys() == first for values in found)  # the usual case: one set of metrics throughout
        metrics = {}
        for name in list(first) if same else sorted(set().union(*found)):
            if same:
                rows = np.arange(m)
                column = list(map(itemgetter(name), found))
            else:
                rows = np.array([row for row, values in enumerate(found) if name in values])
                column = [found[row][name] for row in rows]
            if None in column:  # NumPy would read null as NaN; the entry-by-entry reading stops there
                return None
            # numbers, and the strings "nan", "inf", "-inf" that _metric_to_json writes
            metrics[str(name)] = (rows, np.fromiter(column, np.float64, len(column)))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return {"segment": segment, "offset": offset, "length": length, "epoch": epoch, "diverged": diverged,
            "metrics": metrics}  # fmt: skip


class _MappedFile:
    """Byte ranges of a growing local file through a read-only memory map (remapped when the file grows)."""

    def __init__(self, path: Path):
        self.path = path
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()

    def read(self, segment: int, offset: int, length: int) -> bytes:
        with self._lock:
            if self._map is None or offset + length > len(self._map):
                self._remap()
            if self._map is None or offset + length > len(self._map):
                raise NotARunError(f"{str(self.path)!r} is shorter than its index says (byte {offset + length})")
            return self._map[offset : offset + length]

    def view(self) -> memoryview | bytes:
        with self._lock:
            self._remap()
            return memoryview(self._map) if self._map is not None else b""

    def _remap(self) -> None:
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # a memoryview of the old map is still alive: let it be collected with it
                pass
        self._map = None
        with open(self.path, "rb") as f:
            if os.fstat(f.fileno()).st_size:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def close(self) -> None:
        with self._lock:
            if self._map is not None:
                try:
                    self._map.close()
                except BufferError:
                    pass
                self._map = None


def _segment_name(k: int, ext: str = "nnvf") -> str:
    return f"{SEGMENTS}/{k:08d}.{ext}"


# -- writing ----------------------------------------------------------------------------------------------
_OPEN_WRITERS: weakref.WeakSet = weakref.WeakSet()
_BEAT_THREAD: threading.Thread | None = None
_BEAT_LOCK = threading.Lock()


def _beat_forever() -> None:
    while True:
        time.sleep(HEARTBEAT)
        for writer in list(_OPEN_WRITERS):
            writer._heartbeat()


@atexit.register
def _close_writers() -> None:
    for writer in list(_OPEN_WRITERS):  # a process that ends normally marks its runs "ended" and flushes them
        try:
            writer.close()
        except Exception:  # noqa: BLE001, S110 - a failing remote at exit must not hide the real exit status
            pass


class RunWriter:
    """Writes every frame of ``run`` to ``path``: a local directory, or an fsspec URL (``s3://bucket/runs/x``).

    Locally each frame is appended to ``frames.bin`` and flushed at once. On an fsspec file system (object
    stores cannot append) frames are gathered into numbered segment objects, uploaded by a background thread
    every ``flush_frames`` frames or ``flush_seconds`` after the oldest unflushed one; training never waits for
    the network unless uploads fall ``BACKLOG_BYTES`` behind.

    ``index_only=True`` (what ``Recorder(path=...)`` uses) moves the run's frames into the store: memory then
    holds the index and a small cache only, and views read frames back on demand. Refuses a path that already
    holds a run (or other files) unless ``overwrite=True``, which replaces only the run's own files, never a
    run written in a newer format. :meth:`close` (also called at interpreter exit) flushes everything and marks
    the run ended.

    >>> writer = RunWriter(rec.run, "runs/moons")   # doctest: +SKIP
    """

    def __init__(
        self,
        run: Run,
        path,
        *,
        overwrite: bool = False,
        storage_options: dict | None = None,
        index_only: bool = False,
        flush_frames: int = FLUSH_FRAMES,
        flush_seconds: float = FLUSH_SECONDS,
    ):
        if isinstance(flush_frames, bool) or not isinstance(flush_frames, int) or flush_frames < 1:
            raise ValueError(f"flush_frames must be a positive int, got {flush_frames!r}")
        if isinstance(flush_seconds, bool) or not isinstance(flush_seconds, (int, float)) or not flush_seconds > 0:
            raise ValueError(f"flush_seconds must be a positive number of seconds, got {flush_seconds!r}")
        self.run = run
        self.store = store_for(path, storage_options)
        self.url = self.store.url
        self.path = self.store.path if isinstance(self.store, LocalStore) else self.url
        self.segmented = not isinstance(self.store, LocalStore)
        self._flush_frames, self._flush_seconds = flush_frames, float(flush_seconds)
        self._lock = threading.Condition(threading.RLock())
        self._closed = False
        self._written = 0
        self._last: Frame | None = None
        self._status_at = 0.0
        self._bytes = 0
        self._writer_lock = _prepare(self.store, overwrite)
        for name, array in (("points", run.points), ("labels", run.labels)):
            dtype = "<f4" if name == "points" else "<i8"
            self.store.write(f"{name}.npy", _npy(np.ascontiguousarray(array, dtype=dtype)))
        sample = np.asarray(getattr(run, "sample", ()), dtype="<i8")
        if len(sample):
            self.store.write(SAMPLE, _npy(np.ascontiguousarray(sample)))
        if self.segmented:
            self._segment, self._buffer, self._entries, self._since, self._buffer_bytes = 0, [], [], None, 0
            self._sealed: list[tuple[int, bytes, list]] = []  # written to memory, not yet uploaded
            self._uploaded_bytes: dict[int, bytes] = {}
            self._failed_once = False
            self._uploader = threading.Thread(target=self._upload_loop, name="nnviz-segments", daemon=True)
        else:  # unbuffered: each record is written at its own offset, so a failed write can be undone exactly
            self._file = open(self.store.file(FRAMES), "wb", buffering=0)  # noqa: SIM115 - open for the run's life
            self._index = open(self.store.file(INDEX), "wb", buffering=0)  # noqa: SIM115
            # a writer dropped without close() (its recorder collected) closes its files when it is collected;
            # its run then reads as "stopped" once the heartbeat goes stale, as after a crash
            self._close_files = weakref.finalize(self, _close_all, self._file, self._index)
            self._offset = self._index_offset = 0
            self._mapped = _MappedFile(self.store.file(FRAMES))
        # frames a failed write (a full disk) left unwritten, in order: each later frame queues behind them, and
        # every capture (and the heartbeat, and close) tries again, so writing resumes once there is room
        self._pending: list[Frame] = []
        self._failure: OSError | None = None
        self._indexed: IndexedFrames | None = None  # index_only: the run's index, told where held frames land
        self._locations: dict | None = {}  # where each frame lies, while existing frames move into the store
        with run._lock:
            existing = list(run)
            for frame in existing:
                self._put(frame)
            if index_only:
                frames = IndexedFrames(self._read, self.url, sink=self._put)
                for frame in existing:
                    frames.expect(self._locations.get(frame.index))  # None: not written yet (held)
                    frames.add(frame)
                run._frames = self._indexed = frames
                self._unsubscribe = lambda: None
            else:
                self._unsubscribe = run.subscribe(self._put)
        self._locations = None
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "grid": {"xs": [float(v) for v in run.grid.xs], "ys": [float(v) for v in run.grid.ys]},
            "classes": list(run.classes),
            "axis_labels": list(run.axis_labels),
            "points": POINTS,
            "labels": LABELS,
            "layers": getattr(run, "layers", {}),  # recorded weight layers, for the weight views
        }
        manifest.update({"segments": SEGMENTS} if self.segmented else {"frames": FRAMES, "index": INDEX})
        if len(sample):
            manifest["sample"] = SAMPLE  # activation rows, for EmbeddingScatter(run, layer=...)
        self.store.write(MANIFEST, (json.dumps(manifest) + "\n").encode())
        self._write_status("live")
        if self.segmented:
            self._uploader.start()
        _OPEN_WRITERS.add(self)
        global _BEAT_THREAD
        with _BEAT_LOCK:
            if _BEAT_THREAD is None:
                _BEAT_THREAD = threading.Thread(target=_beat_forever, name="nnviz-heartbeat", daemon=True)
                _BEAT_THREAD.start()

    def _put(self, frame: Frame):
        """Store one frame; returns ``(segment, offset, length)``, or None once closed (it stays in memory)."""
        with self._lock:
            if self._closed or frame.index < self._written:
                return None
            record = encode_record(frame)
            if self.segmented:
                location = (self._segment, self._buffer_bytes, len(record))
                self._buffer.append(record)
                self._buffer_bytes += len(record)
                self._entries.append(_entry_json(location, frame))
                if self._since is None:
                    self._since = time.monotonic()
                    self._lock.notify_all()  # the uploader now has a deadline to wait for
                if len(self._buffer) >= self._flush_frames:
                    self._seal()
                while sum(len(s[1]) for s in self._sealed) > BACKLOG_BYTES and not self._closed:
                    self._lock.wait(0.1)  # uploads are this far behind: let them catch up before more frames
            else:
                self._pending.append(frame)
                written = self._write_pending(current=frame.index)
                if time.monotonic() - self._status_at > STATUS_EVERY and not self._pending:
                    self._write_status("live")
                return written.get(frame.index)
            self._wrote(frame, record, location)
            return location

    def _wrote(self, frame: Frame, record: bytes, location) -> None:
        self._written = frame.index + 1
        self._bytes += len(record)
        self._last = frame
        if self._locations is not None:
            self._locations[frame.index] = location

    # -- local directory --
    def _write_pending(self, current: int | None = None) -> dict:
        """Write the queued frames in order (under the lock) until one fails; returns {index: location} of those
        written (``current``: the frame being added now, which the run's index does not hold yet). A failure
        warns once (the frames stay in memory, in the run); the first success after it says so too."""
        written: dict = {}
        while self._pending and not self._closed:
            frame = self._pending[0]
            record = encode_record(frame)
            location = (0, self._offset, len(record))
            line = json.dumps(_entry_json(location, frame), separators=(",", ":")).encode() + b"\n"
            try:
                _write_at(self._file, record, self._offset)
                _write_at(self._index, line, self._index_offset)
            except OSError as err:
                self._undo_partial_write()
                if self._failure is None:
                    _warn_user(
                        f"writing frame {frame.index} to {self.url!r} failed ({err.strerror or err}): it is NOT "
                        "saved yet. Frames are kept in memory and written, in order, as soon as the disk has room "
                        "again (every capture tries again, and rec.writer.close()); rec.writer.unsaved counts them",
                    )
                self._failure = err
                return written
            self._pending.pop(0)
            self._offset += len(record)
            self._index_offset += len(line)
            self._wrote(frame, record, location)
            written[frame.index] = location
            if self._indexed is not None and frame.index != current:
                self._indexed.place(frame.index, location)
        if self._failure is not None and not self._pending:
            _warn_user(
                f"writing to {self.url!r} resumed: the {len(written)} frames held in memory are now on disk, in order"
            )
            self._failure = None
        return written

    def _undo_partial_write(self) -> None:
        """Cut a half-written record or index line off, so the files stay whole records (truncating frees room,
        so it works on a full disk; the next write goes to the same offset whatever happens here)."""
        for f, size in ((self._file, self._offset), (self._index, self._index_offset)):
            try:
                f.truncate(size)
            except OSError:
                pass

    @property
    def unsaved(self) -> int:
        """Frames captured but not written yet (a full disk or another write error): they are written, in order,
        as soon as a write succeeds again; 0 when everything is on disk (or, remotely, handed to the uploader)."""
        with self._lock:
            return len(self._pending) if not self.segmented else 0

    def retry(self) -> int:
        """Try now to write the frames a failed write left in memory; returns how many are still unsaved."""
        with self._lock:
            if not self.segmented and self._pending:
                self._write_pending()
        return self.unsaved

    def _read(self, segment: int, offset: int, length: int) -> bytes:
        if not self.segmented:
            return self._mapped.read(segment, offset, length)
        with self._lock:
            if segment == self._segment:
                return b"".join(self._buffer)[offset : offset + length]
            for k, data, _ in self._sealed:
                if k == segment:
                    return data[offset : offset + length]
        return self.store.read_range(_segment_name(segment), offset, offset + length)

    # -- segments (fsspec) --
    def _seal(self) -> None:
        """Close the open segment (under the lock) and hand it to the uploader."""
        if self._buffer:
            self._sealed.append((self._segment, b"".join(self._buffer), self._entries))
            self._segment, self._buffer, self._entries, self._since = self._segment + 1, [], [], None
            self._buffer_bytes = 0
            self._lock.notify_all()

    def _upload_loop(self) -> None:
        while True:
            with self._lock:
                while not self._sealed and not self._closed:
                    due = None if self._since is None else self._since + self._flush_seconds - time.monotonic()
                    if due is not None and due <= 0:
                        self._seal()
                        break
                    self._lock.wait(due)
                if not self._sealed and self._closed:
                    return
                segment, data, entries = self._sealed[0]
            if not self._upload(segment, data, entries):
                time.sleep(1.0)  # the store failed; retry (frames stay in memory meanwhile)
                if self._closed:
                    return
                continue
            with self._lock:
                self._sealed.pop(0)
                self._lock.notify_all()
            self._write_status("live")

    def _upload(self, segment: int, data: bytes, entries: list) -> bool:
        try:
            self.store.write(_segment_name(segment), data)  # the records first: an index never names a missing one
            self.store.write(_segment_name(segment, "idx"), json.dumps(entries, separators=(",", ":")).encode())
            return True
        except Exception as err:  # noqa: BLE001 - a network error must not kill training; it is retried
            if not self._failed_once:
                self._failed_once = True
                warnings.warn(f"writing segment {segment} to {self.url!r} failed, retrying: {err}", stacklevel=1)
            return False

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Upload every frame written so far (remote); True once all are in the store."""
        if not self.segmented:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._seal()
            while self._sealed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(left)
        return True

    # -- status --
    def _write_status(self, state: str) -> None:
        with self._lock:
            last = self._last
            status = {
                "state": state,
                "frames": self._written if not self.segmented else self._written - self._unflushed_frames(),
                "epoch": None if last is None else last.epoch,
                "metrics": {} if last is None else {k: _metric_to_json(v) for k, v in last.metrics.items()},
                "bytes": self._bytes,
                "updated": time.time(),
            }
            if self.segmented:
                status["segments"] = self._segment - len(self._sealed)
            self._status_at = time.monotonic()
        try:
            self.store.write(STATUS, json.dumps(status).encode())
        except Exception as err:  # noqa: BLE001 - the status is informative; the frames are what matter
            if getattr(self, "_failure", None) is None:  # a failing disk has already been reported
                warnings.warn(f"could not update {STATUS} of {self.url!r}: {err}", stacklevel=2)

    def _unflushed_frames(self) -> int:
        return len(self._buffer) + sum(len(s[2]) for s in self._sealed)

    def _heartbeat(self) -> None:
        if not self._closed:
            if self.retry() == 0:
                self._write_status("live")

    def close(self) -> None:
        """Flush every frame, mark the run ended and stop writing (new frames then stay in memory only)."""
        with self._lock:
            if self._closed:
                return
            if self.segmented:
                self._seal()
        if self.retry():
            _warn_user(
                f"{self.unsaved} frames could not be written to {self.url!r} ({self._failure}); they stay in this "
                "process's memory only (rec.run still has them: rec.run.to_html(...) keeps a copy)"
            )
        if not self.flush(timeout=60.0):
            warnings.warn(
                f"{self._unflushed_frames()} frames could not be written to {self.url!r} within 60 s; they stay in "
                "this process's memory only (rec.run still has them: rec.run.to_html(...) keeps a copy)",
                stacklevel=2,
            )
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            if not self.segmented:
                self._close_files()
        self._unsubscribe()
        if self.segmented:
            self._uploader.join(timeout=5)
        self._write_status("ended")
        if self._writer_lock is not None:
            self._writer_lock.release()
        _OPEN_WRITERS.discard(self)

    def __repr__(self) -> str:
        unsaved = self.unsaved
        failing = f", {unsaved} NOT SAVED yet ({self._failure})" if unsaved else ""
        return f"<RunWriter {self.url!r}, {self._written} frames written{failing}>"


def _close_all(*files) -> None:
    for f in files:
        f.close()


def _warn_user(message: str) -> None:
    """A RunWriteWarning pointing at the user's line (a capture, a close), however deep in the package it arose."""
    frame, level, package = sys._getframe(0), 1, str(Path(__file__).parents[1])
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, RunWriteWarning, stacklevel=level)


def _write_at(f, data: bytes, offset: int) -> None:
    """Write all of ``data`` at byte ``offset`` of the unbuffered file ``f`` (OSError, e.g. ENOSPC, if it cannot)."""
    f.seek(offset)
    view = memoryview(data)
    while view:
        view = view[f.write(view) :]


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _prepare(store, overwrite: bool):
    """Refuse a path holding a run (or anything else) unless ``overwrite``; then make sure it is writable.
    Locally, returns the writer lock it takes first, so two processes starting on one new path cannot both
    pass these checks: one wins, the other gets a FileExistsError (None for other stores)."""
    if isinstance(store, LocalStore) and store.path.exists() and not store.path.is_dir():
        raise FileExistsError(f"path={store.url!r} is a file; a run is written to a directory")
    if isinstance(store, LocalStore):
        here = store.path.resolve()
        for writer in list(_OPEN_WRITERS):  # a writer of this process on the same path: a re-run cell
            if isinstance(writer.store, LocalStore) and not writer._closed and writer.store.path.resolve() == here:
                if not overwrite:
                    raise FileExistsError(
                        f"path={store.url!r}: a Recorder of this process is still writing a run there; pass "
                        "overwrite=True (it is closed first) or close it with rec.writer.close()"
                    )
                writer.close()
    lock = store.lock() if isinstance(store, LocalStore) else None
    try:
        _check_target(store, overwrite)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return lock


def _check_target(store, overwrite: bool) -> None:
    names = [n for n in store.list() if n != LOCK]
    if names:
        has_run = MANIFEST in names
        if has_run:
            try:
                read_manifest(store)
            except RunVersionError as err:
                raise FileExistsError(
                    f"path={store.url!r} holds a run written by a newer nnviz_widgets ({err}); not replacing it"
                ) from None
            except NotARunError:
                pass
        if not overwrite:
            what = "a run" if has_run else "other files"
            raise FileExistsError(
                f"path={store.url!r} already holds {what}; choose a new path, or pass overwrite=True to replace "
                f"the run there (only {', '.join(OWN_FILES)} are replaced)"
            )
        for name in OWN_FILES:  # the manifest first, so a follower never pairs the old manifest with new frames
            if name in names:
                store.delete(name)
    try:
        store.write(FRAMES + ".probe", b"")
        store.delete(FRAMES + ".probe")
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"cannot write a run to path={store.url!r}: the bucket or folder does not exist ({err})"
        ) from err
    except RemoteStoreError:
        raise
    except OSError as err:
        raise OSError(f"cannot write a run to path={store.url!r}: {err.strerror or err}") from err


# -- reading ----------------------------------------------------------------------------------------------
class StoredRun(Run):
    """A :class:`Run` read from a store; with ``follow=True`` it keeps appending frames as they are written.

    Memory holds the index; frames are read when asked for. ``torn`` says where the readable frames end when
    the frames end in a torn record or segment (else ``None``); ``ended`` turns True once the writer closed
    the run; :meth:`close` stops following.
    """

    def __init__(self, store, manifest: dict, *, poll: float):
        grid = manifest["grid"]
        points = _load_npy(store, manifest.get("points", POINTS))
        labels = _load_npy(store, manifest.get("labels", LABELS))
        _check_data(store, manifest, points, labels)
        super().__init__(
            grid=Grid(np.asarray(grid["xs"], dtype=np.float64), np.asarray(grid["ys"], dtype=np.float64)),
            points=points,
            labels=labels,
            classes=[str(c) for c in manifest["classes"]],
            axis_labels=manifest.get("axis_labels", ("x₁", "x₂")),
        )
        self.layers = dict(manifest.get("layers", {}))
        if manifest.get("sample"):
            self.sample = _load_sample(store, manifest["sample"], len(self.points))
        self._spec = FrameSpec.of(self)  # every record read is checked against what the run declares
        self.store = store
        self.url = store.url
        self.path = store.path if isinstance(store, LocalStore) else store.url
        self.segmented = "segments" in manifest and "frames" not in manifest
        self.torn: Torn | None = None
        self.ended = False
        self._offset = 0  # bytes of frames.bin indexed (of the segment being read, remotely)
        self._poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.segmented:
            self._segment = 0  # the next segment to read
            self._frames = IndexedFrames(self._read_segment_range, self.url, spec=self._spec)
        else:
            self._frames_name = manifest.get("frames", FRAMES)
            self._index_name = manifest.get("index")
            self._mapped = _MappedFile(store.inside(self._frames_name))
            self._frames = IndexedFrames(self._mapped.read, self.url, spec=self._spec)

    # -- local directory --
    def _open_local(self, *, final: bool) -> None:
        size = self.store.size(self._frames_name) or 0
        lines: list[bytes] = []
        if self._index_name and size:
            try:
                lines = self.store.read(self._index_name).split(b"\n")
            except OSError:
                lines = []
        if size > VERIFY_BYTES or len(lines) - 1 > VERIFY_FRAMES:
            cols = _entries_from_json(_json_lines(lines[:-1]), 0, size)  # the last piece: "" or a line cut short
            self._frames.extend(cols)
            if len(cols["offset"]):
                self._offset = cols["offset"][-1] + cols["length"][-1]
        self._read_local(final=final, initial=True)

    def _read_local(self, *, final: bool, initial: bool = False) -> None:
        """Index the complete records past ``_offset`` (only the new bytes); on a bad tail set ``torn``."""
        if initial:
            data, base = self._mapped.view(), 0
        else:
            try:
                with open(self.store.inside(self._frames_name), "rb") as f:
                    f.seek(self._offset)
                    data, base = f.read(), self._offset
            except FileNotFoundError:
                data, base = b"", self._offset
        problems: list = []
        for start, end, fields in iter_records(data, self._offset - base, problems, self._spec):
            self._frames.expect((0, base + start, end - start))
            self.append(**fields)
            self._offset = base + end
        self._set_torn(problems, len(data) + base, final)

    def _set_torn(self, problems: list, total: int, final: bool) -> None:
        problem = problems[0][1] if problems else None
        self.torn = None if problem is None else Torn(self._offset, total - self._offset, problem)
        if self.torn is not None and (final or problem != "incomplete"):
            warnings.warn(
                f"{self.url!r} ends in a torn record ({problem}): read {len(self)} complete frames, ignored the "
                f"last {self.torn.nbytes} bytes from byte {self._offset} of "
                f"{'segment ' + str(self._segment) if self.segmented else self._frames_name} (the writer likely "
                "stopped mid-write)",
                TornRecordWarning,
                stacklevel=4,
            )

    # -- segments --
    def _read_segment_range(self, segment: int, offset: int, length: int) -> bytes:
        return self.store.read_range(_segment_name(segment), offset, offset + length)

    def _open_segments(self) -> None:
        names = set(self.store.list(SEGMENTS))
        count = 0
        while f"{count:08d}.nnvf" in names:
            count += 1
        indexes = self.store.read_many([_segment_name(k, "idx") for k in range(count)])
        for k in range(count):
            raw = indexes.get(_segment_name(k, "idx"))
            items = None
            if raw is not None:
                try:
                    items = json.loads(raw)
                except ValueError:
                    items = None
            if isinstance(items, list):
                cols = _entries_from_json(items, k, None)
                if len(cols["offset"]) == len(items):
                    self._frames.extend(cols)
                    self._segment = k + 1
                    continue
            if not self._read_segment(k, final=True):  # no usable index: read the segment's records
                return

    def _read_segment(self, k: int, *, final: bool) -> bool:
        """Append segment ``k``'s frames; False when it is not there yet or is damaged (then ``torn`` is set)."""
        try:
            data = self.store.read(_segment_name(k), timeout=POLL_TIMEOUT)
        except (FileNotFoundError, TimeoutError):  # not there yet, or a request that hung: ask again next poll
            return False
        problems: list = []
        self._offset = 0
        for start, end, fields in iter_records(data, 0, problems, self._spec):
            self._frames.expect((k, start, end - start))
            self.append(**fields)
            self._offset = end
        if problems:
            self._set_torn(problems, len(data), final=True)
            return False
        self._segment = k + 1
        return True

    # -- following --
    def _follow_once(self, state: dict) -> bool:
        """One poll of a followed run: index what is new; False once following should end (see :func:`_follow`)."""
        try:
            if self.segmented:
                grew = self._read_segment(self._segment, final=False)
                if self.torn is not None:
                    return False
            else:
                now = self.store.size(self._frames_name)
                grew = now is not None and now != state["size"]
                if grew:
                    state["size"] = now
                    self._read_local(final=False)
                    if self.torn is not None and self.torn.why != "incomplete":
                        return False  # damaged, not just unfinished: nothing after it can be trusted
        except OSError as err:  # a network hiccup: keep trying, slower
            warnings.warn(f"following {self.url!r}: {err}", stacklevel=1)
            grew = False
        if grew:
            state["wait"] = self._poll
            return True
        state["wait"] = min(state["wait"] * 1.5, max(MAX_POLL, self._poll)) if self.segmented else self._poll
        if time.monotonic() - state["status_at"] > 5 * MAX_POLL:
            state["status_at"] = time.monotonic()
            if self._writer_ended():
                return False
        return True

    def _writer_ended(self) -> bool:
        status = _read_status(self.store)
        if status.get("state") == "ended" and int(status.get("frames", 0) or 0) <= len(self):
            if self.segmented and self._read_segment(self._segment, final=False):
                return False  # a last segment arrived with the status: read on
            self.ended = True
            return True
        return False

    @property
    def following(self) -> bool:
        """True while a thread keeps appending the frames another process writes."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop following the run (frames read so far stay readable)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __repr__(self) -> str:
        state = ", following" if self.following else (", ended" if self.ended else "")
        return f"<Run {len(self)} frames from {self.url!r}{state}>"


DiskRun = StoredRun  # the name this class had when runs lived only on a local disk


def _follow(ref: weakref.ref, stop: threading.Event, poll: float) -> None:
    """A followed run's thread. It holds the run only while it polls, so a run that nobody references any more
    is collected (its finalizer sets ``stop``) and the thread ends with it, as it does on ``run.close()``."""
    state = {"wait": poll, "size": -1, "status_at": time.monotonic()}
    while not stop.wait(state["wait"]):
        run = ref()
        if run is None or not run._follow_once(state):
            return
        del run


def _json_lines(lines: list[bytes]) -> list:
    """Parse JSON lines fast (one ``json.loads`` for all), falling back line by line up to the first bad one."""
    gc_was = gc.isenabled()
    gc.disable()  # see _entries_from_json
    try:
        return json.loads(b"[" + b",".join(lines) + b"]") if lines else []
    except ValueError:
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                break
        return out
    finally:
        if gc_was:
            gc.enable()


def _read_status(store) -> dict:
    try:
        status = json.loads(store.read(STATUS))
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def _load_npy(store, name: str) -> np.ndarray:
    _check_name(store, name)
    try:
        return np.load(io.BytesIO(store.read(name)), allow_pickle=False)
    except RemoteStoreError:
        raise
    except Exception as err:  # noqa: BLE001 - numpy raises OSError, ValueError, EOFError, SyntaxError... on a bad file
        raise NotARunError(f"{store.url + '/' + name!r} is missing or not a readable .npy array: {err}") from None


def _check_name(store, name, key: str | None = None) -> None:
    """A file a manifest names (as ``key``) must be a plain name inside the run (no folders, no way out of it)."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", "..") or ":" in name:
        field = f' as "{key}"' if key else ""
        raise NotARunError(f"the manifest of {store.url!r} names {name!r}{field}, which is not a file inside the run")


def _check_data(store, manifest: dict, points: np.ndarray, labels: np.ndarray) -> None:
    """The data as drawn: ``points`` (N, 2) finite, ``labels`` (N,) class indices of the manifest's classes."""
    k = len(manifest["classes"])
    points_name, labels_name = manifest.get("points", POINTS), manifest.get("labels", LABELS)
    if points.dtype.kind not in "fiu" or points.ndim != 2 or points.shape[1] != 2 or not np.isfinite(points).all():
        raise NotARunError(
            f"{store.url + '/' + points_name!r} must hold finite (N, 2) points, got {points.dtype} {points.shape}"
        )
    fits = labels.dtype.kind in "iu" and labels.shape == (len(points),)
    if not fits or (len(labels) and not 0 <= labels.min() <= labels.max() < k):
        raise NotARunError(
            f"{store.url + '/' + labels_name!r} must hold {len(points)} class indices within 0..{k - 1} (one per "
            f"point of {points_name}, {k} classes in the manifest), got {labels.dtype} {labels.shape}"
        )


def _load_sample(store, name: str, n: int) -> np.ndarray:
    """The activation sample's row indices: 1-D integers within the run's ``n`` data rows."""
    sample = _load_npy(store, name)
    if sample.ndim != 1 or sample.dtype.kind not in "iu" or (len(sample) and (sample.min() < 0 or sample.max() >= n)):
        raise NotARunError(
            f"{store.url + '/' + name!r} must hold 1-D integer row indices within 0..{n - 1}, got "
            f"{sample.dtype} {sample.shape}"
        )
    return sample.astype(np.int64)


def read_manifest(store) -> dict:
    """The checked manifest of the run in ``store`` (or at a path); raises NotARunError or RunVersionError."""
    if not hasattr(store, "read"):
        store = store_for(store)
    url = store.url
    try:
        raw = store.read(MANIFEST)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        if not store.exists():
            raise FileNotFoundError(f"no run at path={url!r}: it does not exist") from None
        raise NotARunError(f"path={url!r} is not a nnviz run: it has no {MANIFEST}") from None
    except RemoteStoreError:
        raise
    except OSError as err:
        raise NotARunError(f"{url + '/' + MANIFEST!r} is not a readable JSON manifest: {err}") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError as err:
        raise NotARunError(f"{url + '/' + MANIFEST!r} is not a readable JSON manifest: {err}") from None
    where = url + "/" + MANIFEST
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise NotARunError(f'{where!r} is not a nnviz run manifest (no "format": "{FORMAT}")')
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NotARunError(f"{where!r} has no valid format version (got {version!r})")
    if version > VERSION:
        raise RunVersionError(
            f"the run at {url!r} has format version {version}, written by a newer nnviz_widgets; this one "
            f"reads versions up to {VERSION}: upgrade with `pip install -U nnviz_widgets`"
        )
    missing = [k for k in ("grid", "classes") if k not in manifest]
    if missing:
        raise NotARunError(f"{where!r} lacks {missing}")
    grid, layers = manifest["grid"], manifest.get("layers", {})
    if not (isinstance(grid, dict) and all(_axis(grid.get(k)) for k in ("xs", "ys"))):
        raise NotARunError(f'{where!r}: "grid" must hold "xs" and "ys", each at least 2 increasing finite numbers')
    classes = manifest["classes"]
    if not (isinstance(classes, list) and 2 <= len(classes) <= 255 and all(_scalar(c) for c in classes)):
        raise NotARunError(f'{where!r}: "classes" must be a list of 2 to 255 class names')
    if not (isinstance(layers, dict) and all(_layer(v) for v in layers.values())):
        raise NotARunError(
            f'{where!r}: "layers" must map layer names to objects with a "shape" (a list of positive ints) and '
            '"outputs" (null or [rows, cols])'
        )
    labels = manifest.get("axis_labels", ["x₁", "x₂"])
    if not (isinstance(labels, list) and len(labels) == 2 and all(_scalar(c) for c in labels)):
        raise NotARunError(f'{where!r}: "axis_labels" must be a list of 2 names')
    for key in ("points", "labels", "sample"):
        if manifest.get(key) is not None:
            _check_name(store, manifest[key], key)
    for key in ("frames", "index"):
        if key in manifest:
            _check_name(store, manifest[key], key)
    if "segments" in manifest and manifest["segments"] != SEGMENTS:
        raise NotARunError(f'{where!r}: "segments" must be {SEGMENTS!r}, got {manifest["segments"]!r}')
    if "frames" not in manifest and "segments" not in manifest:
        if version >= 2:
            raise NotARunError(f'{where!r} names neither "frames" nor "segments"')
    return manifest


def _axis(values) -> bool:
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (
        isinstance(values, list)
        and a.ndim == 1
        and len(a) >= 2
        and bool(np.isfinite(a).all() and (np.diff(a) > 0).all())
    )


def _scalar(value) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _positive_ints(values, n: int | None = None) -> bool:
    ints = isinstance(values, list) and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
    return ints and len(values) >= 1 and (n is None or len(values) == n)


def _layer(info) -> bool:
    """A recorded layer as ``describe_layer`` writes it: the weights' shape, and its output maps' (rows, cols)."""
    return (
        isinstance(info, dict)
        and _positive_ints(info.get("shape"))
        and (info.get("outputs") is None or _positive_ints(info.get("outputs"), 2))
    )


def open_run(
    path,
    *,
    follow: bool = False,
    timeout: float | None = 60.0,
    poll: float | None = None,
    storage_options: dict | None = None,
):
    """Open a run written by ``Recorder(..., path=...)``, from a local directory or a URL; every view takes it.

    ``path`` is a directory or an fsspec URL (``s3://bucket/runs/x``, ``gs://``, ``az://``, ``memory://``;
    ``storage_options`` go to fsspec, e.g. credentials or ``{"client_kwargs": {"endpoint_url": ...}}``).
    Opening reads the index, not the frames: views read each frame when they show it, so a run of any size
    opens in about a second and costs memory in proportion to its number of frames, not their size.

    With ``follow=True`` a daemon thread keeps appending the frames another process writes (locally it checks
    the file's size every ``poll`` seconds, default 0.05; remotely it asks for the next segment, backing off
    from ``poll``, default 0.2, to 1 s while nothing new comes), so views update live; it stops once the
    writer has closed the run (``run.ended``) or on ``run.close()``. If the run does not exist yet it waits up
    to ``timeout`` seconds (``None``: forever) for the writer to create it. A torn last record (a killed
    writer) gives a :class:`TornRecordWarning` and every complete frame.

    >>> run = nnv.open_run("s3://bucket/runs/moons", follow=True)   # doctest: +SKIP
    >>> nnv.DecisionBoundary(run)                                    # doctest: +SKIP
    """
    if timeout is not None:
        timeout = real("timeout", timeout, lo=0, what="seconds to wait for the run to appear, or None: forever")
    if poll is not None:
        poll = real("poll", poll, lo=0, hi=3600, lo_open=True, what="seconds between checks for new frames")
    follow = flag("follow", follow)
    store = store_for(path, storage_options)
    poll = poll if poll is not None else (0.2 if store.remote else 0.05)
    if follow:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not _appeared(store):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no run appeared at path={store.url!r} within timeout={timeout} s")
            time.sleep(poll)
    run = StoredRun(store, read_manifest(store), poll=poll)
    if run.segmented:
        run._open_segments()
    else:
        run._open_local(final=not follow)
    if follow and not (run.torn is not None and run.torn.why != "incomplete"):
        run._thread = threading.Thread(
            target=_follow, args=(weakref.ref(run), run._stop, poll), name="nnviz-follow", daemon=True
        )
        weakref.finalize(run, run._stop.set)
        run._thread.start()
    return run


def _appeared(store) -> bool:
    """Whether the run's manifest is there yet (a request that hangs counts as not yet: asked again next poll)."""
    try:
        store.read(MANIFEST, timeout=POLL_TIMEOUT)
        return True
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, TimeoutError):
        return False


def disk_size(path, storage_options: dict | None = None) -> int:
    """Bytes of the run's files at ``path`` (a directory or a URL)."""
    return store_for(path, storage_options).du()


# -- many runs ----------------------------------------------------------------------------------------------
@dataclass
class RunInfo:
    """One run under a root, as :func:`runs` lists it; ``.run`` opens it (every view and export takes this)."""

    name: str
    url: str
    frames: int | None
    epoch: int | None
    metrics: dict
    state: str  # "live", "ended", "stopped" (the writer went away without closing), "torn" or "unreadable"
    size: int | None
    updated: float | None = None
    error: str | None = None
    storage_options: dict | None = field(default=None, repr=False)
    _run: Run | None = field(default=None, repr=False)

    def open(self, *, follow: bool | None = None, **options) -> Run:
        """``open_run`` on this run; follows it by default while it is live."""
        follow = self.state == "live" if follow is None else follow
        return open_run(self.url, follow=follow, storage_options=self.storage_options, **options)

    @property
    def run(self) -> Run:
        """The opened run (opened once, followed while live): ``nnv.Dashboard(nnv.runs("runs")["moons"])``."""
        if self._run is None:
            self._run = self.open()
        return self._run


class RunTable(list):
    """The runs under a root: a list of :class:`RunInfo`, indexable by name, shown as a table."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for info in self:
                if info.name == key:
                    return info
            raise KeyError(f"no run named {key!r}; the runs are {[i.name for i in self]}")
        return super().__getitem__(key)

    COLUMNS = ("name", "frames", "epoch", "metrics", "state", "size")

    def rows(self) -> list[list[str]]:
        return [[_cell(c, getattr(info, c)) for c in self.COLUMNS] for info in self]

    def __str__(self) -> str:
        rows = [list(self.COLUMNS), *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.COLUMNS))]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows)

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in self.rows())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(column: str, value) -> str:
    if value is None:
        return "-"
    if column == "metrics":
        return " ".join(f"{k} {float(v):.4g}" for k, v in value.items())
    if column == "size":
        for unit in ("B", "KB", "MB", "GB", "TB"):
            if value < 1000 or unit == "TB":
                return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            value /= 1000
    return str(value)


def runs(root, *, storage_options: dict | None = None) -> RunTable:
    """The runs under ``root`` (a local folder or a URL such as ``s3://bucket/runs``), one row each: name,
    frames, last epoch, last metrics, state (live / ended / stopped / torn) and size; ``root`` itself may be a run.

    >>> table = nnv.runs("runs")            # doctest: +SKIP
    >>> nnv.Dashboard(table["moons"])       # doctest: +SKIP
    """
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path or a URL such as 's3://bucket/runs', got {type(root).__name__}")
    store = store_for(root, storage_options)
    if not store.exists():
        raise FileNotFoundError(f"root={store.url!r} does not exist")
    if store.exists(MANIFEST):
        candidates = [("", store)]
    else:
        candidates = [(name, store.child(name)) for name in store.list() if not name.startswith(".")]
    table = RunTable()
    for name, child in candidates:
        if name and not child.exists(MANIFEST):
            continue
        table.append(_describe(name or Path(store.url.rstrip("/")).name, child, storage_options))
    return table


def _describe(name: str, store, storage_options) -> RunInfo:
    url = store.url
    try:
        read_manifest(store)
    except (ValueError, OSError) as err:
        return RunInfo(name, url, None, None, {}, "unreadable", None, error=str(err), storage_options=storage_options)
    status = _read_status(store)
    size = None
    try:
        size = store.du()
    except OSError:
        pass
    frames, epoch, metrics = status.get("frames"), status.get("epoch"), status.get("metrics") or {}
    torn = False
    if not status or not store.remote:  # a version-1 run has no status; a local one is cheap to check exactly
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TornRecordWarning)
                run = open_run(url, storage_options=storage_options)
            # a cut-short last record is torn unless a live writer may still be finishing it
            frames = len(run)
            torn = run.torn is not None and (run.torn.why != "incomplete" or status.get("state") != "live")
            if len(run):
                epoch = int(run.epochs[-1])
                metrics = {m: float(run.metric(m)[-1]) for m in run.metric_names if not math.isnan(run.metric(m)[-1])}
        except (ValueError, OSError) as err:
            return RunInfo(
                name, url, None, None, {}, "unreadable", size, error=str(err), storage_options=storage_options
            )
    updated = status.get("updated") if isinstance(status.get("updated"), (int, float)) else None
    if torn:
        state = "torn"
    elif status.get("state") == "ended":
        state = "ended"
    elif status.get("state") == "live" and updated is not None and time.time() - updated < 4 * HEARTBEAT:
        state = "live"
    else:
        state = "stopped" if status else "ended"  # version-1 runs say nothing of their writer
    metrics = {str(k): float(v) for k, v in dict(metrics).items() if isinstance(v, (int, float, str))}
    return RunInfo(name, url, frames, epoch, metrics, state, size, updated, storage_options=storage_options)


__all__ += ["FsspecStore", "LocalStore", "is_url"]
