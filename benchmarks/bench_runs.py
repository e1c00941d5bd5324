"""Runs on disk and export: what writing costs next to capturing, how fast a follower sees frames, and how big
the exported page is next to PNG frames and an MP4 of the same plots. Prints a markdown table.

    .venv/bin/python benchmarks/bench_runs.py
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import torch

import nnviz_widgets as nnv
from nnviz_widgets.cli import train_demo
from nnviz_widgets.export.video import render_frame
from nnviz_widgets.run.store import RunWriter

torch.set_num_threads(1)
WRITER = """
import sys, time, torch, torch.nn as nn, nnviz_widgets as nnv
torch.set_num_threads(1)
X, y = nnv.datasets.moons(500, seed=0)
rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)), X, y, grid=200, path=sys.argv[1])
for epoch in range(40):
    t = time.time()
    rec.capture(epoch=epoch, t=t)  # the reader measures from the moment capture() was called
    time.sleep(0.07)
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def main() -> None:
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="nnviz-bench-"))
    X, y = nnv.datasets.moons(500, seed=0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 2))  # fmt: skip

    # write cost vs capture cost, 200x200 grid
    rec = nnv.Recorder(model, X, y)
    for _ in range(5):
        rec.capture()
    captures = []
    for _ in range(60):
        t = time.perf_counter()
        rec.capture(loss=0.5)
        captures.append(time.perf_counter() - t)
    writer = RunWriter(nnv.Recorder(model, X, y, grid=2).run, tmp / "w")  # a writer we can feed frames to
    writes = []
    for i, frame in enumerate(rec.run):
        f = type(frame)(i, frame.epoch, frame.metrics, frame.diverged, frame.arrays)
        t = time.perf_counter()
        writer._put(f)  # what the run calls for each new frame: encode, append + flush the record and its index
        writes.append(time.perf_counter() - t)
    writer.close()
    cap, wr = statistics.median(captures), statistics.median(writes)
    rows.append(("capture, 200x200 grid, MLP 2-16-16-2 (median)", ms(cap), ""))
    rows.append(("append one frame to disk (record + index line, median)", ms(wr), f"{wr / cap:.1%} of capture"))
    with_disk = nnv.Recorder(model, X, y, path=tmp / "d")
    times = []
    for _ in range(60):
        t = time.perf_counter()
        with_disk.capture(loss=0.5)
        times.append(time.perf_counter() - t)
    rows.append(("capture with path= (median)", ms(statistics.median(times)), f"{statistics.median(times) / cap:.2f}x"))

    # follow latency: capture() called in one process -> frame appended to the Run in another
    path = tmp / "follow"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(path)], env=env)
    run = nnv.open_run(path, follow=True, timeout=120)
    lat = []
    run.subscribe(lambda frame: lat.append(time.time() - frame.metrics["t"]))
    proc.wait(120)
    deadline = time.monotonic() + 5
    while len(run) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.close()
    lat.sort()
    rows.append(("follow latency, 200x200 frames, poll 50 ms (median / p90)",
                 f"{ms(statistics.median(lat))} / {ms(lat[int(0.9 * (len(lat) - 1))])}",
                 f"{len(lat)} frames, includes the capture itself"))  # fmt: skip

    # 100 epochs of moons: page vs PNG frames vs MP4
    demo = train_demo("moons", 100, quiet=True)
    page = demo.run.to_html(tmp / "moons.html")
    png = 0
    for i in range(len(demo.run)):
        buf = io.BytesIO()
        render_frame(demo.run, i).save(buf, format="PNG", optimize=True)
        png += buf.tell()
    t = time.perf_counter()
    mp4 = demo.run.to_video(tmp / "moons.mp4", fps=20, progress=False)
    mp4_s = time.perf_counter() - t
    html = page.stat().st_size
    rows.append(("exported HTML, 100 epochs of moons (bundle + frames)", f"{html / 1e6:.2f} MB", "1.00x"))
    rows.append(("100 PNG frames of the same plots (640x560)", f"{png / 1e6:.2f} MB", f"{png / html:.2f}x the page"))
    rows.append(("MP4 of the same plots (H.264, 20 fps)", f"{mp4.stat().st_size / 1e6:.2f} MB",
                 f"{mp4.stat().st_size / html:.2f}x the page; rendered + encoded in {mp4_s:.1f} s"))  # fmt: skip

    print("| measure | result | note |\n|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
