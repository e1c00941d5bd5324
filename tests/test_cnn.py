"""Real networks at real scale: image-shaped X, CNNs (BatchNorm, residual blocks, channels_last, bf16/fp16,
torch.compile, DataParallel/DDP), a fixed stratified row sample, a weight byte budget and a time budget."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

import nnviz_widgets as nnv
from nnviz_widgets.record import budget as budget_module
from nnviz_widgets.record import recorder as recorder_module
from nnviz_widgets.record.unwrap import unwrap
from nnviz_widgets.widgets.mosaic import tile_layout


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: on a shared 2-core machine two threads fight over the cores (many times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Block(nn.Module):
    """A residual block: conv-BN-ReLU-conv-BN plus the input."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


def cnn(seed: int = 0, classes: int = 3) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), Block(8), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, classes),
    )  # fmt: skip


def images(n: int = 600, seed: int = 0, classes: int = 3):
    """Colour 8x8 images whose class is the brightest channel: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    X = rng.normal(0, 0.5, size=(n, 3, 8, 8)).astype(np.float32)
    X[np.arange(n), y % 3] += 1.0
    return X, y


def softmax_on_grid(rec, module=None) -> np.ndarray:
    """The model's own probabilities at every grid point of the plane, computed here from scratch."""
    module = module or rec.model
    xs, ys = rec.run.grid
    P = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    inputs = torch.as_tensor(rec.plane.from_plane(P).reshape(-1, *rec.X.shape[1:]))
    param = next(module.parameters())  # on a GPU machine DataParallel moves even a CPU model there
    with torch.no_grad():
        out = module.eval()(inputs.to(param.device, param.dtype)).float().cpu()
    return torch.softmax(out, 1).numpy().reshape(len(ys), len(xs), -1)


# -- image-shaped X --------------------------------------------------------------------------------------------
def test_cnn_on_images_records_the_boundary_it_computes_on_a_pca_plane_of_the_images():
    X, y = images()
    net = cnn()
    rec = nnv.Recorder(net, X, y, grid=12, activations="8", budget=None)
    frame = rec.capture()
    assert frame.boundary.shape == (12, 12, 3) and rec.run.points.shape == (600, 2)
    assert rec.run.axis_labels[0].startswith("PC1")
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec), atol=0.5 / 254 + 1e-5)
    with torch.no_grad():
        want = net.eval()(torch.as_tensor(X)).argmax(1).numpy()
    np.testing.assert_array_equal(frame.predictions, want)
    assert frame.metrics["accuracy"] == pytest.approx(float(np.mean(want == y)))
    # the penultimate layer as an embedding: one row of 16 activations per sampled point
    assert frame.activations["8"].shape == (len(rec.run.sample), 16)


def test_fit_trains_a_cnn_on_images_and_the_embedding_moves_over_epochs():
    X, y = images(400)
    rec = nnv.fit(cnn(), X, y, epochs=3, batch_size=64, lr=1e-2, grid=8, show=False, activations="8", budget=None)
    assert len(rec.run) == 4 and rec.run[-1].metrics["accuracy"] > rec.run[0].metrics["accuracy"]
    first, last = rec.run[0].activations["8"], rec.run[-1].activations["8"]
    assert first.shape == last.shape and np.abs(first - last).mean() > 1e-3
    view = nnv.EmbeddingScatter(rec, layer="8", images=X)  # channels-first images of every row of X
    assert view.n_points == len(rec.run.sample) and view.image_shape == [8, 8, 3]


def test_linear_after_a_conv_is_laid_out_by_the_convs_channels_h_and_w():
    X, y = images(100)
    rec = nnv.Recorder(cnn(), X, y, grid=8, budget=None)
    info = rec.run.layers["7"]
    assert info["image"] == [8, 4, 4] and not info["input"]
    lay = tile_layout(info)
    # 16 neurons x 8 channels, each channel a 4x4 tile; one row of channels per neuron
    assert (lay["tiles"], lay["values"], lay["h"], lay["w"], lay["channels"], lay["cols"]) == (128, 16, 4, 4, 8, 8)
    assert rec.run.layers["9"]["image"] is None  # a Linear after a Linear stays one tile per neuron
    # the first conv reads RGB: one colour tile per filter
    conv = tile_layout(rec.run.layers["0"])
    assert conv["rgb"] and conv["tiles"] == 8 and (conv["h"], conv["w"]) == (3, 3)


def test_a_linear_reading_images_is_one_colour_tile_per_neuron_and_the_plane_folds_into_it():
    X, y = images(200)
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(192, 10), nn.ReLU(), nn.Linear(10, 3))
    rec = nnv.Recorder(mlp, X, y, grid=10, budget=None)
    assert rec.run.layers["1"]["image"] == [3, 8, 8]
    lay = tile_layout(rec.run.layers["1"])
    assert lay["rgb"] and (lay["tiles"], lay["h"], lay["w"]) == (10, 8, 8)
    np.testing.assert_allclose(rec.capture().boundary, softmax_on_grid(rec), atol=0.5 / 254 + 1e-5)


def test_image_x_is_checked():
    X, y = images(50)
    with pytest.raises(ValueError, match=r"could not run on X of shape \(50, 3, 8, 8\)"):
        nnv.Recorder(nn.Linear(3, 2), X, y)
    with pytest.raises(ValueError, match="X must be 2-D, shape \\(N, features\\), or images"):
        nnv.Recorder(cnn(), X[:, 0, 0, 0], y)
    bad = X.copy()
    bad[7, 1, 2, 3] = np.nan
    with pytest.raises(ValueError, match="first at row 7"):
        nnv.Recorder(cnn(), bad, y)


# -- BatchNorm, Dropout, modes ---------------------------------------------------------------------------------
def test_capture_leaves_batchnorm_statistics_and_every_modules_mode_untouched():
    X, y = images(300)
    net = cnn()
    opt = torch.optim.SGD(net.parameters(), 0.1)
    net.train()
    net[6].eval()  # a mixed state: the Dropout off, everything else training
    modes = {name: m.training for name, m in net.named_modules()}
    rec = nnv.Recorder(net, X, y, grid=8, budget=None)
    for _ in range(3):
        loss = nn.functional.cross_entropy(net(torch.as_tensor(X[:64])), torch.as_tensor(y[:64]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = {k: v.clone() for k, v in net.state_dict().items()}
        frame = rec.capture(loss=loss.item())
        after = net.state_dict()
        for key, value in state.items():  # running_mean, running_var, num_batches_tracked, weights
            assert torch.equal(value, after[key]), key
        assert {name: m.training for name, m in net.named_modules()} == modes
    # eval mode during the capture: BatchNorm used its running statistics and Dropout was off
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec), atol=0.5 / 254 + 1e-5)
    net.train()
    assert net[1].training and net[3].bn1.training


# -- the fixed stratified sample -------------------------------------------------------------------------------
def _rows_seen(rec) -> int:
    seen = [0]
    handle = rec.model.register_forward_pre_hook(lambda _m, args: seen.__setitem__(0, seen[0] + len(args[0])))
    try:
        rec.capture(force=True)
    finally:
        handle.remove()
    return seen[0]


def test_capture_cost_does_not_grow_with_the_data_set():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4))
    seen = {}
    for n in (3_000, 30_000):
        X = rng.normal(size=(n, 5)).astype(np.float32)
        y = np.minimum((X[:, 0] > 0) + 2 * (X[:, 1] > 1.2), 3)
        rec = nnv.Recorder(model, X, y, grid=20, budget=None)
        assert len(rec.run.points) == 2000 == len(rec.rows) and len(rec.run.labels) == 2000
        seen[n] = _rows_seen(rec)
    assert seen[3_000] == seen[30_000] == 20 * 20 + 2000


def test_the_sample_is_stratified_fixed_and_sized_by_points():
    rng = np.random.default_rng(1)
    y = rng.choice(4, size=20_000, p=[0.7, 0.2, 0.09, 0.01])
    X = rng.normal(size=(20_000, 3)).astype(np.float32) + y[:, None]
    model = nn.Linear(3, 4)
    rec = nnv.Recorder(model, X, y, grid=10, points=500, budget=None)
    assert len(rec.run.points) == 500 and np.all(np.diff(rec.rows) > 0)
    share = np.bincount(rec.run.labels, minlength=4) / 500
    np.testing.assert_allclose(share, np.bincount(y) / len(y), atol=1 / 500 + 1e-9)
    np.testing.assert_allclose(rec.run.points, rec.plane.to_plane(X[rec.rows]), atol=1e-5)
    assert np.array_equal(nnv.Recorder(model, X, y, grid=10, points=500).rows, rec.rows)  # same rows every time
    assert len(nnv.Recorder(model, X, y, grid=10, points="all").run.points) == 20_000
    with pytest.raises(ValueError, match="points must be an int >= 2"):
        nnv.Recorder(model, X, y, points=1)


def test_accuracy_is_on_the_sample_unless_the_full_data_is_asked_for():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6_000, 4)).astype(np.float32)
    y = (X[:, 0] + 0.8 * rng.normal(size=6_000) > 0).astype(int)
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    with torch.no_grad():
        full = float((model(torch.as_tensor(X)).argmax(1).numpy() == y).mean())
        sample = nnv.Recorder(model, X, y, grid=8, budget=None)
        want = float((model(torch.as_tensor(X[sample.rows])).argmax(1).numpy() == y[sample.rows]).mean())
    assert sample.capture().metrics["accuracy"] == pytest.approx(want)
    everything = nnv.Recorder(model, X, y, grid=8, accuracy="full", budget=None)
    assert everything.capture().metrics["accuracy"] == pytest.approx(full)
    with pytest.raises(ValueError, match="accuracy must be 'sample'"):
        nnv.Recorder(model, X, y, accuracy="all")


def test_an_explicit_activation_sample_names_rows_of_x_and_is_always_drawn():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5_000, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    want = np.array([4_999, 17, 2_500])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    rec = nnv.Recorder(model, X, y, grid=8, activations="1", sample=want, budget=None)
    np.testing.assert_array_equal(rec.rows[rec.run.sample], want)
    with torch.no_grad():
        expected = torch.tanh(model[0](torch.as_tensor(X[want]))).numpy()
    np.testing.assert_allclose(rec.capture().activations["1"], expected, atol=2e-4)


class CountTransfers(TorchFunctionMode):
    """Counts what moves a tensor's values to the host or between devices (works on CPU: the device logic)."""

    HOST = {"cpu", "item", "tolist", "numpy", "to"}

    def __init__(self):
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in self.HOST:
            self.calls += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_no_host_device_round_trip_per_chunk(monkeypatch, model):
    """The grid and the points run in chunks that stay on the model's device: the number of transfers in a
    capture does not depend on how many chunks there are."""
    if model == "cnn":
        X, y = images(300)
        net = cnn()
    else:
        X, y = nnv.datasets.moons(300, seed=0)
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    rec = nnv.Recorder(net, X, y, grid=24, activations="0", outputs=model == "mlp", budget=None)
    rec.capture()  # the grid and the points are on the device from here on
    counts = {}
    for rows in (10_000, 16):
        monkeypatch.setattr(recorder_module, "CHUNK_ROWS", rows)
        with CountTransfers() as mode:
            rec.capture()
        counts[rows] = mode.calls
    assert counts[16] == counts[10_000], counts  # 1 chunk vs 36 + 19 chunks


def test_a_grid_too_big_to_keep_is_made_chunk_by_chunk_on_the_device_with_the_same_result(monkeypatch):
    X, y = images(200)
    rec = nnv.Recorder(cnn(), X, y, grid=20, budget=None)
    kept = rec.capture().boundary
    assert any(key[0] == "grid" for key in rec._cache)
    monkeypatch.setattr(recorder_module, "GRID_CACHE_BYTES", 4096)  # 400 grid rows of 3x8x8 float32: 307 KB
    monkeypatch.setattr(recorder_module, "CHUNK_ROWS", 64)
    made = rec.capture().boundary
    assert not any(key[0] == "grid" for key in rec._cache)  # nothing of the grid kept
    np.testing.assert_allclose(made, kept, atol=1 / 254)
    np.testing.assert_allclose(made, softmax_on_grid(rec), atol=0.5 / 254 + 1e-5)


# -- the weight byte budget ------------------------------------------------------------------------------------
def resnet18_like() -> nn.Module:
    """ResNet-18's weight layers (11 M weights: 22 MB a frame if all were recorded)."""
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False)]
    c = 64
    for out in (64, 128, 256, 512):
        for _ in range(2):
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.Conv2d(out, out, 3, padding=1, bias=False)]
            c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))


def test_weights_are_recorded_under_a_byte_budget_and_layers_still_choose_exactly(caplog):
    model = resnet18_like()
    X = np.random.default_rng(0).normal(size=(20, 3, 16, 16)).astype(np.float32)
    y = np.arange(20) % 10
    with caplog.at_level("INFO", logger="nnviz_widgets"):
        rec = nnv.Recorder(model, X, y, grid=4, budget=None)
    frame = rec.capture()
    chosen = sorted(n[8:] for n in frame.arrays if n.startswith("weights/"))
    assert chosen == ["0", "19"]  # the RGB stem and the classifier; the 3x3 convs have too many tiles
    recorded = sum(len(frame.arrays[f"weights/{n}"].data) for n in chosen)
    assert recorded <= recorder_module.WEIGHT_BYTES
    assert "weights: 0, 19" in repr(rec) and "more layers" in repr(rec)
    assert "weights: 0, 19" in caplog.text  # the recorder says what it chose
    exact = nnv.Recorder(model, X, y, grid=4, layers=["5", "19"], budget=None)
    assert sorted(n for n in exact.capture().arrays if n.startswith("weights/")) == ["weights/19", "weights/5"]
    every = nnv.Recorder(model, X, y, grid=4, weight_bytes=None, budget=None)
    assert len(every.run.layers) == 18
    with pytest.raises(ValueError, match="weight_bytes must be"):
        nnv.Recorder(model, X, y, weight_bytes=-1)


# -- the time budget -------------------------------------------------------------------------------------------
class Slow(nn.Module):
    """A model whose every forward pass costs ``delay`` seconds: a capture that is expensive on purpose."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        time.sleep(self.delay)
        return self.fc(x)


def test_the_time_budget_keeps_captures_to_their_share_of_training():
    X, y = nnv.datasets.moons(200, seed=0)
    rec = nnv.Recorder(Slow(0.01), X, y, grid=10, budget=0.1)  # a capture: 2 passes, about 20 ms
    assert rec.cost.budget == 0.1
    kept = []
    for _ in range(150):
        time.sleep(0.004)  # a training step
        kept.append(rec.capture(loss=1.0) is not None)
    cost = rec.cost
    assert kept[:2] == [True, True] and sum(kept) == cost.captures < 60 and cost.skipped == 150 - sum(kept)
    # over the run, captures stay near their share: at most the budget plus the one uncharged first capture
    assert cost.share <= 0.1 + cost.first_s / cost.train_s + 0.03
    assert cost.seconds == pytest.approx(cost.capture_s / cost.captures) and "per capture" in repr(cost)
    assert rec.capture(force=True) is not None  # a forced capture always records


def test_the_budget_is_on_by_default_after_a_warm_up_and_can_be_turned_off(monkeypatch):
    X, y = nnv.datasets.moons(100, seed=0)
    monkeypatch.setattr(budget_module, "GRACE", 0.05)
    monkeypatch.setattr(budget_module, "FREE_FRAMES", 5)
    monkeypatch.setattr(budget_module, "WARM_TRAIN", 0.0)
    rec = nnv.Recorder(Slow(0.01), X, y, grid=5)  # budget="auto"
    assert rec.cost.budget == 0.05
    kept = [rec.capture() is not None for _ in range(20)]  # no training in between: nothing to share with
    assert kept[:5] == [True] * 5 and not any(kept[8:]) and rec.cost.skipped >= 12
    rec = nnv.Recorder(Slow(0.01), X, y, grid=5, budget=None)
    assert all(rec.capture() is not None for _ in range(5)) and rec.cost.skipped == 0
    with pytest.raises(ValueError, match="budget must be .auto., a share"):
        nnv.Recorder(nn.Linear(2, 2), X, y, budget=5)
    with pytest.raises(ValueError, match="budget must be 'auto'"):
        nnv.Recorder(nn.Linear(2, 2), X, y, budget="fast")


# -- wrappers, memory formats, precisions ---------------------------------------------------------------------
def test_dataparallel_and_compiled_models_are_unwrapped():
    X, y = images(100)
    net = cnn()
    for wrapped in (nn.DataParallel(net), torch.compile(net, backend="eager")):
        rec = nnv.Recorder(wrapped, X, y, grid=6, budget=None, activations="8")
        assert rec.model is net and unwrap(wrapped) is net
        assert list(rec.run.layers) == ["0", "3.conv1", "3.conv2", "7", "9"]  # the names the user wrote
        np.testing.assert_allclose(rec.capture().boundary, softmax_on_grid(rec, net), atol=0.5 / 254 + 1e-5)


def test_distributed_data_parallel_is_unwrapped(tmp_path):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        X, y = images(100)
        net = cnn()
        ddp = nn.parallel.DistributedDataParallel(net)
        rec = nnv.Recorder(ddp, X, y, grid=6, budget=None)
        assert rec.model is net and "0" in rec.run.layers
        np.testing.assert_allclose(rec.capture().boundary, softmax_on_grid(rec, net), atol=0.5 / 254 + 1e-5)
    finally:
        dist.destroy_process_group()


def test_channels_last_models_record_what_they_compute():
    X, y = images(100)
    net = cnn().to(memory_format=torch.channels_last)
    rec = nnv.Recorder(net, X, y, grid=8, budget=None)
    assert recorder_module._channels_last(net)
    np.testing.assert_allclose(rec.capture().boundary, softmax_on_grid(rec), atol=0.5 / 254 + 1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_models(dtype):
    X, y = images(100)
    net = cnn().to(dtype)
    rec = nnv.Recorder(net, X, y, grid=6, budget=None)
    frame = rec.capture()
    assert frame.boundary.dtype == np.float32 and np.isfinite(frame.boundary).all()
    tol = 0.05 if dtype == torch.bfloat16 else 0.01  # the model's own rounding, evaluated on other chunks
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec), atol=tol)


class Autocast(nn.Module):
    """``cnn()`` run under bf16 autocast on ``device_type`` inside its own forward: bf16 logits."""

    def __init__(self, device_type: str = "cpu"):
        super().__init__()
        self.net = cnn()
        self.device_type = device_type

    def forward(self, x):
        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            return self.net(x)


def test_a_model_that_runs_under_autocast_in_its_forward():
    X, y = images(100)
    model = Autocast()
    rec = nnv.Recorder(model, X, y, grid=6, budget=None)
    frame = rec.capture()
    assert np.isfinite(frame.boundary).all() and not math.isnan(frame.metrics["accuracy"])
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec), atol=0.05)
