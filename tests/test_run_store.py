"""The run store: runs on any fsspec file system as segments (memory:// here), disk-backed runs that keep only an
index in memory, following, listing many runs, and the errors for bad paths."""

from __future__ import annotations

import json
import time
import uuid
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run import store as st
from nnviz_widgets.run.codec import encode, encode_classes

pytest.importorskip("fsspec")


def url() -> str:
    return f"memory://nnviz-tests/{uuid.uuid4().hex}"


def tiny_run(n: int = 0, grid: int = 8) -> nnv.Run:
    run = nnv.Run(
        grid=nnv.run.Grid(np.linspace(0, 1, grid), np.linspace(0, 1, grid)),
        points=np.zeros((5, 2), np.float32),
        labels=np.array([0, 1, 0, 1, 0]),
        classes=["a", "b"],
    )
    for i in range(n):
        add(run, i)
    return run


def add(run: nnv.Run, i: int, grid: int = 8):
    rng = np.random.default_rng(i)
    return run.append(
        epoch=i,
        metrics={"loss": 1.0 / (i + 1), **({"val": 0.5} if i % 2 else {})},
        diverged=False,
        arrays={
            "boundary": encode(rng.random((grid, grid, 2)), "uint8", 0, 1),
            "predictions": encode_classes(rng.integers(0, 2, 5)),
        },
    )


def same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.index, x.epoch, x.metrics, x.diverged) == (y.index, y.epoch, y.metrics, y.diverged)
        assert x.arrays == y.arrays


def wait_for(cond, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- segments on an fsspec file system ------------------------------------------------------------------------
def test_a_run_on_memory_is_segments_and_reads_back_bit_identical():
    where, run = url(), tiny_run(3)
    writer = st.RunWriter(run, where, flush_frames=2)
    for i in range(3, 7):
        add(run, i)
    writer.close()
    got = nnv.open_run(where)
    same(got, run)
    assert got.segmented and got.ended is False and got.torn is None
    names = st.store_for(where).list("segments")
    assert names == [f"{k:08d}.{ext}" for k in range(4) for ext in ("idx", "nnvf")], names  # 7 frames, 2 a segment
    status = json.loads(st.store_for(where).read("status.json"))
    assert status["state"] == "ended" and status["frames"] == 7 and status["epoch"] == 6
    manifest = json.loads(st.store_for(where).read("manifest.json"))
    assert manifest["version"] == st.VERSION and manifest["segments"] == "segments" and "frames" not in manifest
    np.testing.assert_array_equal(got.metric("loss"), run.metric("loss"))
    assert np.isnan(got.metric("val")[0]) and got.metric("val")[1] == 0.5


def test_a_killed_writer_leaves_every_flushed_segment_readable():
    where, run = url(), tiny_run()
    writer = st.RunWriter(run, where, flush_frames=3, flush_seconds=60)
    for i in range(8):
        add(run, i)
    assert writer.flush()  # frames 0-7 uploaded (3 segments) ...
    add(run, 8)  # ... frame 8 is not: the writer "dies" here, never closed
    writer._closed = True  # stop its uploader as a killed process would
    got = nnv.open_run(where)
    same(got, run[:8])
    assert json.loads(st.store_for(where).read("status.json"))["state"] == "live"
    # a segment whose index object is missing (killed between the two PUTs) is read from its records
    st.store_for(where).delete("segments/00000001.idx")
    same(nnv.open_run(where), run[:8])


def test_follow_reads_new_segments_and_stops_when_the_writer_ends():
    where, run = url(), tiny_run(1)
    writer = st.RunWriter(run, where, flush_frames=100, flush_seconds=0.05)
    assert writer.flush()
    follower = nnv.open_run(where, follow=True, poll=0.02)
    seen = []
    follower.subscribe(lambda f: seen.append(f.index))
    wait_for(lambda: len(follower) == 1)
    for i in range(1, 5):
        add(run, i)
        wait_for(lambda i=i: len(follower) == i + 1)  # each frame arrives by the flush timer alone
    writer.close()
    wait_for(lambda: not follower.following, timeout=15)
    assert follower.ended and seen == [1, 2, 3, 4]
    same(follower, run)


def test_a_damaged_segment_keeps_the_frames_before_it_and_warns():
    where, run = url(), tiny_run(6)
    st.RunWriter(run, where, flush_frames=2).close()
    store = st.store_for(where)
    store.delete("segments/00000001.idx")
    data = bytearray(store.read("segments/00000001.nnvf"))
    data[-3] ^= 0xFF
    store.write("segments/00000001.nnvf", bytes(data))
    with pytest.warns(st.TornRecordWarning, match="segment 1"):
        got = nnv.open_run(where)
    assert len(got) == 3 and got.torn is not None  # segment 0 and the good first record of segment 1
    same(got, run[:3])


# -- disk-backed runs: memory holds an index ------------------------------------------------------------------
@pytest.mark.parametrize("remote", [False, True], ids=["local", "memory"])
def test_a_recorder_with_a_path_keeps_frames_there_not_in_memory(tmp_path, remote):
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(200, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    where = url() if remote else tmp_path / "run"
    rec = nnv.Recorder(model, X, y, grid=60, path=where)
    plain = nnv.Recorder(model, X, y, grid=60)
    for i in range(40):
        rec.capture(loss=1.0 / (i + 1))
        plain.capture(loss=1.0 / (i + 1))
    assert len(rec.run) == 40
    same(rec.run, plain.run)  # every frame reads back from the store, bit-identical
    st.CACHE_BYTES, old = 0, st.CACHE_BYTES
    try:
        rec.run._frames._cache.clear()
        rec.run._frames._cache_bytes = 0
        same(rec.run[::7], plain.run[::7])
        # the index (29 bytes + 8 per metric per frame, for 64 frames: capacity doubles) and one cached frame
        assert rec.run.nbytes <= 64 * (29 + 2 * 8) + plain.run[0].nbytes, (rec.run.nbytes, plain.run.nbytes)
    finally:
        st.CACHE_BYTES = old
    assert plain.run.nbytes > 40 * 60 * 60 * 2
    rec.writer.close()
    same(nnv.open_run(where), plain.run)


def records_read(monkeypatch) -> list:
    """The offsets of every record the store decodes from now on (``iter_records`` counted)."""
    calls = []
    real = st.iter_records
    monkeypatch.setattr(st, "iter_records", lambda *a: [calls.append(r[0]) or r for r in real(*a)])
    return calls


def test_a_large_local_run_opens_from_its_index_and_checks_records_when_read(tmp_path, monkeypatch):
    run = tiny_run(20)
    st.RunWriter(run, tmp_path / "r").close()
    monkeypatch.setattr(st, "VERIFY_BYTES", 0)  # treat it as large: trust frames.idx instead of scanning
    calls = records_read(monkeypatch)
    got = nnv.open_run(tmp_path / "r")
    assert len(got) == 20 and not calls, "opening decoded no record: the index said where they are"
    same(got, run)
    raw = bytearray((tmp_path / "r" / "frames.bin").read_bytes())
    at = got._frames._entries[5]["offset"] + 20
    raw[at] ^= 0xFF
    (tmp_path / "r" / "frames.bin").write_bytes(bytes(raw))
    damaged = nnv.open_run(tmp_path / "r")
    with pytest.raises(st.NotARunError, match="frame 5 .* damaged"):
        damaged[5]
    same(damaged[6:], run[6:])


def test_a_run_of_many_small_frames_opens_from_its_index_and_caches_a_bounded_number(tmp_path, monkeypatch):
    # A long run of small frames is far under VERIFY_BYTES, yet checking each record at open costs ~1 ms a frame
    # (a million frames: minutes), and a cache bounded by bytes alone would hold every small frame's objects.
    run = tiny_run(30)
    st.RunWriter(run, tmp_path / "r").close()
    monkeypatch.setattr(st, "VERIFY_FRAMES", 20)
    monkeypatch.setattr(st, "CACHE_FRAMES", 8)
    calls = records_read(monkeypatch)
    got = nnv.open_run(tmp_path / "r")
    assert len(got) == 30 and not calls, "opening decoded no record: the index said where they are"
    same(got, run)
    assert len(got._frames._cache) == 8
    monkeypatch.setattr(st, "VERIFY_FRAMES", 30)  # up to VERIFY_FRAMES frames, every record is checked at open
    same(nnv.open_run(tmp_path / "r"), run)
    assert len(calls) >= 30


def test_an_index_that_disagrees_with_the_records_is_cut_where_it_stops_checking(tmp_path, monkeypatch):
    run = tiny_run(6)
    st.RunWriter(run, tmp_path / "r").close()
    lines = (tmp_path / "r" / "frames.idx").read_bytes().split(b"\n")
    bad = json.loads(lines[3])
    bad["o"] += 1
    lines[3] = json.dumps(bad).encode()
    (tmp_path / "r" / "frames.idx").write_bytes(b"\n".join(lines))
    monkeypatch.setattr(st, "VERIFY_BYTES", 0)
    same(nnv.open_run(tmp_path / "r"), run)  # three entries from the index, the rest read from the records


def test_a_version_1_run_without_index_or_status_still_opens(tmp_path):
    run = tiny_run(4)
    st.RunWriter(run, tmp_path / "r").close()
    for name in ("frames.idx", "status.json"):
        (tmp_path / "r" / name).unlink()
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    manifest["version"] = 1
    del manifest["index"]
    (tmp_path / "r" / "manifest.json").write_text(json.dumps(manifest))
    same(nnv.open_run(tmp_path / "r"), run)
    (row,) = nnv.runs(tmp_path)
    assert (row.name, row.frames, row.state) == ("r", 4, "ended")


# -- many runs ------------------------------------------------------------------------------------------------
def test_runs_lists_live_ended_and_torn_runs_and_views_take_them(tmp_path):
    root = url()
    done = tiny_run(3)
    st.RunWriter(done, root + "/done").close()
    live_run = tiny_run(2)
    live = st.RunWriter(live_run, root + "/live", flush_frames=1)
    live.flush()
    st.store_for(root).write("notes.txt", b"not a run")
    table = nnv.runs(root)
    assert [r.name for r in table] == ["done", "live"]
    assert (table["done"].frames, table["done"].state, table["done"].epoch) == (3, "ended", 2)
    assert (table["live"].frames, table["live"].state) == (2, "live")
    assert table["done"].metrics["loss"] == pytest.approx(1 / 3) and table["done"].size > 0
    text = str(table)
    assert text.splitlines()[0].split() == ["name", "frames", "epoch", "metrics", "state", "size"]
    assert "<table>" in table._repr_html_()
    view = nnv.DecisionBoundary(table["done"])  # a view takes the row: it opens the run
    assert len(view.run) == 3
    live.close()
    # a local run with a torn tail
    torn = tiny_run(2)
    st.RunWriter(torn, tmp_path / "t").close()
    with open(tmp_path / "t" / "frames.bin", "ab") as f:
        f.write(b"NNVF\x05")
    assert nnv.runs(tmp_path)["t"].state == "torn"
    with pytest.raises(KeyError, match="no run named 'nope'"):
        table["nope"]


def test_a_writer_dropped_without_close_closes_its_files_when_collected(tmp_path):
    import gc

    run = tiny_run(2)
    st.RunWriter(run, tmp_path / "dropped")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del run  # the run holds its writer (a subscriber): both go together
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert len(nnv.open_run(tmp_path / "dropped")) == 2
    st.RunWriter(tiny_run(1), tmp_path / "dropped", overwrite=True).close()  # its writer lock went with it


def test_nnviz_ls_prints_the_table(tmp_path, capsys):
    from nnviz_widgets.cli import main

    st.RunWriter(tiny_run(3), tmp_path / "a").close()
    assert main(["ls", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "frames", "epoch", "metrics", "state", "size"]
    assert out[1].split()[:3] == ["a", "3", "2"] and "ended" in out[1]
    assert main(["ls", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err


# -- bad input ------------------------------------------------------------------------------------------------
def test_bad_paths_name_the_url():
    run = tiny_run(1)
    with pytest.raises(ValueError, match=r"path='nosuch://b/x': unknown protocol 'nosuch'"):
        st.RunWriter(run, "nosuch://b/x")
    with pytest.raises(ValueError, match=r"path='nosuch://b/x': unknown protocol"):
        nnv.open_run("nosuch://b/x")
    with pytest.raises(FileNotFoundError, match="memory://nnviz-tests/absent"):
        nnv.open_run("memory://nnviz-tests/absent")
    with pytest.raises(TypeError, match="storage_options must be a dict"):
        nnv.open_run(url(), storage_options="anon")
    with pytest.raises(ValueError, match="storage_options= is for URLs"):
        nnv.open_run("runs/x", storage_options={"anon": True})


def test_a_run_in_a_newer_format_is_refused_and_never_overwritten():
    where, run = url(), tiny_run(2)
    st.RunWriter(run, where).close()
    store = st.store_for(where)
    manifest = json.loads(store.read("manifest.json"))
    store.write("manifest.json", json.dumps({**manifest, "version": st.VERSION + 1}).encode())
    with pytest.raises(st.RunVersionError, match=f"{where}.*newer.*pip install -U"):
        nnv.open_run(where)
    before = {n: store.read(f"segments/{n}") for n in store.list("segments")}
    with pytest.raises(FileExistsError, match="newer nnviz_widgets.*not replacing"):
        st.RunWriter(tiny_run(1), where, overwrite=True)
    assert {n: store.read(f"segments/{n}") for n in store.list("segments")} == before


def test_overwrite_replaces_a_remote_run_and_refuses_without_it():
    where = url()
    st.RunWriter(tiny_run(5), where, flush_frames=1).close()
    with pytest.raises(FileExistsError, match="already holds a run"):
        st.RunWriter(tiny_run(1), where)
    st.RunWriter(tiny_run(2), where, overwrite=True).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(nnv.open_run(where)) == 2


def test_max_frames_holds_when_captures_exceed_expected():
    from nnviz_widgets.record.schedule import CaptureSchedule

    for expected in (100, 1000):
        schedule, kept = CaptureSchedule(max_frames=10, expected=expected), 0
        for tick in range(50_000):
            kept += schedule.keep(tick, kept)
        assert kept == 9, (expected, kept)  # one slot left for the final forced capture
