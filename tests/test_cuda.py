"""Models on a GPU: what the recorder computes on CUDA matches the same model on the CPU, the model stays where it
is and how it is (device, mode, BatchNorm statistics), and the grid runs in chunks that stay on the device.

Skipped where no CUDA device is present (CI has none); ``tests/test_cnn.py`` exercises the same device logic on the
CPU. Run on a GPU machine with ``python -m pytest tests/test_cuda.py``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record import recorder as recorder_module

from .test_cnn import Autocast, CountTransfers, cnn, images, softmax_on_grid

# NNVIZ_TEST_DEVICE=cpu runs the same checks on the CPU (to check the tests themselves without a GPU)
CUDA = torch.device(os.environ.get("NNVIZ_TEST_DEVICE", "cuda"))
pytestmark = pytest.mark.skipif(CUDA.type == "cuda" and not torch.cuda.is_available(), reason="needs a CUDA device")


def on_cpu(frame_source) -> nn.Module:
    """A CPU copy of a model, to compute what the recorder should have drawn."""
    import copy

    return copy.deepcopy(frame_source).cpu()


def test_a_cnn_on_cuda_records_what_the_same_model_computes_on_the_cpu():
    X, y = images(500)
    net = cnn().to(CUDA)
    rec = nnv.Recorder(net, X, y, grid=16, activations="8", budget=None)
    frame = rec.capture()
    assert next(net.parameters()).device.type == CUDA.type  # the model was never moved
    cpu = on_cpu(net)
    # TF32/cuDNN kernels round differently from the CPU's: within a few 8-bit colour steps
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec, cpu), atol=0.02)
    with torch.no_grad():
        want = cpu.eval()(torch.as_tensor(X)).argmax(1).numpy()
    assert np.mean(frame.predictions == want) > 0.99
    assert frame.activations["8"].shape == (len(rec.run.sample), 16)


def test_capture_on_cuda_leaves_batchnorm_statistics_and_modes_untouched():
    X, y = images(300)
    net = cnn().to(CUDA)
    opt = torch.optim.SGD(net.parameters(), 0.1)
    net.train()
    modes = {name: m.training for name, m in net.named_modules()}
    rec = nnv.Recorder(net, X, y, grid=8, budget=None)
    xb, yb = torch.as_tensor(X[:64], device=CUDA), torch.as_tensor(y[:64], device=CUDA)
    for _ in range(3):
        loss = nn.functional.cross_entropy(net(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = {k: v.clone() for k, v in net.state_dict().items()}
        rec.capture(loss=loss.item())
        after = net.state_dict()
        for key, value in state.items():
            assert torch.equal(value, after[key]), key
        assert {name: m.training for name, m in net.named_modules()} == modes


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_no_host_device_round_trip_per_chunk_on_cuda(monkeypatch, model):
    if model == "cnn":
        X, y = images(300)
        net = cnn().to(CUDA)
    else:
        X, y = nnv.datasets.moons(300, seed=0)
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)).to(CUDA)
    rec = nnv.Recorder(net, X, y, grid=24, activations="0", outputs=model == "mlp", budget=None)
    rec.capture()
    counts = {}
    for rows in (10_000, 16):
        monkeypatch.setattr(recorder_module, "CHUNK_ROWS", rows)
        with CountTransfers() as mode:
            rec.capture()
        counts[rows] = mode.calls
    assert counts[16] == counts[10_000], counts


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_models_on_cuda(dtype):
    X, y = images(200)
    net = cnn().to(CUDA, dtype)
    rec = nnv.Recorder(net, X, y, grid=8, budget=None)
    frame = rec.capture()
    assert frame.boundary.dtype == np.float32 and np.isfinite(frame.boundary).all()
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec, on_cpu(net).float()), atol=0.06)


def test_autocast_on_cuda():
    X, y = images(200)
    model = Autocast(CUDA.type).to(CUDA)
    rec = nnv.Recorder(model, X, y, grid=8, budget=None)
    frame = rec.capture()
    assert np.isfinite(frame.boundary).all()
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec, on_cpu(model.net)), atol=0.06)


def test_fit_trains_on_cuda_and_writes_a_run_that_opens_on_the_cpu(tmp_path):
    X, y = images(400)
    net = cnn().to(CUDA)
    rec = nnv.fit(net, X, y, epochs=3, batch_size=64, lr=1e-2, grid=8, show=False, budget=None, path=tmp_path / "r")
    assert next(net.parameters()).device.type == CUDA.type
    assert rec.run[-1].metrics["accuracy"] > rec.run[0].metrics["accuracy"]
    run = nnv.open_run(tmp_path / "r")
    assert len(run) == len(rec.run)
    np.testing.assert_allclose(run[-1].boundary, rec.run[-1].boundary, atol=1 / 254)


def test_a_dataparallel_model_on_cuda_is_unwrapped():
    X, y = images(200)
    net = nn.DataParallel(cnn().to(CUDA))
    rec = nnv.Recorder(net, X, y, grid=8, budget=None)
    frame = rec.capture()
    np.testing.assert_allclose(frame.boundary, softmax_on_grid(rec, on_cpu(net.module)), atol=0.02)
