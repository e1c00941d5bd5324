"""The histogram probe: fixed-bin weight and gradient histograms with norms, per layer, every capture."""

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record.histograms import STATS, HistogramProbe, layer_histogram, rebin


def _expected_counts(v: np.ndarray, bins: int) -> np.ndarray:
    """The documented binning, written out: bin floor((v - lo) / (hi - lo) * bins), the maximum in the last."""
    v = v[np.isfinite(v)].astype(np.float64)
    lo, hi = v.min(), v.max()
    idx = np.minimum(np.floor((v - lo) / (hi - lo) * bins).astype(int), bins - 1)
    return np.bincount(idx, minlength=bins)


def test_counts_follow_the_documented_binning_and_stats_are_exact():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(300, 7)).astype(np.float32)
    w[0, 0], w[1, 1], w[2, 2] = np.nan, np.inf, 0.0
    counts, stats = layer_histogram(torch.from_numpy(w), bins=32)
    s = dict(zip(STATS, stats.tolist(), strict=True))
    finite = w[np.isfinite(w)]
    np.testing.assert_array_equal(counts, _expected_counts(w, 32))
    assert counts.sum() == finite.size == w.size - 2
    assert s["nonfinite"] == 2 and s["zeros"] == 1
    assert (s["lo"], s["hi"]) == (s["min"], s["max"]) == (finite.min(), finite.max())
    assert s["mean"] == pytest.approx(finite.mean(), rel=1e-5)
    assert s["std"] == pytest.approx(finite.std(), rel=1e-5)
    assert s["norm"] == pytest.approx(np.linalg.norm(finite), rel=1e-5)
    assert np.isnan(s["change"])


@pytest.mark.parametrize("seed", range(6))
def test_host_and_device_paths_agree_and_the_host_bins_exactly_on_the_edges(seed, monkeypatch):
    # values on a lattice land exactly on bin edges, where float32 arithmetic (torch.histc) may round either way
    rng = np.random.default_rng(seed)
    w = (rng.integers(-40, 41, 2_000) / 8).astype(np.float32)
    w[:3] = [np.nan, np.inf, 0.0] if seed % 2 else [1.0, 2.0, 0.0]
    counts, stats = layer_histogram(torch.from_numpy(w), bins=16)  # host tensors take the NumPy path
    np.testing.assert_array_equal(counts, _expected_counts(w, 16))
    monkeypatch.setattr("nnviz_widgets.record.histograms.HOST_VALUES", -1)  # the path device tensors take
    device_counts, device_stats = layer_histogram(torch.from_numpy(w), bins=16)
    assert abs(device_counts - counts).sum() <= 2 * 4  # an edge value may move one bin over in float32
    np.testing.assert_allclose(stats[:9], device_stats[:9], rtol=1e-6, atol=1e-6)
    assert np.isnan(stats[9]) and np.isnan(device_stats[9])


def test_constant_and_empty_layers_have_a_range_and_no_error():
    counts, stats = layer_histogram(torch.zeros(10), bins=4)
    assert counts.tolist() == [0, 0, 10, 0] and stats[:2].tolist() == [-0.5, 0.5]  # all in the bin holding 0
    counts, stats = layer_histogram(torch.full((3,), float("nan")), bins=4)
    assert counts.sum() == 0 and stats[STATS.index("nonfinite")] == 3


def test_rebin_keeps_the_total_and_is_exact_on_the_same_edges():
    counts = np.array([3.0, 0.0, 5.0, 2.0])
    assert rebin(counts, -1, 1, np.linspace(-1, 1, 5)).tolist() == counts.tolist()
    wide = rebin(counts, -1, 1, np.linspace(-4, 4, 9))  # onto a run-wide range: all inside bins 3 and 4
    assert wide.sum() == pytest.approx(10) and wide[3] == pytest.approx(3) and wide[4] == pytest.approx(7)


def test_recorder_records_every_linear_and_conv_layer_and_reads_back_from_disk(tmp_path, train):
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(200, noise=0.2, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    rec = nnv.Recorder(model, X, y, grid=20, path=tmp_path / "run", gradients=True, bins=16)
    rec.capture()  # before any backward(): no gradient to read
    train(rec, epochs=3)
    run = rec.run
    assert list(run[0].histograms) == ["0", "2"] and run[0].gradient_histograms == {}
    last = run[-1]
    w = model[0].weight.detach().numpy()
    h = last.histograms["0"]
    np.testing.assert_array_equal(h.counts, _expected_counts(w, 16))
    assert h.edges[0] == w.min() and h.edges[-1] == w.max() and len(h.edges) == 17
    assert h.norm == pytest.approx(np.linalg.norm(w), rel=1e-5)
    assert 0 < h.stats["change"] < 1  # Adam moved the weights a little since the previous capture
    g = last.gradient_histograms["2"]  # the gradient of the last step, read after backward()
    assert g.counts.sum() == model[2].weight.numel() and g.stats["norm"] > 0
    on_disk = nnv.open_run(tmp_path / "run")
    np.testing.assert_array_equal(on_disk[-1].histograms["0"].counts, h.counts)
    np.testing.assert_array_equal(on_disk[-1].gradient_histograms["2"].values, g.values)
    assert last.arrays["hist/weights/0"].nbytes + last.arrays["stats/weights/0"].nbytes == 4 * (16 + 10)


def test_change_reads_zero_for_a_layer_that_stopped_moving():
    model = nn.Sequential(nn.Linear(2, 4), nn.Conv1d(1, 2, 3))
    probe = HistogramProbe(model)
    probe.capture()
    with torch.no_grad():
        model[0].weight.mul_(2.0)
    arrays = probe.capture()
    assert arrays["stats/weights/0"].decode()[-1] == pytest.approx(1.0)  # doubled: moved by its own size
    assert arrays["stats/weights/1"].decode()[-1] == 0.0


def test_bad_arguments_name_the_fix(moons):
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="histograms: the model has no module named 'fc9'"):
        nnv.Recorder(model, *moons, grid=10, histograms=["fc9"])
    with pytest.raises(ValueError, match="ReLU without weights"):
        nnv.Recorder(model, *moons, grid=10, histograms="1")
    with pytest.raises(ValueError, match="bins must be an int from 2 to 1024"):
        nnv.Recorder(model, *moons, grid=10, bins=1)
    with pytest.raises(ValueError, match="gradients=True needs histograms"):
        nnv.Recorder(model, *moons, grid=10, histograms=False, gradients=True)
    rec = nnv.Recorder(model, *moons, grid=10, histograms=False)
    assert rec.capture().histograms == {}
    assert list(nnv.Recorder(model, *moons, grid=10, histograms="2").capture().histograms) == ["2"]
