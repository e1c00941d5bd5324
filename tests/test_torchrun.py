"""A real 2-process torchrun job (gloo, CPU): a DDP model recorded with a plain Recorder and with fit(); only global
rank 0 captures and writes, rank 1 does no capture work, and the run rank 0 wrote opens with every frame."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_only_global_rank_zero_records_under_torchrun(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", str(script), str(tmp_path)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
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
