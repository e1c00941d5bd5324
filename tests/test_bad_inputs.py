"""Bad inputs to every public function: each gets a clear error that names the argument.

Every row of ``CASES`` calls one public function with one invalid input and expects an exception of the stated
kind whose message names the argument, raised by nnviz_widgets' own code (never a bare traceback from deep inside
torch, numpy or traitlets). The same rows make the table in docs/reliability.md; after adding a case, regenerate it:

    .venv/bin/python -m tests.test_bad_inputs      # rewrites the table between the markers
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from traitlets import TraitError

import nnviz_widgets as nnv
from nnviz_widgets.embed import EpochProjector, procrustes
from nnviz_widgets.export import render_frame, report, to_html, to_video
from nnviz_widgets.run.codec import decode, encode

DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"
TMP = Path("/tmp/nnviz-reliability-inputs")  # fixed, so the messages in the doc do not change from run to run


# -- what the cases call ------------------------------------------------------------------------------------
def X2(n: int = 40) -> np.ndarray:
    return nnv.datasets.moons(n, seed=0)[0]


def y2(n: int = 40) -> np.ndarray:
    return nnv.datasets.moons(n, seed=0)[1]


def mlp(d: int = 2, k: int = 2) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, k))


class Returns(nn.Module):
    """A model whose forward returns ``wrap(logits)``: a tuple, a dict, a 3-D tensor, ..."""

    def __init__(self, wrap: Callable):
        super().__init__()
        self.net, self.wrap = mlp(), wrap

    def forward(self, x):
        return self.wrap(self.net(x))


def rec(**options) -> nnv.Recorder:
    return nnv.Recorder(mlp(), X2(), y2(), grid=8, **options)


def captured(frames: int = 2, **options) -> nnv.Recorder:
    r = rec(**options)
    for _ in range(frames):
        r.capture(loss=0.5)
    return r


def empty_run() -> nnv.Run:
    return rec().run


def moved_to_meta() -> nnv.Recorder:
    r = rec()
    r.model.to("meta")
    return r


def a_file() -> Path:
    TMP.mkdir(parents=True, exist_ok=True)
    (TMP / "a-file.txt").write_text("not a run\n")
    return TMP / "a-file.txt"


def a_dir(name: str) -> Path:
    (TMP / name).mkdir(parents=True, exist_ok=True)
    return TMP / name


def csv(text: str) -> Path:
    TMP.mkdir(parents=True, exist_ok=True)
    (TMP / "data.csv").write_text(text)
    return TMP / "data.csv"


@dataclass(frozen=True)
class Case:
    func: str  # the public name, as a user writes it
    arg: str  # the argument the message must name
    bad: str  # the invalid input, in words
    call: Callable[[], object]
    raises: tuple[type[Exception], ...] = (ValueError, TypeError)

    @property
    def id(self) -> str:
        return f"{self.func}|{self.arg}|{self.bad}"


V, T = (ValueError,), (TypeError,)
CASES = [
    # -- Recorder: the model ---------------------------------------------------------------------------------------
    Case("Recorder", "model", "None", lambda: nnv.Recorder(None, X2(), y2()), T),
    Case("Recorder", "model", "a string", lambda: nnv.Recorder("mlp", X2(), y2()), T),
    Case("Recorder", "model", "returns a tuple", lambda: nnv.Recorder(Returns(lambda o: (o, o)), X2(), y2()), T),
    Case("Recorder", "model", "returns a dict", lambda: nnv.Recorder(Returns(lambda o: {"logits": o}), X2(), y2()), T),
    Case("Recorder", "model", "returns a list", lambda: nnv.Recorder(Returns(lambda o: [o]), X2(), y2()), T),
    Case(
        "Recorder", "model", "returns (N, K, 1)", lambda: nnv.Recorder(Returns(lambda o: o[..., None]), X2(), y2()), V
    ),
    Case("Recorder", "model", "returns (N,)", lambda: nnv.Recorder(Returns(lambda o: o[:, 0]), X2(), y2()), V),
    Case(
        "Recorder", "model", "1 output column, 3 classes", lambda: nnv.Recorder(mlp(k=1), X2(30), np.arange(30) % 3), V
    ),
    Case("Recorder", "model", "wrong input width (Linear(5, 8))", lambda: nnv.Recorder(mlp(d=5), X2(), y2()), V),
    Case(
        "Recorder",
        "model",
        "on the 'meta' device (stands in for a GPU)",
        lambda: nnv.Recorder(mlp().to("meta"), X2(), y2()),
        V,
    ),
    # -- Recorder: X -----------------------------------------------------------------------------------------------
    Case("Recorder", "X", "None", lambda: nnv.Recorder(mlp(), None, y2()), T),
    Case("Recorder", "X", "a string", lambda: nnv.Recorder(mlp(), "moons", y2())),
    Case("Recorder", "X", "strings array", lambda: nnv.Recorder(mlp(), np.full((40, 2), "a"), y2()), T),
    Case("Recorder", "X", "complex dtype", lambda: nnv.Recorder(mlp(), X2().astype(complex), y2()), T),
    Case("Recorder", "X", "ragged rows", lambda: nnv.Recorder(mlp(), [[1.0, 2.0], [3.0]], [0, 1]), T),
    Case("Recorder", "X", "1-D", lambda: nnv.Recorder(mlp(), X2()[:, 0], y2()), V),
    Case("Recorder", "X", "3-D", lambda: nnv.Recorder(mlp(), X2()[:, :, None], y2()), V),
    Case("Recorder", "X", "empty (0, 2)", lambda: nnv.Recorder(mlp(), np.zeros((0, 2)), np.zeros(0)), V),
    Case("Recorder", "X", "one row", lambda: nnv.Recorder(mlp(), X2()[:1], y2()[:1]), V),
    Case("Recorder", "X", "one feature", lambda: nnv.Recorder(mlp(d=1), X2()[:, :1], y2()), V),
    Case("Recorder", "X", "a NaN", lambda: nnv.Recorder(mlp(), np.where(np.eye(40, 2) > 0, np.nan, X2()), y2()), V),
    Case("Recorder", "X", "an inf", lambda: nnv.Recorder(mlp(), np.where(np.eye(40, 2) > 0, np.inf, X2()), y2()), V),
    Case(
        "Recorder",
        "X",
        "a tensor on the 'meta' device",
        lambda: nnv.Recorder(mlp(), torch.zeros(40, 2, device="meta"), y2()),
    ),
    # -- Recorder: y and classes -----------------------------------------------------------------------------------
    Case("Recorder", "y", "None", lambda: nnv.Recorder(mlp(), X2(), None), V),
    Case("Recorder", "y", "a string", lambda: nnv.Recorder(mlp(), X2(), "labels"), V),
    Case("Recorder", "y", "length 39 for 40 rows", lambda: nnv.Recorder(mlp(), X2(), y2()[:-1]), V),
    Case("Recorder", "y", "empty", lambda: nnv.Recorder(mlp(), X2(), []), V),
    Case("Recorder", "y", "2-D (N, 2) one-hot", lambda: nnv.Recorder(mlp(), X2(), np.eye(2)[y2()]), V),
    Case("Recorder", "y", "1 class", lambda: nnv.Recorder(mlp(), X2(), np.zeros(40)), V),
    Case(
        "Recorder",
        "y",
        "1000 classes",
        lambda: nnv.Recorder(mlp(), np.random.default_rng(0).normal(size=(1000, 2)), np.arange(1000)),
        V,
    ),
    Case("Recorder", "y", "non-integer floats", lambda: nnv.Recorder(mlp(), X2(), y2() + 0.5), V),
    Case(
        "Recorder", "y", "a NaN label", lambda: nnv.Recorder(mlp(), X2(), np.where(np.arange(40) == 3, np.nan, y2())), V
    ),
    Case("Recorder", "y", "a list per label", lambda: nnv.Recorder(mlp(), X2(), [[0, 1]] * 20 + [[1, 0, 1]] * 20)),
    Case("Recorder", "classes", "duplicates", lambda: nnv.Recorder(mlp(), X2(), y2(), classes=[0, 1, 1]), V),
    Case("Recorder", "classes", "misses a label", lambda: nnv.Recorder(mlp(), X2(), y2(), classes=[0]), V),
    Case("Recorder", "classes", "an int", lambda: nnv.Recorder(mlp(), X2(), y2(), classes=2), T),
    # -- Recorder: options -----------------------------------------------------------------------------------------
    Case("Recorder", "grid", "a string", lambda: nnv.Recorder(mlp(), X2(), y2(), grid="fine"), T),
    Case("Recorder", "grid", "1", lambda: nnv.Recorder(mlp(), X2(), y2(), grid=1), V),
    Case("Recorder", "grid", "10**6", lambda: nnv.Recorder(mlp(), X2(), y2(), grid=10**6), V),
    Case("Recorder", "grid", "a float pair of strings", lambda: nnv.Recorder(mlp(), X2(), y2(), grid=("a", "b"))),
    Case("Recorder", "extent", "3 numbers", lambda: nnv.Recorder(mlp(), X2(), y2(), extent=(0, 1, 2)), V),
    Case("Recorder", "extent", "xmin > xmax", lambda: nnv.Recorder(mlp(), X2(), y2(), extent=(1, 0, 0, 1)), V),
    Case("Recorder", "extent", "NaN", lambda: nnv.Recorder(mlp(), X2(), y2(), extent=(0, np.nan, 0, 1)), V),
    Case("Recorder", "output", "'softmax'", lambda: nnv.Recorder(mlp(), X2(), y2(), output="softmax"), V),
    Case(
        "Recorder",
        "plane",
        "(0, 0)",
        lambda: nnv.Recorder(mlp(d=4), np.random.default_rng(0).normal(size=(40, 4)), y2(), plane=(0, 0)),
        V,
    ),
    Case(
        "Recorder",
        "plane",
        "a string",
        lambda: nnv.Recorder(mlp(d=4), np.random.default_rng(0).normal(size=(40, 4)), y2(), plane="pca"),
        V,
    ),
    Case("Recorder", "layers", "an unknown name", lambda: nnv.Recorder(mlp(), X2(), y2(), layers="fc9"), V),
    Case("Recorder", "activations", "an unknown name", lambda: nnv.Recorder(mlp(), X2(), y2(), activations="fc9"), V),
    Case("Recorder", "sample", "1 row", lambda: nnv.Recorder(mlp(), X2(), y2(), activations="1", sample=1), V),
    Case("Recorder", "every", "0", lambda: nnv.Recorder(mlp(), X2(), y2(), every=0), V),
    Case("Recorder", "max_frames", "0", lambda: nnv.Recorder(mlp(), X2(), y2(), max_frames=0), V),
    Case("Recorder", "max_frames", "a string", lambda: nnv.Recorder(mlp(), X2(), y2(), max_frames="100")),
    Case("Recorder", "expected", "-1", lambda: nnv.Recorder(mlp(), X2(), y2(), max_frames=10, expected=-1), V),
    Case("Recorder", "output_grid", "a string", lambda: nnv.Recorder(mlp(), X2(), y2(), output_grid="fine")),
    Case(
        "Recorder",
        "path",
        "an existing file",
        lambda: nnv.Recorder(mlp(), X2(), y2(), path=a_file()),
        (FileExistsError,),
    ),
    Case("Recorder", "histograms", "an unknown layer", lambda: nnv.Recorder(mlp(), X2(), y2(), histograms=["fc9"]), V),
    Case("Recorder", "histograms", "a number", lambda: nnv.Recorder(mlp(), X2(), y2(), histograms=3), T),
    Case("Recorder", "bins", "1", lambda: nnv.Recorder(mlp(), X2(), y2(), bins=1), V),
    Case(
        "Recorder",
        "gradients",
        "without histograms",
        lambda: nnv.Recorder(mlp(), X2(), y2(), histograms=False, gradients=True),
        V,
    ),  # fmt: skip
    Case("Recorder", "unexpected", "an unknown keyword", lambda: nnv.Recorder(mlp(), X2(), y2(), gird=8), T),
    # -- Recorder.capture ------------------------------------------------------------------------------------------
    Case("Recorder.capture", "loss", "a string", lambda: rec().capture(loss="0.5"), T),
    Case("Recorder.capture", "loss", "None", lambda: rec().capture(loss=None), T),
    Case("Recorder.capture", "loss", "a tensor of 3 values", lambda: rec().capture(loss=torch.ones(3)), V),
    Case("Recorder.capture", "loss", "an array of 3 values", lambda: rec().capture(loss=np.ones(3))),
    Case("Recorder.capture", "epoch", "a string", lambda: rec().capture(epoch="one"), V),
    Case("Recorder.capture", "epoch", "a float", lambda: rec().capture(epoch=1.5), V),
    Case(
        "Recorder.capture",
        "model",
        "moved to the 'meta' device after construction",
        lambda: moved_to_meta().capture(),
        V,
    ),
    # -- views -----------------------------------------------------------------------------------------------------
    Case("DecisionBoundary", "source", "None", lambda: nnv.DecisionBoundary(None), T),
    Case("DecisionBoundary", "source", "a model", lambda: nnv.DecisionBoundary(mlp()), T),
    Case("DecisionBoundary", "source", "a path string", lambda: nnv.DecisionBoundary("runs/moons"), T),
    Case("DecisionBoundary", "width", "a string", lambda: nnv.DecisionBoundary(rec(), width="wide")),
    Case("DecisionBoundary", "speed", "0", lambda: nnv.DecisionBoundary(rec(), speed=0), (TraitError,)),
    Case("DecisionBoundary", "height", "-5", lambda: nnv.DecisionBoundary(rec(), height=-5), V),
    Case("DecisionBoundary", "colour", "an unknown keyword", lambda: nnv.DecisionBoundary(rec(), colour="red"), T),
    Case("Compare", "runs", "one run", lambda: nnv.Compare(captured()), T),
    Case("Compare", "view", "'embedding'", lambda: nnv.Compare(captured(), captured(), view="embedding"), V),
    Case("Compare", "names", "one name for two runs", lambda: nnv.Compare(captured(), captured(), names=["a"]), V),
    Case("Compare", "runs", "a run with no frames", lambda: nnv.Compare(captured(), rec()), V),
    Case("WeightHistograms", "show", "'biases'", lambda: nnv.WeightHistograms(rec(), show="biases"), V),
    Case(
        "WeightHistograms", "show", "'gradients' not recorded", lambda: nnv.WeightHistograms(rec(), show="gradients"), V
    ),  # fmt: skip
    Case(
        "WeightHistograms",
        "source",
        "a recorder without histograms",
        lambda: nnv.WeightHistograms(rec(histograms=False)),
        V,
    ),  # fmt: skip
    Case("WeightHistograms", "row_height", "0", lambda: nnv.WeightHistograms(rec(), row_height=0), V),
    Case("WeightMosaic", "layer", "an unknown name", lambda: nnv.WeightMosaic(rec(), layer="fc9"), V),
    Case("WeightMosaic", "show", "'pixels'", lambda: nnv.WeightMosaic(rec(), show="pixels"), V),
    Case("WeightMosaic", "scale", "'global'", lambda: nnv.WeightMosaic(rec(), scale="global"), V),
    Case("WeightMosaic", "page_size", "0", lambda: nnv.WeightMosaic(rec(), page_size=0), V),
    Case("WeightMosaic", "image_shape", "(5, 5) for 2 inputs", lambda: nnv.WeightMosaic(rec(), image_shape=(5, 5)), V),
    Case("WeightMosaic", "image_shape", "a string", lambda: nnv.WeightMosaic(rec(), image_shape="28x28"), T),
    Case("WeightMosaic", "layers", "a run with none recorded", lambda: nnv.WeightMosaic(rec(layers=[])), V),
    Case("WeightMosaic", "source", "None", lambda: nnv.WeightMosaic(None), T),
    Case("WeightMosaic", "width", "a string", lambda: nnv.WeightMosaic(rec(), width="wide"), T),
    Case("Player", "views", "a string", lambda: nnv.Player(rec(), "boundary"), T),
    Case("Player", "source", "None", lambda: nnv.Player(None), T),
    Case("MetricCurves", "source", "None", lambda: nnv.MetricCurves(None), T),
    Case("MetricCurves", "metrics", "a number", lambda: nnv.MetricCurves(rec(), metrics=3)),
    Case("Dashboard", "views", "an unknown view", lambda: nnv.Dashboard(rec(), views=["histogram"]), V),
    Case("Dashboard", "views", "a number", lambda: nnv.Dashboard(rec(), views=3)),
    Case("Dashboard", "source", "None", lambda: nnv.Dashboard(None), T),
    Case("EmbeddingScatter", "X", "None", lambda: nnv.EmbeddingScatter(None, y2())),
    Case("EmbeddingScatter", "X", "strings", lambda: nnv.EmbeddingScatter(np.full((40, 3), "a"), y2())),
    Case("EmbeddingScatter", "y", "length 39 for 40 rows", lambda: nnv.EmbeddingScatter(X2(), y2()[:-1]), V),
    Case(
        "EmbeddingScatter",
        "y",
        "1000 classes",
        lambda: nnv.EmbeddingScatter(np.random.default_rng(0).normal(size=(1000, 3)), np.arange(1000)),
        V,
    ),
    Case("EmbeddingScatter", "dims", "4", lambda: nnv.EmbeddingScatter(X2(), y2(), dims=4), V),
    Case("EmbeddingScatter", "density", "'heat'", lambda: nnv.EmbeddingScatter(X2(), y2(), density="heat"), V),
    Case(
        "EmbeddingScatter",
        "images",
        "5 images for 40 points",
        lambda: nnv.EmbeddingScatter(X2(), y2(), images=np.zeros((5, 8, 8))),
        V,
    ),
    Case("EmbeddingScatter", "method", "'mds'", lambda: nnv.EmbeddingScatter(X2(), y2(), method="mds"), V),
    Case("EmbeddingScatter", "layer", "missing for a recorder", lambda: nnv.EmbeddingScatter(rec()), T),
    Case(
        "EmbeddingScatter",
        "layer",
        "not recorded",
        lambda: nnv.EmbeddingScatter(captured(1, activations="1"), layer="fc9"),
    ),
    # -- fit / watch -----------------------------------------------------------------------------------------------
    Case("fit", "epochs", "0", lambda: nnv.fit(mlp(), X2(), y2(), epochs=0, show=False), V),
    Case("fit", "epochs", "a string", lambda: nnv.fit(mlp(), X2(), y2(), epochs="10", show=False), V),
    Case("fit", "lr", "-1", lambda: nnv.fit(mlp(), X2(), y2(), lr=-1, show=False), V),
    Case("fit", "lr", "a string", lambda: nnv.fit(mlp(), X2(), y2(), lr="fast", show=False), V),
    Case("fit", "batch_size", "0", lambda: nnv.fit(mlp(), X2(), y2(), batch_size=0, show=False), V),
    Case(
        "fit",
        "optimizer",
        "'adamax'",
        lambda: nnv.fit(mlp(), X2(), y2(), epochs=1, optimizer="adamax", show=False, grid=8),
        V,
    ),
    Case(
        "fit", "optimizer", "a number", lambda: nnv.fit(mlp(), X2(), y2(), epochs=1, optimizer=3, show=False, grid=8), T
    ),
    Case("fit", "val", "2.0", lambda: nnv.fit(mlp(), X2(), y2(), epochs=1, val=2.0, show=False, grid=8), V),
    Case("fit", "val", "a string", lambda: nnv.fit(mlp(), X2(), y2(), epochs=1, val="20%", show=False, grid=8), T),
    Case("fit", "device", "'tpu'", lambda: nnv.fit(mlp(), X2(), y2(), epochs=1, device="tpu", show=False, grid=8)),
    Case(
        "fit",
        "device",
        "'meta' (the model moves there)",
        lambda: nnv.fit(mlp(), X2(), y2(), epochs=1, device="meta", show=False, grid=8),
    ),
    Case("fit", "loss", "not callable", lambda: nnv.fit(mlp(), X2(), y2(), epochs=1, loss="mse", show=False, grid=8)),
    Case(
        "fit",
        "model",
        "returns a tuple",
        lambda: nnv.fit(Returns(lambda o: (o, o)), X2(), y2(), epochs=1, show=False),
        T,
    ),
    Case("fit", "y", "length 39 for 40 rows", lambda: nnv.fit(mlp(), X2(), y2()[:-1], epochs=1, show=False), V),
    Case("watch", "model", "None", lambda: nnv.watch(None, X2(), y2(), show=False), T),
    Case(
        "watch",
        "views",
        "an unknown view",
        lambda: nnv.watch(mlp(), X2(), y2(), views=["histogram"], show=False, grid=8),
        V,
    ),
    # -- embed -----------------------------------------------------------------------------------------------------
    Case("embed", "X", "None", lambda: nnv.embed(None)),
    Case("embed", "X", "strings", lambda: nnv.embed(np.full((40, 3), "a"))),
    Case("embed", "X", "empty", lambda: nnv.embed(np.zeros((0, 3))), V),
    Case("embed", "X", "1-D", lambda: nnv.embed(np.zeros(10))),
    Case("embed", "method", "'mds'", lambda: nnv.embed(X2(), "mds"), V),
    Case("embed", "dims", "1", lambda: nnv.embed(X2(), dims=1), V),
    Case("embed", "perplexity", "more than the points", lambda: nnv.embed(X2(), "tsne", perplexity=100), V),
    Case(
        "embed",
        "exaggeration",
        "2 with scikit-learn",
        lambda: nnv.embed(X2(), "tsne", backend="sklearn", exaggeration=2),
        V,
    ),
    Case("embed", "n_neighbours", "an unknown option", lambda: nnv.embed(X2(), "pca", n_neighbours=5), T),
    Case("procrustes", "moving", "another shape", lambda: procrustes(np.zeros((5, 2)), np.zeros((4, 2))), V),
    Case("EpochProjector", "method", "'mds'", lambda: EpochProjector("mds"), V),
    # -- runs on disk, export --------------------------------------------------------------------------------------
    Case("runs", "root", "None", lambda: nnv.runs(None), T),
    Case("runs", "root", "does not exist", lambda: nnv.runs(TMP / "no-such-root"), (FileNotFoundError,)),
    Case("open_run", "path", "None", lambda: nnv.open_run(None), T),
    Case("open_run", "path", "a number", lambda: nnv.open_run(3), T),
    Case("open_run", "path", "does not exist", lambda: nnv.open_run(TMP / "no-such-run"), (FileNotFoundError,)),
    Case("open_run", "path", "a file", lambda: nnv.open_run(a_file()), V),
    Case("open_run", "path", "an empty directory", lambda: nnv.open_run(a_dir("empty")), V),
    Case("open_run", "timeout", "a string", lambda: nnv.open_run(TMP / "no-such-run", follow=True, timeout="5")),
    Case("open_run", "poll", "0", lambda: nnv.open_run(TMP / "no-such-run", follow=True, poll=0)),
    Case("Run.to_html", "path", "None", lambda: captured().run.to_html(None), T),
    Case("Run.to_html", "run", "no frames", lambda: empty_run().to_html(TMP / "x.html"), V),
    Case("export.to_html", "source", "a number", lambda: to_html(3, TMP / "x.html"), T),
    Case("export.to_html", "views", "'weights'", lambda: to_html(captured(), TMP / "x.html", views=["weights"]), V),
    Case("export.report", "path", "None", lambda: report(captured(), None), T),
    Case("export.report", "run", "no frames", lambda: report(rec(), TMP / "r.html"), V),
    Case(
        "Run.to_video",
        "layer",
        "an unknown name",
        lambda: captured().run.to_video(TMP / "x.gif", view="mosaic", layer="fc9"),
        V,
    ),  # fmt: skip
    Case("Run.to_video", "path", "a .txt suffix", lambda: captured().run.to_video(TMP / "x.txt"), V),
    Case("Run.to_video", "fps", "0", lambda: captured().run.to_video(TMP / "x.gif", fps=0), V),
    Case("Run.to_video", "view", "'curves'", lambda: captured().run.to_video(TMP / "x.gif", view="curves"), V),
    Case("export.to_video", "run", "None", lambda: to_video(None, TMP / "x.gif"), T),
    Case("export.render_frame", "index", "past the end", lambda: render_frame(captured().run, 5)),
    Case("export.render_frame", "run", "None", lambda: render_frame(None, 0)),
    # -- codec -----------------------------------------------------------------------------------------------------
    Case("codec.encode", "dtype", "'int8'", lambda: encode(np.zeros(3), "int8"), V),
    Case("codec.encode", "values", "strings", lambda: encode(np.array(["a", "b"]))),
    Case("codec.decode", "header", "not a dict", lambda: decode("uint8", b"")),
    Case(
        "codec.decode",
        "header",
        "unknown dtype",
        lambda: decode({"dtype": "int8", "shape": [1], "scale": 1, "offset": 0}, b"\0"),
        V,
    ),
    Case(
        "codec.decode",
        "data",
        "too short",
        lambda: decode({"dtype": "uint8", "shape": [4], "scale": 1, "offset": 0}, b"\0"),
        V,
    ),
    # -- datasets --------------------------------------------------------------------------------------------------
    Case("datasets.moons", "n", "0", lambda: nnv.datasets.moons(0), V),
    Case("datasets.moons", "n", "a string", lambda: nnv.datasets.moons("500"), V),
    Case("datasets.moons", "noise", "-1", lambda: nnv.datasets.moons(50, noise=-1)),
    Case("datasets.circles", "factor", "2", lambda: nnv.datasets.circles(50, factor=2)),
    Case("datasets.circles", "n", "-5", lambda: nnv.datasets.circles(-5), V),
    Case("datasets.xor", "n", "1", lambda: nnv.datasets.xor(1), V),
    Case("datasets.xor", "n", "None", lambda: nnv.datasets.xor(None), V),
    Case("datasets.spiral", "classes", "1", lambda: nnv.datasets.spiral(50, classes=1), V),
    Case("datasets.spiral", "classes", "1000", lambda: nnv.datasets.spiral(50, classes=1000), V),
    Case("datasets.spiral", "classes", "a string", lambda: nnv.datasets.spiral(50, classes="3")),
    Case("datasets.blobs", "centers", "1000", lambda: nnv.datasets.blobs(50, centers=1000), V),
    Case("datasets.digits", "size", "3", lambda: nnv.datasets.digits(size=3), V),
    Case(
        "datasets.load_csv",
        "path",
        "does not exist",
        lambda: nnv.datasets.load_csv(TMP / "none.csv"),
        (FileNotFoundError,),
    ),
    Case("datasets.load_csv", "y", "not a column", lambda: nnv.datasets.load_csv(csv("a,b,c\n1,2,0\n"), y="label"), V),
    Case(
        "datasets.load_csv",
        "x",
        "not a column",
        lambda: nnv.datasets.load_csv(csv("a,b,c\n1,2,0\n"), x=["z"], y="c"),
        V,
    ),
    Case(
        "datasets.load_csv",
        "path",
        "a text cell among the features",
        lambda: nnv.datasets.load_csv(csv("a,b,c\n1,x,0\n"), y="c"),
        V,
    ),
    Case("datasets.load_csv", "path", "only a header", lambda: nnv.datasets.load_csv(csv("a,b,c\n"), y="c"), V),
]


# -- running a case ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    error: BaseException | None
    where: str  # "file:function" of the frame that raised

    @property
    def kind(self) -> str:
        return "returned" if self.error is None else type(self.error).__name__

    @property
    def message(self) -> str:
        return "" if self.error is None else str(self.error).replace(str(TMP), "<tmp>")


def run_case(case: Case) -> Outcome:
    try:
        case.call()
    except Exception as err:  # noqa: BLE001 - the test judges whatever comes out
        last = traceback.extract_tb(err.__traceback__)[-1]
        return Outcome(err, f"{last.filename}:{last.name}")
    return Outcome(None, "")


def names(message: str, arg: str) -> bool:
    if arg == "unexpected":  # an unknown keyword: Python's own TypeError names it
        return "unexpected keyword" in message
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", message) is not None


def ours(out: Outcome) -> bool:
    """Raised by nnviz_widgets itself (or by Python for an unknown keyword, or by scikit-learn's own parameter
    validation, whose message names the parameter), not deep inside a library."""
    if type(out.error).__name__ == "InvalidParameterError":
        return True
    return "/nnviz_widgets/" in out.where or out.where.endswith(":<lambda>")


def verdict(case: Case, out: Outcome) -> str:
    """'' when the case behaves; else what is wrong."""
    if out.error is None:
        return "no error raised"
    problems = []
    if not isinstance(out.error, case.raises):
        problems.append(f"{out.kind}, expected {' or '.join(e.__name__ for e in case.raises)}")
    if not names(out.message, case.arg):
        problems.append(f"message does not name {case.arg!r}")
    if not ours(out):
        problems.append(f"raised deep inside {out.where}")
    return "; ".join(problems)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)  # some cases train (fit): share the machine


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_error(case):
    out = run_case(case)
    problem = verdict(case, out)
    assert not problem, f"{case.func}({case.arg}={case.bad}): {problem}\n{out.kind}: {out.message}"


def test_every_public_name_has_a_case():
    """Each name users call (nnv.__all__, export, embed, datasets) is exercised by at least one case."""
    callables = {n for n in nnv.__all__ if callable(getattr(nnv, n)) and n not in ("Frame", "Run", "Training")}
    callables |= {f"datasets.{n}" for n in nnv.datasets.__all__ if n != "mnist"}  # mnist: network only
    callables |= {"export.to_html", "export.to_video", "export.render_frame", "export.report", "procrustes"}
    callables |= {"EpochProjector"}
    callables |= {"Run.to_html", "Run.to_video", "Recorder.capture"}
    assert callables - {c.func for c in CASES} == set()


# -- the table in docs/reliability.md ---------------------------------------------------------------------------
def _cell(text: str, limit: int = 150) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table() -> str:
    rows = [
        "| function | argument | invalid input | error | message (start) |",
        "|---|---|---|---|---|",
    ]
    clear = 0
    for case in CASES:
        out = run_case(case)
        ok = not verdict(case, out)
        clear += ok
        rows.append(
            f"| `{case.func}` | `{case.arg}` | {case.bad} | {'' if ok else '**FAILS** '}`{out.kind}` | "
            f"{_cell(out.message)} |"
        )
    share = f"{100 * clear / len(CASES):.0f} %"
    head = f"{clear} of {len(CASES)} invalid inputs ({share}) get a clear error naming the argument."
    return "\n".join([head, "", *rows])


def _doc_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(START) + len(START) : text.index(END)].strip()


def test_the_doc_table_is_current():
    assert DOC.is_file(), f"{DOC} is missing; run .venv/bin/python -m tests.test_bad_inputs"
    assert _doc_section() == table(), "docs/reliability.md is stale: run .venv/bin/python -m tests.test_bad_inputs"


def write_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    DOC.write_text(f"{before}{START}\n{table()}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    torch.set_num_threads(1)
    write_doc()
    sys.stdout.write(f"wrote the bad-input table to {DOC}\n")
