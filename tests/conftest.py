import os
from pathlib import Path

import pytest
import torch
from torch import nn

import nnviz_widgets as nnv

# numba (UMAP's compiler) caches what it compiled here, for every test and every kernel or server a test starts:
# the compile (a minute or more) is paid once per checkout, not once per process
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache" / "numba"))


def pytest_collection_modifyitems(session, config, items):
    """The Binder check runs last: it reads a build that scripts/test.sh started in the background."""
    items.sort(key=lambda item: item.path.name == "test_binder.py")


@pytest.fixture
def moons():
    return nnv.datasets.moons(200, noise=0.2, seed=0)


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))


@pytest.fixture
def rec(mlp, moons):
    X, y = moons
    return nnv.Recorder(mlp, X, y, grid=40)


def _train(rec, epochs=5, lr=1e-2):
    """Full-batch Adam on the recorder's own data, one capture per epoch."""
    opt = torch.optim.Adam(rec.model.parameters(), lr)
    X, y = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(rec.model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())
    return rec


@pytest.fixture
def train():
    """``train(rec, epochs=5)``: full-batch Adam on the recorder's data, one capture per epoch."""
    return _train
