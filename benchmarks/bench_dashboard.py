"""Capture cost of a full dashboard recording (boundary + weights + activations) against one training epoch.

    .venv/bin/python benchmarks/bench_dashboard.py

Models: 784-100-64-25-10 on 10,000 samples (digits upsampled to 28x28, repeated with noise; PCA-plane boundary)
and digits 64-100-64-10 (1,797 samples), both trained with Adam, batch 32, through ``nnv.fit``'s own loop.
Moons 2-16-16-2: capture against the forward-pass floor (the bare model on the same 200x200 grid).
One thread (``torch.set_num_threads(1)``), as in the other benchmarks. Target: capture / epoch <= 0.10.
"""

from __future__ import annotations

import inspect
import statistics
import time

import numpy as np
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.train import _Loss


def mlp(*sizes: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def full_recorder(model, X, y) -> nnv.Recorder:
    """Boundary (PCA plane for D > 2) + every layer's weights + hidden activations on the default sample."""
    options = {}
    if "activations" in inspect.signature(nnv.Recorder).parameters:
        hidden = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-2]
        options["activations"] = hidden
    return nnv.Recorder(model, X, y, **options)


def epoch_time(model, X, y, batch_size=32, repeat=3) -> float:
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    Xt, yt, loss_fn = torch.as_tensor(X), torch.as_tensor(y), _Loss()

    def one_epoch():
        order = torch.randperm(len(Xt))
        for i in range(0, len(Xt), batch_size):
            idx = order[i : i + batch_size]
            loss = loss_fn(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()

    return timed(one_epoch, repeat)


def row(name, model, X, y):
    rec = full_recorder(model, X, y)
    rec.capture()  # warm-up
    cap = timed(rec.capture, 10)
    ep = epoch_time(model, X, y)
    return name, cap, ep, sum(a.nbytes for a in rec.run[-1].arrays.values())


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X28, y28 = nnv.datasets.digits(size=28)
    idx = rng.integers(0, len(X28), 10_000)
    X784 = (X28[idx] + rng.normal(0, 0.05, (10_000, 784))).astype(np.float32)
    X64, y64 = nnv.datasets.digits()
    rows = [
        row("784-100-64-25-10, 10,000 samples", mlp(784, 100, 64, 25, 10), X784, y28[idx]),
        row("digits 64-100-64-10, 1,797 samples", mlp(64, 100, 64, 10), X64, y64),
    ]
    print(
        "| model | capture (full dashboard) | one training epoch (batch 32) | capture / epoch | bytes per frame "
        "| target |"
    )
    print("|---|---|---|---|---|---|")
    for name, cap, ep, nbytes in rows:
        print(f"| {name} | {cap * 1e3:.1f} ms | {ep * 1e3:.0f} ms | {cap / ep:.3f} | {nbytes:,} | <= 0.10 |")

    Xm, ym = nnv.datasets.moons(500, noise=0.2, seed=0)
    model = mlp(2, 16, 16, 2)
    rec = full_recorder(model, Xm, ym)
    rec.capture()
    cap = timed(rec.capture, 30)
    grid = torch.as_tensor(rec._grid_points, dtype=torch.float32)

    def floor():
        with torch.no_grad():
            torch.softmax(model(grid), 1)

    fl = timed(floor, 30)
    ep = epoch_time(model, Xm, ym)
    print(
        f"| moons 2-16-16-2, 500 samples, 200x200 grid | {cap * 1e3:.1f} ms | {ep * 1e3:.0f} ms | {cap / ep:.3f} "
        f"| forward-pass floor {fl * 1e3:.1f} ms: capture / floor {cap / fl:.2f}x | - |"
    )


if __name__ == "__main__":
    main()
