"""Damaged and hostile files: corrupt, truncated and hand-made runs, wrong format versions, random
bytes for the codec and the run reader, and labels made of HTML/JS in the export.

The contract: every input either reads back bit-identical frames (the complete ones before any damage) or raises a
clear ``ValueError`` (``NotARunError``, ``RunVersionError``) -- never another exception, never a hang.
"""

from __future__ import annotations

import json
import re
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run import codec
from nnviz_widgets.run.store import (
    FRAMES,
    MAGIC,
    MANIFEST,
    NotARunError,
    RunVersionError,
    TornRecordWarning,
    decode_records,
    encode_record,
)

HOSTILE = ["<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>", "\"'><svg onload=alert(3)>"]


@pytest.fixture(scope="module")
def run():
    """Four frames of a small moons run (boundary, predictions, weights, outputs), one of them diverged."""
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(60, seed=0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), X, y, grid=6, output_grid=3)
    for i in range(4):
        rec.capture(loss=1.0 / (i + 1) if i != 2 else float("nan"))
    return rec.run


@pytest.fixture(scope="module")
def stream(run):
    """``frames.bin`` of ``run`` and the offset where each record ends."""
    records = [encode_record(f) for f in run]
    return b"".join(records), list(np.cumsum([len(r) for r in records]))


def same_frames(got: list[dict], run) -> None:
    """``got`` (decode_records output) is a bit-identical prefix of ``run``."""
    assert len(got) <= len(run)
    for fields, frame in zip(got, run, strict=False):
        assert fields["epoch"] == frame.epoch and fields["diverged"] == frame.diverged
        assert fields["metrics"].keys() == frame.metrics.keys()
        assert np.allclose(list(fields["metrics"].values()), list(frame.metrics.values()), equal_nan=True)
        assert fields["arrays"] == frame.arrays  # headers and bytes, exactly


def record(header, payload: bytes = b"") -> bytes:
    """A record with a valid checksum around any header: what a hand-made (or hostile) file can hold."""
    head = json.dumps(header).encode()
    body = head + payload
    return MAGIC + struct.pack("<I", len(head)) + body + struct.pack("<I", zlib.crc32(body))


# -- the record stream: damage keeps every complete frame before it ----------------------------------------
def test_every_truncation_keeps_the_complete_frames(run, stream):
    data, ends = stream
    for cut in sorted({*range(0, len(data), max(1, len(data) // 97)), *ends, *(e - 1 for e in ends)}):
        frames, end, problem = decode_records(data[:cut])
        complete = sum(e <= cut for e in ends)
        assert len(frames) == complete and end == ([0, *ends][complete])
        assert problem == (None if cut in (0, *ends) else "incomplete")
        same_frames(frames, run)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_streams_decode_to_the_same_frames_or_report_damage(run, stream, data):
    raw, ends = stream
    buf = bytearray(raw)
    kind = data.draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "truncate"]))
    at = data.draw(st.integers(0, len(buf) - 1))
    if kind == "flip":
        buf[at] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "overwrite":
        chunk = data.draw(st.binary(min_size=1, max_size=16))
        buf[at : at + len(chunk)] = chunk
    elif kind == "insert":
        buf[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    elif kind == "delete":
        del buf[at : at + data.draw(st.integers(1, 16))]
    else:
        del buf[at:]
    frames, end, problem = decode_records(bytes(buf))
    intact = sum(e <= at for e in ends)  # records wholly before the first changed byte
    same_frames(frames, run)  # whatever decodes is exactly what was written ...
    assert len(frames) >= intact  # ... and no complete record before the damage is lost
    if bytes(buf) != raw and not (kind == "truncate" and at in (0, *ends)):  # a cut between records is a valid run
        assert problem is not None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_never_frames(data):
    frames, end, problem = decode_records(data)
    assert (frames, end) == ([], 0) or data.startswith(MAGIC)
    assert problem is not None or data == b""


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
SPEC = st.fixed_dictionaries(
    {"byte_offset": st.integers(-5, 40), "byte_length": st.integers(-5, 40)},
    optional={
        "dtype": st.sampled_from(["uint8", "uint16", "float32", "int64", 3]),
        "shape": st.lists(st.integers(-2, 6), max_size=3) | JSONISH,
        "scale": st.floats() | JSONISH,
        "offset": st.floats(),
        "nan": st.none() | st.integers(0, 70000) | JSONISH,
    },
)
HEADER = st.fixed_dictionaries(
    {},
    optional={
        "epoch": JSONISH | st.integers(),
        "metrics": st.dictionaries(st.text(max_size=5), JSONISH | st.floats(), max_size=3) | JSONISH,
        "diverged": JSONISH,
        "arrays": st.dictionaries(st.text(max_size=5), SPEC, max_size=3) | JSONISH,
    },
)


@settings(max_examples=400, deadline=None)
@given(HEADER, st.binary(max_size=80))
def test_hand_made_records_with_valid_checksums_read_or_report(header, payload):
    """A checksum only proves the bytes are what was written: a hand-made header must still not crash the reader,
    and every frame it accepts must decode."""
    frames, end, problem = decode_records(record(header, payload))
    assert len(frames) <= 1 and (problem is not None or len(frames) == 1)
    for fields in frames:
        assert isinstance(fields["epoch"], int) and isinstance(fields["diverged"], bool)
        for enc in fields["arrays"].values():
            assert enc.decode().dtype == np.float32


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["uint8", "uint16", "float32"]),
    st.lists(st.integers(0, 5), max_size=3),
    st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3) | st.none(),
    st.none() | st.integers(-1, 70000) | st.floats() | st.text(max_size=3),
    st.binary(max_size=200),
)
def test_codec_random_headers_and_bytes_decode_or_raise_value_error(dtype, shape, scale, nan, data):
    header = {"dtype": dtype, "shape": shape, "scale": scale, "offset": 0.0, "nan": nan}
    try:
        out = codec.decode(header, data)
    except ValueError as err:
        assert str(err)
        return
    assert list(out.shape) == shape and out.dtype == np.float32


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(-(2.0**120), 2.0**120, width=32) | st.sampled_from([np.nan, np.inf, -np.inf]), min_size=1, max_size=50
    )
)
def test_codec_round_trips_any_finite_values_and_keeps_non_finite_as_nan(values):
    """(Within 1/254 of float32's largest value a uint8 code can decode to inf: documented in docs/reliability.md.)"""
    a = np.array(values, dtype=np.float32)
    for dtype in ("uint8", "uint16", "float32"):
        enc = codec.encode(a, dtype)
        out = codec.decode(enc.header, enc.data)
        assert np.array_equal(np.isfinite(out), np.isfinite(a)) or dtype == "float32"
        assert np.array_equal(out, a, equal_nan=True) or dtype != "float32"
        assert codec.decode(json.loads(json.dumps(enc.header)), enc.data).tobytes() == out.tobytes()


# -- runs on disk ------------------------------------------------------------------------------------------
@pytest.fixture
def on_disk(run, tmp_path):
    from nnviz_widgets.run.store import RunWriter

    RunWriter(run, tmp_path / "r").close()
    return tmp_path / "r"


def open_quietly(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = nnv.open_run(path)
    return got, [w for w in caught if issubclass(w.category, TornRecordWarning)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_open_run_on_random_damage_reads_a_prefix_or_raises_a_clear_error(run, on_disk, data):
    original = (on_disk / FRAMES).read_bytes()
    try:
        victim = data.draw(st.sampled_from([FRAMES, MANIFEST, "points.npy", "labels.npy"]))
        raw = bytearray((on_disk / victim).read_bytes())
        at = data.draw(st.integers(0, max(0, len(raw) - 1)))
        raw[at : at + 8] = data.draw(st.binary(min_size=1, max_size=8))
        (on_disk / victim).write_bytes(bytes(raw[: data.draw(st.integers(at, len(raw)))]))
        try:
            got, torn = open_quietly(on_disk)
        except ValueError as err:  # NotARunError, RunVersionError: clear, and named after the file
            assert victim != FRAMES and str(err)
            return
        assert len(got) <= len(run)
        for a, b in zip(got, run, strict=False):
            assert a.arrays == b.arrays and a.epoch == b.epoch
        problem = decode_records((on_disk / FRAMES).read_bytes())[2]
        assert bool(torn) == (problem is not None), "damage in frames.bin must be reported, and only damage"
    finally:
        for name, content in _pristine(run).items():
            (on_disk / name).write_bytes(content)
        (on_disk / FRAMES).write_bytes(original)


_PRISTINE: dict = {}


def _pristine(run) -> dict:
    if not _PRISTINE:
        import tempfile
        from pathlib import Path

        from nnviz_widgets.run.store import RunWriter

        d = Path(tempfile.mkdtemp()) / "r"
        RunWriter(run, d).close()
        _PRISTINE.update({p.name: p.read_bytes() for p in d.iterdir()})
    return _PRISTINE


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda m: {**m, "version": 3}, RunVersionError, "version 3.*newer.*pip install -U"),
        (lambda m: {**m, "version": 999999}, RunVersionError, "newer"),
        (lambda m: {**m, "version": "1"}, NotARunError, "no valid format version"),
        (lambda m: {**m, "version": 0}, NotARunError, "no valid format version"),
        (lambda m: {k: v for k, v in m.items() if k != "version"}, NotARunError, "no valid format version"),
        (lambda m: {**m, "format": "something-else"}, NotARunError, "not a nnviz run manifest"),
        (lambda m: {k: v for k, v in m.items() if k != "grid"}, NotARunError, "lacks"),
        (lambda m: [m], NotARunError, "not a nnviz run manifest"),
    ],
)
def test_wrong_manifests_name_the_problem(on_disk, change, error, match):
    manifest = json.loads((on_disk / MANIFEST).read_text())
    (on_disk / MANIFEST).write_text(json.dumps(change(manifest)))
    with pytest.raises(error, match=match):
        nnv.open_run(on_disk)


def test_a_manifest_that_is_not_json_or_is_truncated(on_disk):
    text = (on_disk / MANIFEST).read_text()
    for broken in (text[: len(text) // 2], "\0\1\2", ""):
        (on_disk / MANIFEST).write_text(broken)
        with pytest.raises(NotARunError, match="not a readable JSON manifest"):
            nnv.open_run(on_disk)


def test_a_pickled_points_file_is_refused_not_unpickled(on_disk):
    np.save(on_disk / "points.npy", np.array([{"__reduce__": "os.system"}], dtype=object), allow_pickle=True)
    with pytest.raises(NotARunError, match="points.npy"):
        nnv.open_run(on_disk)


def test_a_hand_made_record_after_good_ones_is_reported_not_raised(run, on_disk):
    bad = record({"epoch": "x", "metrics": [], "diverged": False, "arrays": {}})
    with open(on_disk / FRAMES, "ab") as f:
        f.write(bad)
    got, torn = open_quietly(on_disk)
    assert len(got) == len(run) and torn and "unreadable record" in str(torn[0].message)
    assert got.torn.offset == (on_disk / FRAMES).stat().st_size - len(bad)


def test_an_array_that_lies_outside_its_record_is_reported():
    spec = {"byte_offset": 90, "byte_length": 4, "dtype": "uint8", "shape": [4], "scale": 1, "offset": 0, "nan": None}
    frames, _, problem = decode_records(
        record({"epoch": 0, "metrics": {}, "diverged": False, "arrays": {"a": spec}}, b"\0" * 4)
    )
    assert frames == [] and "outside the record" in problem


# -- hostile labels in the export ----------------------------------------------------------------------------
def test_hostile_labels_cannot_close_the_script_or_inject_markup(tmp_path):
    X, y = nnv.datasets.moons(60, seed=0)
    names = np.array(HOSTILE[:2])[y]
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), X, names, grid=6)
    rec.capture(**{"loss": 0.5})
    page = rec.run.to_html(tmp_path / "p.html", title=HOSTILE[2]).read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b", page, flags=re.I)
    assert len(scripts) == 1, "a label opened a second <script>"
    body = page.split('<script type="module">', 1)[1]
    assert body.count("</script>") == 1, "a label closed the page's script early"
    head = page.split('<script type="module">', 1)[0]
    for name in HOSTILE:
        assert name not in head, f"{name!r} reached the HTML unescaped"
    assert "&lt;svg onload=alert(3)&gt;" in head
    # the labels still arrive intact, as JSON data for the page's script
    views = json.loads(re.search(r"const VIEWS = (.*);\n", page).group(1))
    boundary = next(v for v in views if v["bundle"] == "boundary.js")
    assert boundary["state"]["classes"] == sorted(HOSTILE[:2])
