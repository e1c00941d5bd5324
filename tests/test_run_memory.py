"""Runs of any length in bounded memory, measured in a fresh process (resident anonymous memory; Linux): with
``path=`` frames live on disk and memory holds their index; ``every=`` keeps a long loop's captures from growing
anything; ``open_run`` of a run holds the index, not the frames. benchmarks/bench_store.py measures the same at
1,000,000 captures and 10 GB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import json, sys, torch, numpy as np
    import nnviz_widgets as nnv
    torch.set_num_threads(1)
    out, mode = sys.argv[1], sys.argv[2]

    def anon():  # resident anonymous memory (the heap), not the pages of files the run maps
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024

    X, y = nnv.datasets.moons(300, seed=0)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    rss = {}
    if mode == "disk":  # every capture kept, 100x100 boundary frames (~46 KB each) on disk
        nnv.run.store.CACHE_BYTES = 4 << 20  # the cache of recent frames full after ~90 frames, not ~700
        rec = nnv.Recorder(model, X, y, grid=100, path=out + "/run", budget=None)
        for i in range(900):
            rec.capture(loss=1.0 / (i + 1))
            if i + 1 in (300, 900):
                rss[i + 1] = anon()
        frame_bytes = sum(a.nbytes for a in rec.run[-1].arrays.values())
        rec.writer.close()
        before = anon()
        run = nnv.open_run(out + "/run")
        loss = run.metric("loss")
        opened = anon() - before
        print(json.dumps({"rss": rss, "frame_bytes": frame_bytes, "frames": len(run), "opened": opened,
                          "loss_points": len(loss)}))
    else:  # a long loop thinned by every=: 20,000 captures, 200 frames, in memory
        rec = nnv.Recorder(model, X, y, grid=24, every=100, budget=None)
        for i in range(20_000):
            rec.capture(loss=1.0)
            if i + 1 in (5_000, 20_000):
                rss[i + 1] = anon()
        print(json.dumps({"rss": rss, "frames": len(rec.run)}))
    """
)


@pytest.fixture(autouse=True)
def linux():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("reads RssAnon from /proc/self/status (Linux)")


def measure(tmp_path, mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), mode], capture_output=True, text=True, timeout=600, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_disk_backed_run_holds_its_index_not_its_frames(tmp_path):
    """Past the run's cache of recent frames (store.CACHE_BYTES, 32 MB; 4 MB here so that it fills sooner) memory
    grows by the index alone."""
    got = measure(tmp_path, "disk")
    assert got["frames"] == got["loss_points"] == 900
    growth = got["rss"]["900"] - got["rss"]["300"]
    in_memory = 600 * got["frame_bytes"]  # what 600 more frames would take if they were kept
    assert got["frame_bytes"] > 40_000 and in_memory > 24e6
    assert growth < 4e6, f"memory grew {growth / 1e6:.1f} MB over 600 frames of {got['frame_bytes']} B"
    assert got["opened"] < 6e6, f"open_run took {got['opened'] / 1e6:.1f} MB for 900 frames"


def test_captures_thinned_by_every_keep_memory_flat(tmp_path):
    got = measure(tmp_path, "every")
    assert got["frames"] == 200
    growth = got["rss"]["20000"] - got["rss"]["5000"]
    assert growth < 8e6, f"memory grew {growth / 1e6:.1f} MB over 15,000 captures (150 more frames of a 24x24 grid)"
