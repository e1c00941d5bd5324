"""Decision boundaries of data with more than two features, drawn on a plane through the data."""

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record.plane import choose_plane


@pytest.fixture
def data5():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X.astype(np.float32), y


def test_pca_plane_round_trip(data5):
    X, _ = data5
    plane = choose_plane(X, None)
    P = np.random.default_rng(1).normal(size=(100, 2))
    np.testing.assert_allclose(plane.to_plane(plane.from_plane(P)), P, atol=1e-4)  # points on the plane come back
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-6)
    assert plane.axis_labels[0].startswith("PC1 (") and plane.axis_labels[1].startswith("PC2 (")


def test_pca_axes_follow_the_variance(data5):
    X, _ = data5
    plane = choose_plane(X, None)
    assert abs(plane.basis[0, 0]) > 0.99 and abs(plane.basis[1, 1]) > 0.99  # the two widest directions
    other = choose_plane(X, (0, 2))
    assert abs(other.basis[1, 2]) > 0.99 and other.axis_labels[1].startswith("PC3")


def test_two_features_draw_on_the_data_itself(moons):
    X, _ = moons
    plane = choose_plane(X, None)
    np.testing.assert_array_equal(plane.to_plane(X), X)
    assert plane.axis_labels == ("x₁", "x₂")


def test_recorder_on_a_pca_plane_is_true(data5):
    """Grid cell (i, j) holds the model's probabilities at the input that the plane point (xs[j], ys[i]) maps to."""
    X, y = data5
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
    rec = nnv.Recorder(model, X, y, grid=30)
    frame = rec.capture()
    xs, ys = rec.run.grid
    inputs = rec.plane.from_plane(np.array([[xs[4], ys[20]]]))
    with torch.no_grad():
        want = torch.softmax(model(torch.as_tensor(inputs)), 1).numpy()[0]
    np.testing.assert_allclose(frame.boundary[20, 4], want, atol=0.5 / 254 + 1e-5)
    np.testing.assert_allclose(rec.run.points, rec.plane.to_plane(X), atol=1e-5)
    assert rec.run.axis_labels[0].startswith("PC1")
    with torch.no_grad():
        assert (frame.predictions == model(torch.as_tensor(X)).argmax(1).numpy()).all()  # on the real points


def test_custom_basis(data5):
    X, y = data5
    basis = np.zeros((2, 5))
    basis[0, 3] = basis[1, 4] = 1.0
    rec = nnv.Recorder(nn.Linear(5, 2), X, y, grid=10, plane=basis)
    np.testing.assert_allclose(rec.run.points, X[:, 3:5] - X[:, 3:5].mean(0), atol=1e-5)
    assert rec.run.axis_labels == ["u₁", "u₂"]


def test_view_gets_axis_labels(data5):
    X, y = data5
    rec = nnv.Recorder(nn.Linear(5, 2), X, y, grid=10)
    view = nnv.DecisionBoundary(rec)
    assert view.axis_labels == rec.run.axis_labels
    view.close()


# -- the plane folded into the first Linear layer: same probabilities, only where it is exact ------------------
from nnviz_widgets.record.plane import first_linear  # noqa: E402


def _unfolded(rec) -> np.ndarray:
    """The plain path: every grid point mapped back to input space and run through the whole model."""
    return rec._probabilities("grid-unfolded", rec._grid_points)


@pytest.mark.parametrize(
    "make",
    [
        lambda d: nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Linear(16, 3)),
        lambda d: nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, 3)),
        lambda d: nn.Sequential(nn.Linear(d, 8, bias=False), nn.ReLU(), nn.Linear(8, 3)).double(),
    ],
    ids=["linear-first", "after-flatten-and-dropout", "no-bias-float64"],
)
def test_folded_grid_gives_the_same_probabilities(make, monkeypatch):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(400, 12)) * np.linspace(4, 0.1, 12)).astype(np.float32)
    y = rng.integers(0, 3, 400)
    torch.manual_seed(0)
    model = make(12)
    rec = nnv.Recorder(model, X, y, grid=40)
    assert first_linear(model, 12) is not None, "the fold applies to this model"
    calls = []
    model.register_forward_pre_hook(lambda m, i: calls.append(tuple(i[0].shape)))  # a hook switches the fold off
    plain = rec._grid_probabilities()
    assert calls and calls[0][1] == 12, "with a hook on the model the grid runs through the model itself"
    model._forward_pre_hooks.clear()
    folded = rec._grid_probabilities()
    np.testing.assert_allclose(folded, plain, atol=2e-6)
    np.testing.assert_allclose(folded, _unfolded(rec), atol=2e-6)
    frame = rec.capture()
    np.testing.assert_allclose(frame.boundary.reshape(-1, 3), plain, atol=0.5 / 254 + 1e-5)  # what is stored


def test_folded_grid_never_runs_wide_rows():
    """The point of the fold: the grid's first layer takes 2 plane coordinates, not 784-wide input rows."""
    from torch.overrides import TorchFunctionMode

    class Widths(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.rows = {}

        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is torch.nn.functional.linear or func is torch.addmm:
                x = args[1] if func is torch.addmm else args[0]
                self.rows[x.shape[-1]] = self.rows.get(x.shape[-1], 0) + x.shape[0]
            return func(*args, **(kwargs or {}))

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 784)).astype(np.float32)
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    rec = nnv.Recorder(model, X, rng.integers(0, 10, 200), grid=60)
    with Widths() as folded:
        rec._grid_probabilities()
    with Widths() as plain:
        _unfolded(rec)
    assert plain.rows.get(784) == 60 * 60 and 784 not in folded.rows and folded.rows.get(2) == 60 * 60


class _Residual(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.out = nn.Linear(d, 2)

    def forward(self, x):
        return self.out(x + torch.relu(self.fc(x)))


class _ScaledSequential(nn.Sequential):
    def forward(self, x):
        return super().forward(2 * x)


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda d: nn.Sequential(nn.BatchNorm1d(d), nn.Linear(d, 2)), "first layer is not Linear"),
        (lambda d: nn.Sequential(nn.Sequential(nn.Linear(d, 4)), nn.Linear(4, 2)), "nested container"),
        (lambda d: _Residual(d), "not a Sequential: x is used twice"),
        (lambda d: _ScaledSequential(nn.Linear(d, 2)), "a Sequential with its own forward"),
        (lambda d: nn.Sequential(nn.Flatten(0), nn.Linear(d, 2)), "a Flatten that is not the identity on rows"),
        (lambda d: nn.Sequential(nn.LazyLinear(2)), "an uninitialised lazy layer"),
    ],
)
def test_fold_does_not_apply(make, why):
    assert first_linear(make(5), 5) is None, why


def test_fold_respects_hooks_on_the_first_layer(data5):
    X, y = data5
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    rec = nnv.Recorder(model, X, y, grid=10)
    seen = []
    handle = model[0].register_forward_hook(lambda m, i, o: seen.append(o.shape[0]))
    assert first_linear(model, 5) is None
    rec.capture()
    assert sum(seen) >= 100, "the user's hook on the first layer saw every grid row"
    handle.remove()
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, o: None)
    try:
        assert first_linear(model, 5) is None, "global module hooks switch the fold off too"
    finally:
        handle.remove()
    assert first_linear(model, 5) is not None


def test_fold_with_recorded_outputs_keeps_the_neuron_maps(data5):
    """outputs=True on a plane hooks every Linear: the first one's maps need its real inputs, so no fold."""
    X, y = data5
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    frame = nnv.Recorder(model, X, y, grid=20, outputs=True).capture()
    assert set(frame.outputs) == {"0", "2"}
    rec = nnv.Recorder(model, X, y, grid=20)
    with torch.no_grad():
        want = torch.relu(model[0](torch.as_tensor(rec._grid_points))).numpy().T.reshape(8, 20, 20)
    got = frame.outputs["0"]
    np.testing.assert_allclose(got, want, atol=float(np.abs(want).max()) / 100)


def test_relu_after_the_folded_layer_runs_in_place_only_on_tensors_it_owns():
    from nnviz_widgets.record.plane import run_after

    torch.manual_seed(0)
    rest = [nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)]
    h = torch.randn(40, 6)
    want = rest[3](torch.relu(rest[1](torch.relu(h))))
    with torch.no_grad():
        # the same values as the modules themselves (the last Linear runs transposed: the same sums, as a view)
        got = run_after(rest, h.clone())
        torch.testing.assert_close(got, want.detach(), rtol=0, atol=1e-6)
        assert got.stride() == (1, 40), "the last layer's output is the (N, K) view of a (K, N) tensor"
        seen = []
        rest[2].register_forward_hook(lambda m, i, o: seen.append(o.clone()))  # a hooked ReLU runs as itself
        torch.testing.assert_close(run_after(rest, h.clone()), want.detach(), rtol=0, atol=1e-6)
        assert len(seen) == 1
        last = []
        rest[3].register_forward_hook(lambda m, i, o: last.append(o))  # a hooked last Linear runs as itself
        assert torch.equal(run_after(rest, h.clone()), last[0]) and last[0].is_contiguous()
        held = torch.randn(40, 6)
        before = held.clone()
        run_after([nn.Identity(), nn.ReLU()], held)  # Identity hands back a tensor it does not own: no in-place
        assert torch.equal(held, before)
        kept = []
        lin = nn.Linear(6, 6)
        lin.register_forward_hook(lambda m, i, o: kept.append(o))  # a hook holds the Linear's output ...
        out = run_after([lin, nn.ReLU()], torch.randn(4, 6))
        assert (kept[0] < 0).any() and not torch.equal(kept[0], out)  # ... so the ReLU after it is not in place


@pytest.mark.parametrize("bias", [True, False])
def test_sequential_forward_is_the_models_own_computation(bias):
    """The recorder runs a plain Sequential layer by layer (data rows, 2-D grids): same probabilities, hooks fire."""
    from nnviz_widgets.record.plane import sequential_forward

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 9), nn.ReLU(), nn.Linear(9, 7), nn.Tanh(), nn.Linear(7, 4, bias))
    x = torch.randn(300, 6)
    before = x.clone()
    with torch.no_grad():
        forward = sequential_forward(model, 6)
        torch.testing.assert_close(forward(x), model(x), rtol=0, atol=1e-6)
        assert torch.equal(x, before), "the caller's rows are never changed in place"
        kept = []
        handle = model[3].register_forward_hook(lambda m, i, o: kept.append(o))
        torch.testing.assert_close(sequential_forward(model, 6)(x), model(x), rtol=0, atol=1e-6)
        assert len(kept) == 2 and torch.equal(kept[0], kept[1]) and (kept[0] < 0).any(), "hook fired, not in place"
        handle.remove()
        model[1].register_forward_hook(lambda m, i, o: None)
        assert sequential_forward(model, 6) is None, "a hook on the first layer: the model runs as itself"
    assert sequential_forward(nn.Sequential(nn.BatchNorm1d(6), nn.Linear(6, 2)), 6) is None
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(80, 6)).astype(np.float32), rng.integers(0, 4, 80)
    torch.manual_seed(0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4)), X, y, grid=10)
    with torch.no_grad():
        want = torch.softmax(rec.model(torch.as_tensor(X)), 1).numpy()
    np.testing.assert_allclose(rec._probabilities("points", X, sequential_forward(rec.model, 6)), want, atol=1e-6)
    assert rec.capture().metrics["accuracy"] == float(np.mean(want.argmax(1) == y))
