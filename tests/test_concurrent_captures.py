"""Captures never change training (issue 18, item 1): captures evaluate an eval-mode twin of the model
(record/twin.py), so threads capturing at once, two recorders on one model and a training thread never see
each other's modes, and BatchNorm's running statistics are only ever updated by training."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record.twin import eval_twin


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def bn_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2)
    )


def data(n: int = 200):
    return nnv.datasets.moons(n, seed=0)


def run_threads(targets, timeout: float = 120) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(fn):
        def go():
            try:
                fn()
            except BaseException as err:  # noqa: BLE001 - reported by the test
                errors.append(err)

        return go

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread hung"
    return errors


def test_eight_threads_capturing_leave_the_model_in_train_mode_and_its_buffers_alone():
    X, y = data()
    model = bn_model().train()
    rec = nnv.Recorder(model, X, y, grid=12, outputs=True, activations="2")
    stats = {k: v.clone() for k, v in model.state_dict().items()}
    errors = run_threads([lambda: [rec.capture() for _ in range(6)]] * 8)
    assert not errors, errors
    assert all(m.training for m in model.modules()), "a capture left a module in eval mode"
    for k, v in model.state_dict().items():  # running_mean, running_var, num_batches_tracked, weights
        assert torch.equal(v, stats[k]), f"{k} changed by captures"
    assert len(rec.run) == 48 and rec.ticks == 48
    assert sorted(f.index for f in rec.run) == list(range(48))
    # every frame is the same evaluation: a capture ran in eval mode (Dropout off), whatever the other threads did
    first = rec.run[0].boundary
    assert all(np.array_equal(f.boundary, first) for f in rec.run)
    assert all(f.outputs["0"].shape == rec.run[0].outputs["0"].shape for f in rec.run)


def test_a_model_in_eval_mode_stays_in_eval_mode():
    X, y = data()
    model = bn_model().eval()
    model[3].train()  # a mixed state is restored exactly: nothing is switched at all
    rec = nnv.Recorder(model, X, y, grid=10)
    run_threads([lambda: [rec.capture() for _ in range(3)]] * 4)
    assert [m.training for m in model.modules()] == [False, False, False, False, True, False, False, False]


def test_a_training_thread_never_observes_eval_mode_while_others_capture():
    X, y = data()
    model = bn_model().train()
    rec_a = nnv.Recorder(model, X, y, grid=12, outputs=True)
    rec_b = nnv.Recorder(model, X, y, grid=16, activations="2")  # a second recorder on the same model
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    done = threading.Event()
    seen_eval: list[int] = []
    steps = [0]

    def train():
        try:
            for step in range(150):
                if not all(m.training for m in model.modules()):
                    seen_eval.append(step)
                before = model[1].num_batches_tracked.item()
                loss = nn.functional.cross_entropy(model(Xt), yt)
                # a training forward updates BatchNorm exactly once: no capture forward counted here
                assert model[1].num_batches_tracked.item() == before + 1
                opt.zero_grad()
                loss.backward()
                opt.step()
                steps[0] += 1
        finally:
            done.set()

    def capture(rec):
        def go():
            while not done.is_set():
                rec.capture()

        return go

    errors = run_threads([train] + [capture(rec_a)] * 4 + [capture(rec_b)] * 4)
    assert not errors, errors
    assert seen_eval == [], f"training saw eval mode at steps {seen_eval[:5]}"
    assert steps[0] == 150 and model[1].num_batches_tracked.item() == 150
    assert all(m.training for m in model.modules())
    assert len(rec_a.run) >= 2 and len(rec_b.run) >= 2
    for rec, shape in ((rec_a, (12, 12)), (rec_b, (16, 16))):
        assert all(f.boundary.shape[:2] == shape for f in rec.run)  # the two recorders' frames never mix
        assert [f.index for f in rec.run] == list(range(len(rec.run)))
    assert all(len(f.activations["2"]) == len(rec_b.run.sample) for f in rec_b.run)


def test_probe_hooks_never_fire_on_the_training_forward():
    X, y = data(100)
    model = bn_model()
    rec = nnv.Recorder(model, X, y, grid=10, outputs=True, activations="2")
    fired = []
    model[2].register_forward_hook(lambda *_: fired.append(1))  # the user's own hook still fires in captures
    rec.capture()
    assert fired, "a user hook did not fire during the capture"
    fired.clear()
    hooks = [len(m._forward_hooks) for m in model.modules()]
    model(torch.as_tensor(X))
    assert fired == [1] and [len(m._forward_hooks) for m in model.modules()] == hooks


def test_fit_in_the_background_with_captures_from_the_main_thread():
    X, y = data()
    model = bn_model()
    rec = nnv.fit(model, X, y, epochs=15, grid=10, show=False, background=True, val=0.2)
    while rec.training.state == "running":
        rec.capture(force=True)
    assert rec.training.join(60) and rec.training.state == "done", rec.training.error
    assert all(m.training for m in model.modules())
    assert model[1].num_batches_tracked.item() == 15 * 5  # 160 rows in batches of 32: captures counted nothing


def test_the_twin_shares_weights_and_keeps_modules_outside_the_tree_in_eval_mode():
    class Listed(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 4)
            self.shared = nn.Dropout(0.9)
            object.__setattr__(self, "stages", [self.shared, nn.Linear(4, 2), self.shared])

        def forward(self, x):
            for m in [self.a, *self.stages]:
                x = m(x)
            return x

    model = Listed().train()
    twin = eval_twin(model)
    assert twin.model.a.weight is model.a.weight
    assert twin.model.stages[0] is twin.model.stages[2] is twin.model.shared  # shared stays shared
    assert not any(m.training for m in twin.model.stages)
    x = torch.randn(50, 2)
    assert torch.equal(twin.model(x), twin.model(x))  # Dropout off: deterministic
    assert model.training and model.shared.training
