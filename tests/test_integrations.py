"""scikit-learn, Lightning, Keras and plain-PyTorch (non-Sequential) models, each recorded per epoch."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv


@pytest.fixture(scope="module")
def moons():
    return nnv.datasets.moons(200, noise=0.2, seed=0)


def test_sklearn_mlp_mirror_is_exactly_predict_proba(moons):
    from sklearn.neural_network import MLPClassifier

    from nnviz_widgets.integrations import sklearn as nnv_sklearn

    X, y = moons
    est = MLPClassifier((8, 6), random_state=0)
    rec = nnv_sklearn.fit(est, X, y, epochs=5, grid=20, show=False, val=(X[:50], y[:50]))
    assert [f.epoch for f in rec.run] == [1, 2, 3, 4, 5]
    assert list(rec.run.layers) == ["fc1", "fc2", "fc3"]
    np.testing.assert_allclose(
        rec.run[-1].weights["fc1"], est.coefs_[0].T, atol=2 * np.abs(est.coefs_[0]).max() / 32767
    )
    assert set(rec.run[-1].metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert rec.run[-1].metrics["loss"] == pytest.approx(est.loss_)
    probs = rec._probabilities("check", rec.X)
    np.testing.assert_allclose(probs, est.predict_proba(X), atol=1e-5)
    assert np.array_equal(rec.run[-1].predictions, est.predict(X))


def test_sklearn_any_partial_fit_estimator(moons):
    from sklearn.linear_model import SGDClassifier

    from nnviz_widgets.integrations import sklearn as nnv_sklearn

    X, y = moons
    est = SGDClassifier(loss="log_loss", random_state=0)
    rec = nnv_sklearn.fit(est, X, y, epochs=3, grid=20, show=False)
    assert len(rec.run) == 3 and not rec.run.layers
    np.testing.assert_allclose(
        rec.run[-1].boundary[0, 0], est.predict_proba([[rec.run.grid.xs[0], rec.run.grid.ys[0]]])[0], atol=1 / 254
    )
    with pytest.raises(TypeError, match="partial_fit and predict_proba"):
        nnv_sklearn.fit(object(), X, y)


def test_plain_torch_model_that_is_not_sequential(moons):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(2, 8), nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    X, y = moons
    rec = nnv.fit(Net(), X, y, epochs=2, grid=20, show=False)
    assert list(rec.run.layers) == ["fc1", "fc2"]
    assert rec.run[-1].weights["fc2"].shape == (2, 8)


def test_lightning_callback_records_on_rank_zero_only(moons):
    pytest.importorskip(
        "lightning", reason="the lightning extra is not installed: pip install 'nnviz_widgets[lightning]'"
    )
    import lightning.pytorch as pl

    from nnviz_widgets.integrations.lightning import RecorderCallback
    from tests.lightning_moons import Module

    X, y = moons
    data = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    loader = torch.utils.data.DataLoader(data, batch_size=32)
    cb = RecorderCallback(X, y, grid=20)
    trainer = pl.Trainer(
        max_epochs=3, callbacks=[cb], accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(Module(), loader)
    assert [f.epoch for f in cb.rec.run] == [0, 1, 2, 3]  # the untrained network first, as fit records it
    assert "loss" in cb.rec.run[-1].metrics and list(cb.rec.run.layers) == ["net.0", "net.2"]

    class Rank1:  # what a DDP rank other than 0 looks like to the callback
        is_global_zero = False
        sanity_checking = False
        current_epoch = 0
        callback_metrics = {"train_loss": torch.tensor(1.0)}

    other = RecorderCallback(X, y, grid=20)
    other.on_fit_start(Rank1(), Module())
    other.on_train_epoch_end(Rank1(), Module())
    assert other.rec is None


DDP_SCRIPT = """
import json, os, sys
import torch
import lightning.pytorch as pl
import nnviz_widgets as nnv
from nnviz_widgets.integrations.lightning import RecorderCallback
from tests.lightning_moons import Module  # the repository root is on PYTHONPATH

torch.set_num_threads(1)
out = sys.argv[1]
X, y = nnv.datasets.moons(200, noise=0.2, seed=0)


class Seen(pl.Callback):  # what each rank did, written by the rank itself
    def on_train_end(self, trainer, pl_module):
        rec = cb.rec
        info = {"rank": trainer.global_rank, "world": trainer.world_size, "recorder": rec is not None,
                "frames": 0 if rec is None else len(rec.run), "backend": torch.distributed.get_backend()}
        with open(os.path.join(out, f"rank{trainer.global_rank}.json"), "w") as f:
            json.dump(info, f)


torch.manual_seed(0)
data = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
loader = torch.utils.data.DataLoader(data, batch_size=25)
cb = RecorderCallback(X, y, grid=20, path=os.path.join(out, "run"))
trainer = pl.Trainer(
    max_epochs=3, callbacks=[cb, Seen()], accelerator="cpu", devices=2, strategy="ddp", num_nodes=1,
    logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
)
trainer.fit(Module(sync_dist=True), loader)
"""


def test_lightning_ddp_two_processes_record_on_rank_zero_only(tmp_path):
    """A real 2-process DDP run on CPU (gloo): rank 0 alone records, and the run on disk is complete."""
    pytest.importorskip(
        "lightning", reason="the lightning extra is not installed: pip install 'nnviz_widgets[lightning]'"
    )
    import json
    import os
    import subprocess
    import sys

    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend for torch.distributed")
    script = tmp_path / "train_ddp.py"
    script.write_text(DDP_SCRIPT)
    root = str(pathlib.Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "PYTHONPATH": path}
    env.pop("LOCAL_RANK", None)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [(r["rank"], r["world"], r["backend"]) for r in ranks] == [(0, 2, "gloo"), (1, 2, "gloo")]
    assert ranks[0]["recorder"] and ranks[0]["frames"] == 4
    assert not ranks[1]["recorder"], "rank 1 built a recorder"
    run = nnv.open_run(tmp_path / "run")
    assert run.torn is None and [f.epoch for f in run] == [0, 1, 2, 3]
    assert all("accuracy" in f.metrics for f in run) and all("loss" in f.metrics for f in run[1:])
    assert run[-1].boundary.shape == (20, 20, 2) and set(run[-1].weights) == {"net.0", "net.2"}


def test_keras_callback(moons):
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="the keras extra is not installed: pip install 'nnviz_widgets[keras]'")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras was imported with another backend before this test; it needs KERAS_BACKEND=torch")
    from nnviz_widgets.integrations.keras import RecorderCallback

    X, y = moons
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    cb = RecorderCallback(X, y, grid=20)
    model.fit(X, y, epochs=3, batch_size=32, validation_split=0.2, callbacks=[cb], verbose=0)
    run = cb.rec.run
    assert [f.epoch for f in run] == [0, 1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(run[-1].metrics)
    first = model.layers[0]
    np.testing.assert_allclose(run[-1].weights[first.name], np.asarray(first.kernel.numpy()).T, atol=1e-3)
    np.testing.assert_allclose(cb.rec._probabilities("check", X[:20]), model.predict(X[:20], verbose=0), atol=1e-5)


def test_missing_framework_names_the_extra(monkeypatch):
    import importlib

    from nnviz_widgets import integrations

    real = importlib.import_module
    monkeypatch.setattr(
        importlib,
        "import_module",
        lambda name: (_ for _ in ()).throw(ImportError(name)) if name.startswith("lightning") else real(name),
    )
    with pytest.raises(ImportError, match=r"nnviz_widgets\[lightning\]"):
        integrations.require("lightning.pytorch", "lightning", "the Lightning callback")
