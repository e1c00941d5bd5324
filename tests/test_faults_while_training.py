"""Faults while training runs: divergence, a front-end that is gone or stuck, captures
from other threads, two recorders in one kernel, and the memory bound of long runs.

Nothing here asserts a duration: "never blocks" is tested by holding the comm shut and checking that training
finishes anyway (a liveness timeout far above any real cost); the costs are measured side by side in
``benchmarks/bench_reliability.py``.
"""

from __future__ import annotations

import json
import logging
import threading
import tracemalloc

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run.codec import decode
from nnviz_widgets.widgets import _stream

LIVENESS = 60  # s: only a hang comes near this


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(_stream, "IDLE", 0.05)
    monkeypatch.setattr(_stream, "BACKFILL_RATE", 1e9)


@pytest.fixture
def thread_errors():
    """Exceptions raised in any thread (sender, projector, curves) and errors logged by the package."""
    seen: list[str] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(f"{args.thread.name}: {args.exc_type.__name__}: {args.exc_value}")

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Keep(logging.ERROR)
    logging.getLogger("nnviz_widgets").addHandler(handler)
    yield seen
    threading.excepthook = previous
    logging.getLogger("nnviz_widgets").removeHandler(handler)


def listen(view) -> list[dict]:
    """Replace the view's comm send: returns the list its frames messages land in (JSON round-tripped, strict)."""
    got: list[dict] = []

    def send(content, buffers=None):
        got.append(json.loads(json.dumps(content, allow_nan=False)))  # what the comm would serialise

    view.send = send
    return got


def sent_indices(messages) -> set[int]:
    return {f["index"] for m in messages if m.get("type") == "frames" for f in m["frames"]}


def moons_recorder(**options) -> nnv.Recorder:
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(200, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    # no time budget: these tests count frames, and on a loaded machine a run of 150 steps can pass the budget's
    # warm-up (100 frames, 2 s of captures, 30 s of training) and skip captures, as the budget should
    return nnv.Recorder(model, X, y, **{"grid": 30, "budget": None, **options})


# -- divergence --------------------------------------------------------------------------------------
def diverge(rec: nnv.Recorder, *, inf_at: int | None = None, steps: int = 40) -> int:
    """SGD at lr=1e6 (or a batch with inf fed in on purpose at step ``inf_at``) until the loss is NaN, then a few
    more captures; returns the number of steps taken before the loss went non-finite."""
    opt = torch.optim.SGD(rec.model.parameters(), lr=1.0 if inf_at is not None else 1e6)
    X, y = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
    first_bad = None
    for step in range(steps):
        batch = X.clone()
        if step == inf_at:
            batch[:5] = torch.inf
        loss = nn.functional.cross_entropy(rec.model(batch), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())
        if first_bad is None and not np.isfinite(loss.item()):
            first_bad = step
        if first_bad is not None and step >= first_bad + 3:
            break
    assert first_bad is not None, "the model never diverged"
    return first_bad


@pytest.mark.parametrize("how", ["lr=1e6", "inf inputs"])
def test_a_diverging_model_is_recorded_and_every_view_keeps_streaming(how, quick, thread_errors, tmp_path):
    rec = moons_recorder(activations="2", sample=50)
    views = {
        "boundary": nnv.DecisionBoundary(rec),
        "mosaic": nnv.WeightMosaic(rec, layer="0"),
        "outputs": nnv.WeightMosaic(rec, layer="0", show="outputs"),
        "scatter": nnv.EmbeddingScatter(rec, layer="2"),
        "player": nnv.Player(rec),
    }
    inboxes = {name: listen(v) for name, v in views.items()}
    curves, dash = nnv.MetricCurves(rec), nnv.Dashboard(rec, views=["boundary", "curves"])
    first_bad = diverge(rec, inf_at=3 if how == "inf inputs" else None)

    run = rec.run
    assert [f.diverged for f in run][-1] and not run[0].diverged
    last = run[-1]
    assert np.isnan(last.boundary).all() and (last.predictions == -1).all()
    assert all(w.dtype == np.float32 for w in last.weights.values())  # huge, inf or NaN: all decode
    assert not np.isfinite(last.metrics["loss"]) and last.metrics["accuracy"] == pytest.approx(0.0)
    assert first_bad < len(run)
    for name, view in views.items():
        assert view.wait_sent(LIVENESS), f"{name} did not finish sending"
        assert sent_indices(inboxes[name]) == set(range(len(run))), f"{name} lost frames"
        flags = {f["index"]: f["diverged"] for m in inboxes[name] for f in m["frames"]}
        assert flags[len(run) - 1] is True, f"{name} does not mark the diverged frame"
        metrics = [f["metrics"]["loss"] for m in inboxes[name] for f in m["frames"] if f["index"] == len(run) - 1]
        assert metrics[0] is None, "a NaN metric travels as JSON null"
    curves.redraw()
    dash._update_status()
    assert "nan" in dash.status.value
    # the run survives the disk, the export and the video frame renderer
    from nnviz_widgets.run.store import RunWriter

    RunWriter(run, tmp_path / "r").close()
    back = nnv.open_run(tmp_path / "r")
    assert [f.diverged for f in back] == [f.diverged for f in run]
    assert all(a.arrays == b.arrays for a, b in zip(back, run, strict=True))
    assert np.isnan(back[-1].metrics["loss"])
    page = run.to_html(tmp_path / "d.html").read_text()
    spec = page.split("const VIEWS = ", 1)[1].split("\n", 1)[0]
    assert "NaN" not in spec and "Infinity" not in spec  # strict JSON in the page
    json.loads(spec.removesuffix(";"))
    from nnviz_widgets.export import render_frame

    assert render_frame(run, -1).size == render_frame(run, 0).size
    for v in [*views.values(), curves, dash]:
        v.close()
    assert not thread_errors, thread_errors


def test_the_codec_keeps_nan_and_inf_apart_from_values():
    """A diverging layer mixes huge finite weights, inf and NaN: finite ones keep their value, the rest NaN."""
    from nnviz_widgets.run.codec import encode

    w = np.array([[1e30, -1e30, np.inf], [np.nan, -np.inf, 0.5]], dtype=np.float32)
    for dtype in ("uint8", "uint16"):
        enc = encode(w, dtype)
        out = decode(enc.header, enc.data)
        assert np.array_equal(np.isnan(out), ~np.isfinite(w))
        assert out[0, 0] == pytest.approx(1e30, rel=1e-2) and out[0, 1] == pytest.approx(-1e30, rel=1e-2)


# -- the front-end is gone, stuck, or was never there ------------------------------------------------
def test_capture_never_waits_for_a_stuck_comm(quick):
    """The comm's send blocks (a browser that stopped reading): 200 captures still finish, then every frame goes
    out once the comm moves again."""
    rec = moons_recorder()
    view = nnv.DecisionBoundary(rec)
    gate, got = threading.Event(), []

    def stuck_send(content, buffers=None):
        gate.wait()
        got.append(content)

    view.send = stuck_send
    done = threading.Event()

    def train():
        for i in range(200):
            rec.capture(loss=float(i))
        done.set()

    trainer = threading.Thread(target=train, daemon=True)
    trainer.start()
    assert done.wait(LIVENESS), "capture() waited for the comm"
    assert len(rec.run) == 200 and view._sender.pending > 0  # the frames are still queued for the browser
    gate.set()
    assert view.wait_sent(LIVENESS)
    assert sent_indices(got) == set(range(200))
    view.close()


def test_no_browser_at_all_and_a_closed_view(quick):
    """No front-end ever connects (plain Python: no comm), and a view closed mid-run (tab closed, widget closed):
    capture goes on, the closed view's thread ends, a new view of the run gets the whole history."""
    rec = moons_recorder()
    nobody = nnv.DecisionBoundary(rec)  # the default comm: nothing listens
    closed = nnv.DecisionBoundary(rec)
    for i in range(10):
        rec.capture(loss=float(i))
    closed.close()
    for i in range(10):
        rec.capture(loss=float(i))
    thread = closed._sender._thread
    if thread is not None:
        thread.join(LIVENESS)
    assert closed._sender._thread is None
    assert nobody.wait_sent(LIVENESS)
    reopened = nnv.DecisionBoundary(rec)
    got = listen(reopened)
    reopened._on_custom(reopened, {"type": "sync", "have": [], "seen_seq": None}, [])  # a new page says hello
    assert reopened.wait_sent(LIVENESS)
    assert sent_indices(got) == set(range(20))
    nobody.close()
    reopened.close()


# -- threads ----------------------------------------------------------------------------------------
def test_capture_from_a_background_thread_while_views_come_and_go(quick, thread_errors):
    rec = moons_recorder()
    stop = threading.Event()

    def train():
        opt = torch.optim.Adam(rec.model.parameters(), 1e-2)
        X, y = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
        for _ in range(150):
            loss = nn.functional.cross_entropy(rec.model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.capture(loss=loss.item())
        stop.set()

    trainer = threading.Thread(target=train, name="trainer", daemon=True)
    trainer.start()
    kept, churn = [], 0
    # the main thread displays, syncs and closes views meanwhile: a few hundred, not as many as it can make (every
    # capture goes to every open view, so unbounded churn starves the trainer and grows without end)
    while not stop.is_set() and churn < 300:
        view = nnv.DecisionBoundary(rec)
        got = listen(view)
        view._on_custom(view, {"type": "sync", "have": [[0, 1]], "seen_seq": None}, [])
        if churn % 3 == 0:
            kept.append((view, got))
        else:
            view.close()
        churn += 1
        stop.wait(0.01)
    trainer.join(LIVENESS)
    assert len(rec.run) == 150 and [f.index for f in rec.run] == list(range(150))
    assert churn >= 2, "the views were not created while training ran"
    for view, got in kept:
        view._on_custom(view, {"type": "sync", "have": sorted_ranges(got), "seen_seq": None}, [])
        assert view.wait_sent(LIVENESS)
        assert sent_indices(got) | {0} == set(range(150)), "a view missed frames captured while it was created"
        view.close()
    assert not thread_errors, thread_errors


def sorted_ranges(messages) -> list[list[int]]:
    return [[i, i + 1] for i in sorted(sent_indices(messages))]


def test_two_recorders_in_one_kernel_stay_apart(quick, thread_errors):
    a = moons_recorder(grid=20)
    b = moons_recorder(grid=24)
    views = {"a": nnv.DecisionBoundary(a), "b": nnv.DecisionBoundary(b), "a2": nnv.WeightMosaic(a, layer="0")}
    inbox = {k: listen(v) for k, v in views.items()}

    def capture(rec, n):
        for i in range(n):
            rec.capture(loss=float(i))

    threads = [threading.Thread(target=capture, args=(a, 60)), threading.Thread(target=capture, args=(b, 45))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LIVENESS)
    assert (len(a.run), len(b.run)) == (60, 45)
    assert all(view.wait_sent(LIVENESS) for view in views.values())
    assert sent_indices(inbox["a"]) == set(range(60)) == sent_indices(inbox["a2"])
    assert sent_indices(inbox["b"]) == set(range(45))
    shapes = {k: {tuple(f["arrays"]["boundary"]["shape"]) for m in inbox[k] for f in m["frames"]} for k in ("a", "b")}
    assert shapes == {"a": {(20, 20, 2)}, "b": {(24, 24, 2)}}
    for v in views.values():
        v.close()
    assert not thread_errors, thread_errors


# -- long runs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("expected", [None, 10_000])
def test_ten_thousand_captures_stay_within_max_frames(expected):
    """10,000 captures with ``max_frames=200``: at most 200 frames are kept, so memory is 200 frames' bytes (the
    bound stated in docs/reliability.md), whatever the run's length; skipped captures cost no evaluation."""
    rec = moons_recorder(grid=16, max_frames=200, expected=expected, outputs=False)
    frame_bytes = rec.capture(loss=0.0).nbytes
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(1, 10_000):
        rec.capture(loss=float(i))
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert rec.ticks == 10_000 and 100 < len(rec.run) <= 200
    assert rec.run.nbytes == len(rec.run) * frame_bytes
    assert grown < 200 * frame_bytes + 2_000_000, f"python memory grew by {grown} B for {len(rec.run)} frames"
    epochs = [f.epoch for f in rec.run]
    assert epochs == sorted(epochs) and epochs[0] == 0
    if expected:  # evenly spread over the whole run
        assert epochs[-1] >= 9_900
    else:  # log-spaced after a dense first half: still recording near the end of the run
        assert epochs[-1] >= 9_000


def test_the_frame_size_bound_of_the_two_named_workloads():
    """What one frame costs (the bound's unit): moons on 200x200 and a 784-100 layer, as in docs/reliability.md."""
    moons = moons_recorder(grid=200)
    f = moons.capture(loss=0.0)
    assert f.arrays["boundary"].nbytes == 200 * 200 * 2  # uint8 per class
    X, y = nnv.datasets.digits(size=28)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    digits = nnv.Recorder(net, X[:500], y[:500], layers="0")
    g = digits.capture(loss=0.0)
    assert g.arrays["weights/0"].nbytes == 784 * 100 * 2  # uint16 per weight
