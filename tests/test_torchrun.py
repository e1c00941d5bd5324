"""Real 2-process torchrun jobs (gloo, CPU). A DDP model recorded with a plain Recorder and with fit(): only global
rank 0 captures and writes, rank 1 does no capture work, and the run rank 0 wrote opens with every frame. FSDP
models (FSDP1 and FSDP2): every rank's capture() joins the gather of the full weights, rank 0 alone evaluates and
writes them, the frames hold the unsharded model's weights and boundary, and training is unchanged."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np

import nnviz_widgets as nnv

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, torch, torch.nn as nn, torch.distributed as dist
    import nnviz_widgets as nnv
    from nnviz_widgets.record import recorder as recorder_module

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, out = dist.get_rank(), sys.argv[1]
    evaluated = []  # every grid/points evaluation this process makes
    real = recorder_module.Recorder._probabilities
    recorder_module.Recorder._probabilities = lambda self, *a, **k: evaluated.append(a[0]) or real(self, *a, **k)

    X, y = nnv.datasets.moons(128, seed=0)
    torch.manual_seed(0)
    ddp = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)))
    rec = nnv.Recorder(ddp, X, y, grid=16, path=os.path.join(out, "loop"))
    opt = torch.optim.SGD(ddp.parameters(), 0.1)
    part = slice(rank * 64, rank * 64 + 64)  # each rank trains on its half; DDP averages the gradients
    frames = []
    for epoch in range(4):
        loss = nn.functional.cross_entropy(ddp(torch.as_tensor(X[part])), torch.as_tensor(y[part]))
        opt.zero_grad(); loss.backward(); opt.step()
        frames.append(rec.capture(loss=loss) is not None)
    fitted = nnv.fit(
        nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))),
        X, y, epochs=3, show=False, grid=8, path=os.path.join(out, "fit"),
    )
    weights = [p.detach().clone() for p in ddp.parameters()]
    gathered = [None, None]
    dist.all_gather_object(gathered, [w.tolist() for w in weights])
    print(json.dumps({
        "rank": rank, "active": rec.active, "frames": frames, "unwrapped": type(rec.model).__name__,
        "writer": rec.writer is not None, "evaluated": evaluated, "fit_frames": len(fitted.run),
        "same_weights": gathered[0] == gathered[1],
    }), flush=True)
    if rec.writer is not None:
        rec.writer.close()
    dist.destroy_process_group()
    """
)


FSDP_SCRIPT = textwrap.dedent(
    """
    import datetime, json, os, sys, torch, torch.nn as nn, torch.distributed as dist
    import nnviz_widgets as nnv
    from nnviz_widgets.record import recorder as recorder_module
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
    from torch.distributed.fsdp import FullyShardedDataParallel, fully_shard
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy

    torch.set_num_threads(1)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))  # a rank left waiting fails, not hangs
    rank, out = dist.get_rank(), sys.argv[1]
    evaluated = []  # every grid/points evaluation this process makes
    real = recorder_module.Recorder._probabilities
    recorder_module.Recorder._probabilities = lambda self, *a, **k: evaluated.append(a[0]) or real(self, *a, **k)
    X, y = nnv.datasets.moons(128, seed=0)
    part = slice(rank * 64, rank * 64 + 64)  # each rank trains on its half
    Xt, yt = torch.as_tensor(X[part]), torch.as_tensor(y[part])

    def net():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))

    def shard(flavour):
        model = net()
        if flavour == "fsdp1":  # nested units: the recorder sees through every wrapper
            return FullyShardedDataParallel(model, device_id=torch.device("cpu"),
                                            auto_wrap_policy=ModuleWrapPolicy({nn.Linear}))
        for layer in (model[0], model[3]):
            fully_shard(layer)
        return fully_shard(model)

    def full(model):  # the full weights and buffers on every rank, through torch's own API (not the recorder's)
        state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
        return {k: v.detach().clone() for k, v in state.items()}

    def probabilities(state, rows):  # the unsharded model, evaluated whole in one process
        plain = net()
        plain.load_state_dict(state)
        with torch.no_grad():
            return torch.softmax(plain.eval()(torch.as_tensor(rows)), 1).numpy()

    def step(model, opt):
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad(); loss.backward(); opt.step()
        return loss

    report, kept = {"rank": rank}, []  # kept: recorders live to the end, whose exit marks their runs "ended"
    for flavour in ("fsdp1", "fsdp2"):
        model, alone = shard(flavour), shard(flavour)  # the same model trained with and without a recorder
        opt, opt_alone = torch.optim.SGD(model.parameters(), 0.1), torch.optim.SGD(alone.parameters(), 0.1)
        rec = nnv.Recorder(model, X, y, grid=16, path=os.path.join(out, flavour))
        evaluated.clear()  # from here on: captures only
        frames, weights_err, boundary_err = [], [], []
        for epoch in range(3):
            loss = step(model, opt); step(alone, opt_alone)
            frame = rec.capture(loss=loss)
            frames.append(frame is not None)
            state = full(model)
            if frame is not None:
                weights_err.append(max(float(abs(frame.weights[n] - state[n + ".weight"].numpy()).max())
                                       for n in frame.weights))
                expected = probabilities(state, rec._grid_points).reshape(frame.boundary.shape)
                boundary_err.append(float(abs(frame.boundary - expected).max()))
        # a time budget only rank 0 measures: after two frames it skips, and every rank must skip with it
        tight = nnv.Recorder(model, X, y, grid=8, budget=1e-9)
        budgeted = []
        for epoch in range(5):
            step(model, opt); step(alone, opt_alone)
            budgeted.append([tight.due(), tight.capture() is not None])
        fitted = nnv.fit(shard(flavour), X, y, epochs=2, show=False, grid=8, val=0.25,
                         path=os.path.join(out, "fit-" + flavour))
        kept.append(fitted)
        try:
            nnv.Recorder(model, X, y, grid=8, gradients=True)
            refused = ""
        except ValueError as err:
            refused = str(err)
        mine, theirs = full(model), full(alone)
        report[flavour] = {
            "active": rec.active, "writer": rec.writer is not None, "frames": frames, "layers": sorted(rec.run.layers),
            "weights_err": weights_err, "boundary_err": boundary_err, "evaluated": len(evaluated),
            "budgeted": budgeted, "fit_frames": len(fitted.run), "refused": refused,
            "modes": [m.training for m in model.modules()],
            "unaffected": mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in theirs),
        }
        if rec.writer is not None:
            rec.writer.close()
    # Lightning's FSDPStrategy (a subclass: Lightning refuses FSDPStrategy itself on a CPU) with the callback
    import lightning as L
    from lightning.pytorch.strategies import FSDPStrategy
    from nnviz_widgets.integrations.lightning import RecorderCallback

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = net()

        def forward(self, x):
            return self.net(x)

        def configure_model(self):  # wrapped here: Lightning's own wrapping gives FSDP no device_id, needed on a CPU
            if not isinstance(self.net, FullyShardedDataParallel):
                self.net = FullyShardedDataParallel(self.net, device_id=torch.device("cpu"))

        def training_step(self, batch, i):
            loss = nn.functional.cross_entropy(self(batch[0]), batch[1])
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), 0.1)

    class CPUFSDP(FSDPStrategy):
        pass

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(Xt, yt), batch_size=32)
    callback = RecorderCallback(X, y, grid=8, path=os.path.join(out, "lightning"))
    L.Trainer(max_epochs=2, accelerator="cpu", devices=2, strategy=CPUFSDP(), callbacks=[callback], logger=False,
              enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False).fit(Module(), data)
    report["lightning"] = {"active": callback.rec.active, "frames": len(callback.rec.run),
                           "layers": sorted(callback.rec.run.layers)}
    print(json.dumps(report), flush=True)
    if dist.is_initialized():
        dist.destroy_process_group()
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_only_global_rank_zero_records_under_torchrun(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    done = _torchrun(script, tmp_path)
    reports = {r["rank"]: r for r in _objects(done.stdout)}
    assert set(reports) == {0, 1}, done.stdout
    zero, one = reports[0], reports[1]
    assert zero["active"] and zero["writer"] and zero["frames"] == [True] * 4 and zero["evaluated"]
    assert not one["active"] and not one["writer"] and one["frames"] == [False] * 4
    assert one["evaluated"] == [], "rank 1 does no capture work (not even the construction's trial forward)"
    assert zero["unwrapped"] == one["unwrapped"] == "Sequential"  # the DDP wrapper was unwrapped
    assert zero["fit_frames"] == 4 and one["fit_frames"] == 0  # fit(): untrained + 3 epochs, on rank 0 only
    assert zero["same_weights"], "training through DDP still synchronised the ranks"
    run = nnv.open_run(tmp_path / "loop")
    assert (
        len(run) == 4
        and run.layers
        and sorted(set(os.listdir(tmp_path / "loop")) - {".writer.lock"})  # the one-writer lock file
        == sorted(["manifest.json", "points.npy", "labels.npy", "frames.bin", "frames.idx", "status.json"])
    )
    assert len(nnv.open_run(tmp_path / "fit")) == 4
    assert {r.name: r.state for r in nnv.runs(tmp_path)} == {"fit": "ended", "loop": "ended"}


def test_fsdp_records_the_unsharded_model_on_rank_zero(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(FSDP_SCRIPT)
    done = _torchrun(script, tmp_path)
    reports = {r["rank"]: r for r in _objects(done.stdout)}
    assert set(reports) == {0, 1}, done.stdout + done.stderr[-3000:]
    for flavour in ("fsdp1", "fsdp2"):
        zero, one = reports[0][flavour], reports[1][flavour]
        assert zero["active"] and zero["writer"] and zero["frames"] == [True] * 3, flavour
        assert not one["active"] and not one["writer"] and one["frames"] == [False] * 3, flavour
        assert one["evaluated"] == 0 and zero["evaluated"] > 0, "rank 1 only helps gather the weights"
        assert zero["layers"] == one["layers"] == ["0", "3"], "the user's layer names, not FSDP's wrappers"
        # uint16 weights over [-max|w|, max|w|], uint8 probabilities: within one quantisation step of the full model
        assert max(zero["weights_err"]) < 1e-4 and max(zero["boundary_err"]) < 0.5 / 254 + 1e-4, flavour
        # rank 0's budget skips after two frames; rank 1 learns each decision, so no rank waits in a gather alone
        assert zero["budgeted"] == [[True, True]] * 2 + [[False, False]] * 3, flavour
        assert [d for d, _ in one["budgeted"]] == [d for d, _ in zero["budgeted"]], flavour
        assert zero["fit_frames"] == 3 and one["fit_frames"] == 0, flavour  # untrained + 2 epochs, validation too
        assert "gradients=True" in zero["refused"] and zero["refused"] == one["refused"], flavour
        assert zero["unaffected"] and one["unaffected"], "weights and BatchNorm statistics as without a recorder"
        assert all(zero["modes"]) and all(one["modes"]), "the model stays in training mode"
        run = nnv.open_run(tmp_path / flavour)
        assert [f.epoch for f in run] == [1, 2, 3] and list(run[0].weights) == ["0", "3"]
        assert nnv.open_run(tmp_path / f"fit-{flavour}").metric("val_loss").size == 3
    zero, one = reports[0]["lightning"], reports[1]["lightning"]  # the callback: a recorder on every rank
    assert zero["active"] and zero["frames"] == 3 and not one["active"] and one["frames"] == 0  # untrained + 2 epochs
    assert zero["layers"] == one["layers"] == ["net.0", "net.3"]
    lightning = nnv.open_run(tmp_path / "lightning")
    assert [f.epoch for f in lightning] == [0, 1, 2] and np.isfinite(lightning.metric("loss")[1:]).all()
    assert {r.name: r.state for r in nnv.runs(tmp_path)} == {
        "fsdp1": "ended", "fsdp2": "ended", "fit-fsdp1": "ended", "fit-fsdp2": "ended", "lightning": "ended"
    }  # fmt: skip


def _torchrun(script, out) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", str(script), str(out)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _objects(text: str) -> list[dict]:
    """Every JSON object printed, whatever else the two ranks' lines were interleaved with."""
    decoder, found, i = json.JSONDecoder(), [], text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            end = i + 1
        else:
            if isinstance(obj, dict) and "rank" in obj:
                found.append(obj)
        i = text.find("{", end)
    return found
