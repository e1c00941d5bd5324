"""Runs on disk: round trip, crash safety, following a writer in another process, bad input."""

import json
import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import nnviz_widgets as nnv
from nnviz_widgets.run.store import FRAMES, MANIFEST, NotARunError, RunVersionError, TornRecordWarning


def _same_frames(a, b):
    assert len(a) == len(b)
    for fa, fb in zip(a, b, strict=True):
        assert (fa.index, fa.epoch, fa.diverged) == (fb.index, fb.epoch, fb.diverged)
        assert fa.metrics.keys() == fb.metrics.keys()
        for k in fa.metrics:
            assert fa.metrics[k] == fb.metrics[k] or (np.isnan(fa.metrics[k]) and np.isnan(fb.metrics[k]))
        assert fa.arrays.keys() == fb.arrays.keys()
        for name in fa.arrays:
            assert fa.arrays[name].header == fb.arrays[name].header
            assert fa.arrays[name].data == fb.arrays[name].data  # bit-identical, nothing re-quantised


def test_round_trip_is_bit_identical(mlp, moons, train, tmp_path):
    X, y = moons
    names = np.array(["left", "right"])[y]
    rec = nnv.Recorder(mlp, X, names, grid=(30, 20), path=tmp_path / "run")
    train(rec, epochs=4)
    rec.capture(epoch=99, loss=float("nan"), lr=1e-3)
    run = nnv.open_run(tmp_path / "run")
    _same_frames(rec.run, run)
    assert run.classes == ["left", "right"]
    assert run.axis_labels == rec.run.axis_labels
    assert run.layers == getattr(rec.run, "layers", {})  # what the weight views need
    np.testing.assert_array_equal(run.grid.xs, rec.run.grid.xs)
    np.testing.assert_array_equal(run.grid.ys, rec.run.grid.ys)
    np.testing.assert_array_equal(run.points, rec.run.points)
    np.testing.assert_array_equal(run.labels, rec.run.labels)
    assert run[-1].epoch == 99 and np.isnan(run[-1].metrics["loss"])
    assert run.torn is None and not run.following
    view = nnv.DecisionBoundary(run)  # every view takes a run from disk
    assert view.grid_shape == [20, 30] and view.classes == ["left", "right"]
    view.close()


def test_readable_without_the_package(rec, train, tmp_path):
    """The documented format, read with NumPy, json and struct only."""
    import struct
    import zlib

    from nnviz_widgets.run.codec import decode

    writer = nnv.Recorder(rec.model, rec.X, rec.y, grid=40, path=tmp_path / "run")
    train(writer, epochs=3)
    manifest = json.loads((tmp_path / "run" / MANIFEST).read_text())
    assert manifest["format"] == "nnviz-run" and manifest["version"] == 2
    points = np.load(tmp_path / "run" / manifest["points"], allow_pickle=False)
    assert points.shape == (len(rec.X), 2)
    data = (tmp_path / "run" / manifest["frames"]).read_bytes()
    at, seen = 0, 0
    while at < len(data):
        assert data[at : at + 4] == b"NNVF"
        (hlen,) = struct.unpack_from("<I", data, at + 4)
        header = json.loads(data[at + 8 : at + 8 + hlen])
        size = sum(a["byte_length"] for a in header["arrays"].values())
        body = data[at + 8 : at + 8 + hlen + size]
        assert struct.unpack_from("<I", data, at + 8 + hlen + size)[0] == zlib.crc32(body)
        spec = header["arrays"]["boundary"]
        raw = body[hlen + spec["byte_offset"] : hlen + spec["byte_offset"] + spec["byte_length"]]
        np.testing.assert_array_equal(decode(spec, raw), writer.run[seen].boundary)
        at += 8 + hlen + size + 4
        seen += 1
    assert seen == 3


def test_refuses_an_existing_run_unless_overwrite(rec, train, tmp_path):
    nnv.Recorder(rec.model, rec.X, rec.y, grid=10, path=tmp_path / "run").capture()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        nnv.Recorder(rec.model, rec.X, rec.y, grid=10, path=tmp_path / "run")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="other files"):
        nnv.Recorder(rec.model, rec.X, rec.y, grid=10, path=tmp_path / "other")
    again = nnv.Recorder(rec.model, rec.X, rec.y, grid=12, path=tmp_path / "run", overwrite=True)
    train(again, epochs=2)
    assert len(nnv.open_run(tmp_path / "run")) == 2
    assert nnv.open_run(tmp_path / "run").grid.xs.shape == (12,)


def test_a_torn_last_record_keeps_every_complete_frame(rec, train, tmp_path):
    writer = nnv.Recorder(rec.model, rec.X, rec.y, grid=16, path=tmp_path / "run")
    train(writer, epochs=5)
    writer.writer.close()
    frames = tmp_path / "run" / FRAMES
    full = frames.read_bytes()
    run = nnv.open_run(tmp_path / "run")
    ends = [0]
    for f in run:  # record boundaries, from each record's own size
        from nnviz_widgets.run.store import encode_record

        ends.append(ends[-1] + len(encode_record(f)))
    assert ends[-1] == len(full)
    rng = np.random.default_rng(0)
    cuts = sorted(set(rng.integers(1, len(full), 60).tolist()) | {e + d for e in ends[1:-1] for d in (-1, 1, 4, 8)})
    for cut in cuts:
        frames.write_bytes(full[:cut])
        complete = sum(e <= cut for e in ends[1:])
        if cut in ends:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                got = nnv.open_run(tmp_path / "run")
        else:
            with pytest.warns(TornRecordWarning, match=f"read {complete} complete frames"):
                got = nnv.open_run(tmp_path / "run")
            assert got.torn is not None and got.torn.offset == ends[complete]
        _same_frames(list(run)[:complete], list(got))


def test_a_damaged_record_is_reported(rec, train, tmp_path):
    writer = nnv.Recorder(rec.model, rec.X, rec.y, grid=16, path=tmp_path / "run")
    train(writer, epochs=3)
    frames = tmp_path / "run" / FRAMES
    data = bytearray(frames.read_bytes())
    data[-10] ^= 0xFF  # flip a byte in the last frame's arrays
    frames.write_bytes(bytes(data))
    with pytest.warns(TornRecordWarning, match="checksum mismatch"):
        run = nnv.open_run(tmp_path / "run")
    assert len(run) == 2


def test_not_a_run_and_newer_version(rec, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nnv.open_run(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotARunError, match="no manifest.json"):
        nnv.open_run(tmp_path / "empty")
    (tmp_path / "empty" / MANIFEST).write_text("{not json")
    with pytest.raises(NotARunError, match="not a readable JSON manifest"):
        nnv.open_run(tmp_path / "empty")
    (tmp_path / "empty" / MANIFEST).write_text('{"format": "something-else", "version": 1}')
    with pytest.raises(NotARunError, match="not a nnviz run manifest"):
        nnv.open_run(tmp_path / "empty")
    nnv.Recorder(rec.model, rec.X, rec.y, grid=10, path=tmp_path / "run").capture()
    manifest = json.loads((tmp_path / "run" / MANIFEST).read_text())
    (tmp_path / "run" / MANIFEST).write_text(json.dumps({**manifest, "version": 99}))
    with pytest.raises(RunVersionError, match="upgrade"):
        nnv.open_run(tmp_path / "run")


def test_unwritable_path(rec, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        nnv.Recorder(rec.model, rec.X, rec.y, grid=10, path=tmp_path / "file")
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(OSError, match="cannot write a run"):
            nnv.Recorder(rec.model, rec.X, rec.y, grid=10, path=locked / "run")


WRITER = """
import sys, time, torch, torch.nn as nn, nnviz_widgets as nnv
torch.set_num_threads(1)
X, y = nnv.datasets.moons(100, seed=0)
torch.manual_seed(0)
time.sleep(float(sys.argv[2]))
rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), X, y, grid=40, path=sys.argv[1])
for epoch in range(int(sys.argv[3])):
    rec.capture(epoch=epoch, loss=1.0 / (epoch + 1))
    time.sleep(0.1)
"""


def _writer(path, delay: float, frames: int) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path), str(delay), str(frames)], env=env
    )


def _wait(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.mark.parametrize("writer_first", [True, False], ids=["writer-first", "reader-first"])
def test_follow_a_writer_in_another_process(tmp_path, writer_first):
    path = tmp_path / "run"
    n = 12
    proc = _writer(path, 0.0 if writer_first else 1.0, n)
    try:
        if writer_first:
            assert _wait(lambda: (path / MANIFEST).exists(), 60)
        run = nnv.open_run(path, follow=True, timeout=60)
        seen = []
        run.subscribe(lambda frame: seen.append(frame.epoch))
        assert run.following
        assert _wait(lambda: len(run) == n, 60), f"only {len(run)} of {n} frames arrived"
        assert proc.wait(30) == 0
        assert [f.epoch for f in run] == list(range(n))
        assert seen and seen == list(range(n))[-len(seen) :]  # listeners (live views) heard the new frames
        assert run[-1].metrics["loss"] == pytest.approx(1.0 / n)
        _same_frames(run, nnv.open_run(path))
        run.close()
        assert not run.following
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_follow_waits_for_the_manifest_then_times_out(tmp_path):
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="timeout=0.3"):
        nnv.open_run(tmp_path / "later", follow=True, timeout=0.3)
    assert time.monotonic() - start >= 0.3


def test_the_index_read_a_column_at_a_time_says_what_the_entry_by_entry_reading_says(rec, tmp_path, monkeypatch):
    """A run's index opens a column at a time; metrics that come and go, NaN and inf read as entry by entry."""
    from nnviz_widgets.run import store

    path = tmp_path / "run"
    rec2 = nnv.Recorder(rec.model, rec.X, rec.y, grid=8, path=path, budget=None)
    for i in range(12):
        metrics = {"loss": [1.0, float("nan"), float("inf")][i % 3]}
        if i % 4 == 0:
            metrics["val_accuracy"] = i / 12
        rec2.capture(**metrics)
    rec2.writer.close()
    fast = nnv.open_run(path)
    monkeypatch.setattr(store, "_entries_at_once", lambda *args: None)
    slow = nnv.open_run(path)
    assert len(fast) == len(slow) == 12
    for name in ("loss", "val_accuracy"):
        np.testing.assert_array_equal(fast.metric(name), slow.metric(name))
    np.testing.assert_array_equal(fast.epochs, slow.epochs)
    val = fast.metric("val_accuracy")
    assert val[4] == 4 / 12 and np.isnan(val[5]) and np.isnan(fast.metric("loss")[1])
    _same_frames(fast, slow)
