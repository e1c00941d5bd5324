"""The run store: write cost and follow latency on S3 (moto's server on 127.0.0.1, s3fs) next to a local disk;
memory over 1,000,000 captures of a disk-backed run; the open time of a 10 GB run. Prints markdown tables.

    .venv/bin/python benchmarks/bench_store.py            # all three (the 10 GB run needs ~11 GB of free disk)
    .venv/bin/python benchmarks/bench_store.py --gb 1     # a smaller "large" run
    .venv/bin/python benchmarks/bench_store.py --part follow   # only the S3-vs-local table (about a minute)

Everything runs with one torch thread. Latency is from ``capture()`` in a writer process to the frame's arrival
in a follower in this process, both on one machine (moto adds a local HTTP hop, not a network's).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import torch

import nnviz_widgets as nnv
from nnviz_widgets.run import store as st
from nnviz_widgets.run.codec import encode, encode_classes

torch.set_num_threads(1)

WRITER = textwrap.dedent(
    """
    import json, sys, time, torch, torch.nn as nn, nnviz_widgets as nnv
    torch.set_num_threads(1)
    X, y = nnv.datasets.moons(500, seed=0)
    options = json.loads(sys.argv[2]) or None
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)), X, y, grid=200,
                       path=sys.argv[1], storage_options=options)
    sys.stdin.readline()  # the run exists now: wait until the follower has opened it and subscribed
    for epoch in range(40):
        rec.capture(epoch=epoch, t=time.time())  # the follower measures from the moment capture() was called
        time.sleep(0.2)
    rec.writer.close()
    """
)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def moto() -> tuple[object, dict]:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, **keys).create_bucket(Bucket="bench")
    return server, {
        "key": "bench",
        "secret": "bench",
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
    }


def frames(n: int, grid: int = 200) -> list:
    run = nnv.Run(grid=nnv.run.Grid(np.linspace(0, 1, grid), np.linspace(0, 1, grid)), points=np.zeros((500, 2)),
                  labels=np.zeros(500, np.int64), classes=["0", "1"])  # fmt: skip
    rng = np.random.default_rng(0)
    for i in range(n):
        run.append(epoch=i, metrics={"loss": 1 / (i + 1)}, diverged=False,
                   arrays={"boundary": encode(rng.random((grid, grid, 2)), "uint8", 0, 1),
                           "predictions": encode_classes(rng.integers(0, 2, 500))})  # fmt: skip
    return list(run)


def write_and_follow(tmp: Path) -> list[tuple[str, str, str]]:
    server, s3 = moto()
    rows = []
    try:
        sample = frames(200)
        base = {}
        for name, where, options in (("local disk", tmp / "w", None), ("S3 (moto)", "s3://bench/w", s3)):
            empty = nnv.Run(grid=nnv.run.Grid(np.linspace(0, 1, 2), np.linspace(0, 1, 2)), points=np.zeros((1, 2)),
                            labels=np.zeros(1, np.int64), classes=["0", "1"])  # fmt: skip
            writer = st.RunWriter(empty, where, storage_options=options)
            costs = []
            t0 = time.perf_counter()
            for f in sample:
                t = time.perf_counter()
                writer._put(f)  # what the run calls on the capturing thread for each new frame
                costs.append(time.perf_counter() - t)
            writer.flush(timeout=None)
            total = time.perf_counter() - t0
            writer.close()
            base.setdefault("put", statistics.median(costs))
            base.setdefault("total", total / len(sample))
            rows.append((f"{name}: capture-thread cost per 80 KB frame (median)", ms(statistics.median(costs)),
                         f"{statistics.median(costs) / base['put']:.2f}x local"))  # fmt: skip
            rows.append((f"{name}: until stored, per frame (200 frames, incl. uploads)", ms(total / len(sample)),
                         f"{total / len(sample) / base['total']:.2f}x local"))  # fmt: skip
        lat_base = None
        for name, where, options in (("local disk", tmp / "f", None), ("S3 (moto)", "s3://bench/f", s3)):
            env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
            proc = subprocess.Popen([sys.executable, "-c", WRITER, str(where), json.dumps(options)], env=env,
                                    stdin=subprocess.PIPE, text=True)  # fmt: skip
            run = nnv.open_run(where, follow=True, timeout=300, storage_options=options)
            lat = []
            run.subscribe(lambda frame, lat=lat: lat.append(time.time() - frame.metrics["t"]))
            proc.stdin.write("go\n")  # subscribed: only now may the writer capture (the frames it measures)
            proc.stdin.close()
            proc.wait(300)
            deadline = time.monotonic() + 10
            while len(run) < 40 and time.monotonic() < deadline:
                time.sleep(0.05)
            run.close()
            lat.sort()
            med = statistics.median(lat)
            lat_base = lat_base or med
            rows.append((f"{name}: follow latency capture -> follower, default flush/poll (median / max)",
                         f"{ms(med)} / {ms(lat[-1])}", f"{med / lat_base:.1f}x local; {len(lat)} frames"))  # fmt: skip
    finally:
        server.stop()
    return rows


def memory_over_captures(tmp: Path, captures: int = 1_000_000, every: int = 500) -> list[tuple[str, ...]]:
    """A training loop's ``capture()`` called ``captures`` times on a disk-backed recorder with ``every=``: RSS
    at several points (growth since the first frame), the index and cache the run holds, the cost of a dropped
    call. ``budget=None`` so that the schedule alone decides which calls are evaluated."""
    proc = psutil.Process()
    X, y = nnv.datasets.moons(500, seed=0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    rec = nnv.Recorder(model, X, y, grid=64, path=tmp / "million", every=every, budget=None)
    rec.capture(loss=1.0)
    rss0 = proc.memory_info().rss
    marks = sorted({captures // 100, captures // 10, captures // 4, captures // 2, 3 * captures // 4, captures})
    rows, evaluated, t0 = [], 0.0, time.perf_counter()
    loss = torch.tensor(1.0)  # a training loop passes its loss tensor; the run stores one float per kept frame
    for i in range(1, captures):
        t = time.perf_counter()
        if rec.capture(loss=loss) is not None:
            evaluated += time.perf_counter() - t
        if i + 1 in marks:
            frames = rec.run._frames
            index = frames._entries.nbytes + sum(c.nbytes for c in frames._metrics.values())
            rows.append((f"{i + 1:,}", f"{len(rec.run):,}", f"{(proc.memory_info().rss - rss0) / 1e6:.1f} MB",
                         f"{index / 1e3:.0f} KB", f"{frames._cache_bytes / 1e6:.1f} MB",
                         f"{st.disk_size(tmp / 'million') / 1e6:.0f} MB"))  # fmt: skip
    wall = time.perf_counter() - t0
    rec.writer.close()
    kept = len(rec.run) - 1
    dropped = captures - 1 - kept
    rows.append(("wall (all calls)", f"{wall:.0f} s", f"{kept:,} evaluated: {evaluated / kept * 1e3:.1f} ms each",
                 f"{dropped:,} dropped: {(wall - evaluated) / dropped * 1e6:.1f} µs each", "", ""))  # fmt: skip
    return rows


def index_of_a_million(tmp: Path, n: int = 1_000_000) -> list[tuple[str, ...]]:
    """The index alone over ``n`` frames: a run of ``n`` tiny frames (two metrics each) written straight to disk,
    then opened in a fresh process that reports its RSS growth and the index's bytes."""
    path = tmp / "index"
    empty = nnv.Run(grid=nnv.run.Grid(np.linspace(0, 1, 2), np.linspace(0, 1, 2)), points=np.zeros((1, 2)),
                    labels=np.zeros(1, np.int64), classes=["0", "1"])  # fmt: skip
    writer = st.RunWriter(empty, path)
    tiny = {"boundary": encode(np.full((2, 2, 2), 0.5), "uint8", 0, 1),
            "predictions": encode_classes(np.zeros(1, np.int64))}  # fmt: skip
    t0 = time.perf_counter()
    for i in range(n):
        writer._put(st.Frame(i, i, {"loss": 1 / (i + 1), "accuracy": 0.5}, False, tiny))
    writer.close()
    wrote = time.perf_counter() - t0
    probe = textwrap.dedent(
        """
        import sys, time, psutil, nnviz_widgets as nnv
        proc = psutil.Process(); rss0 = proc.memory_info().rss
        t = time.perf_counter(); run = nnv.open_run(sys.argv[1]); opened = time.perf_counter() - t
        f = run._frames
        index = f._entries.nbytes + sum(c.nbytes for c in f._metrics.values())
        print(len(run), proc.memory_info().rss - rss0, index, opened)
        """
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True, check=True)
    count, rss, index, opened = out.stdout.split()
    assert int(count) == n, out
    return [
        (f"{n:,} frames (2 metrics each) on disk", f"{st.disk_size(path) / 1e6:.0f} MB", f"written in {wrote:.0f} s"),
        ("open_run in a fresh process", f"{float(opened):.2f} s", ""),
        (
            "index held (entries + metric columns)",
            f"{int(index) / 1e6:.1f} MB",
            f"{int(index) / n:.0f} bytes per frame",
        ),
        ("RSS growth of that process at open_run", f"{int(rss) / 1e6:.1f} MB", "target <= 200 MB"),
    ]


def open_large(tmp: Path, gb: float) -> list[tuple[str, str, str]]:
    """Write a run of ``gb`` GB of 200x200 frames (80 KB each) straight to disk, then open it."""
    path = tmp / "large"
    one = frames(1)[0]
    empty = nnv.Run(grid=nnv.run.Grid(np.linspace(0, 1, 200), np.linspace(0, 1, 200)), points=np.zeros((500, 2)),
                    labels=np.zeros(500, np.int64), classes=["0", "1"])  # fmt: skip
    writer = st.RunWriter(empty, path)
    record = len(st.encode_record(one))
    n = int(gb * 1e9 // record)
    t0 = time.perf_counter()
    for i in range(n):
        writer._put(type(one)(i, i, {"loss": 1 / (i + 1), "accuracy": 0.5}, False, one.arrays))
    writer.close()
    wrote = time.perf_counter() - t0
    size = st.disk_size(path)
    t = time.perf_counter()
    os.sync()  # the 10 GB just written reach the disk first: what is timed below is opening, not writeback
    synced = time.perf_counter() - t
    probe = "import sys, time, nnviz_widgets as nnv\nt, c = time.perf_counter(), time.process_time()\n"
    probe += "nnv.open_run(sys.argv[1])\nprint(time.perf_counter() - t, time.process_time() - c)"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    fresh = []
    for _ in range(3):  # a new kernel opening the run: the usual case
        out = subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True)
        fresh.append(tuple(map(float, out.stdout.split())))
    fresh_wall, fresh_cpu = statistics.median(w for w, _ in fresh), statistics.median(c for _, c in fresh)
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t, c = time.perf_counter(), time.process_time()
    run = nnv.open_run(path)
    opened, opened_cpu = time.perf_counter() - t, time.process_time() - c
    rss = proc.memory_info().rss - rss0
    index = run._frames._entries.nbytes + sum(c.nbytes for c in run._frames._metrics.values())
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(run), 200)
    t = time.perf_counter()
    for i in picks:
        _ = run[int(i)].boundary
    per_frame = (time.perf_counter() - t) / len(picks)
    t = time.perf_counter()
    run.metric("loss")
    curve = time.perf_counter() - t
    old = st.VERIFY_BYTES, st.VERIFY_FRAMES
    st.VERIFY_BYTES = st.VERIFY_FRAMES = 1 << 62  # what version 1 did: read and check every record at open
    t = time.perf_counter()
    scanned = nnv.open_run(path)
    scan = time.perf_counter() - t
    st.VERIFY_BYTES, st.VERIFY_FRAMES = old
    assert len(scanned) == len(run) == n
    return [
        (f"write a {size / 1e9:.1f} GB run ({n:,} frames of 80 KB)", f"{wrote:.0f} s", ""),
        ("os.sync() after writing", f"{synced:.1f} s", "before anything is opened"),
        (
            "open_run in a fresh process (reads frames.idx only; median of 3)",
            f"{fresh_wall:.2f} s",
            f"CPU {fresh_cpu:.2f} s",
        ),
        (
            "open_run in the writing process",
            f"{opened:.2f} s",
            f"CPU {opened_cpu:.2f} s; {opened / scan:.3f}x reading every record",
        ),
        ("open_run reading and checking every record (the version-1 way)", f"{scan:.1f} s", "1.00x"),
        ("memory held after open_run (RSS growth)", f"{rss / 1e6:.1f} MB", f"index {index / 1e6:.1f} MB"),
        ("read one random frame on demand (memory-mapped, mean of 200)", ms(per_frame), "CRC checked"),
        ("one metric over every frame (curves)", ms(curve), f"{n:,} values from the index"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=10.0, help="size of the large run to open (default 10)")
    parser.add_argument("--captures", type=int, default=1_000_000)
    parser.add_argument(
        "--part",
        choices=("all", "follow", "memory", "open"),
        default="all",
        help="one part only: follow (S3 vs local disk), memory (a long run; the index of 1,000,000 frames) or open "
        "(a large run)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nnviz-bench-store-"))
    plain = ("measure", "result", "note")
    parts = {
        "follow": ("Write cost and follow latency: S3 (moto) vs local disk", plain, lambda: write_and_follow(tmp)),
        "memory": (
            f"Memory over {args.captures:,} captures of a disk-backed run (moons, grid=64, every=500, budget=None)",
            ("captures", "frames", "RSS growth since frame 1", "index", "frame cache", "on disk"),
            lambda: memory_over_captures(tmp, args.captures),
        ),
        "memory-index": ("The index of 1,000,000 frames", plain, lambda: index_of_a_million(tmp)),
        "open": (f"Opening a {args.gb:g} GB run", plain, lambda: open_large(tmp, args.gb)),
    }
    try:
        for part, (title, header, table) in parts.items():
            if args.part not in ("all", part, part.split("-")[0]):
                continue
            rows = table()
            print(f"\n### {title}\n\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
            for r in rows:
                print("| " + " | ".join(r) + " |")
            print("\nload average at the end (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
