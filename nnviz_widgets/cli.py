"""The ``nnviz`` command: ``nnviz demo`` trains a small network on a built-in data set and writes a page that
plays its decision boundary forming.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

from . import datasets
from .record import Recorder

DEMOS = ("moons", "circles", "xor", "spiral", "blobs")


def train_demo(name: str, epochs: int, *, seed: int = 0, hidden: int = 16, lr: float = 1e-2, quiet: bool = False):
    """Full-batch Adam on a 2-H-H-K ReLU network, one capture per epoch; returns the Recorder."""
    X, y = getattr(datasets, name)(500, seed=seed)
    k = int(y.max()) + 1
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, k))
    rec = Recorder(model, X, y)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for epoch in range(1, epochs + 1):
        model.train()
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        frame = rec.capture(epoch=epoch, loss=loss.item())
        if not quiet and (epoch == 1 or epoch % 10 == 0 or epoch == epochs):
            print(f"  epoch {epoch:4d}  loss {frame.metrics['loss']:.4f}  accuracy {frame.metrics['accuracy']:.3f}")
    return rec


def _demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    print(f"nnviz demo: training a 2-16-16 MLP on {args.dataset} for {args.epochs} epochs, recording each one")
    start = time.perf_counter()
    rec = train_demo(args.dataset, args.epochs, seed=args.seed)
    page = rec.run.to_html(out / f"{args.dataset}.html", title=f"nnviz_widgets demo: {args.dataset}")
    size = page.stat().st_size / 1e6
    print(f"recorded {len(rec.run)} frames in {time.perf_counter() - start:.1f} s")
    print(f"wrote {page.resolve()} ({size:.1f} MB, self-contained): open it in a browser and press play")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nnviz", description="Watch a neural network learn.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train on a built-in data set and write a page that plays it")
    demo.add_argument("dataset", nargs="?", default="moons", choices=DEMOS, help="data set (default: moons)")
    demo.add_argument("--epochs", type=int, default=100, help="epochs to train and record (default: 100)")
    demo.add_argument("--out", default="out/demo", help="folder for the page (default: out/demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed for the data and the weights (default: 0)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs < 1:
            parser.error("--epochs must be at least 1")
        return _demo(args)
    return 2  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
