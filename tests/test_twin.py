"""The recorder keeps its model's eval-mode twin between captures (record/twin.py, KeptTwin): it must follow every
change a fresh twin would see, and leave the model's modes and statistics alone."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record.twin import KeptTwin, eval_twin


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))


def _agrees(kept: KeptTwin, model: nn.Module, x: torch.Tensor) -> nn.Module:
    """The kept twin, after checking it computes what a fresh twin computes on ``x``."""
    twin = kept.get(model)
    with torch.no_grad():
        assert torch.equal(twin.model(x), eval_twin(model).model(x))
    return twin.model


def test_kept_twin_is_reused_while_the_model_only_trains():
    model, kept, x = _net().train(), KeptTwin(), torch.randn(16, 3)
    first = _agrees(kept, model, x)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # training steps change weights in place and BatchNorm's running statistics
        loss = model(torch.randn(32, 3)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.eval()
        model.train()  # modes flip between captures: the twin never copies them
        stats = model[1].running_mean.clone(), model[1].running_var.clone(), int(model[1].num_batches_tracked)
        assert _agrees(kept, model, x) is first  # the same twin, computing with today's weights
        assert model.training and model[1].training and model[3].training
        assert torch.equal(model[1].running_mean, stats[0]) and torch.equal(model[1].running_var, stats[1])
        assert int(model[1].num_batches_tracked) == stats[2]  # evaluating it updated no statistics
    assert not any(m.training for m in first.modules())


def test_kept_twin_follows_replaced_parameters_and_buffers():
    model, kept, x = _net(), KeptTwin(), torch.randn(16, 3)
    first = _agrees(kept, model, x)
    model[0].weight = nn.Parameter(torch.randn(8, 3))  # a new Parameter object, in the shared dict
    model[1].running_mean = torch.full((8,), 0.5)  # a new buffer tensor
    model[4].register_buffer("unused", torch.zeros(1))
    assert _agrees(kept, model, x) is first


def test_kept_twin_is_rebuilt_when_the_model_changes():
    model, kept, x = _net(), KeptTwin(), torch.randn(16, 3)
    twins = [_agrees(kept, model, x)]

    def changed() -> None:
        twins.append(_agrees(kept, model, x))
        assert twins[-1] is not twins[-2]

    model[4] = nn.Linear(8, 2)  # a layer replaced
    changed()
    model.append(nn.Softmax(dim=1))  # a module added
    changed()
    calls = []
    handle = model[0].register_forward_hook(lambda m, i, o: calls.append(1))  # the user's hook fires on the twin
    changed()
    assert calls
    handle.remove()
    changed()
    model[3].p = 0.1  # an attribute set
    changed()
    model[3].extra = [nn.Identity()]  # a new attribute
    changed()
    model[3].extra.append(nn.Identity())  # a list of modules kept outside _modules, changed in place
    changed()
    assert _agrees(kept, model, x) is twins[-1]  # and kept again once nothing changes
    assert _agrees(kept, _net(), x) is not twins[-1]  # another model: its own twin


def test_capture_after_a_layer_is_replaced_draws_the_new_layer():
    from nnviz_widgets.run.codec import encode

    X, y = nnv.datasets.moons(200, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    rec = nnv.Recorder(model, X, y, grid=20, layers=[], outputs=False, histograms=False)
    before = rec.capture().arrays["boundary"]
    model[2] = nn.Linear(8, 2)
    frame = rec.capture()
    want = encode(rec._grid_probabilities().reshape(20, 20, -1), "uint8", lo=0.0, hi=1.0)  # a fresh twin
    assert frame.arrays["boundary"].data == want.data and frame.arrays["boundary"].data != before.data
    assert np.array_equal(frame.predictions, rec._probabilities("points", X[rec.rows]).argmax(axis=1))


def test_only_models_that_compute_alike_in_both_modes_skip_the_twin():
    from torch.nn.modules.module import register_module_forward_hook

    from nnviz_widgets.record.twin import mode_free

    class MyLinear(nn.Linear):  # a subclass may read self.training
        pass

    def mlp(*middle: nn.Module) -> nn.Sequential:
        return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), *middle, nn.Linear(8, 2))

    assert mode_free(mlp()) and mode_free(mlp(nn.Sequential(nn.Tanh(), nn.Identity())))
    assert not mode_free(mlp(nn.Dropout(0.1))) and not mode_free(mlp(nn.BatchNorm1d(8)))
    assert not mode_free(mlp(MyLinear(8, 8)))
    patched = mlp()
    patched[1].forward = lambda x: x  # an instance's own forward
    assert not mode_free(patched)
    hooked = mlp()
    handle = hooked[0].register_forward_pre_hook(lambda m, i: None)
    assert not mode_free(hooked)
    handle.remove()
    assert mode_free(hooked)
    handle = register_module_forward_hook(lambda m, i, o: None)
    try:
        assert not mode_free(hooked)  # a global hook may look at the mode too
    finally:
        handle.remove()

    X, y = nnv.datasets.moons(100, seed=0)
    plain = nnv.Recorder(mlp(), X, y, grid=10, layers=[], outputs=False, histograms=False)
    plain.capture()
    assert plain._twin._twin is None  # evaluated as itself: no twin was built
    dropout = nnv.Recorder(mlp(nn.Dropout(0.5)).train(), X, y, grid=10, layers=[], outputs=False, histograms=False)
    first, second = dropout.capture(), dropout.capture()
    assert dropout._twin._twin is not None and first.arrays["boundary"].data == second.arrays["boundary"].data
    probed = nnv.Recorder(mlp(), X, y, grid=10)  # probes hook the twin, never the model
    probed.capture()
    assert probed._twin._twin is not None and not probed.model[0]._forward_hooks
