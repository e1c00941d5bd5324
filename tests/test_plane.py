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
