"""A full disk loses nothing and says so (issue 18, item 2): when writing a frame fails (ENOSPC or any OSError)
the capture still succeeds, every listener gets the frame, a RunWriteWarning says it is not saved yet, and once
a write succeeds again every frame held in memory is written, in order, so the run on disk is whole."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run import store
from nnviz_widgets.run.store import RunWriteWarning


def recorder(path):
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(60, seed=0)
    return nnv.Recorder(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), X, y, grid=12, path=path)


class FullDisk:
    """The writer's low-level write as on a full disk: half of the bytes land, then ENOSPC (while ``full``)."""

    def __init__(self, monkeypatch):
        self.full, self.fails = False, 0
        real = store._write_at

        def write_at(f, data, offset):
            if self.full:
                self.fails += 1
                real(f, bytes(data)[: len(data) // 2], offset)
                raise OSError(errno.ENOSPC, "No space left on device")
            real(f, data, offset)

        monkeypatch.setattr(store, "_write_at", write_at)


def same_frames(run, rec):
    assert len(run) == len(rec.run)
    for a, b in zip(run, rec.run, strict=True):
        assert (a.index, a.epoch, a.metrics) == (b.index, b.epoch, b.metrics)
        assert {k: v.data for k, v in a.arrays.items()} == {k: v.data for k, v in b.arrays.items()}


def test_a_full_disk_warns_keeps_every_frame_and_resumes_in_order(tmp_path, monkeypatch):
    disk = FullDisk(monkeypatch)
    rec = recorder(tmp_path / "run")
    heard = []
    rec.run.subscribe(lambda frame: heard.append(frame.index))
    for i in range(3):
        rec.capture(loss=float(i))
    disk.full = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3, 8):
            rec.capture(loss=float(i))  # never raises: training goes on
    failed = [w for w in caught if issubclass(w.category, RunWriteWarning)]
    assert len(failed) == 1 and "NOT saved" in str(failed[0].message), [str(w.message) for w in caught]
    assert disk.fails == 5 and rec.writer.unsaved == 5
    assert "5 NOT SAVED" in repr(rec.writer) and "5 frames NOT SAVED" in rec.describe()
    assert [f.metrics["loss"] for f in rec.run] == [float(i) for i in range(8)]  # the run still has them all
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the half-written record was cut off: the disk holds 3 whole frames
        assert len(nnv.open_run(tmp_path / "run")) == 3

    disk.full = False  # space is back: the next capture writes the 5 held frames, then its own
    with pytest.warns(RunWriteWarning, match="resumed: the 6 frames"):
        rec.capture(loss=8.0)
    assert rec.writer.unsaved == 0 and "NOT SAVED" not in repr(rec) and heard == list(range(9))
    rec.writer.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same_frames(nnv.open_run(tmp_path / "run"), rec)


def test_frames_still_unsaved_at_close_are_retried_and_reported(tmp_path, monkeypatch):
    disk = FullDisk(monkeypatch)
    rec = recorder(tmp_path / "run")
    rec.capture()
    disk.full = True
    with pytest.warns(RunWriteWarning, match="NOT saved"):
        rec.capture()
        rec.capture()
    assert rec.writer.retry() == 2  # still full
    with pytest.warns(RunWriteWarning, match="2 frames could not be written"):
        rec.writer.close()
    assert len(rec.run) == 3 and rec.run[2].index == 2  # in memory, readable by every view and export
    assert len(nnv.open_run(tmp_path / "run")) == 1


def test_close_writes_what_a_full_disk_held_once_there_is_room(tmp_path, monkeypatch):
    disk = FullDisk(monkeypatch)
    rec = recorder(tmp_path / "run")
    disk.full = True
    with pytest.warns(RunWriteWarning):
        for _ in range(4):
            rec.capture()
    disk.full = False
    with pytest.warns(RunWriteWarning, match="resumed"):
        rec.writer.close()
    same_frames(nnv.open_run(tmp_path / "run"), rec)


REAL_DISK = textwrap.dedent(
    """
    import json, os, sys, warnings, torch, torch.nn as nn, nnviz_widgets as nnv
    mnt = sys.argv[1]
    assert os.system(f"mount -t tmpfs -o size=2m tmpfs {mnt}") == 0
    free = os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize
    with open(f"{mnt}/filler", "wb") as f:  # leave ~100 KB: 3 frames of ~33 KB fit, then the disk is full
        f.write(b"x" * (free - 100_000))
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(200, seed=0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)), X, y, grid=40,
                       path=f"{mnt}/run")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(30):
            rec.capture(loss=float(i))
        unsaved = rec.writer.unsaved
        os.remove(f"{mnt}/filler")
        rec.capture(loss=30.0)
        rec.writer.close()
    run = nnv.open_run(f"{mnt}/run")
    same = all(a.arrays[k].data == b.arrays[k].data for a, b in zip(run, rec.run) for k in a.arrays)
    print(json.dumps({"unsaved": unsaved, "left": rec.writer.unsaved, "read": len(run), "same": same,
                      "warnings": [str(w.message) for w in caught]}))
    """
)


def test_a_real_full_tmpfs_resumes_once_space_is_freed(tmp_path):
    unshare = shutil.which("unshare")
    probe = [unshare, "--user", "--map-root-user", "--mount", "true"] if unshare else None
    if probe is None or subprocess.run(probe, capture_output=True).returncode != 0:
        pytest.skip("no user namespaces here to mount a small tmpfs; test_a_full_disk_warns... covers the logic")
    (tmp_path / "mnt").mkdir()
    (tmp_path / "sweep.py").write_text(REAL_DISK)
    cmd = [unshare, "--user", "--map-root-user", "--mount", sys.executable, str(tmp_path / "sweep.py")]
    out = subprocess.run([*cmd, str(tmp_path / "mnt")], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["unsaved"] > 0, result  # the disk did fill up
    assert result["left"] == 0 and result["read"] == 31 and result["same"], result
    assert any("NOT saved" in w for w in result["warnings"]) and any("resumed" in w for w in result["warnings"])
