"""Capture cost of a full dashboard recording (boundary + weights + activations) against one training epoch.

    .venv/bin/python benchmarks/bench_dashboard.py

Models: 784-100-64-25-10 on 10,000 samples (digits upsampled to 28x28, repeated with noise; PCA-plane boundary)
and digits 64-100-64-10 (1,797 samples), both trained with Adam, batch 32, in the loop ``nnv.fit`` runs.
Moons 2-16-16-2: capture against its floor, the recorder's own forward path (chunked, in-place ReLUs, the last
layer transposed, the softmax) on the same 200x200 grid and sample rows (``bench_boundary.own_forward_path``);
the old floor, a stock ``torch.softmax(model(grid), 1)``, is printed once beside it for comparison.
One thread (``torch.set_num_threads(1)``), as in the other benchmarks. Target: capture / epoch <= 0.05 (the
issue's for "the MLP dashboard workloads"; an earlier README's own target was 0.10).

Each round times one epoch, then a capture, then the same capture on the plain path (the plane fold switched
off by a no-op hook: every grid point runs as a D-wide input row), so all three see the same machine load; the
table gives medians. The moons row's capture, own path and stock floor run after each epoch in a new seeded
order (what runs just before a call changes its time). On a shared machine the ratios move with the load: run it
twice.
"""

from __future__ import annotations

import inspect
import random
import statistics

import numpy as np
import torch
from _timing import seconds
from bench_boundary import own_forward_path
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.train import _Loss


def mlp(*sizes: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def full_recorder(model, X, y) -> nnv.Recorder:
    """Boundary (PCA plane for D > 2) + every layer's weights + hidden activations on the default sample."""
    options = {}
    if "activations" in inspect.signature(nnv.Recorder).parameters:
        hidden = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)][-2]
        options["activations"] = hidden
    return nnv.Recorder(model, X, y, **options)


def epoch_fn(model, X, y, batch_size=32):
    """One training epoch as ``nnv.fit`` runs it: Adam, reshuffled mini-batches."""
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

    return one_epoch


def plain_capture(rec):
    """The same capture with the plane fold switched off (a no-op hook on the model: the grid runs D-wide rows)."""

    def capture():
        handle = rec.model.register_forward_pre_hook(lambda m, i: None)
        try:
            rec.capture()
        finally:
            handle.remove()

    return capture


def row(name, model, X, y, rounds):
    """Epoch, capture and plain capture interleaved (epoch, then the captures after it, as in training), medians."""
    rec = full_recorder(model, X, y)
    rec.capture()  # warm-up
    epoch, cap, plain = epoch_fn(model, X, y), [], []
    eps = []
    for _ in range(rounds):
        eps += seconds(epoch)
        cap += seconds(rec.capture)
        plain += seconds(plain_capture(rec))
    nbytes = sum(a.nbytes for a in rec.run[-1].arrays.values())
    return name, statistics.median(cap), statistics.median(plain), statistics.median(eps), nbytes


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    X28, y28 = nnv.datasets.digits(size=28)
    idx = rng.integers(0, len(X28), 10_000)
    X784 = (X28[idx] + rng.normal(0, 0.05, (10_000, 784))).astype(np.float32)
    X64, y64 = nnv.datasets.digits()
    rows = [
        row("784-100-64-25-10, 10,000 samples", mlp(784, 100, 64, 25, 10), X784, y28[idx], rounds=7),
        row("digits 64-100-64-10, 1,797 samples", mlp(64, 100, 64, 10), X64, y64, rounds=25),
    ]
    print(
        "| model | capture (full dashboard) | one training epoch (batch 32) | capture / epoch | plain path "
        "(no plane fold) / epoch | bytes per frame | target |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, cap, plain, ep, nbytes in rows:
        print(
            f"| {name} | {cap * 1e3:.1f} ms | {ep * 1e3:.0f} ms | {cap / ep:.3f} | {plain * 1e3:.1f} ms: "
            f"{plain / ep:.3f} | {nbytes:,} | <= 0.05 |"
        )

    Xm, ym = nnv.datasets.moons(500, noise=0.2, seed=0)
    model = mlp(2, 16, 16, 2)
    rec = full_recorder(model, Xm, ym)
    rec.capture()
    grid = torch.as_tensor(rec._grid_points, dtype=torch.float32)
    own = own_forward_path(rec)

    def stock():
        with torch.no_grad():
            torch.softmax(model(grid), 1)

    epoch, cap, fl, old, eps = epoch_fn(model, Xm, ym), [], [], [], []
    calls, order = [(rec.capture, cap), (own, fl), (stock, old)], random.Random(0)
    for _ in range(30):  # interleaved, so all see the same machine load
        eps += seconds(epoch)
        order.shuffle(calls)  # what runs just before a call changes its time: no call always gets one neighbour
        for fn, times in calls:
            times += seconds(fn)
    cap, fl, old, ep = (statistics.median(v) for v in (cap, fl, old, eps))
    print(
        f"| moons 2-16-16-2, 500 samples, 200x200 grid | {cap * 1e3:.1f} ms | {ep * 1e3:.0f} ms | {cap / ep:.3f} "
        f"| its own forward path {fl * 1e3:.1f} ms: capture / own path {cap / fl:.2f}x (fair); "
        f"stock softmax(model(grid)) {old * 1e3:.1f} ms: {cap / old:.2f}x (old floor) | - | - |"
    )
    plane_grid_quality()


def plane_grid_quality(sizes=(48, 64, 80, 100), ref=400) -> None:
    """What a coarser plane grid costs in the picture: a digits model trained 30 epochs, its PCA-plane boundary on
    an n x n grid drawn bilinearly at ref x ref px, against the model evaluated at every one of those pixels."""
    import torch.nn.functional as F

    torch.manual_seed(0)
    X, y = nnv.datasets.digits()
    model = mlp(64, 100, 64, 10)
    nnv.fit(model, X, y, epochs=30, show=False)

    def plane(n):
        return nnv.Recorder(model, X, y, grid=n)._grid_probabilities().reshape(n, n, -1)

    exact = plane(ref)
    print(f"\n| plane grid (digits, trained) | winning class differs, px of {ref}x{ref} | mean prob. error | p99 |")
    print("|---|---:|---:|---:|")
    for n in sizes:
        grid = torch.as_tensor(plane(n)).permute(2, 0, 1)[None]  # grid points span the same extent as the pixels
        drawn = F.interpolate(grid, size=(ref, ref), mode="bilinear", align_corners=True)[0].permute(1, 2, 0).numpy()
        err = np.abs(drawn - exact).max(axis=-1)
        wrong = float((drawn.argmax(-1) != exact.argmax(-1)).mean())
        print(f"| {n}x{n} | {100 * wrong:.2f} % | {err.mean():.4f} | {np.quantile(err, 0.99):.3f} |")


if __name__ == "__main__":
    main()
