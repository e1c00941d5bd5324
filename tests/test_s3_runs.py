"""Runs on a real S3 API: moto's server on 127.0.0.1 (started and stopped here), s3fs as the client. A writer in
another process is followed live, killed, and its run reopened; runs are listed; bad buckets and missing
credentials get errors that name the URL."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import nnviz_widgets as nnv

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """Storage options for a moto S3 server on 127.0.0.1 holding an empty bucket "runs"."""
    import boto3

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
        boto3.client("s3", endpoint_url=endpoint, **keys).create_bucket(Bucket="runs")
        yield {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    finally:
        server.stop()


WRITER = textwrap.dedent(
    """
    import json, sys, time, torch, torch.nn as nn, nnviz_widgets as nnv
    torch.set_num_threads(1)
    url, options = sys.argv[1], json.loads(sys.argv[2])
    X, y = nnv.datasets.moons(200, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    rec = nnv.Recorder(model, X, y, grid=24, path=url, storage_options=options)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for epoch in range(10_000):
        loss = nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y))
        opt.zero_grad(); loss.backward(); opt.step()
        rec.capture(loss=loss.item())
        print(time.time(), flush=True)   # when frame `epoch` was captured
        time.sleep(0.1)
    """
)


def test_follow_a_writer_process_then_kill_it_and_reopen(s3, tmp_path):
    import json

    url = "s3://runs/live"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(script), url, json.dumps(s3)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        run = nnv.open_run(url, follow=True, timeout=300, storage_options=s3)  # a loaded box imports torch slowly
        arrived: dict[int, float] = {}
        run.subscribe(lambda f: arrived.setdefault(f.index, time.time()))
        captured = []
        while len(captured) < 15:
            line = proc.stdout.readline()
            assert line, "the writer ended early"
            captured.append(float(line))
        deadline = time.monotonic() + 30
        while len(run) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(run) >= 12, "frames keep arriving while the writer runs"
        latency = [arrived[i] - captured[i] for i in arrived if i < len(captured)]
        # the default flush (0.5 s) + backed-off polling (<= 1 s) + a GET; generous for a loaded 2-core box
        assert latency and np.median(latency) < 3.0, latency
    finally:
        proc.send_signal(signal.SIGKILL)  # killed: no atexit, no close, no final flush
        proc.wait(30)
    time.sleep(0.3)
    reopened = nnv.open_run(url, storage_options=s3)
    assert len(reopened) >= len(run) >= 12  # every flushed segment is readable after the kill
    for a, b in zip(reopened, run, strict=False):
        assert a.arrays == b.arrays and a.metrics == b.metrics
    assert reopened[0].boundary.shape == (24, 24, 2)
    run.close()
    (row,) = [r for r in nnv.runs("s3://runs", storage_options=s3) if r.name == "live"]
    assert row.frames == len(reopened) and row.state == "live"  # killed, so never marked ended (heartbeat fresh)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(row.open(follow=False)) == len(reopened)


def test_a_closed_run_reads_back_and_lists_as_ended(s3):
    import torch
    from torch import nn

    X, y = nnv.datasets.moons(100, seed=1)
    rec = nnv.Recorder(nn.Linear(2, 2), X, y, grid=10, path="s3://runs/done", storage_options=s3)
    for i in range(5):
        rec.capture(loss=float(i))
    rec.writer.close()
    got = nnv.open_run("s3://runs/done", storage_options=s3)
    assert [f.metrics["loss"] for f in got] == [0, 1, 2, 3, 4]
    assert all(a.arrays == b.arrays for a, b in zip(got, rec.run, strict=True))
    row = nnv.runs("s3://runs", storage_options=s3)["done"]
    assert (row.frames, row.epoch, row.state) == (5, 4, "ended") and row.size > 0
    with pytest.raises(FileExistsError, match="s3://runs/done.*already holds a run"):
        nnv.Recorder(nn.Linear(2, 2), X, y, grid=10, path="s3://runs/done", storage_options=s3)
    del torch


def test_a_missing_bucket_and_missing_credentials_name_the_url(s3, monkeypatch):
    from torch import nn

    X, y = nnv.datasets.moons(50, seed=2)
    with pytest.raises(OSError, match=r"path='s3://no-such-bucket/x': the bucket does not exist"):
        nnv.Recorder(nn.Linear(2, 2), X, y, grid=5, path="s3://no-such-bucket/x", storage_options=s3)
    with pytest.raises(OSError, match=r"s3://no-such-bucket/x.*bucket does not exist"):
        nnv.open_run("s3://no-such-bucket/x", storage_options=s3)
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    anonymous = {"client_kwargs": s3["client_kwargs"], "skip_instance_cache": True}
    with pytest.raises(OSError, match=r"path='s3://runs/x': access denied or no credentials.*storage_options="):
        nnv.Recorder(nn.Linear(2, 2), X, y, grid=5, path="s3://runs/x", storage_options=anonymous)
    with pytest.raises(OSError, match=r"s3://runs/done.*no credentials"):
        nnv.open_run("s3://runs/done", storage_options=anonymous)
