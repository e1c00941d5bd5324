import warnings

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv


def test_capture_appends_frames_with_probabilities(rec, train):
    train(rec, epochs=3)
    assert len(rec.run) == 3
    frame = rec.run[2]
    assert frame.index == 2 and frame.epoch == 3 and not frame.diverged  # captured after its 3rd epoch
    assert set(frame.metrics) == {"loss", "accuracy"}
    b = frame.boundary
    assert b.shape == (40, 40, 2) and b.dtype == np.float32
    np.testing.assert_allclose(b.sum(axis=-1), 1.0, atol=2 / 254)
    xs, ys = rec.run.grid
    assert xs.shape == (40,) and ys.shape == (40,) and np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0)


def test_stored_probabilities_are_what_the_model_computes(rec, train):
    """The picture must be true: grid cell (i, j) holds the model's softmax at (xs[j], ys[i])."""
    train(rec, epochs=5)
    xs, ys = rec.run.grid
    rng = np.random.default_rng(0)
    ii, jj = rng.integers(0, len(ys), 50), rng.integers(0, len(xs), 50)
    with torch.no_grad():
        want = torch.softmax(rec.model(torch.tensor(np.c_[xs[jj], ys[ii]], dtype=torch.float32)), 1).numpy()
    got = rec.run[-1].boundary[ii, jj]
    assert np.abs(got - want).max() <= 0.5 / 254 + 1e-5


def test_predictions_and_accuracy(rec, train):
    train(rec, epochs=2)
    with torch.no_grad():
        pred = rec.model(torch.as_tensor(rec.X)).argmax(1).numpy()
    frame = rec.run[-1]
    np.testing.assert_array_equal(frame.predictions, pred)
    assert frame.metrics["accuracy"] == pytest.approx(np.mean(pred == rec.y))
    assert rec.capture(accuracy=0.5).metrics["accuracy"] == 0.5  # a metric the user passes wins


def test_capture_uses_eval_mode_and_no_grad_and_restores_modes(moons):
    X, y = moons
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled()))
            return x

    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), Probe(), nn.Linear(8, 2))
    model.train()
    model[1].eval()  # a mixed state must come back exactly as it was
    rec = nnv.Recorder(model, X, y, grid=10)
    seen.clear()
    rec.capture()
    assert seen and all(s == (False, False) for s in seen)
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    assert all(p.grad is None for p in model.parameters())


def test_dropout_is_off_during_capture(moons):
    X, y = moons
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.Dropout(0.9), nn.Linear(32, 2))
    rec = nnv.Recorder(model, X, y, grid=20)
    np.testing.assert_array_equal(rec.capture().boundary, rec.capture().boundary)


def test_epoch_numbers_and_metrics(rec):
    f = rec.capture(epoch=7, loss=torch.tensor(0.5), lr=np.float32(0.1), step=3)
    assert f.epoch == 7 and f.metrics["loss"] == 0.5 and f.metrics["step"] == 3
    assert f.metrics["lr"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "metrics, err, match",
    [
        ({"loss": "low"}, TypeError, "metric 'loss' must be a number"),
        ({"loss": torch.ones(3)}, ValueError, "tensor of 3 values"),
        ({"loss": None}, TypeError, "must be a number"),
    ],
)
def test_bad_metrics(rec, metrics, err, match):
    with pytest.raises(err, match=match):
        rec.capture(**metrics)


class _CountingTensor(torch.Tensor):
    """A tensor that counts its ``.item()`` calls: each one waits for the tensor's device (a GPU sync)."""

    items = 0

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.Tensor.item:
            cls.items += 1
        return super().__torch_function__(func, types, args, kwargs or {})


def test_skipped_captures_do_not_convert_their_metrics(mlp, moons):
    X, y = moons
    rec = nnv.Recorder(mlp, X, y, grid=10, every=3, budget=None)
    loss = torch.tensor(0.25).as_subclass(_CountingTensor)
    _CountingTensor.items = 0
    frames = [rec.capture(loss=loss) for _ in range(7)]
    kept = [f for f in frames if f is not None]
    assert len(kept) == 3 and all(f.metrics["loss"] == 0.25 for f in kept)
    assert _CountingTensor.items == len(kept)  # a dropped capture never waited for its loss
    with pytest.raises(ValueError, match="tensor of 2 values"):  # still checked when the capture is skipped
        rec.capture(loss=torch.ones(2))


def test_string_labels_and_class_order(mlp, moons):
    X, y = moons
    names = np.where(y == 1, "upper", "lower")
    rec = nnv.Recorder(mlp, X, names, grid=10)
    assert rec.classes == ["lower", "upper"]  # sorted by default; output column k is classes[k]
    np.testing.assert_array_equal(rec.y, (names == "upper").astype(int))
    rec2 = nnv.Recorder(mlp, X, names, grid=10, classes=["upper", "lower"])
    assert rec2.classes == ["upper", "lower"] and rec2.run.classes == ["upper", "lower"]
    np.testing.assert_array_equal(rec2.y, (names == "lower").astype(int))


def test_torch_inputs_and_float_integer_labels(mlp, moons):
    X, y = moons
    rec = nnv.Recorder(mlp, torch.tensor(X, dtype=torch.float64), torch.tensor(y).float(), grid=10)
    assert rec.X.dtype == np.float32 and rec.classes == [0, 1]


def test_multiclass_and_single_logit(moons):
    X, y = nnv.datasets.blobs(300, centers=4)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 4))
    f = nnv.Recorder(model, X, y, grid=12).capture()
    assert f.boundary.shape == (12, 12, 4)
    X, y = moons
    logit = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    b = nnv.Recorder(logit, X, y, grid=12).capture().boundary
    with torch.no_grad():
        p1 = torch.sigmoid(logit(torch.zeros(1, 2))).item()
    assert b.shape == (12, 12, 2)
    np.testing.assert_allclose(b.sum(-1), 1, atol=2 / 254)
    assert 0 <= p1 <= 1


def test_probability_outputs(moons):
    X, y = moons
    model = nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1))
    rec = nnv.Recorder(model, X, y, grid=8, output="probabilities")
    xs, ys = rec.run.grid
    with torch.no_grad():
        want = model(torch.tensor([[xs[3], ys[5]]], dtype=torch.float32))[0].numpy()
    np.testing.assert_allclose(rec.capture().boundary[5, 3], want, atol=0.5 / 254 + 1e-6)  # not softmaxed again


def test_extent_and_grid_shape(mlp, moons):
    X, y = moons
    rec = nnv.Recorder(mlp, X, y, grid=(30, 20), extent=(-3, 3, -2, 2))
    xs, ys = rec.run.grid
    assert len(xs) == 30 and len(ys) == 20 and xs[0] == -3 and xs[-1] == 3 and ys[0] == -2 and ys[-1] == 2
    assert rec.capture().boundary.shape == (20, 30, 2)
    default = nnv.Recorder(mlp, X, y, grid=10).run.grid
    assert default.xs[0] < X[:, 0].min() and default.xs[-1] > X[:, 0].max()  # data plus a margin
    assert default.ys[0] < X[:, 1].min() and default.ys[-1] > X[:, 1].max()


def test_diverged_model_is_marked_and_kept(rec):
    with torch.no_grad():
        rec.model[0].weight.fill_(float("nan"))
    f = rec.capture(loss=float("nan"))
    assert f.diverged and np.isnan(f.boundary).all() and (f.predictions == -1).all()
    assert np.isnan(f.metrics["loss"]) and len(rec.run) == 1


def _code_boundaries() -> np.ndarray:
    """Every float32 within 64 ulps of a midpoint between two uint8 codes (where rounding decides), the ends of
    [0, 1], values just outside it, and random probabilities."""
    mids = np.float32((np.arange(254) + 0.5) / 254)
    near = mids.view(np.int32)[:, None] + np.arange(-64, 65, dtype=np.int32)
    edges = np.array([0.0, -0.0, 1.0, np.nextafter(1, 2), -1e-7, 1e-45, 1 + 1e-3], np.float32)
    rand = np.random.default_rng(0).random(20_000, dtype=np.float32)
    return np.concatenate([near.view(np.float32).ravel(), edges, rand])


@pytest.mark.parametrize("lo", [0.0, -0.5])
def test_encoding_in_the_callers_array_gives_the_same_codes(lo):
    """A capture quantises its grid probabilities in their own array (``overwrite=True``): bit for bit what the
    codec makes from a copy, at every rounding midpoint too."""
    from nnviz_widgets.run.codec import encode

    values = _code_boundaries() * np.float32(1 - lo) + np.float32(lo)
    want = encode(values, "uint8", lo=lo, hi=1.0)
    scratch = values.copy()
    got = encode(scratch, "uint8", lo=lo, hi=1.0, overwrite=True)
    assert got.header == want.header and got.data == want.data
    assert not np.array_equal(scratch, values)  # it did work in place
    values[[5, 7]] = [np.nan, np.inf]  # a diverged model: the general path, marked
    want = encode(values, "uint8", lo=lo, hi=1.0)
    got = encode(values.copy(), "uint8", lo=lo, hi=1.0, overwrite=True)
    assert got.header == want.header and got.data == want.data and got.header["nan"] == 255


@pytest.mark.parametrize("lo", [0.0, -0.5])
@pytest.mark.parametrize("overwrite", [False, True])
def test_values_inside_the_range_skip_the_clip_and_give_the_same_codes(lo, overwrite):
    """Values all inside a finite [lo, hi] (a capture's probabilities) skip the finiteness and clip passes: the
    codes are still rint((clip(v) - lo) / scale) bit for bit at every rounding midpoint, what the general path
    makes of the same values beside one outside the range, NaN or inf."""
    from nnviz_widgets.run.codec import encode

    values = _code_boundaries() * np.float32(1 - lo) + np.float32(lo)
    inside = values[(values >= lo) & (values <= 1.0)]
    scale = (1.0 - lo) / 254
    want = np.rint((np.clip(inside, lo, 1.0) - lo) / scale).astype(np.uint8)
    assert want.dtype == np.uint8 and (np.clip(inside, lo, 1.0) - lo).dtype == np.float32
    got = encode(inside.copy(), "uint8", lo=lo, hi=1.0, overwrite=overwrite)
    assert got.data == want.tobytes() and got.header["nan"] is None and got.header["scale"] == scale
    for outsider in (np.float32(1.5), np.float32(lo - 1), np.float32(np.nan), np.float32(np.inf)):
        general = encode(np.append(inside, outsider), "uint8", lo=lo, hi=1.0, overwrite=overwrite)
        assert general.data[:-1] == want.tobytes() and general.header["scale"] == scale
    wide = encode(inside.astype(np.float64), "uint16", lo=lo, hi=1.0)  # float64 and 16-bit codes too
    assert wide.data == np.rint((inside.astype(np.float64) - lo) / ((1.0 - lo) / 65534)).astype("<u2").tobytes()


def test_codes_worked_out_as_the_chunks_are_joined_are_the_codecs():
    """A capture divides each chunk's probabilities by the codes' step and rounds them in torch, then checks and
    casts them (recorder._unit_codes): bit for bit the codec's codes at every rounding midpoint, at 0 and 1, past
    1 (clipped) and for NaN (the non-finite code)."""
    from nnviz_widgets.record.recorder import _unit_codes
    from nnviz_widgets.run.codec import encode

    values = _code_boundaries()
    values = values[values >= 0]  # a softmax or sigmoid is never negative
    for extra in ([], [np.nan], [np.nextafter(np.float32(1), np.float32(2)), np.float32(1.5)]):
        p = np.append(values, np.array(extra, np.float32))
        q = torch.div(torch.from_numpy(p.copy()), torch.tensor(1 / 254, dtype=torch.float32)).round_().numpy()
        codes, nan = _unit_codes(q)
        want = encode(p, "uint8", lo=0.0, hi=1.0)
        assert codes.tobytes() == want.data and nan == (want.header["nan"] is not None) == bool(np.isnan(p).any())


@pytest.mark.parametrize("case", ["softmax", "sigmoid", "multiclass", "float64", "plane", "lazy", "half-diverged"])
def test_captured_codes_equal_the_encoded_probabilities(case, moons, monkeypatch):
    """Every way a capture evaluates its grid (softmax, one logit's sigmoid, more columns than classes, a float64
    model, the folded plane of wide data, a grid made chunk by chunk on the device, a model whose logits are inf
    on part of the grid) stores exactly what the codec makes of the probabilities."""
    from nnviz_widgets.record import recorder
    from nnviz_widgets.run.codec import encode, encode_classes

    X, y = moons
    torch.manual_seed(0)
    width = {"sigmoid": 1, "multiclass": 4}.get(case, 2)
    if case == "plane":
        X = np.hstack([X, np.random.default_rng(0).normal(size=(len(X), 4)).astype(np.float32)])
    model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.ReLU(), nn.Linear(8, width))
    if case == "float64":
        model = model.double()
    if case == "half-diverged":  # logits past float32's range beyond x = 1: NaN probabilities there
        model = nn.Sequential(nn.Linear(2, 2))
        with torch.no_grad():
            model[0].weight.copy_(torch.tensor([[3e38, 0.0], [0.0, 1.0]]))
            model[0].bias.copy_(torch.tensor([-3e38, 0.0]))
    if case == "lazy":
        monkeypatch.setattr(recorder, "GRID_CACHE_BYTES", 1000)
        monkeypatch.setattr(recorder, "CHUNK_ROWS", 300)
    rec = nnv.Recorder(model, X, y, grid=(30, 20), layers=[], outputs=False, histograms=False)
    frame = rec.capture()
    want = encode(rec._grid_probabilities().reshape(20, 30, -1), "uint8", lo=0.0, hi=1.0)
    assert frame.arrays["boundary"].header == want.header and frame.arrays["boundary"].data == want.data
    if case == "half-diverged":
        assert frame.diverged and 0 < np.isnan(frame.boundary).mean() < 1
    assert frame.arrays["predictions"].header == encode_classes(frame.predictions).header
    assert frame.arrays["predictions"].data == encode_classes(frame.predictions).data


def test_a_wide_layer_bounds_the_rows_of_a_pass_on_a_cpu_and_the_frame_is_the_same():
    from nnviz_widgets.record.recorder import CHUNK_ROWS, CPU_CHUNK_VALUES

    torch.manual_seed(0)
    X, y = nnv.datasets.moons(200, noise=0.2, seed=0)
    wide = nn.Sequential(nn.Linear(2, 4096), nn.ReLU(), nn.Linear(4096, 2))
    rec = nnv.Recorder(wide, X, y, grid=50, layers=[], outputs=False, histograms=False)
    assert rec._chunk_rows(torch.device("cpu"), (2,)) == CPU_CHUNK_VALUES // 4096  # 128 rows of 4,096 outputs
    assert rec._chunk_rows(torch.device("cuda"), (2,)) == CHUNK_ROWS  # a GPU's memory is not a cache
    frame = rec.capture()  # 2,500 grid rows in 20 passes: the same frame as one pass over them all
    with torch.no_grad():
        whole = torch.softmax(wide(torch.as_tensor(rec._grid_points)), 1).numpy()
    assert np.abs(frame.boundary.reshape(-1, 2) - whole).max() <= 0.5 / 254 + 1e-6


def test_captured_boundary_is_the_encoded_grid_probabilities(rec, train):
    from nnviz_widgets.run.codec import encode

    train(rec, epochs=2)
    frame = rec.capture()
    want = encode(rec._grid_probabilities().reshape(*frame.boundary.shape), "uint8", lo=0.0, hi=1.0)
    assert frame.arrays["boundary"].header == want.header and frame.arrays["boundary"].data == want.data


def test_model_on_its_own_device_and_dtype(moons):
    X, y = moons
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    assert nnv.Recorder(model, X, y, grid=8).capture().boundary.shape == (8, 8, 2)


def test_big_grid_is_evaluated_in_chunks(mlp, moons, monkeypatch):
    from nnviz_widgets.record import recorder

    monkeypatch.setattr(recorder, "CHUNK_ROWS", 1000)
    calls = []
    mlp.register_forward_hook(lambda m, i, o: calls.append(len(i[0])))
    X, y = moons
    nnv.Recorder(mlp, X, y, grid=100).capture()
    assert max(calls) <= 1000 and sum(calls) >= 100 * 100


# -- bad input: every error names the problem and the fix ----------------------------------------------
X_OK, Y_OK = nnv.datasets.moons(50)
MODEL = nn.Sequential(nn.Linear(2, 3))


@pytest.mark.parametrize(
    "args, kwargs, err, match",
    [
        (("not a model", X_OK, Y_OK), {}, TypeError, "model must be a torch.nn.Module"),
        ((MODEL, X_OK[:, 0], Y_OK), {}, ValueError, r"X must be 2-D"),
        ((MODEL, np.array([["a", "b"]] * 50), Y_OK), {}, TypeError, "X must be numeric"),
        ((MODEL, X_OK, Y_OK[:-1]), {}, ValueError, r"len\(X\) is 50 but len\(y\) is 49"),
        ((MODEL, np.where(np.arange(100).reshape(50, 2) == 7, np.nan, X_OK), Y_OK), {}, ValueError, "NaN or inf"),
        ((MODEL, X_OK, np.zeros(50)), {}, ValueError, "only one class"),
        ((nn.Linear(1, 2), X_OK[:, :1], Y_OK), {}, ValueError, "X has 1 feature.*at least 2 columns"),
        ((MODEL, X_OK, Y_OK), {"plane": (0, 0)}, ValueError, r"plane=\(i, j\) needs two different"),
        ((nn.Linear(4, 2), np.c_[X_OK, X_OK], Y_OK), {"plane": np.ones((2, 4))}, ValueError, "not parallel"),
        ((nn.Linear(4, 2), np.c_[X_OK, X_OK], Y_OK), {"plane": "pca"}, ValueError, "plane must be None"),
        ((nn.Linear(2, 1), X_OK, np.arange(50) % 3), {}, ValueError, r"expected \(N, K\) with K >= 3"),
        ((nn.Linear(3, 2), X_OK, Y_OK), {}, ValueError, "could not run on X of shape"),
        ((MODEL, X_OK, np.arange(50) % 11), {}, ValueError, "at most 10"),
        ((MODEL, X_OK, Y_OK), {"classes": [0]}, ValueError, r"labels \['1'\] that are not in classes"),
        ((MODEL, X_OK, Y_OK), {"grid": 1}, ValueError, "grid must have 2 to 2000"),
        ((MODEL, X_OK, Y_OK), {"grid": "big"}, TypeError, "grid must be an int"),
        ((MODEL, X_OK, Y_OK), {"extent": (1, 0, 0, 1)}, ValueError, "xmin < xmax"),
        ((MODEL, X_OK, Y_OK), {"extent": (0, 1)}, ValueError, r"extent must be \(xmin"),
        ((MODEL, X_OK, Y_OK), {"output": "softmax"}, ValueError, "output must be"),
        ((MODEL, X_OK, Y_OK + 0.5), {}, ValueError, "non-integer"),
        ((MODEL, X_OK[:1], Y_OK[:1]), {}, ValueError, "at least 2 rows"),
    ],
)
def test_bad_input(args, kwargs, err, match):
    with pytest.raises(err, match=match):
        nnv.Recorder(*args, **kwargs)


def test_model_returning_a_tuple():
    class Pair(nn.Module):
        def forward(self, x):
            return x, x

    with pytest.raises(TypeError, match="returned tuple, not a tensor"):
        nnv.Recorder(Pair(), X_OK, Y_OK)


# -- activations of the sample come from the data's own forward pass ------------------------------------------
def test_sample_activations_come_from_the_data_pass_in_the_sample_order(moons, monkeypatch):
    from nnviz_widgets.record import recorder

    monkeypatch.setattr(recorder, "CHUNK_ROWS", 64)  # the sample's rows fall in several chunks
    X, y = moons
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    sample = np.array([150, 3, 77, 3, 199, 0, 64, 63])  # unsorted, a duplicate, chunk edges
    rec = nnv.Recorder(model, X, y, grid=10, activations="1", sample=sample)
    rows = []
    model.register_forward_hook(lambda m, i, o: rows.append(len(i[0])))
    frame = rec.capture()
    assert sum(rows) == 10 * 10 + len(X), "the grid and the data, and no separate pass for the sample"
    with torch.no_grad():
        want = torch.tanh(model[0](torch.as_tensor(X[sample]))).numpy()
    got = frame.activations["1"]
    np.testing.assert_allclose(got, want, atol=2e-4)
    np.testing.assert_array_equal(got[1], got[3])


def test_sample_activations_of_a_layer_run_twice_are_refused(moons):
    X, y = moons

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(self.fc(x))

    rec = nnv.Recorder(Twice(), X, y, grid=10, activations="fc", sample=20)
    with pytest.raises(ValueError, match="activations: layer 'fc' ran 400 rows for 200 inputs"):
        rec.capture()


def test_default_epoch_counts_epochs_trained_in_both_common_loops(moons):
    """A capture before training then one per epoch, or only one after each epoch: the network after one epoch
    of training is epoch 1 either way, the untrained one epoch 0, and fit() agrees."""
    X, y = moons

    def loop(capture_first: bool) -> list[int]:
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
        rec = nnv.Recorder(model, X, y, grid=8)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        if capture_first:
            rec.capture()
        for _ in range(3):
            loss = nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.capture(loss=loss.item())
        return [f.epoch for f in rec.run]

    assert loop(capture_first=True) == [0, 1, 2, 3]
    assert loop(capture_first=False) == [1, 2, 3]
    torch.manual_seed(0)
    fitted = nnv.fit(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), X, y, epochs=3, grid=8, show=False)
    assert [f.epoch for f in fitted.run] == [0, 1, 2, 3]
    explicit = nnv.Recorder(nn.Linear(2, 2), X, y, grid=8)
    assert explicit.capture(epoch=7).epoch == 7  # an epoch given is kept as given


def test_column_names_label_the_boundary_axes(mlp, tmp_path):
    path = tmp_path / "moons.csv"
    X, y = nnv.datasets.moons(60)
    path.write_text("temperature,pressure,label\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, y, strict=True)))
    X, y = nnv.datasets.load_csv(path)
    rec = nnv.Recorder(mlp, X, y, grid=10)
    assert rec.feature_names == ["temperature", "pressure"]
    assert rec.run.axis_labels == ["temperature", "pressure"]
    assert nnv.DecisionBoundary(rec).axis_labels == ["temperature", "pressure"]
    assert nnv.Recorder(mlp, np.asarray(X), y, grid=10).run.axis_labels == ["x₁", "x₂"]


def _train_and_capture(targets, X, rec, steps=60):
    torch.manual_seed(0)
    opt = torch.optim.Adam(rec.model.parameters(), 0.05)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(targets)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(rec.model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())


def test_a_loop_with_another_class_order_is_warned_once_with_the_fix():
    X, codes = nnv.datasets.blobs(300, centers=3, std=0.6, seed=1)
    names = np.array(["cat", "dog", "emu"])
    y = names[codes]
    torch.manual_seed(0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3)), X, y, grid=10)
    own = {"emu": 0, "cat": 1, "dog": 2}  # the user's own numbering, not rec.classes's sorted one
    with pytest.warns(RuntimeWarning, match=r"order \['emu', 'cat', 'dog'\].*Train on rec\.y") as seen:
        _train_and_capture(np.array([own[v] for v in y]), X, rec)
    assert len([w for w in seen if "rec.y" in str(w.message)]) == 1, "warned once"
    assert seen[0].filename == __file__, "the warning points at the loop's capture() call"
    assert rec.run[-1].metrics["accuracy"] < 0.2

    torch.manual_seed(0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3)), X, y, grid=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _train_and_capture(rec.y, X, rec)  # the recorder's encoded targets: nothing to warn about
    assert rec.run[-1].metrics["accuracy"] > 0.9


def test_class_order_check_skips_only_assignments_that_cannot_qualify():
    """The check solves the assignment problem only when a bound says a permutation could qualify: on random
    streams of captures (some permuted, some noisy) it decides exactly as solving it every time does."""
    from scipy.optimize import linear_sum_assignment

    from nnviz_widgets.record.class_order import CAPTURES, GAP, SURE, ClassOrderCheck

    rng = np.random.default_rng(0)
    for k in (2, 3, 5):
        check, streak, last = ClassOrderCheck(list(range(k))), 0, None
        for _ in range(60):
            labels = rng.integers(0, k, 200)
            perm = rng.permutation(k) if rng.random() < 0.7 else np.arange(k)
            noise = rng.random(200) < rng.choice([0.0, 0.05, 0.3, 0.8])
            predictions = np.where(noise, rng.integers(-1, k, 200), perm[labels])
            confusion = np.zeros((k, k), np.int64)
            shown = predictions >= 0
            np.add.at(confusion, (labels[shown], predictions[shown]), 1)
            true, column = linear_sum_assignment(confusion, maximize=True)
            best, plain = confusion[true, column].sum() / 200, np.trace(confusion) / 200
            found = tuple(int(c) for c in column)
            if best >= SURE and best - plain >= GAP and found != tuple(range(k)):
                streak, last = (streak + 1 if found == last else 1), found
            else:
                streak, last = 0, None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check.see(predictions, labels)
            assert (check.streak, check.last, check.warned) == (streak, last, streak >= CAPTURES)
            if check.warned:  # it warns once, then checks no more
                check, streak, last = ClassOrderCheck(list(range(k))), 0, None
