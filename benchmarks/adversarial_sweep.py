"""An adversarial sweep: many cases per class of what a careless or hostile user does, each judged by an oracle.

    .venv/bin/python benchmarks/adversarial_sweep.py            # every case (about 1-2 minutes on 2 cores)
    .venv/bin/python benchmarks/adversarial_sweep.py --quick    # 3 cases per class (what the test suite runs)
    .venv/bin/python benchmarks/adversarial_sweep.py --doc      # also write the table into docs/reliability.md

Classes: bad inputs to every public signature (found by introspection), hostile run files, damaged records,
concurrency, a full disk, leaks and hangs, numerics. Each case ends as one of:

- **handled well**: the right result, or an error of ours (TypeError/ValueError/OSError kinds, NotARunError...)
  whose message names the argument or file at fault; damaged runs keep exactly the frames before the damage;
- **silently wrong**: no error, but a result the oracle rejects (an invalid value accepted, a frame that differs,
  a frame lost, a training model left in eval mode, a thread left running);
- **unclear error**: an exception that does not name what was wrong, or one from deep inside numpy/torch;
- **hang**: no answer within the case's time limit (the case's thread is abandoned).

Cases are generated, not listed: the bad inputs take every parameter of every public callable and try values
of the wrong kind for its default; the damage tries cuts and bit flips at seeded random places.
"""

from __future__ import annotations

import argparse
import errno
import gc
import inspect
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.export import render_frame, to_html, to_video
from nnviz_widgets.run import store
from nnviz_widgets.run.codec import encode, encode_classes
from nnviz_widgets.run.records import NotARunError, RunWriteWarning, TornRecordWarning, encode_record
from nnviz_widgets.run.run import Frame

torch.set_num_threads(1)
OUTCOMES = ("handled well", "silently wrong", "unclear error", "hang")
HANG = 30.0  # seconds a case may take before it counts as a hang
QUICK = 3  # cases per class with --quick
DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"


class Wrong(Exception):
    """The oracle's verdict that a case ran without error but its result is wrong."""


def within(fn, limit: float = HANG, quiet: bool = True):
    """``(outcome, detail)`` of ``fn()`` in a thread: it returns normally (handled), raises Wrong (silently
    wrong), raises anything else (returned for the class to judge), or does not end within ``limit``."""
    out: dict = {}

    def go():
        try:
            if not quiet:  # the caller records warnings
                out["value"] = fn()
                return
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - judged by the caller
            out["error"] = err

    t = threading.Thread(target=go, daemon=True, name="sweep-case")
    t.start()
    t.join(limit)
    if t.is_alive():
        return "hang", f"no answer in {limit:.0f} s"
    if "error" in out:
        return "error", out["error"]
    return "ok", out.get("value")


# -- fixtures -----------------------------------------------------------------------------------------------
def moons(n: int = 60):
    return nnv.datasets.moons(n, seed=0)


def mlp(d: int = 2, k: int = 2) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, k))


def recorder(**options) -> nnv.Recorder:
    return nnv.Recorder(mlp(), *moons(), grid=options.pop("grid", 8), **options)


def captured(**options) -> nnv.Recorder:
    rec = recorder(**options)
    rec.capture(loss=1.0)
    rec.capture(loss=0.5)
    return rec


# -- 1. bad inputs to every public signature --------------------------------------------------------------
# One valid call per public callable; each argument (given here, or defaulted in the signature) is replaced in
# turn by values of the wrong kind for it, and the call must refuse them with an error naming the argument.
def valid_calls(tmp: Path) -> dict:
    return {
        "Recorder": (nnv.Recorder, lambda: ((mlp(), *moons()), {"grid": 8})),
        "Recorder.capture": (lambda *a, **k: recorder().capture(*a, **k), lambda: ((), {"epoch": 3, "loss": 0.5})),
        "DecisionBoundary": (nnv.DecisionBoundary, lambda: ((captured(),), {})),
        "WeightMosaic": (nnv.WeightMosaic, lambda: ((captured(),), {})),
        "WeightHistograms": (nnv.WeightHistograms, lambda: ((captured(histograms=True),), {})),
        "MetricCurves": (nnv.MetricCurves, lambda: ((captured(),), {})),
        "Dashboard": (nnv.Dashboard, lambda: ((captured(),), {"views": ["boundary", "curves"]})),
        "Player": (nnv.Player, lambda: ((captured(),), {})),
        "Compare": (nnv.Compare, lambda: ((captured(), captured()), {})),
        "EmbeddingScatter": (nnv.EmbeddingScatter, lambda: (moons(), {})),
        "fit": (nnv.fit, lambda: ((mlp(), *moons()), {"epochs": 1, "grid": 8, "show": False})),
        "watch": (nnv.watch, lambda: ((mlp(), *moons()), {"grid": 8, "show": False})),
        "embed": (nnv.embed, lambda: ((moons()[0],), {})),
        "datasets.moons": (nnv.datasets.moons, lambda: ((50,), {})),
        "datasets.circles": (nnv.datasets.circles, lambda: ((50,), {})),
        "datasets.xor": (nnv.datasets.xor, lambda: ((50,), {})),
        "datasets.spiral": (nnv.datasets.spiral, lambda: ((50,), {})),
        "datasets.blobs": (nnv.datasets.blobs, lambda: ((50,), {})),
        "export.to_html": (to_html, lambda: ((captured().run, tmp / "a.html"), {})),
        "export.to_video": (to_video, lambda: ((captured().run, tmp / "a.gif"), {"progress": False})),
        "export.render_frame": (render_frame, lambda: ((captured().run, 1), {})),
        "open_run": (nnv.open_run, lambda: ((written_run(tmp),), {})),
        "runs": (nnv.runs, lambda: ((written_run(tmp).parent,), {})),
    }


_WRITTEN: dict = {}


def written_run(tmp: Path) -> Path:
    if tmp not in _WRITTEN:
        path = tmp / "runs" / "good"
        rec = recorder(path=path, activations="1", histograms=True)
        rec.capture(loss=1.0)
        rec.capture(loss=0.5)
        rec.writer.close()
        _WRITTEN[tmp] = (path, rec)
    return _WRITTEN[tmp][0]


class Junk:
    """An object of no kind any argument takes."""

    def __repr__(self) -> str:
        return "<Junk>"


def wrong_values(name: str, default, annotation) -> list:
    """Values of the wrong kind for parameter ``name`` whose valid value (or default) is ``default`` (bytes are
    not among them for text: they decode to text, as traitlets' Unicode does)."""
    if isinstance(default, bool):
        return ["yes", 2, Junk()]
    if isinstance(default, int) and "float" not in str(annotation):
        # a size in pixels may be fractional (it is rounded); a count may not
        return [float("nan"), "3", True, Junk(), *([] if name in ("width", "height", "row_height") else [2.5])]
    if isinstance(default, (int, float)):
        return [float("nan"), float("inf"), "0.5", Junk()]
    if isinstance(default, str):
        return [7, Junk()]
    if isinstance(default, (tuple, list)) and default:
        return ["a string", [Junk()], Junk()]
    if isinstance(default, (np.ndarray, torch.Tensor, nn.Module)) or default is None:
        return [Junk()]
    return [Junk()]


def names_argument(err: BaseException, name: str) -> bool:
    text = str(err)
    ours = type(err).__module__.split(".")[0] in ("nnviz_widgets", "traitlets", "builtins")
    return ours and re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


def bad_input_cases(tmp: Path, rng: random.Random, quick: bool):
    for call, (func, make) in valid_calls(tmp).items():
        args, kwargs = make()
        target = func if not call == "Recorder.capture" else nnv.Recorder.capture
        params = inspect.signature(target).parameters
        names = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n != "self"]
        star = any(p.kind == p.VAR_POSITIONAL for p in params.values())  # given positionals go to *args
        slots = []
        for i, name in enumerate(names):
            if i < len(args) and not star:
                slots.append((name, i, args[i]))
            elif name in kwargs:
                slots.append((name, None, kwargs[name]))
            elif params[name].default is not inspect.Parameter.empty:
                slots.append((name, None, params[name].default))
        for name, position, value in slots:
            values = wrong_values(name, value, params[name].annotation)
            for bad in rng.sample(values, 1) if quick else values:
                yield f"{call}({name}={bad!r})", bad_input_case(func, make, name, position, bad)


def bad_input_case(func, make, name, position, bad):
    def run():
        args, kwargs = make()
        if position is not None:
            args = (*args[:position], bad, *args[position + 1 :])
        else:
            kwargs = {**kwargs, name: bad}
        outcome, detail = within(lambda: func(*args, **kwargs))
        if outcome == "ok":
            return "silently wrong", f"accepted {bad!r}"
        if outcome == "hang":
            return outcome, detail
        if names_argument(detail, name):
            return "handled well", ""
        return "unclear error", f"{type(detail).__name__}: {str(detail)[:160]}"

    return run


# -- 2. hostile run files -----------------------------------------------------------------------------------
def copy_run(tmp: Path, name: str) -> Path:
    good = written_run(tmp)
    path = tmp / "hostile" / name
    shutil.copytree(good, path, ignore=shutil.ignore_patterns(".lock", "*.lock"))
    return path


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def manifest_change(change):
    def apply(path: Path):
        m = json.loads((path / "manifest.json").read_text())
        (path / "manifest.json").write_text(json.dumps(change(m)))

    return apply


def write(name: str, content: bytes):
    return lambda path: (path / name).write_bytes(content)


def replace_with(name: str, make):
    def apply(path: Path):
        (path / name).unlink()
        make(path / name)

    return apply


def hostile_file_cases(tmp: Path, rng: random.Random, quick: bool):
    outside = tmp / "outside.bin"
    outside.write_bytes(b"secret" * 100)
    cases = {}
    for name in ("manifest.json", "frames.bin", "points.npy", "labels.npy", "sample.npy"):
        cases[f"{name} is a FIFO"] = replace_with(name, os.mkfifo)
        cases[f"{name} is a symlink out of the run"] = replace_with(name, lambda p: p.symlink_to(outside))
        cases[f"{name} is a directory"] = replace_with(name, lambda p: p.mkdir())
    for key in ("frames", "points", "labels", "sample", "index"):
        cases[f'"{key}": "/dev/zero"'] = manifest_change(lambda m, k=key: {**m, k: "/dev/zero"})
        cases[f'"{key}": "../outside.bin"'] = manifest_change(lambda m, k=key: {**m, k: "../outside.bin"})
        cases[f'"{key}": 5'] = manifest_change(lambda m, k=key: {**m, k: 5})
    for key, value in {
        "grid": {"xs": [0, 0, 1], "ys": [0, 1]},
        "classes": ["only one"],
        "layers": {"0": {"shape": ["4"]}},
        "axis_labels": "xy",
        "version": "2",
        "format": "something else",
    }.items():
        cases[f'"{key}": {json.dumps(value)}'] = manifest_change(lambda m, k=key, v=value: {**m, k: v})
    cases["manifest is a JSON list"] = write("manifest.json", b"[1, 2]")
    cases["manifest is 20 MB of spaces then {}"] = write("manifest.json", b" " * (20 << 20) + b"{}")
    cases["manifest is not UTF-8"] = write("manifest.json", b"\xff\xfe{}")
    cases["manifest from the future"] = manifest_change(lambda m: {**m, "version": 99})
    cases["labels.npy pickled"] = write("labels.npy", b"\x80\x04\x95" + b"\x00" * 40)
    cases["labels.npy of floats"] = write("labels.npy", npy(np.zeros(60)))
    cases["labels.npy out of range"] = write("labels.npy", npy(np.full(60, 7)))
    cases["points.npy of 3 columns"] = write("points.npy", npy(np.zeros((60, 3), np.float32)))
    cases["points.npy with NaN"] = write("points.npy", npy(np.full((60, 2), np.nan, np.float32)))
    cases["sample.npy beyond the points"] = write("sample.npy", npy(np.array([0, 999])))
    names = sorted(cases)
    for i, name in enumerate(rng.sample(names, 4) if quick else names):
        yield f"run file: {name}", hostile_file_case(tmp, f"h{i}", cases[name])


def hostile_file_case(tmp: Path, folder: str, damage):
    def run():
        path = copy_run(tmp, folder)
        damage(path)
        outcome, detail = within(lambda: [f.arrays for f in nnv.open_run(path)], limit=15)
        if outcome == "hang":
            return outcome, detail
        if outcome == "ok":  # the oracle: only damage a run can live with may open, and then only as it was
            good = [f.arrays for f in _WRITTEN[tmp][1].run]
            return ("handled well", "") if detail == good else ("silently wrong", "opened with other content")
        named = any(n in str(detail) for n in ("manifest.json", ".npy", ".bin", ".idx", "path=", '"', "version"))
        if isinstance(detail, (NotARunError, nnv.run.store.RunVersionError, OSError)) and named:
            return "handled well", ""
        return "unclear error", f"{type(detail).__name__}: {str(detail)[:160]}"

    return run


# -- 3. damaged records -------------------------------------------------------------------------------------
def damaged_record_cases(tmp: Path, rng: random.Random, quick: bool):
    good = written_run(tmp)
    data = (good / "frames.bin").read_bytes()
    ends, at = [], 0
    while at < len(data):
        at += 4 + 4 + int.from_bytes(data[at + 4 : at + 8], "little")
        at += sum(a.nbytes for a in _WRITTEN[tmp][1].run[len(ends)].arrays.values()) + 4
        ends.append(at)
    rec = _WRITTEN[tmp][1]
    n = 3 if quick else 25
    cases = []
    for _ in range(n):
        cut = rng.randrange(len(data))
        cases.append((f"cut at byte {cut}", data[:cut]))
    for _ in range(n):
        flip = rng.randrange(len(data))
        bit = bytearray(data)
        bit[flip] ^= 1 << rng.randrange(8)
        cases.append((f"bit flip at byte {flip}", bytes(bit)))
    for _ in range(2 if quick else 6):
        cases.append(("random bytes appended", data + rng.randbytes(rng.randrange(1, 400))))
    for name, make in inconsistent(rec).items() if not quick else list(inconsistent(rec).items())[:3]:
        cases.append((f"checksummed record with {name}", data + encode_record(make(rec.run[1]))))
    for i, (name, content) in enumerate(cases):
        yield f"frames.bin: {name}", damaged_case(tmp, f"d{i}", content, ends, rec)


def inconsistent(rec) -> dict:
    def changed(frame, **arrays):
        new = {**frame.arrays, **arrays}
        return Frame(frame.index + 1, frame.epoch, frame.metrics, False, {k: v for k, v in new.items() if v})

    n, grid = len(rec.run.points), (len(rec.run.grid.ys), len(rec.run.grid.xs))
    return {
        "labels of the wrong length": lambda f: changed(f, predictions=encode_classes(np.zeros(n + 3))),
        "a label out of range": lambda f: changed(f, predictions=encode_classes(np.full(n, 5))),
        "a grid of another shape": lambda f: changed(f, boundary=encode(np.full((grid[0] + 1, grid[1], 2), 0.5))),
        "12 classes for 2": lambda f: changed(
            f,
            boundary=encode(np.full((*grid, 12), 1 / 12), "uint8", 0, 1),
            predictions=encode_classes(np.arange(n) % 12),
        ),
        "no arrays": lambda f: Frame(f.index + 1, f.epoch, f.metrics, False, {}),
        "probabilities of 7": lambda f: changed(f, boundary=encode(np.full((*grid, 2), 7.0), "uint8", 0, 9)),
        "weights of another shape": lambda f: changed(f, **{"weights/0": encode(np.zeros((3, 3)), "uint16")}),
        "weights of an undeclared layer": lambda f: changed(f, **{"weights/x": encode(np.zeros(3), "uint16")}),
        "activations of other rows": lambda f: changed(f, **{"activations/1": encode(np.zeros((2, 8)), "uint16")}),
        "a histogram without its stats": lambda f: changed(f, **{"stats/weights/0": None}),
    }


def damaged_case(tmp: Path, folder: str, content: bytes, ends: list, rec):
    def run():
        path = copy_run(tmp, folder)
        (path / "frames.bin").write_bytes(content)
        (path / "frames.idx").unlink(missing_ok=True)
        original = (written_run(tmp) / "frames.bin").read_bytes()
        whole = sum(1 for e in ends if e <= len(content) and content[:e] == original[:e])
        outcome, detail = within(lambda: read_all(path), limit=15)
        if outcome == "hang":
            return outcome, detail
        if outcome == "error":
            return "unclear error", f"{type(detail).__name__}: {str(detail)[:160]}"
        frames, warned = detail
        expected = [f.arrays for f in rec.run][:whole]
        if frames != expected:  # exactly the whole frames before the first damaged byte, bit-identical
            return "silently wrong", f"read {len(frames)} frames, {whole} whole before the damage"
        if content != original and not warned:
            return "silently wrong", "damage without a TornRecordWarning"
        return "handled well", ""

    return run


def read_all(path: Path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = nnv.open_run(path)
        frames = [f.arrays for f in run]
        for f in run:  # what a view reads: every decoded array
            f.boundary, f.predictions, f.weights, f.outputs, f.activations, f.histograms  # noqa: B018
    return frames, any(issubclass(w.category, TornRecordWarning) for w in caught)


# -- 4. concurrency -----------------------------------------------------------------------------------------
def concurrency_cases(tmp: Path, rng: random.Random, quick: bool):
    tries = 2 if quick else 6
    for i in range(tries):
        yield f"8 threads capturing + 1 training thread (try {i})", threads_case(rng.randrange(1 << 30))
    for i in range(tries):
        yield f"two recorders on one model, two threads (try {i})", two_recorders_case()
    for i in range(0 if quick else 2):  # each try starts two Python processes (torch imported twice)
        yield f"two processes start a Recorder on one new path (try {i})", race_case(tmp / f"race{i}" / "run")


def threads_case(seed: int):
    def run():
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(2, 16), nn.Dropout(0.5), nn.ReLU(), nn.Linear(16, 2))
        rec = nnv.Recorder(model, *moons(), grid=8)
        seen_eval, stop = [], threading.Event()

        def train():
            opt = torch.optim.SGD(model.parameters(), lr=0.01)
            X, y = (torch.as_tensor(a) for a in moons())
            while not stop.is_set():
                if not model.training:
                    seen_eval.append(1)
                loss = nn.functional.cross_entropy(model(X.float()), y.long())
                opt.zero_grad()
                loss.backward()
                opt.step()

        def capture():
            for _ in range(4):
                rec.capture(force=True)

        trainer = threading.Thread(target=train)
        trainer.start()
        outcome, detail = within(
            lambda: [t.join() for t in start([threading.Thread(target=capture) for _ in range(8)])]
        )
        stop.set()
        trainer.join()
        if outcome == "hang":
            return outcome, detail
        if outcome == "error":
            return "unclear error", repr(detail)[:160]
        if seen_eval or not model.training:
            return "silently wrong", "training saw eval mode"
        if [f.index for f in rec.run] != list(range(32)):
            return "silently wrong", f"{len(rec.run)} frames, out of order or lost"
        return "handled well", ""

    return run


def start(threads):
    for t in threads:
        t.start()
    return threads


def two_recorders_case():
    def run():
        model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        model.train()
        before = model[1].running_mean.clone()
        a, b = (nnv.Recorder(model, *moons(), grid=8) for _ in range(2))
        threads = start(
            [threading.Thread(target=lambda r=r: [r.capture(force=True) for _ in range(5)]) for r in (a, b)]
        )
        outcome, detail = within(lambda: [t.join() for t in threads])
        if outcome != "ok":
            return ("hang", detail) if outcome == "hang" else ("unclear error", repr(detail)[:160])
        if not model.training or not torch.equal(before, model[1].running_mean):
            return "silently wrong", "a capture changed the model's mode or BatchNorm statistics"
        if len(a.run) != 5 or len(b.run) != 5:
            return "silently wrong", "frames lost"
        return "handled well", ""

    return run


RACE = textwrap.dedent(
    """
    import os, sys, time, torch.nn as nn, nnviz_widgets as nnv
    X, y = nnv.datasets.moons(40, seed=0)
    open(sys.argv[1] + f".ready{os.getpid()}", "w").close()  # both processes imported: then they race
    end = time.time() + 120
    while len([n for n in os.listdir(os.path.dirname(sys.argv[1])) if ".ready" in n]) < 2 and time.time() < end:
        time.sleep(0.001)
    try:
        rec = nnv.Recorder(nn.Linear(2, 2), X, y, grid=6, path=sys.argv[1])
        rec.capture(); rec.capture(); rec.writer.close()
        print("WON")
    except FileExistsError as err:
        print("REFUSED", err)
    """
)


def race_case(path: Path):
    def run():
        path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-c", RACE, str(path)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in "ab"]
        try:
            outs = [p.communicate(timeout=300)[0] for p in procs]
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            return "hang", "a racing writer did not finish"
        won = sum("WON" in o for o in outs)
        refused = sum("REFUSED" in o and "path=" in o for o in outs)
        if won == 1 and refused == 1 and len(nnv.open_run(path)) == 2:
            return "handled well", ""
        return "silently wrong" if won == 2 else "unclear error", f"{won} won, {refused} refused: {outs}"

    return run


# -- 5. full disk -------------------------------------------------------------------------------------------
def full_disk_cases(tmp: Path, rng: random.Random, quick: bool):
    for i in range(2 if quick else 10):
        first, failing = rng.randrange(0, 6), rng.randrange(1, 8)
        yield (
            f"ENOSPC on writes {first}..{first + failing - 1}, then room",
            full_disk_case(tmp / f"disk{i}", first, failing),
        )
    if not quick:
        yield "a real 2 MB tmpfs filled, then freed", real_tmpfs_case(tmp)


def full_disk_case(path: Path, first: int, failing: int):
    def run():
        real, calls = store._write_at, [0]

        def write_at(f, data, offset):
            if f.name.endswith("frames.bin"):
                calls[0] += 1
                if first < calls[0] <= first + failing:
                    real(f, bytes(data)[: len(data) // 3], offset)
                    raise OSError(errno.ENOSPC, "No space left on device")
            real(f, data, offset)

        store._write_at = write_at
        try:
            rec = recorder(path=path)
            heard = []
            rec.run.subscribe(lambda frame: heard.append(frame.index))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                outcome, detail = within(lambda: [rec.capture(loss=float(i)) for i in range(12)], quiet=False)
                told = any(issubclass(w.category, RunWriteWarning) for w in caught)
                rec.writer.close()
        finally:
            store._write_at = real
        if outcome != "ok":
            return ("hang", detail) if outcome == "hang" else ("unclear error", repr(detail)[:160])
        got = [f.arrays for f in nnv.open_run(path)]
        if got != [f.arrays for f in rec.run] or heard != list(range(12)):
            return "silently wrong", f"{len(got)} of 12 frames on disk, listeners heard {len(heard)}"
        if not told:
            return "silently wrong", "no RunWriteWarning"
        return "handled well", ""

    return run


def real_tmpfs_case(tmp: Path):
    def run():
        unshare = shutil.which("unshare")
        if not unshare or subprocess.run([unshare, "--user", "--map-root-user", "--mount", "true"]).returncode:
            return "handled well", "skipped: no user namespaces"
        test = Path(__file__).resolve().parents[1] / "tests" / "test_full_disk.py"
        sys.path.insert(0, str(test.parent))
        from test_full_disk import REAL_DISK

        (tmp / "mnt").mkdir(exist_ok=True)
        script = tmp / "tmpfs.py"
        script.write_text(REAL_DISK)
        cmd = [unshare, "--user", "--map-root-user", "--mount", sys.executable, str(script), str(tmp / "mnt")]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        if out.returncode:
            return "unclear error", out.stderr[-200:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
        ok = result["unsaved"] > 0 and result["left"] == 0 and result["read"] == 31 and result["same"]
        return ("handled well", "") if ok else ("silently wrong", str(result)[:160])

    return run


# -- 6. leaks and hangs -------------------------------------------------------------------------------------
def leak_cases(tmp: Path, rng: random.Random, quick: bool):
    yield "20 followed runs dropped without close()", followers_case(tmp)
    yield "open_run(follow=True) of a run that never appears, timeout=0.5", never_appears_case(tmp)
    yield "views re-created 5 times (re-run cells)", views_case()
    for value in (float("nan"), float("inf"), -1):
        yield (
            f"open_run(timeout={value})",
            refused_case(lambda v=value: nnv.open_run(tmp, follow=True, timeout=v), "timeout"),
        )
        yield f"open_run(poll={value})", refused_case(lambda v=value: nnv.open_run(tmp, follow=True, poll=v), "poll")


def followers_case(tmp: Path):
    def run():
        path = tmp / "followed"
        rec = recorder(path=path)
        rec.capture()
        count = lambda: sum(t.name == "nnviz-follow" for t in threading.enumerate())  # noqa: E731
        base = count()
        runs = [nnv.open_run(path, follow=True) for _ in range(20)]
        del runs
        gc.collect()
        end = time.monotonic() + 10
        while count() > base and time.monotonic() < end:
            time.sleep(0.02)
        rec.writer.close()
        return ("handled well", "") if count() == base else ("silently wrong", f"{count() - base} threads left")

    return run


def never_appears_case(tmp: Path):
    def run():
        outcome, detail = within(lambda: nnv.open_run(tmp / "never", follow=True, timeout=0.5), limit=10)
        if outcome == "error" and isinstance(detail, TimeoutError) and "timeout" in str(detail):
            return "handled well", ""
        return ("hang", detail) if outcome == "hang" else ("unclear error", repr(detail)[:160])

    return run


def views_case():
    def run():
        from nnviz_widgets.widgets import _stream

        rec = captured()
        names = ("nnviz-sender", "nnviz-state", "nnviz-curves", "nnviz-embed")
        count = lambda: sum(t.name.startswith(names) for t in threading.enumerate())  # noqa: E731
        for _ in range(5):
            views = [nnv.DecisionBoundary(rec), nnv.MetricCurves(rec)]
            rec.capture()
            del views
        gc.collect()
        end = time.monotonic() + _stream.IDLE_EXIT + 10
        while count() and time.monotonic() < end:
            time.sleep(0.05)
        return ("handled well", "") if count() == 0 else ("silently wrong", f"{count()} view threads left")

    return run


def refused_case(call, name: str):
    def run():
        outcome, detail = within(call, limit=10)
        if outcome == "error" and names_argument(detail, name):
            return "handled well", ""
        if outcome == "ok":
            return "silently wrong", "accepted"
        return ("hang", detail) if outcome == "hang" else ("unclear error", repr(detail)[:160])

    return run


# -- 7. numerics --------------------------------------------------------------------------------------------
def numeric_cases(tmp: Path, rng: random.Random, quick: bool):
    X, y = moons()
    cases = {
        "X x 1e39 (finite in float64, not float32)": (lambda: nnv.Recorder(mlp(), X * 1e39, y), "X"),
        "extent of +-1e308": (lambda: nnv.Recorder(mlp(), X, y, extent=(-1e308, 1e308, -1, 1)), "extent"),
        "X with a NaN": (lambda: nnv.Recorder(mlp(), np.where(np.arange(len(X))[:, None] == 3, np.nan, X), y), "X"),
        "X with inf": (lambda: nnv.Recorder(mlp(), np.where(np.arange(len(X))[:, None] == 3, np.inf, X), y), "X"),
        "y with None": (lambda: nnv.Recorder(mlp(), X, [None, *y[1:]]), "y"),
        "y mixing 1 and '1'": (lambda: nnv.Recorder(mlp(), X, [1, "1", *y[2:]]), "y"),
        "y of non-integral floats": (lambda: nnv.Recorder(mlp(), X, y + 0.5), "y"),
        "probabilities that are logits": (
            lambda: nnv.Recorder(mlp(), X, y, output="probabilities").capture(),
            "probabilities",
        ),
        "fit(lr=nan)": (lambda: nnv.fit(mlp(), X, y, lr=float("nan"), show=False), "lr"),
    }
    names = sorted(cases)
    for name in rng.sample(names, 3) if quick else names:
        call, arg = cases[name]
        yield f"numerics: {name}", refused_case(call, arg)


CLASSES = {
    "bad inputs (every parameter of every public callable, values of the wrong kind)": bad_input_cases,
    "hostile run files (FIFOs, symlinks out, devices, paths out, malformed manifests and .npy)": hostile_file_cases,
    "damaged records (cuts, bit flips, garbage, checksummed records that do not fit the run)": damaged_record_cases,
    "concurrency (threads capturing while training, two recorders, two writer processes)": concurrency_cases,
    "full disk (ENOSPC at random writes, a real tmpfs)": full_disk_cases,
    "leaks and hangs (dropped followers, re-run views, timeouts)": leak_cases,
    "numerics (beyond float32, NaN/inf, labels, logits as probabilities)": numeric_cases,
}


def sweep(
    quick: bool = False, seed: int = 0, only: str | None = None, per_class: int = QUICK, problems: list | None = None
) -> dict:
    """Run every case (``quick``: ``per_class`` of each class, drawn at random); returns {class: Counter of
    outcomes}, prints what was not handled well and adds it to ``problems`` as (class, case, outcome, detail)."""
    rng = random.Random(seed)
    counts: dict = defaultdict(Counter)
    problems = [] if problems is None else problems
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for cls, cases in CLASSES.items():
            if only and only not in cls:
                continue
            listed = list(cases(tmp, rng, quick))
            for name, case in rng.sample(listed, min(per_class, len(listed))) if quick else listed:
                try:
                    outcome, detail = case()
                except Exception as err:  # noqa: BLE001 - a case that fails outside its call: the sweep's own error
                    outcome, detail = "unclear error", f"the case itself failed: {err!r}"[:200]
                counts[cls][outcome] += 1
                if outcome != "handled well":
                    problems.append((cls.split(" (")[0], name, outcome, detail))
        _WRITTEN.clear()
    for cls, name, outcome, detail in problems:
        print(f"  [{outcome}] {cls}: {name} -> {detail}")
    return counts


def table(counts: dict) -> str:
    rows = ["| class | cases | " + " | ".join(OUTCOMES) + " |", "|---|---:|" + "---:|" * len(OUTCOMES)]
    for cls, c in counts.items():
        rows.append(f"| {cls} | {sum(c.values())} | " + " | ".join(str(c[o]) for o in OUTCOMES) + " |")
    total = sum((Counter(c) for c in counts.values()), Counter())
    rows.append(f"| **all** | {sum(total.values())} | " + " | ".join(str(total[o]) for o in OUTCOMES) + " |")
    return "\n".join(rows)


def write_doc(text: str, problems: list) -> None:
    doc = DOC.read_text()
    start, end = "<!-- sweep:start -->", "<!-- sweep:end -->"
    head, rest = doc.split(start)
    _, tail = rest.split(end)
    left = "".join(f"\n- {outcome}: {cls}: {name} ({detail})" for cls, name, outcome, detail in problems)
    left = f"\n\nNot handled well in that run:\n{left}" if left else ""
    DOC.write_text(f"{head}{start}\n{text}{left}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few cases per class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="run the classes whose name contains this")
    parser.add_argument("--doc", action="store_true", help="write the table into docs/reliability.md")
    args = parser.parse_args()
    t = time.perf_counter()
    problems: list = []
    counts = sweep(args.quick, args.seed, args.only, problems=problems)
    text = table(counts)
    print(text)
    print(f"\n{time.perf_counter() - t:.0f} s")
    if args.doc:
        write_doc(text, problems)


if __name__ == "__main__":
    main()
