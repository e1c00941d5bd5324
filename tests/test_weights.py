"""The weight probe: what each capture records about every layer, and how it fails."""

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record.weights import encode_weights, weight_layers


@pytest.fixture
def digits():
    X, y = nnv.datasets.digits()
    return X[:300], y[:300]


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))


def test_every_weight_layer_recorded_and_read_back(digits):
    model = mlp()
    rec = nnv.Recorder(model, *digits, grid=20)
    frame = rec.capture()
    assert list(frame.weights) == ["1", "3", "5"]
    assert list(rec.run.layers) == ["1", "3", "5"]
    assert rec.run.layers["1"]["input"] and not rec.run.layers["3"]["input"]
    for name in ("1", "3", "5"):
        w = dict(model.named_modules())[name].weight.detach().numpy()
        got = frame.weights[name]
        assert got.shape == w.shape and got.dtype == np.float32
        step = np.abs(w).max() / 32767  # uint16 symmetric about zero: one code step
        assert np.abs(got - w).max() <= step * 0.51
        assert (np.sign(got) == np.sign(w))[np.abs(w) > step].all()
    assert frame.arrays["weights/1"].header["dtype"] == "uint16"
    assert frame.outputs == {}  # 64 features: no neuron-output maps unless asked


def test_frames_follow_training(digits, train):
    rec = nnv.Recorder(mlp(), *digits, grid=20, layers="1")
    train(rec, epochs=3)
    assert list(rec.run[0].weights) == ["1"]
    assert not np.array_equal(rec.run[0].weights["1"], rec.run[2].weights["1"])
    np.testing.assert_allclose(rec.run[2].weights["1"], rec.model[1].weight.detach().numpy(), atol=1e-4)


def test_models_that_are_not_sequential(moons):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.ModuleDict({"fc1": nn.Linear(2, 8), "act": nn.Tanh()})
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.encoder["act"](self.encoder["fc1"](x)))

    net = Net()
    rec = nnv.Recorder(net, *moons, grid=30)
    frame = rec.capture()
    assert list(frame.weights) == ["encoder.fc1", "head"]
    # 2-D data: neuron outputs on a subsampled grid, after the Tanh that follows fc1
    out = frame.outputs["encoder.fc1"]
    assert out.shape == (8, 30, 30) and out.min() >= -1.0001 and out.max() <= 1.0001
    xs, ys = rec.run.grid
    point = torch.tensor([[xs[5], ys[7]]], dtype=torch.float32)
    expected = torch.tanh(net.encoder["fc1"](point))[0].detach().numpy()
    np.testing.assert_allclose(out[:, 7, 5], expected, atol=np.abs(out).max() / 127 + 1e-6)


def test_output_grid_is_a_coarser_subsample(moons, mlp):
    rec = nnv.Recorder(mlp, *moons, grid=200)
    frame = rec.capture()
    assert frame.outputs["0"].shape == (16, 50, 50)
    assert (frame.outputs["0"] >= 0).all()  # after the ReLU
    assert rec.run.layers["0"]["outputs"] == [50, 50]
    off = nnv.Recorder(mlp, *moons, grid=40, outputs=False).capture()
    assert off.outputs == {}


def test_conv_layers():
    torch.manual_seed(0)
    X, y = nnv.datasets.digits()
    model = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 6, 3),
        nn.ReLU(),
        nn.Conv2d(6, 4, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )
    frame = nnv.Recorder(model, X[:200], y[:200], grid=10).capture()
    assert frame.weights["1"].shape == (6, 1, 3, 3) and frame.weights["3"].shape == (4, 6, 3, 3)
    assert frame.weights["6"].shape == (10, 64)


def test_bad_layer_names(digits):
    with pytest.raises(ValueError, match=r"no module named 'fc9'.*\['1', '3', '5'\]"):
        nnv.Recorder(mlp(), *digits, layers=["fc9"])
    with pytest.raises(ValueError, match=r"'2' is a ReLU, which has no weights.*\['1', '3', '5'\]"):
        nnv.Recorder(mlp(), *digits, layers="2")
    with pytest.raises(TypeError, match=r"layers must be a name or a list of names \(strings\)"):
        weight_layers(mlp(), [1])


def test_nan_weights_are_recorded_not_refused(digits):
    model = mlp()
    rec = nnv.Recorder(model, *digits, grid=10)
    with torch.no_grad():
        model[3].weight[5, :] = float("nan")
    frame = rec.capture()
    w = frame.weights["3"]
    assert np.isnan(w[5]).all() and np.isfinite(np.delete(w, 5, axis=0)).all()
    assert frame.diverged
    all_nan = encode_weights(np.full((2, 2), np.nan)).decode()
    assert np.isnan(all_nan).all()


def test_capture_is_cheap():
    """A 784-100-64-25-10 snapshot costs well under a millisecond per layer (benchmarks/bench_mosaic.py)."""
    import time

    model = nn.Sequential(
        nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 25), nn.ReLU(), nn.Linear(25, 10)
    )
    from nnviz_widgets.record.weights import WeightProbe

    probe = WeightProbe(model)
    probe.capture()
    t0 = time.perf_counter()
    for _ in range(20):
        probe.capture()
    assert (time.perf_counter() - t0) / 20 < 0.02
