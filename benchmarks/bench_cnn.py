"""Capture cost of a full dashboard on a ResNet-20 (CIFAR-style, BatchNorm, residual blocks) against one epoch.

    .venv/bin/python benchmarks/bench_cnn.py [--steps 30] [--rounds 3] [--device cpu|cuda] [--threads 1]

Data: 50,000 32x32 RGB images made offline from scikit-learn's bundled digits: each a digit upsampled to 20-28 px,
placed at a random offset, in a random colour on a random background, plus noise (10 classes). Training: SGD with
momentum, batch 128, in the loop a user writes; an epoch is 391 steps. A full epoch on one shared core takes
minutes, so the script times ``--steps`` steps and extrapolates to 391 (it says so in the table); each round times
the steps, then a capture, so both see the same machine load; medians over ``--rounds``.

The capture is the dashboard's full default: the boundary on a 64x64 grid on the PCA plane of the images (4,096
images through the network), predictions, accuracy and the drawn points on the default 2,000-row stratified
sample, the penultimate layer's activations on 1,000 of them, and the weights the byte budget picks. The capture
with ``points="all"`` (every image: what a capture cost before the sample) is timed once on 10,000 images and
scaled to 50,000 (it is linear in the rows). ``--device cuda`` runs the same on a GPU when one is there.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

import nnviz_widgets as nnv

EPOCH_STEPS = 391  # 50,000 / 128, rounded up


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.short(x))


class ResNet20(nn.Module):
    """He et al. 2016's CIFAR ResNet-20: 3 stages of 3 basic blocks (16, 32, 64 channels), 0.27 M weights."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        blocks, c = [], 16
        for out, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                blocks.append(Block(c, out, stride if i == 0 else 1))
                c = out
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        return self.fc(self.pool(self.blocks(self.stem(x))))


def colour_digits(n: int = 50_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3, 32, 32) float32 images in [0, 1] and their digit labels, from scikit-learn's 8x8 digits."""
    from sklearn.datasets import load_digits

    d = load_digits()
    rng = np.random.default_rng(seed)
    src = torch.from_numpy(d.images.astype(np.float32) / 16.0)[:, None]
    X = np.empty((n, 3, 32, 32), np.float32)
    y = np.empty(n, np.int64)
    for size in (20, 24, 28):  # three scales, a third of the images each
        part = np.arange(n)[(np.arange(n) % 3) == (size - 20) // 4]
        pick = rng.integers(0, len(src), len(part))
        glyphs = torch.nn.functional.interpolate(src[pick], size=(size, size), mode="bilinear").numpy()[:, 0]
        fg, bg = rng.uniform(0, 1, (len(part), 3)), rng.uniform(0, 1, (len(part), 3))
        off = rng.integers(0, 32 - size + 1, (len(part), 2))
        for k, i in enumerate(part):
            canvas = np.broadcast_to(bg[k][:, None, None], (3, 32, 32)).copy()
            r, c = off[k]
            m = glyphs[k]
            canvas[:, r : r + size, c : c + size] = (
                m * fg[k][:, None, None] + (1 - m) * canvas[:, r : r + size, c : c + size]
            )
            X[i] = canvas
        y[part] = d.target[pick]
    X += rng.normal(0, 0.05, X.shape).astype(np.float32)
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps timed per round (an epoch is 391)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    t0 = time.perf_counter()
    X, y = colour_digits()
    made = time.perf_counter() - t0
    print(f"data made in {made:.0f} s", flush=True)
    model = ResNet20().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    rec = nnv.Recorder(model, X, y, activations="pool", budget=None)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    gen = torch.Generator().manual_seed(0)

    def steps(k: int) -> float:
        model.train()
        t = time.perf_counter()
        for _ in range(k):
            idx = torch.randint(0, len(Xt), (128,), generator=gen)
            loss = nn.functional.cross_entropy(model(Xt[idx].to(device)), yt[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t) / k

    steps(2)
    capture_seconds(rec, device)  # warm-up: first kernels, the grid and the points moved to the device
    per_step, caps = [], []
    for r in range(args.rounds):
        per_step.append(steps(args.steps))
        caps.append(capture_seconds(rec, device))
        print(f"round {r}: {per_step[-1]:.3f} s/step, capture {caps[-1]:.2f} s", flush=True)
    step, cap = statistics.median(per_step), statistics.median(caps)
    epoch = step * EPOCH_STEPS
    frame = rec.run[-1]
    nbytes = sum(a.nbytes for a in frame.arrays.values())

    print(f"ResNet-20 ({sum(p.numel() for p in model.parameters()):,} weights), 50,000 32x32 RGB images, "
          f"batch 128, {args.threads} torch thread(s), device {device}")  # fmt: skip
    print(f"\n{rec!r}\n")
    print("| capture | seconds | one training epoch (391 steps) | capture / epoch | bytes per frame | target |")
    print("|---|---:|---:|---:|---:|---|")
    print(
        f"| full dashboard (2,000 points, 64x64 plane, weight budget) | {cap:.2f} s | {epoch:.0f} s "
        f"(extrapolated from {args.steps} steps x {args.rounds}: {step * 1e3:.0f} ms/step) | {cap / epoch:.3f} "
        f"| {nbytes:,} | <= 0.05 |",
        flush=True,
    )
    old = nnv.Recorder(model, X[:10_000], y[:10_000], points="all", weight_bytes=None, activations="pool", budget=None)
    old_cap = capture_seconds(old, device) * len(X) / 10_000
    print(
        f"| every image (points='all', every layer's weights; 10,000 timed, x5) | {old_cap:.1f} s | {epoch:.0f} s "
        f"| {old_cap / epoch:.3f} | - | - |"
    )


def capture_seconds(rec, device) -> float:
    t = time.perf_counter()
    rec.capture()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
