"""Run files are confined and writers are exclusive (issue 18, items 2 and 3): a run's files must be regular
files inside its directory (no symlink out, no FIFO that blocks open forever, no device read without end), and
of two processes starting a Recorder on one new path exactly one wins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run.records import NotARunError

LIVENESS = 30


def write_run(path: Path) -> Path:
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(60, seed=0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), X, y, grid=6, path=path)
    rec.capture()
    rec.capture()
    rec.writer.close()
    return path


def open_within(path: Path, timeout: float = LIVENESS):
    """open_run in a thread: a hang fails the test instead of blocking the suite."""
    out: dict = {}

    def go():
        try:
            out["run"] = nnv.open_run(path)
        except BaseException as err:  # noqa: BLE001 - returned to the test
            out["error"] = err

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "open_run hung"
    return out


@pytest.mark.parametrize("name", ["frames.bin", "labels.npy", "points.npy", "manifest.json"])
def test_a_fifo_in_the_run_is_refused_without_blocking(tmp_path, name):
    run = write_run(tmp_path / "run")
    (run / name).unlink()
    os.mkfifo(run / name)
    out = open_within(run)
    assert isinstance(out.get("error"), NotARunError), out
    assert "regular file" in str(out["error"])


@pytest.mark.parametrize("name", ["frames.bin", "points.npy"])
def test_a_symlink_leading_out_of_the_run_is_refused(tmp_path, name):
    run = write_run(tmp_path / "run")
    outside = tmp_path / "outside.bin"
    outside.write_bytes((run / name).read_bytes())  # even a valid file is refused when it lies outside
    (run / name).unlink()
    (run / name).symlink_to(outside)
    out = open_within(run)
    assert isinstance(out.get("error"), NotARunError), out
    assert "outside the run" in str(out["error"])


def test_a_symlink_inside_the_run_is_read(tmp_path):
    run = write_run(tmp_path / "run")
    (run / "labels-copy.npy").write_bytes((run / "labels.npy").read_bytes())
    (run / "labels.npy").unlink()
    (run / "labels.npy").symlink_to(run / "labels-copy.npy")
    assert len(open_within(run)["run"]) == 2


@pytest.mark.parametrize("value", ["/dev/zero", "../outside.bin", "/etc/passwd", "a/../../b"])
def test_a_manifest_naming_a_file_outside_the_run_is_refused(tmp_path, value):
    run = write_run(tmp_path / "run")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["frames"] = value
    (run / "manifest.json").write_text(json.dumps(manifest))
    out = open_within(run)
    assert isinstance(out.get("error"), NotARunError), out


RACE = textwrap.dedent(
    """
    import sys, time
    import numpy as np, torch
    from torch import nn
    import nnviz_widgets as nnv
    X, y = nnv.datasets.moons(40, seed=0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    from pathlib import Path
    barrier = Path(sys.argv[2])
    (barrier / sys.argv[3]).touch()  # ready: imports done; start when both are
    while len(list(barrier.iterdir())) < 2:
        time.sleep(0.001)
    try:
        rec = nnv.Recorder(model, X, y, grid=4, path=sys.argv[1])
    except FileExistsError as err:
        print("REFUSED", err)
        sys.exit(0)
    for _ in range(3):
        rec.capture()
    rec.writer.close()
    print("WON")
    """
)


def test_two_processes_starting_on_one_new_path_one_wins_the_other_is_told(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for attempt in range(2):
        path, barrier = tmp_path / f"race-{attempt}", tmp_path / f"barrier-{attempt}"
        barrier.mkdir()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", RACE, str(path), str(barrier), str(i)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for i in range(2)
        ]
        done = [p.communicate(timeout=120) for p in procs]
        outs = [out.strip() or f"CRASHED {err[-600:]}" for out, err in done]
        assert sorted(o.split()[0] for o in outs) == ["REFUSED", "WON"], outs
        refused = next(o for o in outs if o.startswith("REFUSED"))
        assert "another process" in refused or "already holds" in refused
        assert len(nnv.open_run(path)) == 3  # the winner's run is whole


def test_a_re_run_recorder_cell_on_the_same_path_replaces_its_own_run(tmp_path):
    X, y = nnv.datasets.moons(40, seed=0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    first = nnv.Recorder(model, X, y, grid=4, path=tmp_path / "run")
    first.capture()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        nnv.Recorder(model, X, y, grid=4, path=tmp_path / "run")
    second = nnv.Recorder(model, X, y, grid=4, path=tmp_path / "run", overwrite=True)
    second.capture()
    second.capture()
    second.writer.close()
    assert len(nnv.open_run(tmp_path / "run")) == 2
