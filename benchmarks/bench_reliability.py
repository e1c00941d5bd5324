"""Reliability measured: what a view costs ``capture()`` when its front-end is absent, stuck or gone,
and what 10,000 captures cost in memory, in Python and in the browser. Prints markdown tables.

    .venv/bin/python benchmarks/bench_reliability.py                   # everything
    .venv/bin/python benchmarks/bench_reliability.py --part frontend   # or memory, browser
    .venv/bin/python benchmarks/bench_reliability.py --captures 2000   # shorter long runs

Capture costs are medians over rounds that alternate the conditions, so load from other jobs hits them alike;
only ratios to the no-view baseline are reported as results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.widgets import _stream

torch.set_num_threads(1)


def rss() -> int:
    """Resident memory of this process, in bytes (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def moons_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))


# -- capture() with no view, a view nobody watches, a stuck comm, a closed view, a real kernel --------------------
def per_capture(rec, n: int) -> float:
    t = time.perf_counter()
    for i in range(n):
        rec.capture(loss=float(i))
    return (time.perf_counter() - t) / n


def frontend(rounds: int = 7, n: int = 60) -> None:
    X, y = nnv.datasets.moons(500, seed=0)
    recs, gates = {}, []

    def stuck(content, buffers=None):  # a browser that stopped reading: send never returns
        gate = threading.Event()
        gates.append(gate)
        gate.wait()

    for name in ("no view", "view, no front-end ever connects", "view whose comm send blocks", "view closed"):
        rec = nnv.Recorder(moons_model(), X, y)
        if name != "no view":
            view = nnv.DecisionBoundary(rec)
            if "blocks" in name:
                view.send = stuck
            if "closed" in name:
                view.close()
        recs[name] = rec
    times = {name: [] for name in recs}
    for _ in range(rounds):
        for name, rec in recs.items():
            times[name].append(per_capture(rec, n))
    for g in gates:
        g.set()
    base = statistics.median(times["no view"])
    rows = [(name, statistics.median(t)) for name, t in times.items()]
    rows.append(("real ipykernel, view displayed, no browser tab (closed tab)", *kernel_ratio(rounds, n)))
    print("\n### capture() cost by front-end state (moons, 200x200 grid, MLP 2-16-16-2)\n")
    print("| front-end | capture, median | vs no view |")
    print("|---|---:|---:|")
    for row in rows:
        name, t = row[0], row[1]
        ratio = t / base if len(row) == 2 else row[2]
        print(f"| {name} | {t * 1e3:.2f} ms | {ratio:.2f}x |")


KERNEL_CODE = """
import time, statistics, torch, torch.nn as nn, nnviz_widgets as nnv
from IPython.display import display
torch.set_num_threads(1)
X, y = nnv.datasets.moons(500, seed=0)
def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
plain, shown = nnv.Recorder(model(), X, y), nnv.Recorder(model(), X, y)
view = nnv.DecisionBoundary(shown)
display(view)
def per(rec, n):
    t = time.perf_counter()
    for i in range(n):
        rec.capture(loss=float(i))
    return (time.perf_counter() - t) / n
a, b = [], []
for _ in range({rounds}):
    a.append(per(plain, {n})); b.append(per(shown, {n}))
print("RESULT", statistics.median(a), statistics.median(b))
"""


def kernel_ratio(rounds: int, n: int) -> tuple[float, float]:
    """Time captures inside a real ipykernel that has displayed a view, with no browser connected: its comm
    messages go to the iopub socket with nobody reading, as after a closed tab."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        out = []
        kc.execute_interactive(
            KERNEL_CODE.format(rounds=rounds, n=n),
            timeout=600,
            output_hook=lambda msg: out.append(msg["content"].get("text", "")),
        )
        line = next(t for t in "".join(out).splitlines() if t.startswith("RESULT"))
        plain, shown = map(float, line.split()[1:])
        return shown, shown / plain
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# -- 10,000 captures: Python memory --------------------------------------------------------------------------
MEMORY_CASES = [
    ("moons, 200x200 (boundary, weights, neuron outputs)", "moons", {}),
    ("moons, 200x200, max_frames=1000", "moons", {"max_frames": 1000}),
    ("moons, 200x200, max_frames=1000, expected=captures", "moons", {"max_frames": 1000, "expected": True}),
    ("digits 784-100-10, layer '0' weights", "digits", {}),
    ("digits 784-100-10, max_frames=1000, expected=captures", "digits", {"max_frames": 1000, "expected": True}),
]


def memory_case(index: int, captures: int) -> None:
    """One row, in a fresh process so its RSS growth is its own."""
    name, data, options = MEMORY_CASES[index]
    options = {k: (captures if v is True else v) for k, v in options.items()}
    if data == "moons":
        X, y = nnv.datasets.moons(500, seed=0)
        rec = nnv.Recorder(moons_model(), X, y, **options)
    else:
        X, y = nnv.datasets.digits(size=28)
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
        rec = nnv.Recorder(net, X[:1000], y[:1000], layers="0", **options)
    before = rss()
    t = time.perf_counter()
    for i in range(captures):
        rec.capture(loss=float(i))
    took = (time.perf_counter() - t) / captures
    grown = rss() - before
    print(f"| {name} | {len(rec.run):,} | {rec.run[0].nbytes / 1e3:.0f} KB | {rec.run.nbytes / 1e6:.0f} MB | "
          f"{grown / 1e6:.0f} MB | {took * 1e3:.2f} ms |", flush=True)  # fmt: skip


def long_runs(captures: int) -> None:
    import subprocess
    import sys

    print(f"\n### {captures:,} captures: Python memory (each row a fresh process)\n")
    print("| run | frames kept | bytes / frame | run.nbytes | RSS growth | capture, mean |")
    print("|---|---:|---:|---:|---:|---:|", flush=True)
    for i in range(len(MEMORY_CASES)):
        subprocess.run([sys.executable, __file__, "--part", "memory-case", "--case", str(i), "--captures",
                        str(captures)], check=True)  # fmt: skip


# -- the browser: the JS store's heap for many frames ----------------------------------------------------------
def browser(counts: list[int]) -> None:
    from playwright.sync_api import sync_playwright

    X, y = nnv.datasets.moons(500, seed=0)
    tmp = Path(tempfile.mkdtemp(prefix="nnviz-bench-rel-"))
    print("\n### The browser's frame store (exported page, headless Chromium, JS heap + array buffers after GC)\n")
    print("| frames sent | page size | frames held | store bytes | stride | JS heap + buffers |")
    print("|---:|---:|---:|---:|---:|---:|")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"])
        for count in counts:
            rec = nnv.Recorder(moons_model(), X, y)
            opt = torch.optim.Adam(rec.model.parameters(), 1e-2)
            Xt, yt = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
            for _ in range(count):  # real training, so frames differ (and compress like real ones)
                loss = nn.functional.cross_entropy(rec.model(Xt), yt)
                opt.zero_grad()
                loss.backward()
                opt.step()
                rec.capture(loss=loss.item())
            page_path = rec.run.to_html(tmp / f"r{count}.html")
            del rec
            page = b.new_page()
            cdp = page.context.new_cdp_session(page)
            page.goto(page_path.as_uri())
            page.wait_for_selector(f'div.nnviz-boundary[data-total="{count}"]', timeout=600_000)
            page.wait_for_timeout(1000)
            cdp.send("HeapProfiler.collectGarbage")
            heap = cdp.send("Runtime.getHeapUsage")  # array buffers are "backing storage", outside usedSize
            used = heap["usedSize"] + heap.get("backingStorageSize", 0)
            frames = int(page.eval_on_selector("div.nnviz-boundary", "el => el.dataset.frames"))
            store = json.loads(page.eval_on_selector("div.nnviz-boundary", "el => JSON.stringify(el.dataset)"))
            size = page_path.stat().st_size / 1e6
            print(f"| {count:,} | {size:.0f} MB | {frames:,} | {int(store.get('bytes', 0)) / 1e6:.0f} MB | "
                  f"{store.get('stride', '?')} | {used / 1e6:.0f} MB |")  # fmt: skip
            page.close()
            os.unlink(page_path)
        b.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__).strip().splitlines()[0])
    parser.add_argument("--part", choices=["frontend", "memory", "browser", "all", "memory-case"], default="all")
    parser.add_argument("--case", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--captures", type=int, default=10_000)
    parser.add_argument("--browser-frames", default="500,2000,4000")
    args = parser.parse_args()
    _stream.LIVE_INTERVAL = 0.04  # the shipped values, stated: a live frame at most every 40 ms
    if args.part in ("frontend", "all"):
        frontend()
    if args.part == "memory-case":
        memory_case(args.case, args.captures)
    if args.part in ("memory", "all"):
        long_runs(args.captures)
    if args.part in ("browser", "all"):
        browser([int(c) for c in args.browser_frames.split(",")])


if __name__ == "__main__":
    main()
