"""fit(): honest mini-batch training, per-epoch metrics, capture frequency, thinning, background stop."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record.schedule import CaptureSchedule


def net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))


@pytest.fixture(scope="module")
def moons():
    return nnv.datasets.moons(300, noise=0.2, seed=0)


def test_fit_trains_and_records_every_epoch(moons):
    X, y = moons
    rec = nnv.fit(net(), X, y, epochs=8, val=0.25, grid=20, show=False)
    assert [f.epoch for f in rec.run] == list(range(9))  # frame 0: untrained
    first, last = rec.run[1].metrics, rec.run[-1].metrics
    assert set(last) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert "loss" not in rec.run[0].metrics and "val_loss" in rec.run[0].metrics
    assert last["loss"] < first["loss"] and last["val_accuracy"] > 0.7
    assert len(rec.X) == 225  # the validation quarter is held out of training and of the recorder's data
    assert rec.training.state == "done" and rec.training.epoch == 8


def test_fit_takes_one_optimizer_step_per_mini_batch(moons):
    X, y = moons
    calls = []
    model = net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    original = opt.step
    opt.step = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    nnv.fit(model, X, y, epochs=3, batch_size=50, optimizer=opt, grid=10, show=False)
    assert len(calls) == 3 * 6


def test_every_n_steps_and_max_frames(moons):
    X, y = moons
    rec = nnv.fit(net(), X, y, epochs=4, batch_size=30, every=5, grid=10, show=False)  # 10 steps per epoch
    assert [f.epoch for f in rec.run] == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    rec = nnv.fit(net(), X, y, epochs=60, batch_size=300, max_frames=10, grid=10, show=False)
    epochs = [f.epoch for f in rec.run]
    assert len(epochs) <= 10 and epochs[0] == 0 and epochs[-1] == 60
    assert len(set(np.diff(epochs[:-1]))) == 1  # evenly spaced, the last one forced


def test_thinning_never_deletes_a_frame():
    s = CaptureSchedule(max_frames=16)
    kept = []
    for tick in range(10_000):
        if s.keep(tick, len(kept)):
            kept.append(tick)
    assert len(kept) <= 16 and kept[:8] == list(range(8)) and kept == sorted(kept)
    for every, m, n in [(1, 10, 100), (3, 7, 50), (1, 50, 40), (2, 5, 5)]:
        s = CaptureSchedule(every=every, max_frames=m, expected=n)
        assert sum(s.keep(t, 0) for t in range(n)) + 1 <= m
    with pytest.raises(ValueError, match="max_frames"):
        CaptureSchedule(max_frames=1)


def test_recorder_every_and_force(moons):
    X, y = moons
    rec = nnv.Recorder(net(), X, y, grid=10, every=3)
    frames = [rec.capture(loss=1.0) for _ in range(7)]
    assert [f is not None for f in frames] == [True, False, False, True, False, False, True]
    assert [f.epoch for f in rec.run] == [0, 3, 6]
    assert rec.capture(force=True).epoch == 7


def test_background_training_stops_after_the_current_epoch(moons):
    X, y = moons
    rec = nnv.fit(net(), X, y, epochs=10_000, grid=10, show=False, background=True)
    deadline = time.monotonic() + 30
    while len(rec.run) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    dash = nnv.Dashboard(rec, views=["curves"], training=rec.training)
    dash.stop_button.click()
    assert rec.training.join(30), "training did not stop"
    assert rec.training.state == "stopped" and rec.training.epoch < 10_000
    assert rec.run[-1].epoch == rec.training.epoch  # the epoch in progress still got its frame
    assert dash.stop_button.disabled
    dash.close()


def test_bad_arguments_name_themselves(moons):
    X, y = moons
    with pytest.raises(ValueError, match="epochs"):
        nnv.fit(net(), X, y, epochs=0, show=False)
    with pytest.raises(ValueError, match="optimizer"):
        nnv.fit(net(), X, y, optimizer="adagrad", show=False)
    with pytest.raises(TypeError, match="unexpected keyword"):
        nnv.fit(net(), X, y, epocs=3, show=False)


def test_watch_returns_recorder_and_dashboard(moons):
    X, y = moons
    rec, dash = nnv.watch(net(), X, y, grid=10, show=False)
    rec.capture(loss=0.5)
    assert isinstance(dash, nnv.Dashboard) and len(rec.run) == 1
    dash.close()
