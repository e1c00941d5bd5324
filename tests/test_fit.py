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


def test_loss_is_the_mean_of_the_steps_since_the_last_frame(moons):
    X, y = moons
    seen = []

    def loss(logits, target):
        value = nn.functional.cross_entropy(logits, target)
        seen.append(value.item())
        return value

    rec = nnv.fit(net(), X, y, epochs=3, batch_size=50, every=4, loss=loss, grid=10, show=False)  # 6 steps/epoch
    frames = list(rec.run)
    assert [f.epoch for f in frames] == [0, 4, 8, 12, 16, 18]
    for before, frame in zip(frames, frames[1:], strict=False):
        steps = seen[before.epoch : frame.epoch]
        assert frame.metrics["loss"] == pytest.approx(np.mean(steps), rel=1e-12, abs=0)


def test_losses_come_to_the_host_in_batches():
    from nnviz_widgets.train import _Losses

    losses = _Losses()
    assert not losses and losses.mean() is None
    values = np.random.default_rng(0).random(10_000).astype(np.float32)
    for v in values:
        losses.add(torch.tensor(v))
    assert losses and losses.mean() == pytest.approx(float(values.astype(np.float64).mean()), rel=1e-12)
    assert not losses and losses.mean() is None  # it starts over


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


def test_every_means_the_same_in_fit_and_in_your_own_loop(moons):
    """fit(every=n) is exactly a loop that calls rec.capture() after each optimizer step with Recorder(every=n)."""
    X, y = moons
    fitted = nnv.fit(net(), X, y, epochs=2, batch_size=40, every=3, grid=10, show=False, optimizer="sgd", lr=0.1)
    assert fitted.schedule.every == 3
    model = net()
    rec = nnv.Recorder(model, X, y, grid=10, every=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    Xt, yt = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
    gen = torch.Generator().manual_seed(0)  # fit's own shuffling
    rec.capture()  # the untrained network
    for _ in range(2):
        order = torch.randperm(len(Xt), generator=gen)
        for start in range(0, len(Xt), 40):
            idx = order[start : start + 40]
            loss = nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.capture()
    steps = 2 * 8
    own = [f.epoch for f in rec.run]
    assert own == list(range(0, steps + 1, 3))
    assert [f.epoch for f in fitted.run] == own + [steps]  # fit also keeps the final step
    np.testing.assert_allclose(fitted.run[3].boundary, rec.run[3].boundary, atol=1e-6)  # same step, same network


def test_due_says_which_captures_are_kept(moons):
    X, y = moons
    rec = nnv.Recorder(net(), X, y, grid=10, every=4, max_frames=4)
    due, kept = [], []
    for _ in range(30):
        due.append(rec.due())
        kept.append(rec.capture() is not None)
    assert due == kept and [i for i, k in enumerate(kept) if k] == [0, 4, 8, 16]  # 2 at stride 4, 1 at 8, 1 at 16


def test_fit_every_with_max_frames_thins_steps_evenly(moons):
    X, y = moons
    rec = nnv.fit(net(), X, y, epochs=5, batch_size=30, every=2, max_frames=6, grid=10, show=False)  # 50 steps
    epochs = [f.epoch for f in rec.run]
    assert len(epochs) <= 6 and epochs[0] == 0 and epochs[-1] == 50
    assert len(set(np.diff(epochs[:-1]))) == 1 and epochs[1] % 2 == 0  # evenly spaced, multiples of every
    with pytest.raises(TypeError, match="expected="):
        nnv.fit(net(), X, y, epochs=1, expected=3, show=False)


def test_watch_passes_every_to_its_recorder(moons):
    X, y = moons
    rec, dash = nnv.watch(net(), X, y, grid=10, every=2, show=False)
    assert [rec.capture() is not None for _ in range(4)] == [True, False, True, False]
    dash.close()
