"""The kernel-side cost of watching: a training loop with a live dashboard against the same loop without views.

    .venv/bin/python benchmarks/bench_live.py [--rounds 5]

Workload: digits 64-100-64-10 (1,797 rows), Adam, batch 32, one capture per epoch, 10 epochs per timing. Three
loops, interleaved round by round so all see the same machine load, medians:

- *no capture*: the bare training loop;
- *recorder*: ``rec.capture()`` every epoch, nothing watching;
- *dashboard*: the same with ``nnv.Dashboard(rec)`` open (boundary, mosaic, curves, embedding: four sender threads
  encoding and sending every frame, the synced-state keeper, the bqplot curves), its comm the one ipywidgets makes
  outside a kernel, which takes each message instantly: this measures what the kernel spends, not the browser.

The kernel-side cost of a live view is dashboard / recorder - 1 (target <= 3 %), in wall-clock time and in CPU time
(``time.process_time``: every thread of the process, so the views' background threads count even when another
core runs them; on a loaded machine the steadier of the two). On a shared machine both move by 10-20 % from round
to round with the other core's load, more than the effect, so the table also gives the CPU time of the views' own
threads (senders, state keepers, the embedding's projector, the curves' redraws) alone, read from each thread's
CPU clock, against the recorder loop's CPU time: what watching adds beside training, without the training
loop's own noise. (Those threads end after ``IDLE_EXIT`` s without work; here it is raised so that none ends, and
loses its clock, inside a loop. The views' work done on the training thread itself, a callback per capture that
wakes each view, is not in that column.) With Chromium drawing on the same
2 cores the browser's own work and the real comm's come on top: benchmarks/bench_live_browser.py measures that.
"""

from __future__ import annotations

import argparse
import re
import statistics
import threading
import time

import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.train import _Loss
from nnviz_widgets.widgets import _stream

EPOCHS = 10


def model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))


def loop(net, X, y, rec=None) -> tuple[float, float]:
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    Xt, yt, loss_fn = torch.as_tensor(X), torch.as_tensor(y), _Loss()
    gen = torch.Generator().manual_seed(0)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(EPOCHS):
        order = torch.randperm(len(Xt), generator=gen)
        for i in range(0, len(Xt), 32):
            idx = order[i : i + 32]
            loss = loss_fn(net(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if rec is not None:
            rec.capture(loss=loss.item())
    return time.perf_counter() - t0, time.process_time() - c0


def thread_cpu() -> dict[int, tuple[str, float]]:
    """(kind, CPU seconds) of every live thread but this one, from its own CPU clock (nanosecond resolution); the
    kind is the thread's name without its view's id ("nnviz-sender", "nnviz-state", ...)."""
    out = {}
    for t in threading.enumerate():
        if t is threading.current_thread() or t.ident is None:
            continue
        try:
            out[t.ident] = (
                re.sub(r"-[0-9a-f]{6,}$", "", t.name),
                time.clock_gettime(time.pthread_getcpuclockid(t.ident)),
            )
        except (OSError, ProcessLookupError):  # ended since enumerate
            pass
    return out


def views_loop(net, X, y, rec) -> tuple[float, float, dict[str, float]]:
    """``loop`` with ``rec``'s views open: (wall, CPU of every thread, CPU of each kind of thread other than this)."""
    before = thread_cpu()
    wall, cpu = loop(net, X, y, rec)
    kinds: dict[str, float] = {}
    for ident, (kind, seconds) in thread_cpu().items():
        kinds[kind] = kinds.get(kind, 0.0) + seconds - before.get(ident, ("", 0.0))[1]
    return wall, cpu, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, y = nnv.datasets.digits()
    _stream.IDLE_EXIT = 3600.0  # no view thread ends inside a loop, taking its CPU clock with it (see above)
    times: dict[str, list[tuple[float, float]]] = {"no capture": [], "recorder": [], "dashboard": []}
    threads: list[dict[str, float]] = []
    for _ in range(args.rounds):
        times["no capture"].append(loop(model(), X, y))
        net = model()
        times["recorder"].append(loop(net, X, y, nnv.Recorder(net, X, y, activations="3", budget=None)))
        net = model()
        rec = nnv.Recorder(net, X, y, activations="3", budget=None)
        dash = nnv.Dashboard(rec)
        wall, cpu, views = views_loop(net, X, y, rec)
        times["dashboard"].append((wall, cpu))
        threads.append(views)
        dash.close()
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(f"digits 64-100-64-10, {EPOCHS} epochs per loop (a capture per epoch), 1 torch thread, {args.rounds} rounds")
    print("\n| loop | wall s (median) | min-max | vs. recorder alone | CPU s, all threads | vs. recorder alone |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, v in times.items():
        lo, hi = min(w for w, _ in v), max(w for w, _ in v)
        print(f"| {k} | {wall[k]:.3f} | {lo:.3f}-{hi:.3f} | {wall[k] / wall['recorder'] - 1:+.1%} "
              f"| {cpu[k]:.3f} | {cpu[k] / cpu['recorder'] - 1:+.1%} |")  # fmt: skip
    views = [sum(kinds.values()) for kinds in threads]
    print("\n| the views' threads, by kind | CPU s per loop (median) | of the recorder loop's CPU |\n|---|---:|---:|")
    for kind in sorted({k for kinds in threads for k in kinds}):
        each = statistics.median(kinds.get(kind, 0.0) for kinds in threads)
        print(f"| {kind} | {each:.4f} | {each / cpu['recorder']:.1%} |")
    print(
        f"\nkernel-side cost of a live dashboard: {wall['dashboard'] / wall['recorder'] - 1:+.1%} wall, "
        f"{cpu['dashboard'] / cpu['recorder'] - 1:+.1%} CPU (target <= 3 %); the views' threads: "
        f"{statistics.median(views):.3f} s CPU, {statistics.median(views) / cpu['recorder']:.1%} of the recorder "
        f"loop's (min-max {min(views):.3f}-{max(views):.3f} s); "
        f"captures themselves: {wall['recorder'] / wall['no capture'] - 1:+.1%} of the bare loop"
    )


if __name__ == "__main__":
    main()
