"""Every input, clear or correct (issue 18, items 5-8): NumPy scalars wherever Python numbers go (checked over
every public signature by introspection), float32 overflow, labels of mixed kinds, probabilities that are not,
the model's dtype in fit, identical rows in t-SNE, max_frames as a hard bound, a non-orthonormal plane, the
memory of a very wide X, and load_csv's hostile files."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets import _check
from nnviz_widgets.export import render_frame, to_html, to_video
from nnviz_widgets.record.schedule import CaptureSchedule


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def moons(n: int = 60):
    return nnv.datasets.moons(n, seed=0)


def mlp(d: int = 2, k: int = 2, dtype=torch.float32) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, k)).to(dtype)


def recorder(**options) -> nnv.Recorder:
    X, y = moons()
    return nnv.Recorder(mlp(), X, y, **{"grid": 8, **options})


def captured(**options) -> nnv.Recorder:
    rec = recorder(**options)
    rec.capture(loss=0.5)
    rec.capture(loss=0.4)
    return rec


# -- NumPy scalars across every public signature ------------------------------------------------------------
# One valid call per public callable; every numeric argument in it (given here or a default of the signature)
# is replaced in turn by NumPy scalars of the same value, and the call must still succeed.
def _tmp(tmp_path: Path, name: str) -> Path:
    return tmp_path / name


VALID = {
    "Recorder": (
        lambda: nnv.Recorder,
        lambda tmp: ((mlp(), *moons()), {"grid": 8, "extent": (-2.0, 3.0, -2.0, 2.0), "max_frames": 5, "expected": 9}),
    ),
    "Recorder.capture": (lambda: recorder().capture, lambda tmp: ((), {"epoch": 3, "loss": 0.5})),
    "DecisionBoundary": (lambda: nnv.DecisionBoundary, lambda tmp: ((captured(),), {"speed": 5.0, "epoch": 1})),
    "WeightMosaic": (lambda: nnv.WeightMosaic, lambda tmp: ((captured(),), {"speed": 5.0})),
    "MetricCurves": (lambda: nnv.MetricCurves, lambda tmp: ((captured(),), {})),
    "Dashboard": (lambda: nnv.Dashboard, lambda tmp: ((captured(),), {"views": ["boundary", "curves"]})),
    "Player": (lambda: nnv.Player, lambda tmp: ((captured(),), {"speed": 4.0})),
    "EmbeddingScatter": (
        lambda: nnv.EmbeddingScatter,
        lambda tmp: ((moons()[0], moons()[1]), {"point_size": 3.0}),
    ),
    "fit": (
        lambda: nnv.fit,
        lambda tmp: (
            (mlp(), *moons()),
            {"epochs": 2, "grid": 8, "show": False, "val": 0.25, "every": 2, "max_frames": 4},
        ),
    ),
    "embed": (lambda: nnv.embed, lambda tmp: ((moons()[0],), {"dims": 2, "seed": 1})),
    "datasets.moons": (lambda: nnv.datasets.moons, lambda tmp: ((50,), {})),
    "datasets.circles": (lambda: nnv.datasets.circles, lambda tmp: ((50,), {})),
    "datasets.xor": (lambda: nnv.datasets.xor, lambda tmp: ((50,), {})),
    "datasets.spiral": (lambda: nnv.datasets.spiral, lambda tmp: ((50,), {})),
    "datasets.blobs": (lambda: nnv.datasets.blobs, lambda tmp: ((50,), {})),
    "datasets.digits": (lambda: nnv.datasets.digits, lambda tmp: ((), {"size": 9})),
    "export.to_html": (lambda: to_html, lambda tmp: ((captured().run, _tmp(tmp, "a.html")), {})),
    "export.to_video": (
        lambda: to_video,
        lambda tmp: ((captured().run, _tmp(tmp, "a.gif")), {"fps": 5, "progress": False}),
    ),
    "export.render_frame": (lambda: render_frame, lambda tmp: ((captured().run, 1), {})),
    "WeightHistograms": (lambda: nnv.WeightHistograms, lambda tmp: ((captured(),), {"speed": 5.0})),
    "Compare": (lambda: nnv.Compare, lambda tmp: ((captured(), captured()), {"width": 300, "height": 280})),
    "watch": (lambda: nnv.watch, lambda tmp: ((mlp(), *moons()), {"grid": 8, "show": False})),
}


def _numeric_arguments(func, args: tuple, kwargs: dict) -> list[tuple[str | int, object]]:
    """(position or name, value) of every int/float argument of the call, given or defaulted."""
    found: list[tuple[str | int, object]] = []
    for i, value in enumerate(args):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append((i, value))
    for name, value in kwargs.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append((name, value))
        elif isinstance(value, tuple) and value and all(isinstance(v, float) for v in value):
            found.append((name, value))
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return found
    for name, p in params.items():
        default = p.default
        if name in kwargs or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or default is inspect.Parameter.empty:
            continue
        if isinstance(default, (int, float)) and not isinstance(default, bool) and p.kind != p.POSITIONAL_ONLY:
            if list(params).index(name) >= len(args):
                found.append((name, default))
    return found


def _numpy_versions(value):
    if isinstance(value, tuple):
        return [tuple(np.float64(v) for v in value), tuple(np.float32(v) for v in value)]
    if isinstance(value, int):
        return [np.int64(value), np.int32(value), np.array(value)]
    return [np.float64(value), np.float32(value)]


def _calls():
    for name, (get, make) in VALID.items():
        yield pytest.param(name, get, make, id=name)


@pytest.mark.parametrize(("name", "get", "make"), list(_calls()))
def test_numpy_scalars_are_accepted_wherever_python_numbers_are(name, get, make, tmp_path):
    func = get()
    args, kwargs = make(tmp_path)
    numeric = _numeric_arguments(func, args, kwargs)
    tried = 0
    for where, value in numeric:
        for np_value in _numpy_versions(value):
            a, k = make(tmp_path)
            func = get()
            if isinstance(where, int):
                a = a[:where] + (np_value,) + a[where + 1 :]
            else:
                k = {**k, where: np_value}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    out = func(*a, **k)
                except Exception as err:  # noqa: BLE001 - reported with the argument that caused it
                    pytest.fail(f"{name}({where}={np_value!r} of type {type(np_value).__name__}): {err!r}")
            training = getattr(out, "training", None)
            if training is not None and hasattr(training, "join"):
                training.join(60)
            tried += 1
    assert tried >= len(numeric)  # to_html takes no number: it only has to be listed


def test_every_public_callable_is_in_the_introspection_table():
    public = {
        n
        for n in nnv.__all__
        if callable(getattr(nnv, n)) and n not in ("Frame", "Run", "Training", "open_run", "runs")
    }
    public |= {f"datasets.{n}" for n in nnv.datasets.__all__ if n not in ("mnist", "load_csv")}  # no numbers
    public |= {"export.to_html", "export.to_video", "export.render_frame", "Recorder.capture"}
    assert public - set(VALID) == set(), "add a valid call for these to VALID"


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        (lambda: recorder(grid=(2.7, 3.2)), "grid"),
        (lambda: recorder(grid=True), "grid"),
        (lambda: recorder(every=2.5), "every"),
        (lambda: recorder(expected=True), "expected"),
        (lambda: recorder(max_frames=np.float64(3.5)), "max_frames"),
        (lambda: recorder(layers=0), "layers"),
        (lambda: recorder(activations=[0]), "activations"),
        (lambda: recorder(outputs="yes"), "outputs"),
        (lambda: nnv.fit(mlp(), *moons(), epochs=2.5, show=False), "epochs"),
        (lambda: nnv.fit(mlp(), *moons(), lr=float("nan"), show=False), "lr"),
        (lambda: nnv.fit(mlp(), *moons(), epochs=1, background="yes", show=False), "background"),
        (lambda: nnv.embed(moons()[0], seed="a"), "seed"),
        (lambda: nnv.embed(moons()[0], "tsne", max_iter=-5), "max_iter"),
        (lambda: nnv.embed(moons()[0], "tsne", perplexity=float("inf")), "perplexity"),
        (lambda: nnv.WeightMosaic(captured(), layer=0), "layer"),
        (lambda: nnv.DecisionBoundary(captured(), width=np.nan), "width"),
        (lambda: to_html(captured().run, "/tmp/nnviz-x.html", title=5), "title"),
        (lambda: to_video(captured().run, "/tmp/nnviz-x.gif", fps=0.001), "fps"),
        (lambda: nnv.datasets.blobs(50, std=-1), "std"),
        (lambda: nnv.datasets.moons(50, seed="a"), "seed"),
        (lambda: nnv.datasets.circles(50, factor=np.float32(1.5)), "factor"),
    ],
)
def test_bad_numbers_and_kinds_are_refused_naming_the_argument(call, arg):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    assert arg in str(info.value), str(info.value)


def test_integer_and_real_checks():
    assert _check.integer("n", np.array(4)) == 4 and _check.integer("n", torch.tensor(4)) == 4
    assert _check.integer("n", 20.0) == 20
    for bad in (2.7, True, np.True_, "3", None, np.array([1, 2]), torch.tensor(2.5), float("inf")):
        with pytest.raises(_check.ArgumentError, match="^n must be"):
            _check.integer("n", bad)
    assert _check.real("x", np.float16(0.5)) == 0.5
    for bad in (float("nan"), float("inf"), "1", None, True):
        with pytest.raises(_check.ArgumentError, match="^x must be"):
            _check.real("x", bad)
    error = _check.ArgumentError("both")
    assert isinstance(error, TypeError) and isinstance(error, ValueError)


# -- labels ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("labels", "match"),
    [
        ([0, 1, None] * 20, "None"),
        ([1, "1"] * 30, "mixes numbers and strings"),
        ([0.0, 1.5] * 30, "non-integer"),
        ([0, float("nan")] * 30, "non-integer"),
        ([b"a", b"b"] * 30, None),  # bytes labels are fine (strings)
    ],
)
def test_labels_of_mixed_or_missing_kinds_are_refused(labels, match):
    X, _ = moons()
    if match is None:
        assert nnv.Recorder(mlp(), X, labels, grid=4).classes
        return
    with pytest.raises(ValueError, match=match):
        nnv.Recorder(mlp(), X, np.array(labels, dtype=object), grid=4)


def test_a_plain_list_mixing_numbers_and_strings_is_refused():
    X, _ = moons()  # numpy alone would read [1, "1", ...] as strings and merge the two kinds silently
    with pytest.raises(ValueError, match="mixes numbers and strings"):
        nnv.Recorder(mlp(), X, [1, "1"] * 30, grid=4)
    assert nnv.Recorder(mlp(), X, ["a", "b"] * 30, grid=4).classes == ["a", "b"]


def test_integral_float_and_object_labels_are_read_as_integers():
    X, y = moons()
    rec = nnv.Recorder(mlp(), X, np.array([float(v) for v in y], dtype=object), grid=4)
    assert rec.classes == [0, 1] and np.array_equal(rec.y, y)


# -- numerics ------------------------------------------------------------------------------------------------
def test_values_beyond_float32_are_refused_not_marked_diverged():
    X, y = moons()
    with pytest.raises(ValueError, match="float32"):
        nnv.Recorder(mlp(), X.astype(np.float64) * 1e39, y)
    with pytest.raises(ValueError, match="extent"):
        nnv.Recorder(mlp(), X, y, extent=(-1e308, 1e308, -1, 1))
    with pytest.raises(ValueError, match="float32"):
        nnv.embed(np.c_[X, X].astype(np.float64) * 1e39)
    # a plane basis x 1e200 spans the same plane: orthonormalised, every frame finite
    X4 = np.c_[X, X[:, ::-1] * 0.5].astype(np.float32)
    rec = nnv.Recorder(mlp(4), X4, y, grid=6, plane=np.eye(2, 4) * 1e200)
    assert not rec.capture().diverged


def test_a_non_orthonormal_plane_basis_draws_points_where_they_are():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    basis = np.array([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0]])  # same plane as e1, e2
    rec = nnv.Recorder(mlp(3), X, y, grid=6, plane=basis)
    np.testing.assert_allclose(rec.plane.basis @ rec.plane.basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(rec.run.points, X[:, :2] - X[:, :2].mean(axis=0), atol=1e-5)
    with pytest.raises(ValueError, match="parallel"):
        nnv.Recorder(mlp(3), X, y, plane=np.array([[1.0, 2, 3], [2, 4, 6]]))


def test_probabilities_output_refuses_logits_and_takes_probabilities():
    X, y = moons()
    with pytest.raises(ValueError, match="not probabilities.*output='logits'"):
        nnv.Recorder(mlp(), X, y, output="probabilities")
    rec = nnv.Recorder(nn.Sequential(mlp(), nn.Softmax(dim=1)), X, y, grid=6, output="probabilities")
    assert rec.capture() is not None


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_fit_trains_a_model_of_another_dtype(dtype):
    X, y = moons(64)
    # SGD: Adam's eps (1e-8) is 0 in float16, which is the optimizer's limit, not the data's
    rec = nnv.fit(mlp(dtype=dtype), X, y, epochs=2, grid=6, show=False, val=0.25, optimizer="sgd")
    assert len(rec.run) == 3 and np.isfinite(rec.run[-1].metrics["loss"])


@pytest.mark.parametrize("backend", ["sklearn", "auto"])
def test_tsne_of_identical_rows_warns_and_returns_finite_points(backend):
    with pytest.warns(RuntimeWarning, match="distinct rows"):
        out = nnv.embed(np.ones((40, 5)), "tsne", backend=backend, max_iter=250, cache=False)
    assert out.shape == (40, 2) and np.isfinite(out).all()


# -- max_frames -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expected", [None, 1, 50])
def test_max_frames_is_a_hard_bound(expected):
    rec = recorder(max_frames=10, expected=expected, grid=4)
    for i in range(500):
        rec.capture(force=i % 7 == 0)
    assert len(rec.run) == 10
    s, kept = CaptureSchedule(max_frames=3, expected=2), 0
    for t in range(100):
        kept += s.keep(t, kept)
    assert kept == 2  # with expected, the last slot stays for a forced final capture


# -- memory: a very wide X ------------------------------------------------------------------------------------
WIDE = textwrap.dedent(
    """
    import resource, sys, numpy as np, torch
    from torch import nn
    import nnviz_widgets as nnv
    torch.set_num_threads(1)
    X = np.random.default_rng(0).normal(size=(20, 100_000)).astype(np.float32)
    y = np.arange(20) % 2
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    folded = sys.argv[1] == "folded"
    model = nn.Sequential(nn.Linear(100_000, 4), nn.ReLU(), nn.Linear(4, 2))
    if not folded:
        model = nn.Sequential(nn.Identity(), model)  # a nested Sequential: nothing folds, the grid is made in chunks
    rec = nnv.Recorder(model, X, y)
    rec.capture()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
    """
)


@pytest.mark.parametrize("how", ["folded", "chunked"])
def test_a_wide_X_costs_memory_in_proportion_to_what_is_used(how):
    out = subprocess.run([sys.executable, "-c", WIDE, how], capture_output=True, text=True, timeout=300, check=True)
    grown_mb = float(out.stdout.split()[-1])
    # the whole 64x64 grid through 100,000 features would be 1,600 MB in float32 (3,300 MB in float64)
    assert grown_mb < 400, f"peak memory grew by {grown_mb:.0f} MB"


# -- load_csv ---------------------------------------------------------------------------------------------------
def test_load_csv_reads_bom_blank_lines_and_other_encodings(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffa,b,cluster\n1,2,x\n\n3,4,y\n\n\n".encode())
    X, y = nnv.datasets.load_csv(path)
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == ["x", "y"]
    path.write_bytes("a,b,cluster\n1,2,été\n3,4,x\n".encode("latin-1"))
    with pytest.raises(ValueError, match="encoding="):
        nnv.datasets.load_csv(path)
    assert nnv.datasets.load_csv(path, encoding="latin-1")[1].tolist() == ["été", "x"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,a,cluster\n1,2,0\n", "twice"),
        ("a,b,cluster\n1,2\n", "line 2 .* 2 cells"),
        ("a,b,cluster\n1,2,0\n1,2,\n", "empty"),
        ("a,b,cluster\n1,x,0\n", "not a number"),
    ],
)
def test_load_csv_refuses_what_it_cannot_read_faithfully(tmp_path, text, match):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        nnv.datasets.load_csv(path)


def test_load_csv_is_linear_in_the_number_of_columns(tmp_path):
    cols = 200_000
    path = tmp_path / "wide.csv"
    row = ",".join(["0.5"] * cols)
    path.write_text(",".join(f"c{i}" for i in range(cols)) + ",cluster\n" + f"{row},0\n{row},1\n")
    X, y = nnv.datasets.load_csv(path)  # quadratic column lookups took over a minute here
    assert X.shape == (2, cols) and y.tolist() == [0, 1]


# -- files the package writes ------------------------------------------------------------------------------------
def test_a_failed_export_leaves_the_existing_file_as_it_was(tmp_path, monkeypatch):
    from nnviz_widgets.export import video

    run = captured().run
    target = tmp_path / "kept.gif"
    target.write_bytes(b"an earlier video")

    def broken(*_args, **_kw):
        raise RuntimeError("the encoder failed")

    monkeypatch.setattr(video, "_write_gif", broken)
    with pytest.raises(RuntimeError):
        to_video(run, target, progress=False)
    assert target.read_bytes() == b"an earlier video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.gif"]


def test_a_class_label_with_a_line_break_is_drawn_on_one_line(tmp_path):
    X, y = moons()
    rec = nnv.Recorder(mlp(), X, np.where(y == 1, "one\nline", "zero"), grid=6)
    rec.capture()
    assert render_frame(rec.run, 0).size
    assert to_video(rec.run, tmp_path / "v.gif", progress=False).stat().st_size > 0


def test_nnviz_demo_onto_a_file_is_refused_before_any_work(tmp_path, capsys):
    from nnviz_widgets.cli import main

    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["demo", "--out", str(target), "--epochs", "2"])
    assert info.value.code == 2 and "--out" in capsys.readouterr().err
    assert target.read_text() == "x"
