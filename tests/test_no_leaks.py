"""No leaks, no hangs (issue 18, item 4): views hold threads only while they have work, a re-run fit does not
leave the earlier one training unseen, and ``Training.running()`` lists what still runs."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.widgets import _stream


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(_stream, "IDLE", 0.05)
    monkeypatch.setattr(_stream, "BACKFILL_RATE", 1e9)
    monkeypatch.setattr(_stream, "IDLE_EXIT", 0.3)


def nnviz_threads() -> list[str]:
    views = ("nnviz-sender", "nnviz-state", "nnviz-curves", "nnviz-embed")  # a view's own threads
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(views))


def settle(expected: int = 0, timeout: float = 30) -> list[str]:
    end = time.monotonic() + timeout
    while len(nnviz_threads()) > expected and time.monotonic() < end:
        time.sleep(0.05)
    return nnviz_threads()


def model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def test_re_run_view_cells_do_not_pile_up_threads(quick):
    X, y = nnv.datasets.moons(100, seed=0)
    rec = nnv.Recorder(model(), X, y, grid=10, activations="1")
    rec.capture()
    assert settle() == []
    for _ in range(4):  # a cell re-run four times: each makes a new dashboard, the old one is never closed
        dash = nnv.Dashboard(rec)
        for view in dash.views.values():
            if hasattr(view, "send"):
                view.send = lambda *_a, **_k: None
        for _ in range(3):
            rec.capture()  # every dashboard not closed still streams these: its threads run while they do
    dash.views["boundary"].wait_sent(30)
    assert settle() == [], "idle views kept their threads"
    rec.capture()  # a new frame wakes them again, and they end again
    assert dash.views["boundary"].wait_sent(30)
    assert settle() == []


def test_a_re_run_background_fit_stops_the_earlier_one_and_running_lists_them():
    X, y = nnv.datasets.moons(200, seed=0)
    net = model()
    first = nnv.fit(net, X, y, epochs=10_000, grid=6, show=False, background=True).training
    assert first in nnv.Training.running()
    with pytest.warns(RuntimeWarning, match="stopping the earlier fit"):
        second = nnv.fit(net, X, y, epochs=3, grid=6, show=False, background=True).training
    assert first.join(60) and first.state == "stopped"
    assert second.join(60) and second.state == "done"
    assert first not in nnv.Training.running() and second not in nnv.Training.running()
    other = nnv.fit(model(), X, y, epochs=10_000, grid=6, show=False, background=True).training
    assert nnv.Training.running() == [other]  # another model's fit is left alone by a new fit
    other.stop()
    assert other.join(60) and nnv.Training.running() == []


def followers() -> int:
    return sum(t.name == "nnviz-follow" for t in threading.enumerate())


def rss() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def test_followed_runs_dropped_without_close_end_their_threads_and_free_their_memory(tmp_path):
    import gc

    X, y = nnv.datasets.moons(300, seed=0)
    rec = nnv.Recorder(model(), X, y, grid=120, path=tmp_path / "run")  # left live: followers never see it end
    for _ in range(12):
        rec.capture()
    base, grown = followers(), []
    for _ in range(4):
        runs = [nnv.open_run(tmp_path / "run", follow=True) for _ in range(20)]
        assert followers() == base + 20
        assert all(len(r) == 12 and r[11].boundary.shape == (120, 120, 2) for r in runs)  # frames read: cached
        del runs  # never closed
        gc.collect()  # a run's frame index refers back to it: only the collector frees it
        end = time.monotonic() + 10
        while followers() > base and time.monotonic() < end:
            time.sleep(0.02)
        assert followers() == base
        grown.append(rss())
    assert grown[-1] - grown[0] < 20e6, [f"{g / 1e6:.0f} MB" for g in grown]  # rounds 2-4 reuse round 1's memory
    rec.writer.close()


@pytest.mark.parametrize(("option", "value"), [("timeout", float("nan")), ("poll", float("inf")), ("poll", 0)])
def test_open_run_refuses_non_finite_timeouts_and_polls(tmp_path, option, value):
    with pytest.raises(ValueError, match=option):
        nnv.open_run(tmp_path, follow=True, **{option: value})
