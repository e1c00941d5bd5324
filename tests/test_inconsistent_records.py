"""Records whose checksum is valid but whose content does not fit their run end the readable frames like any
damage (issue 18, item 3): the run opens, every frame before is readable and bit-identical, a TornRecordWarning
says where it stopped, and nothing that does not fit reaches a view. A manifest or data file that contradicts
itself raises NotARunError naming the field."""

from __future__ import annotations

import io
import json
import uuid
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.run.codec import encode, encode_classes
from nnviz_widgets.run.records import NotARunError, TornRecordWarning, encode_record
from nnviz_widgets.run.run import Frame


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A run of 2 frames with every kind of array: boundary, predictions, weights, outputs, activations, histograms."""
    path = tmp_path_factory.mktemp("runs") / "good"
    torch.manual_seed(0)
    X, y = nnv.datasets.moons(40, seed=0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    rec = nnv.Recorder(model, X, y, grid=6, activations="1", histograms=True, path=path)
    rec.capture()
    rec.capture()
    rec.writer.close()
    return path, rec


def changed(frame: Frame, **arrays) -> Frame:
    """``frame`` with arrays replaced (a value of None drops that array)."""
    new = {**frame.arrays, **arrays}
    return Frame(frame.index + 2, frame.epoch + 2, frame.metrics, frame.diverged, {k: v for k, v in new.items() if v})


def f32(shape) -> object:
    return encode(np.zeros(shape, np.float32), "float32")


# each: a record that passes its checksum but does not fit a run of 6x6 grid, 2 classes, 40 points, layers
# '0' (4, 2) and '2' (2, 4) with (4|2, 6, 6) output maps, 40 sample rows with activations of '1', histograms
INCONSISTENT = {
    "predictions of the wrong length": lambda f: changed(f, predictions=encode_classes(np.zeros(43))),
    "a label out of range": lambda f: changed(f, predictions=encode_classes(np.r_[np.zeros(39), 5])),
    "a non-integral label": lambda f: changed(f, predictions=encode(np.full(40, 0.5), "float32")),
    "a grid of another size": lambda f: changed(f, boundary=encode(np.full((5, 6, 2), 0.5), "uint8", 0, 1)),
    "12 classes for 2": lambda f: changed(
        f,
        boundary=encode(np.full((6, 6, 12), 1 / 12), "uint8", 0, 1),
        predictions=encode_classes(np.arange(40) % 12),
    ),
    "probabilities outside 0..1": lambda f: changed(f, boundary=encode(np.full((6, 6, 2), 7.0), "uint8", 0, 9)),
    "no arrays at all": lambda f: Frame(f.index + 2, f.epoch + 2, f.metrics, False, {}),
    "no boundary": lambda f: changed(f, boundary=None),
    "weights of another shape": lambda f: changed(f, **{"weights/0": encode(np.zeros((4, 3)), "uint16")}),
    "weights of a layer the run never declared": lambda f: changed(f, **{"weights/fc9": encode(np.zeros(3), "uint16")}),
    "neuron outputs on other maps": lambda f: changed(f, **{"outputs/0": encode(np.zeros((4, 5, 6)), "uint8")}),
    "activations for other rows": lambda f: changed(f, **{"activations/1": encode(np.zeros((7, 4)), "uint16")}),
    "a histogram without its stats": lambda f: changed(f, **{"stats/weights/0": None}),
    "histogram stats of the wrong length": lambda f: changed(f, **{"stats/weights/0": f32(3)}),
}


@pytest.mark.parametrize("case", sorted(INCONSISTENT))
def test_a_checksummed_record_that_does_not_fit_the_run_ends_the_readable_frames(written, tmp_path, case):
    good, rec = written
    path = tmp_path / "run"
    path.mkdir()
    for name in ("manifest.json", "points.npy", "labels.npy", "sample.npy", "frames.bin"):
        (path / name).write_bytes((good / name).read_bytes())
    with open(path / "frames.bin", "ab") as f:
        f.write(encode_record(INCONSISTENT[case](rec.run[1])))
        f.write(encode_record(changed(rec.run[1])))  # a good record after it is not trusted either
    with pytest.warns(TornRecordWarning, match="does not fit the run") as caught:
        run = nnv.open_run(path)
    assert len(run) == 2 and run.torn is not None and run.torn.offset == (good / "frames.bin").stat().st_size
    torn = [w for w in caught if issubclass(w.category, TornRecordWarning)]  # not another test's ResourceWarning
    assert "at byte" in str(torn[0].message)
    for a, b in zip(run, rec.run, strict=True):
        assert a.arrays == b.arrays


def test_a_segmented_run_checks_each_record_when_it_is_read(written):
    _, rec = written
    where = f"memory://nnviz-tests/{uuid.uuid4().hex}"
    run = nnv.Run(grid=rec.run.grid, points=rec.run.points, labels=rec.run.labels, classes=rec.run.classes)
    run.layers, run.sample = rec.run.layers, rec.run.sample
    writer = nnv.run.store.RunWriter(run, where, flush_frames=1)
    for frame in (rec.run[0], INCONSISTENT["12 classes for 2"](rec.run[0]), rec.run[1]):
        run.append(epoch=frame.epoch, metrics=frame.metrics, diverged=frame.diverged, arrays=frame.arrays)
    writer.close()
    got = nnv.open_run(where)  # segments open from their index (lazily): each record is checked when read
    assert len(got) == 3 and got[0].arrays == rec.run[0].arrays and got[2].arrays == rec.run[1].arrays
    with pytest.raises(NotARunError, match="frame 1 .* does not fit the run"):
        got[1]


def test_a_large_run_checks_each_record_when_it_is_read(written, tmp_path, monkeypatch):
    good, rec = written
    path = tmp_path / "run"
    path.mkdir()
    for name in ("manifest.json", "points.npy", "labels.npy", "sample.npy", "frames.bin"):
        (path / name).write_bytes((good / name).read_bytes())
    bad = encode_record(INCONSISTENT["a grid of another size"](rec.run[1]))
    size = (path / "frames.bin").stat().st_size
    with open(path / "frames.bin", "ab") as f:
        f.write(bad)
    entry = json.dumps({"o": size, "n": len(bad), "e": 3, "d": False, "m": {}}).encode()
    (path / "frames.idx").write_bytes((good / "frames.idx").read_bytes() + entry + b"\n")
    monkeypatch.setattr(nnv.run.store, "VERIFY_BYTES", 0)  # trust the index at open, as for a run of GBs
    run = nnv.open_run(path)
    assert len(run) == 3 and run[1].arrays == rec.run[1].arrays
    with pytest.raises(NotARunError, match="frame 2 .* does not fit the run"):
        run[2]


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


# each: (file, new content, the field the error must name)
MALFORMED = {
    "grid not increasing": ("manifest.json", lambda m: {**m, "grid": {"xs": [0, 0, 1], "ys": [0, 1]}}, '"grid"'),
    "grid of strings": ("manifest.json", lambda m: {**m, "grid": {"xs": ["a", "b"], "ys": [0, 1]}}, '"grid"'),
    "grid with inf": ("manifest.json", lambda m: {**m, "grid": {"xs": [0, 1e309], "ys": [0, 1]}}, '"grid"'),
    "one class": ("manifest.json", lambda m: {**m, "classes": ["a"]}, '"classes"'),
    "classes that are objects": ("manifest.json", lambda m: {**m, "classes": [{}, []]}, '"classes"'),
    "a layer shape of strings": ("manifest.json", lambda m: {**m, "layers": {"0": {"shape": ["4"]}}}, '"layers"'),
    "a layer that is a list": ("manifest.json", lambda m: {**m, "layers": {"0": [4, 2]}}, '"layers"'),
    "output maps of 3 numbers": (
        "manifest.json",
        lambda m: {**m, "layers": {"0": {"shape": [4, 2], "outputs": [6, 6, 1]}}},
        '"layers"',
    ),
    "three axis labels": ("manifest.json", lambda m: {**m, "axis_labels": ["a", "b", "c"]}, '"axis_labels"'),
    "points file out of the run": ("manifest.json", lambda m: {**m, "points": "../points.npy"}, "not a file inside"),
    "labels out of range": ("labels.npy", lambda _: npy(np.r_[np.zeros(39, np.int64), 2]), "labels.npy"),
    "labels of the wrong length": ("labels.npy", lambda _: npy(np.zeros(39, np.int64)), "labels.npy"),
    "labels that are floats": ("labels.npy", lambda _: npy(np.zeros(40)), "labels.npy"),
    "points of the wrong shape": ("points.npy", lambda _: npy(np.zeros((40, 3), np.float32)), "points.npy"),
    "points with NaN": ("points.npy", lambda _: npy(np.full((40, 2), np.nan, np.float32)), "points.npy"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_manifest_or_data_file_raises_not_a_run_naming_the_field(written, tmp_path, case):
    good, _ = written
    path = tmp_path / "run"
    path.mkdir()
    for name in ("manifest.json", "points.npy", "labels.npy", "sample.npy", "frames.bin"):
        (path / name).write_bytes((good / name).read_bytes())
    name, change, field = MALFORMED[case]
    if name == "manifest.json":
        content = json.dumps(change(json.loads((good / name).read_text()))).encode()
    else:
        content = change(None)
    (path / name).write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NotARunError) as err:
            nnv.open_run(path)
    assert field in str(err.value), str(err.value)
