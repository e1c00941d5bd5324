"""The ``nnviz`` command: ``nnviz demo`` trains a small network on a built-in data set and writes a page that
plays its decision boundary forming; ``nnviz export`` turns a run into a page (any of its views) or a video;
``nnviz report`` writes the page to publish (summary and every view with what to look for); ``nnviz info``
summarises a run; ``nnviz ls ROOT`` lists the runs under a folder or a URL (``s3://bucket/runs``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

from . import datasets
from .export.html import VIEWS as PAGE_VIEWS
from .export.html import report, to_html
from .export.video import VIEWS as VIDEO_VIEWS
from .record import Recorder
from .run.store import NotARunError, RunVersionError, disk_size, open_run, runs

DEMOS = ("moons", "circles", "xor", "spiral", "blobs")


def train_demo(
    name: str, epochs: int, *, seed: int = 0, hidden: int = 16, lr: float = 1e-2, quiet: bool = False, path=None
):
    """Full-batch Adam on a 2-H-H-K ReLU network, one capture per epoch; returns the Recorder.

    With ``path`` the run is also written there as it grows (replacing a run already there).

    >>> rec = train_demo("xor", 3, quiet=True)
    >>> len(rec.run), rec.run[-1].epoch
    (3, 3)
    """
    X, y = getattr(datasets, name)(500, seed=seed)
    k = int(y.max()) + 1
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, k))
    rec = Recorder(model, X, y, path=path, overwrite=path is not None)
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
    rec = train_demo(args.dataset, args.epochs, seed=args.seed, path=out / "run")
    rec.writer.close()
    page = rec.run.to_html(out / f"{args.dataset}.html", title=f"nnviz_widgets demo: {args.dataset}")
    size = page.stat().st_size / 1e6
    elapsed = time.perf_counter() - start
    print(f"recorded {len(rec.run)} frames in {elapsed:.1f} s, written to {(out / 'run').resolve()}")
    print(f"wrote {page.resolve()} ({size:.1f} MB, self-contained): open it in a browser and press play")
    if args.video:
        try:
            video = rec.run.to_video(out / f"{args.dataset}.mp4", fps=args.fps)
        except (ImportError, RuntimeError) as err:  # the video extra or its ffmpeg is missing
            print(f"no video: {err}")
        else:
            print(f"wrote {video.resolve()} ({video.stat().st_size / 1e6:.1f} MB)")
    return 0


def _export(args: argparse.Namespace) -> int:
    run = open_run(args.run)
    if args.html:
        page = to_html(run, args.html, views=args.views, title=args.title)
        print(f"wrote {Path(page).resolve()} ({Path(page).stat().st_size / 1e6:.1f} MB, self-contained)")
    if args.video:
        video = run.to_video(args.video, view=args.view, fps=args.fps, progress=not args.quiet)
        print(f"wrote {Path(video).resolve()} ({Path(video).stat().st_size / 1e6:.1f} MB)")
    return 0


def _report(args: argparse.Namespace) -> int:
    page = report(open_run(args.run), args.output, views=args.views, title=args.title)
    print(f"wrote {Path(page).resolve()} ({Path(page).stat().st_size / 1e6:.1f} MB, self-contained)")
    return 0


def _info(args: argparse.Namespace) -> int:
    run = open_run(args.run)  # a torn last record warns on stderr and is reported below
    xs, ys = run.grid
    print(f"run       {run.url if '://' in str(args.run) else Path(args.run).resolve()}")
    print(f"frames    {len(run)}")
    if len(run):
        print(f"epochs    {run[0].epoch} .. {run[-1].epoch}")
    print(f"classes   {len(run.classes)}: {', '.join(run.classes)}")
    print(f"grid      {len(ys)}x{len(xs)}, x {xs[0]:.3g} .. {xs[-1]:.3g}, y {ys[0]:.3g} .. {ys[-1]:.3g}")
    print(f"points    {len(run.points)}, axes {' / '.join(run.axis_labels)}")
    print(f"stored    {disk_size(args.run) / 1e6:.2f} MB")
    if len(run):
        last = run[-1]
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in last.metrics.items()) or "none"
        print(f"last      epoch {last.epoch}: {metrics}{' (diverged)' if last.diverged else ''}")
    torn = run.torn
    print("torn      no" if torn is None else f"torn      yes: {torn.nbytes} bytes at byte {torn.offset} ({torn.why})")
    return 0


def _ls(args: argparse.Namespace) -> int:
    table = runs(args.root)
    print(table if len(table) else f"no runs under {args.root}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The ``nnviz`` command line: ``demo``, ``export``, ``report``, ``info`` and ``ls`` (``argv`` defaults to
    ``sys.argv[1:]``); returns the exit status.

    >>> main(["info", "no/such/run"])     # errors go to stderr, with a non-zero status
    1
    >>> main(["demo", "moons", "--epochs", "20", "--out", "out/demo", "--no-video"])   # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(prog="nnviz", description="Watch a neural network learn.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train on a built-in data set and write a page that plays it")
    demo.add_argument("dataset", nargs="?", default="moons", choices=DEMOS, help="data set (default: moons)")
    demo.add_argument("--epochs", type=int, default=100, help="epochs to train and record (default: 100)")
    demo.add_argument("--out", default="out/demo", help="folder for the page (default: out/demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed for the data and the weights (default: 0)")
    demo.add_argument("--no-video", dest="video", action="store_false", help="skip the MP4 (needs the video extra)")
    demo.add_argument("--fps", type=float, default=20, help="video frames per second (default: 20)")
    export = sub.add_parser("export", help="write a run on disk as an offline HTML page and/or an MP4/GIF")
    export.add_argument("run", help="a run directory or URL (written by Recorder(..., path=...) or nnviz demo)")
    export.add_argument("--html", help="the page to write, e.g. moons.html")
    export.add_argument("--video", help="the video to write: .mp4 or .gif (needs the video extra)")
    export.add_argument("--fps", type=float, default=10, help="video frames per second (default: 10)")
    export.add_argument("--views", nargs="+", choices=PAGE_VIEWS, help="views on the page (default: all the run has)")
    export.add_argument("--view", default="boundary", choices=VIDEO_VIEWS, help="what the video shows")
    export.add_argument("--title", help="the page's title")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    rep = sub.add_parser("report", help="write the page to publish: summary, every view with what to look for")
    rep.add_argument("run", help="a run directory")
    rep.add_argument("-o", "--output", default="report.html", help="the page to write (default: report.html)")
    rep.add_argument("--views", nargs="+", choices=PAGE_VIEWS, help="views on the page (default: all the run has)")
    rep.add_argument("--title", help="the page's title")
    info = sub.add_parser("info", help="summarise a run on disk: frames, epochs, classes, grid, size, last metrics")
    info.add_argument("run", help="a run directory or URL")
    ls = sub.add_parser("ls", help="list the runs under a folder or URL: frames, epoch, metrics, state, size")
    ls.add_argument("root", help="a folder or URL holding runs, e.g. runs/ or s3://bucket/runs")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs < 1:
            parser.error("--epochs must be at least 1")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            parser.error(f"--out {args.out!r} is a file; the demo writes a folder (a run, a page, a video) there")
        if args.video and not 0.1 <= args.fps <= 120:
            parser.error(f"--fps must be between 0.1 and 120 video frames per second, got {args.fps:g}")
        return _demo(args)
    if args.command == "export" and not (args.html or args.video):
        parser.error("export needs --html FILE and/or --video FILE")
    try:
        return {"export": _export, "report": _report, "info": _info, "ls": _ls}[args.command](args)
    except (FileNotFoundError, NotARunError, RunVersionError, ImportError, OSError, ValueError) as err:
        print(f"nnviz {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
