"""Boundary recording and rendering costs, measured side by side in one run; prints a table.

    .venv/bin/python benchmarks/bench_boundary.py [--no-browser]

Ratios matter more than seconds on these noisy 2-core machines: each pair is measured interleaved.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _timing import cpu_seconds, seconds
from torch import nn

import nnviz_widgets as nnv

ROOT = Path(__file__).resolve().parents[1]
SEED_CSVS = [  # the seed data beside the clone, or the copy the tests keep (the same file)
    ROOT.parent / "shared" / "seed-data" / "moons.csv",
    ROOT / "tests" / "fixtures" / "seed-data" / "moons.csv",
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def own_forward_path(rec: nnv.Recorder):
    """The floor a capture cannot go below: the recorder's own forward path (record/plane.py's
    ``sequential_forward``: in-place ReLUs, the last layer transposed; the recorder's chunks, ``_chunk_rows``; the
    softmax down the columns of the transpose) on the same inputs a capture evaluates, the grid and the sample
    rows, with the probabilities brought back as NumPy, as the capture does."""
    from nnviz_widgets.record.plane import sequential_forward

    forward = sequential_forward(rec.model, rec.X.shape[1:])
    inputs = [torch.as_tensor(rec._grid_points), torch.as_tensor(rec.X[rec.rows])]
    chunk = rec._chunk_rows(torch.device("cpu"), rec.X.shape[1:])

    def run() -> None:
        with torch.no_grad():
            for rows in inputs:
                out = [
                    torch.softmax(forward(rows[i : i + chunk]).t().contiguous(), dim=0).t()
                    for i in range(0, len(rows), chunk)
                ]
                torch.cat(out).numpy()

    return run


def capture_vs_forward(reps: int = 80) -> dict:
    """The boundary probe alone (no weight, output or histogram probes) and the default capture, against the
    recorder's own forward path (the fair floor) and against a stock ``model(grid)`` (the old, unfair floor: one
    unchunked pass through the Sequential, no softmax, no sample rows), interleaved."""
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(500, noise=0.2, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    boundary = nnv.Recorder(model, X, y, grid=200, layers=[], outputs=False, histograms=False)
    full = nnv.Recorder(model, X, y, grid=200)
    grid = torch.as_tensor(boundary._grid_points)
    own = own_forward_path(boundary)

    def stock():
        with torch.no_grad():
            model(grid)

    fair, old, cap, cap_full, cpu_fair, cpu_cap = [], [], [], [], [], []
    calls = [(own, fair), (stock, old), (boundary.capture, cap), (full.capture, cap_full)]
    order = random.Random(0)
    for _ in range(reps):  # interleaved, so all see the same machine load
        # in a new order each round: what ran just before a call (the unchunked stock pass frees megabytes the next
        # call must fault in again; a default capture leaves the caches full of its own data) changes its time by
        # up to 15 %, and a fixed order would always hand the same neighbour to the same call
        order.shuffle(calls)
        for fn, times in calls:
            times += seconds(fn)
        cpu_fair += cpu_seconds(own)  # this thread's CPU time: the same work, without the waits other jobs cause
        cpu_cap += cpu_seconds(boundary.capture)
    f, o, c, d, cf, cc = (statistics.median(v) for v in (fair, old, cap, cap_full, cpu_fair, cpu_cap))
    return {"own_ms": f * 1e3, "stock_ms": o * 1e3, "capture_ms": c * 1e3, "full_ms": d * 1e3,
            "ratio": c / f, "old_ratio": c / o, "full_ratio": d / f, "captures_per_s": 1 / c,
            "cpu_ratio": cc / cf, "cpu_own_ms": cf * 1e3, "cpu_capture_ms": cc * 1e3}  # fmt: skip


def seed_setup(epochs: int = 100, rounds: int = 3) -> dict:
    path = next((p for p in SEED_CSVS if p.is_file()), None)
    if path is not None:
        X, y = nnv.datasets.load_csv(path, x=["x", "y"], y="cluster")
        source = f"seed data {os.path.relpath(path, ROOT)}"
    else:
        X, y = nnv.datasets.moons(500, seed=0)
        source = "generated moons (seed CSV not found)"

    def train(record: bool) -> float:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 2))
        rec = nnv.Recorder(model, X, y) if record else None
        opt = torch.optim.Adam(model.parameters(), 1e-2)
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        t0 = time.perf_counter()
        for _ in range(epochs):
            loss = nn.functional.cross_entropy(model(Xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if rec is not None:
                rec.capture(loss=loss.item())
        return time.perf_counter() - t0

    plain, recorded = [], []
    for _ in range(rounds):
        plain.append(train(False))
        recorded.append(train(True))
    p, r = statistics.median(plain), statistics.median(recorded)
    return {"source": source, "plain_s": p, "recorded_s": r, "overhead_s": r - p}


def frame_bytes() -> dict:
    X, y = nnv.datasets.moons(500, seed=0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 2)), X, y, grid=200)
    f = rec.capture()
    encoded = f.arrays["boundary"].nbytes
    raw = f.boundary.astype(np.float32).nbytes
    return {"encoded": encoded, "float32": raw, "ratio": encoded / raw}


def browser_render(epochs: int = 100) -> dict:
    from playwright.sync_api import sync_playwright

    from nnviz_widgets.cli import train_demo

    rec = train_demo("moons", epochs, quiet=True)  # 500 points, 200x200 grid
    with tempfile.TemporaryDirectory() as tmp:
        page_path = rec.run.to_html(Path(tmp) / "bench.html")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(page_path.as_uri())
            page.wait_for_selector(f".nnviz-boundary[data-frames='{epochs}']", timeout=30_000)
            times = page.evaluate(
                """async (n) => {
                  const root = document.querySelector('.nnviz-boundary');
                  const slider = root.querySelector('.nnviz-scrub');
                  const twoFrames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                  const out = [];
                  for (let round = 0; round < 3; round++) for (let i = 0; i < n; i++) {
                    slider.value = String(i);
                    slider.dispatchEvent(new Event('input', { bubbles: true }));
                    await twoFrames();
                    if (root.dataset.epoch === String(i)) out.push(Number(root.dataset.drawMs));
                  }
                  return out;
                }""",
                epochs,
            )
            browser.close()
    return {"median_ms": statistics.median(times), "p90_ms": float(np.percentile(times, 90)), "draws": len(times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-browser", action="store_true", help="skip the headless Chromium render benchmark")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch threads: {torch.get_num_threads()}; load average (1 min) at the start: {load:.2f}")
    rows = []
    c = capture_vs_forward()
    rows.append(("boundary capture / its own forward path (fair), 200x200, 2-16-16-2", f"{c['ratio']:.2f}x",
                 "<= 1.2x", f"own path {c['own_ms']:.2f} ms, capture {c['capture_ms']:.2f} ms, "
                 f"{c['captures_per_s']:.0f} captures/s"))  # fmt: skip
    rows.append(("  the same, in this thread's CPU time (no waits for other jobs)", f"{c['cpu_ratio']:.2f}x", "-",
                 f"own path {c['cpu_own_ms']:.2f} ms, capture {c['cpu_capture_ms']:.2f} ms of CPU"))  # fmt: skip
    rows.append(("  the same capture / stock model(grid) (old, unfair floor)", f"{c['old_ratio']:.2f}x", "-",
                 f"model(grid) {c['stock_ms']:.2f} ms: unchunked, no softmax, no sample rows"))  # fmt: skip
    rows.append(("default capture (+ weights, output maps, histograms) / own path", f"{c['full_ratio']:.2f}x", "-",
                 f"capture {c['full_ms']:.2f} ms"))  # fmt: skip
    s = seed_setup()
    rows.append(("recording overhead, seed setup 2-100-2, 100 epochs", f"{s['overhead_s']:.2f} s", "<= 2 s",
                 f"{s['source']}: plain {s['plain_s']:.2f} s, recorded {s['recorded_s']:.2f} s"))  # fmt: skip
    b = frame_bytes()
    rows.append(("bytes per boundary frame / float32", f"{b['ratio']:.3f}", "-",
                 f"{b['encoded']:,} B vs {b['float32']:,} B: 1 byte vs 4 per value, by construction"))  # fmt: skip
    if not args.no_browser:
        r = browser_render()
        rows.append(("browser draw per frame, 200x200 + 500 points", f"{r['median_ms']:.2f} ms", "<= 8 ms median",
                     f"p90 {r['p90_ms']:.2f} ms over {r['draws']} draws, headless Chromium"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows + [("measure", "result", "target", "detail")]) for i in range(4)]
    for row in [("measure", "result", "target", "detail"), tuple("-" * w for w in widths), *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
