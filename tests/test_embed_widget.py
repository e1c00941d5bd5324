"""EmbeddingScatter in Python: the traits it syncs, the recorder's activation probe, projected frames, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import traitlets
from sklearn.datasets import load_digits
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run.store import NotARunError
from nnviz_widgets.widgets.scatter import DataScatter, EpochScatter


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.data[:300].astype(np.float32), d.target[:300], d.images[:300]


def test_static_scatter_sends_coordinates_once_as_float32(digits):
    X, y, images = digits
    view = nnv.EmbeddingScatter(X, y, method="pca", images=images)
    coords = np.frombuffer(view.coords, "<f4").reshape(-1, 2)
    np.testing.assert_allclose(coords, nnv.embed(X, "pca"), atol=1e-6)
    assert view.n_points == 300 and view.dims == 2 and view.source_kind == "data"
    assert view.classes == [str(c) for c in range(10)] and len(view.colors) == 10
    assert np.frombuffer(view.labels, np.uint8).tolist() == y.tolist()
    assert view.image_shape == [8, 8] and len(view.images) == 300 * 64
    assert view.axis_labels == ["PC 1", "PC 2"]
    assert len(view.run) == 0, "static data has no frames"


def test_both_sources_are_embedding_scatters_with_their_own_class(digits):
    """One public class picks the subclass its source needs: data has no frames (its run is empty and has no grid),
    a recorder's activations become the view's own frames (a run of projections, no grid either)."""
    X, y, _ = digits
    still = nnv.EmbeddingScatter(X[:60], y[:60])
    model = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))
    rec = nnv.Recorder(model, X[:60], y[:60], grid=8, activations="1", histograms=False)
    rec.capture()
    moving = nnv.EmbeddingScatter(rec, layer="1")
    assert isinstance(still, DataScatter) and isinstance(moving, EpochScatter)
    assert isinstance(still, nnv.EmbeddingScatter) and isinstance(moving, nnv.EmbeddingScatter)
    assert still.run.grid is None and len(still.run) == 0
    assert moving.wait_sent(30) and moving.run.grid is None and len(moving.run) == 1
    assert moving.run is not rec.run and "embedding" in moving.run[0].arrays
    with pytest.raises(TypeError, match="y: a recorder"):
        nnv.EmbeddingScatter(rec, y[:60], layer="1")
    with pytest.raises(TypeError, match="layer: only a recorder"):
        nnv.EmbeddingScatter(X[:60], y[:60], layer="1")
    moving.close()


def test_named_columns_label_the_axes(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("age,income,kind\n30,2.5,a\n41,3.0,b\n25,1.0,a\n")
    X, y = nnv.datasets.load_csv(path)
    view = nnv.EmbeddingScatter(X, y, method=None)
    assert view.axis_labels == ["age", "income"]
    assert nnv.EmbeddingScatter(X[:, ::-1], y, method=None).axis_labels == ["income", "age"]
    assert nnv.EmbeddingScatter(X, y, method="pca").axis_labels == ["PC 1", "PC 2"]  # not the columns any more


def test_coordinates_given_directly_and_3d():
    pts = np.random.default_rng(0).normal(size=(50, 3))
    view = nnv.EmbeddingScatter(pts, method=None, dims=3)
    assert view.dims == 3 and view.classes == ["points"]
    np.testing.assert_allclose(np.frombuffer(view.coords, "<f4").reshape(-1, 3), pts, atol=1e-6)


def test_selection_is_validated_and_sorted(digits):
    X, y, _ = digits
    view = nnv.EmbeddingScatter(X, y)
    view.selection = [9, 2, 2, 5]
    assert view.selection == [2, 5, 9]
    with pytest.raises(traitlets.TraitError, match="outside 0..299"):
        view.selection = [300]


def test_nan_rows_are_kept_in_place_and_not_drawn(digits):
    X, y, _ = digits
    X = X.copy()
    X[7, 3] = np.nan
    with pytest.warns(UserWarning, match="1 row"):
        view = nnv.EmbeddingScatter(X, y)
    coords = np.frombuffer(view.coords, "<f4").reshape(-1, 2)
    assert np.isnan(coords[7]).all() and view.n_points == 300


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"dims": 4}, ValueError, "dims must be 2 or 3"),
        ({"images": np.zeros((10, 8, 8))}, ValueError, r"images has 10 rows for 300 points"),
        ({"images": np.zeros((300, 5, 5, 2))}, ValueError, r"images must have shape \(300, h, w\)"),
        ({"images": np.zeros((300, 10))}, ValueError, "square images"),
        ({"density": "heat"}, ValueError, "density must be one of"),
        ({"fit": "epoch"}, ValueError, "fit must be one of"),
        ({"method": "tsne", "perplexity": 400}, ValueError, "perplexity must be between"),
        ({"layer": "1"}, TypeError, "only a recorder"),
        ({"nonsense": 1}, TypeError, "unexpected option"),
    ],
)
def test_bad_input(digits, kwargs, error, match):
    X, y, _ = digits
    with pytest.raises(error, match=match):
        nnv.EmbeddingScatter(X, y, **kwargs)


def test_labels_must_match(digits):
    X, y, _ = digits
    with pytest.raises(ValueError, match="y has 299 labels for 300 points"):
        nnv.EmbeddingScatter(X, y[:-1])


# -- a recorder's activations over epochs -------------------------------------------------------------------
def _train(n_epochs=6, **rec_kwargs):
    d = load_digits()
    X, y = d.data[:400].astype(np.float32) / 16, d.target[:400]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))
    rec = nnv.Recorder(model, X, y, grid=20, **rec_kwargs)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(n_epochs):
        model.train()
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())
    return rec, model, X, d.images[:400]


def test_activation_probe_records_the_fixed_sample_in_eval_mode():
    rec, model, X, _ = _train(3, activations=["1", "2"], sample=50)
    assert len(rec.run.sample) == 50 and rec.run.sample.tolist() == sorted(rec.run.sample.tolist())
    acts = rec.run[-1].activations
    assert set(acts) == {"1", "2"} and acts["1"].shape == (50, 32)
    with torch.no_grad():
        model.eval()
        expected = torch.relu(model[0](torch.as_tensor(X[rec.run.sample]))).numpy()
    # eval mode: the dropout layer "2" passes the ReLU output through unchanged
    np.testing.assert_allclose(acts["2"], expected, atol=2e-4 * max(1.0, float(expected.max())))
    np.testing.assert_allclose(acts["1"], expected, atol=2e-4 * max(1.0, float(expected.max())))


def test_activation_probe_restores_training_mode_and_needs_no_grad():
    rec, model, _, _ = _train(1, activations="1", sample=20)
    model.train()
    rec.capture()
    assert model.training and all(m.training for m in model.modules())


def test_no_activations_unless_asked():
    rec, _, _, _ = _train(1)
    assert rec.run[0].activations == {} and len(rec.run.sample) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"activations": "fc9"}, r"no module named \['fc9'\]"), ({"activations": "1", "sample": 2}, "at least 3 rows")],
)
def test_activation_probe_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _train(0, **kwargs)


def test_scatter_of_a_recorder_projects_each_frame_aligned():
    rec, _, _, images = _train(6, activations="1", sample=120)
    view = nnv.EmbeddingScatter(rec, layer="1", images=images)
    assert view.wait_sent(30)
    assert view.source_kind == "frames" and view.n_points == 120 and view.image_shape == [8, 8]
    assert len(view.images) == 120 * 64, "images of the recorder's rows are cut to its sample"
    frames = [view.run[i].arrays["embedding"].decode() for i in range(len(view.run))]
    assert len(frames) == 6 and frames[0].shape == (120, 2)
    # live: a new capture is projected too
    rec.capture()
    assert view.wait_sent(30) and len(view.run) == 7
    assert [f.epoch for f in view.run] == [f.epoch for f in rec.run]
    steps = [np.abs(b - a).mean() for a, b in zip(frames, frames[1:], strict=False)]
    assert max(steps) < np.abs(frames[-1]).mean(), "aligned frames move less than the layout's own size"
    assert view.fit == "frame", "over epochs the view fits each frame unless asked for one scale"
    view.fit = "all"
    with pytest.raises(traitlets.TraitError, match="fit must be one of"):
        view.fit = "epoch"
    view.close()


def test_scatter_of_a_recorder_errors():
    rec, _, _, _ = _train(1)
    with pytest.raises(ValueError, match="activations="):
        nnv.EmbeddingScatter(rec, layer="1")
    rec, _, _, _ = _train(1, activations="1", sample=20)
    with pytest.raises(ValueError, match=r"layer '3' was not recorded; recorded activation layers are \['1'\]"):
        nnv.EmbeddingScatter(rec, layer="3")
    with pytest.raises(TypeError, match=r"needs the name of a layer .*records \['1'\]"):
        nnv.EmbeddingScatter(rec)
    rec, _, _, _ = _train(0, activations="1", sample=20)  # no frame yet: the recorder's own list decides
    with pytest.raises(ValueError, match=r"layer '3' was not recorded; recorded activation layers are \['1'\]"):
        nnv.EmbeddingScatter(rec, layer="3")


def test_scatter_of_a_run_saved_and_reopened_from_disk(tmp_path):
    rec, _, _, images = _train(4, activations="1", sample=60, path=tmp_path / "run")
    assert (tmp_path / "run" / "sample.npy").is_file()
    run = nnv.open_run(tmp_path / "run")
    assert run.sample.dtype == np.int64 and run.sample.tolist() == rec.run.sample.tolist()
    np.testing.assert_array_equal(run[-1].activations["1"], rec.run[-1].activations["1"])
    live, disk = nnv.EmbeddingScatter(rec, layer="1"), nnv.EmbeddingScatter(run, layer="1", images=images)
    assert live.wait_sent(30) and disk.wait_sent(30)
    assert disk.n_points == 60 and len(disk.run) == 4 and len(disk.images) == 60 * 64
    assert np.frombuffer(disk.labels, np.uint8).tolist() == rec.y[rec.run.sample].tolist()
    for a, b in zip(live.run, disk.run, strict=True):  # the same frames, projected the same way
        np.testing.assert_array_equal(a.arrays["embedding"].decode(), b.arrays["embedding"].decode())
    live.close()
    disk.close()


def test_run_without_activations_has_no_sample_file_and_a_bad_one_is_refused(tmp_path):
    _train(1, path=tmp_path / "plain")
    assert not (tmp_path / "plain" / "sample.npy").exists() and len(nnv.open_run(tmp_path / "plain").sample) == 0
    _train(1, activations="1", sample=10, path=tmp_path / "bad")
    np.save(tmp_path / "bad" / "sample.npy", np.array([0, 5, 400]))  # the data has 400 rows: 400 is outside
    with pytest.raises(NotARunError, match=r"within 0\.\.399"):
        nnv.open_run(tmp_path / "bad")
