"""Reliability measured: what a view costs ``capture()`` when its front-end is absent, stuck or gone,
and what 10,000 captures cost in memory, in Python and in the browser. Prints markdown tables.

    .venv/bin/python benchmarks/bench_reliability.py                   # everything
    .venv/bin/python benchmarks/bench_reliability.py --part frontend   # or memory, browser
    .venv/bin/python benchmarks/bench_reliability.py --captures 2000   # shorter long runs
    .venv/bin/python benchmarks/bench_reliability.py --doc             # regenerate docs/reliability.md

``--doc`` writes each part's table into its marked block of docs/reliability.md, with the command, the date, the
torch thread count and the load average it ran under; with every part (the default) it also runs the adversarial
sweep (``adversarial_sweep.py --doc``) and rewrites the invalid-input table (``python -m tests.test_bad_inputs``),
so every number in that file comes from this one command. ``--part NAME --doc`` rewrites only that part's block.

Capture costs are medians over rounds that alternate the conditions, so load from other jobs hits them alike;
only ratios to the no-view baseline are reported as results.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
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
    print(f"\n### {captures:,} captures: Python memory (each row a fresh process)\n")
    print("| run | frames kept | bytes / frame | run.nbytes | RSS growth | capture, mean |")
    print("|---|---:|---:|---:|---:|---:|", flush=True)
    for i in range(len(MEMORY_CASES)):
        case = subprocess.run([sys.executable, __file__, "--part", "memory-case", "--case", str(i), "--captures",
                               str(captures)], check=True, capture_output=True, text=True)  # fmt: skip
        print(case.stdout, end="", flush=True)  # through sys.stdout, so --doc sees the row


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


DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
ROOT = DOC.parents[1]


def write_block(doc: str, part: str, text: str) -> str:
    """``doc`` with the text between ``<!-- measured:PART:start -->`` and ``<!-- measured:PART:end -->`` replaced.

    >>> write_block("a <!-- measured:x:start -->old<!-- measured:x:end --> b", "x", "new")
    'a <!-- measured:x:start -->\\nnew\\n<!-- measured:x:end --> b'
    """
    start, end = f"<!-- measured:{part}:start -->", f"<!-- measured:{part}:end -->"
    if doc.count(start) != 1 or doc.count(end) != 1:
        raise ValueError(f"{DOC} needs one {start} and one {end}")
    head, rest = doc.split(start)
    _, tail = rest.split(end)
    return f"{head}{start}\n{text.strip()}\n{end}{tail}"


class Tee(io.StringIO):
    """Prints as it goes (these parts take minutes) and keeps what was printed for the doc."""

    def write(self, text: str) -> int:
        sys.__stdout__.write(text)
        sys.__stdout__.flush()
        return super().write(text)


def run_part(part: str, command: str, fn, doc: bool) -> None:
    load = os.getloadavg()[0]
    t = time.perf_counter()
    with contextlib.redirect_stdout(Tee()) as out:
        fn()
    if doc:
        made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        stamp = (f"Written by `{command}` on {made}: {time.perf_counter() - t:.0f} s, torch threads "
                 f"{torch.get_num_threads()}, load average {load:.1f} when it started (2 cores).")  # fmt: skip
        DOC.write_text(write_block(DOC.read_text(encoding="utf-8"), part, f"{stamp}\n{out.getvalue()}"), "utf-8")
        print(f"wrote the {part} block of {DOC}")


def main() -> None:
    parser = argparse.ArgumentParser(description=textwrap.dedent(__doc__).strip().splitlines()[0])
    parser.add_argument("--part", choices=["frontend", "memory", "browser", "all", "memory-case"], default="all")
    parser.add_argument("--case", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--captures", type=int, default=10_000)
    parser.add_argument("--browser-frames", default="500,2000,4000")
    parser.add_argument("--doc", action="store_true", help="write the tables into docs/reliability.md")
    args = parser.parse_args()
    _stream.LIVE_INTERVAL = 0.04  # the shipped values, stated: a live frame at most every 40 ms
    if args.part == "memory-case":
        memory_case(args.case, args.captures)
        return
    command = ".venv/bin/python benchmarks/bench_reliability.py --doc"
    options = "" if args.captures == 10_000 else f" --captures {args.captures}"
    frames = "" if args.browser_frames == "500,2000,4000" else f" --browser-frames {args.browser_frames}"
    parts = {
        "frontend": (f"{command} --part frontend", frontend),
        "memory": (f"{command} --part memory{options}", lambda: long_runs(args.captures)),
        "browser": (
            f"{command} --part browser{frames}",
            lambda: browser([int(c) for c in args.browser_frames.split(",")]),
        ),  # fmt: skip
    }
    for part, (what, fn) in parts.items():
        if args.part in (part, "all"):
            run_part(part, what if args.part == part else command + options + frames, fn, args.doc)
    if args.doc and args.part == "all":  # the rest of the file's numbers, from their own generators
        python = sys.executable
        subprocess.run([python, "benchmarks/adversarial_sweep.py", "--doc"], cwd=ROOT, check=True)
        subprocess.run([python, "-m", "tests.test_bad_inputs"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
