"""Recorder: attached to a model and its data; each ``capture()`` appends one Frame to ``rec.run``.

The recorder evaluates, it never draws: the boundary probe runs the model on a grid over the data, under
``torch.no_grad()`` and in eval mode, on the model's own device, and stores quantised probabilities.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .._check import flag, integer, is_number, real
from .._columns import feature_names
from ..run import Frame, Grid, Run
from ..run.codec import encode, encode_classes, from_codes
from ..run.store import RunWriter
from .activations import DEFAULT_SAMPLE, ActivationProbe, choose_sample
from .budget import Cost, check_budget
from .class_order import ClassOrderCheck
from .distributed import Sharded, agree, global_rank, is_sharded
from .histograms import BINS, HistogramProbe
from .plane import choose_plane, first_linear, fold_linear, run_after, sequential_forward
from .points import POINTS, stratified_rows
from .schedule import CaptureSchedule
from .twin import KeptTwin, eval_twin, mode_free
from .unwrap import unwrap
from .weights import WEIGHT_BYTES, OutputProbe, WeightProbe, describe_layer, traced_inputs

log = logging.getLogger("nnviz_widgets")

MAX_CLASSES = 10
# inputs beyond this are refused: float32 holds up to 3.4e38, and the plane's grid adds a margin to the extent
FLOAT32_SAFE = 1e37
PROB_TOL, PROB_SUM_TOL = 1e-3, 1e-2  # float16 models and float32 softmax sums stay well inside
# default points per side on a plane through wide data: 4,096 rows. Drawn smoothly (bilinear) at 400x400 px, a
# trained digits model's 64x64 plane differs from evaluating every pixel by 0.0035 in probability on average (less
# than the frame's uint8 step, 1/254) and in the winning class on 0.11 % of pixels (80x80: 0.0023, 0.07 %; 48x48:
# 0.0061, 0.21 %), for 0.41x the grid rows of 100x100 (benchmarks/bench_dashboard.py, README)
PLANE_GRID = 64
CHUNK_ROWS = 8192  # grid rows per forward pass: bounds peak memory on big grids and big models
GRID_CACHE_BYTES = 64 * 2**20  # a plane grid of input rows up to this size stays on the device between captures
CHUNK_VALUES = 2**21  # and input values per forward pass on a GPU (8 MB of float32): 682 rows of 3x32x32 images
# on a CPU, 170 such images: their activations stay in its caches (a ResNet-20 capture on one thread 28 s -> 20 s)
# and, on a CPU, values in the widest Linear layer's output per pass: the seed's 2-100-2 default capture (a
# 200x200 grid, output maps) took 28 ms in chunks of 8,192 rows (3.3 MB of activations, twice: the hooked
# ReLU's output is a copy) and 12.6 ms in chunks of 5,242, as glibc stopped handing those blocks back to the system
# after each chunk (page faults on every one)
CPU_CHUNK_VALUES = 2**19


class Recorder:
    """Record what a classifier has become, one frame per :meth:`capture`.

    Parameters
    ----------
    model : torch.nn.Module mapping a float tensor shaped like X to (N, K) logits (K >= number of classes;
        one column is read as the logit of class 1 of two). A model wrapped in ``DataParallel``,
        ``DistributedDataParallel`` or ``torch.compile`` is evaluated eagerly through the module inside, with the
        layer names you gave it (``rec.model`` is that module). Captures run in eval mode (BatchNorm reads its
        running statistics and never updates them; Dropout is off) under ``torch.no_grad()``, on the model's
        device, in its dtype (bf16/fp16 too) and memory format (``channels_last``); the model's modes are left
        as they were.
    X : (N, D) array or tensor of features, or images (N, C, H, W) as a CNN takes them. With more than 2 values per
        row the boundary is drawn on a plane through the data (an image is one point): by default its first two
        principal components (axes labelled with their explained variance). With 2 features the axes are labelled
        with X's column names when it has them (``nnv.datasets.load_csv``'s X, a pandas DataFrame; kept as
        ``rec.feature_names``), else x₁, x₂.
    y : (N,) labels, integers or strings. ``rec.y`` holds them as class indices (``rec.y[i]`` is the position of
        row i's label in ``rec.classes``): the targets a training loop of your own must use, so that output
        column ``k`` means class ``rec.classes[k]`` (the recorder warns when the model's outputs consistently
        match another class order).
    grid : points per side of the evaluation grid (an int, or ``(nx, ny)``). Default 200 for 2-D data; 64 on a
        plane through higher-dimensional data, where each grid point is a full input row for the model (unless
        the model is an ``nn.Sequential`` starting with a ``Linear`` on its input: that layer is then folded into
        the plane and takes the grid's 2 plane coordinates, see ``record/plane.py``; same probabilities).
    extent : ``(xmin, xmax, ymin, ymax)`` of the grid; default the data extent plus a 10 % margin.
    classes : the class order. Default: the sorted distinct labels of ``y``. ``rec.classes`` states it;
        output column ``k`` of the model is class ``classes[k]``.
    output : ``"logits"`` (default; softmax, or sigmoid for one column) or ``"probabilities"``.
    plane : for D > 2, which plane to draw on: ``(i, j)`` picks principal components i and j (0-based), a
        (2, D) array is a custom basis through the data mean. Default: components (0, 1).
    points : how many rows of the data each capture evaluates and draws (``POINTS``, 2,000, by default; ``"all"``):
        a fixed class-stratified sample (``rec.rows``, ``record/points.py``), so a capture costs the same whatever
        the data set's size. Predictions, the drawn points, ``accuracy`` and the activation sample come from it.
    accuracy : ``"sample"`` (default: on the points) or ``"full"`` (every row of X, each capture; costs a pass over
        the data).
    layers : which layers' weights to record each capture (``frame.weights[name]``), by module name
        (``model.named_modules()``): a name or a list of names, recorded exactly. Default: the layers a mosaic
        shows well (the first weight layer, then each Linear/Conv2d whose tiles fit one mosaic page) within
        ``weight_bytes`` per frame (``WEIGHT_BYTES``, 512 KB; None: every Linear and Conv2d);
        ``record/weights.py``. The recorder says what it chose: ``repr(rec)``, :meth:`describe`, and a log line
        (logger ``"nnviz_widgets"``, level INFO).
    outputs : also record each recorded Linear layer's neuron outputs on a coarser grid (``frame.outputs``,
        for ``WeightMosaic(rec, show="outputs")``). Default: when X has 2 features.
    output_grid : points per side of that coarser grid (a subsample of ``grid``); default 50.
    histograms : record a histogram and norms of each layer's weights every capture (``frame.histograms``, for
        ``nnv.WeightHistograms``; ``record/histograms.py``): ``True`` (default) for every Linear and Conv layer,
        a layer name or list of names, or ``False``. About ``4 * (bins + 10)`` bytes per layer per frame: the
        compact summary of the layers whose weights the byte budget leaves out.
    gradients : also record each such layer's gradient histogram (``frame.gradient_histograms``), read from
        ``.grad`` at capture: call :meth:`capture` after ``backward()`` and before the next ``zero_grad()``.
    bins : histogram bins per layer (default 64), equal bins over each frame's range.
    every, max_frames, expected : which :meth:`capture` calls become frames (``record/schedule.py``). ``every=n``
        keeps one frame per n calls, counted from the first (call 0 is always a frame): call ``capture()`` once
        per optimizer step to record every n steps (what ``nnv.fit(every=n)`` does), once per epoch (as the
        Lightning and Keras callbacks do) to record every n epochs. With ``max_frames`` at most that many frames,
        evenly spaced when ``expected`` (the number of ``capture()`` calls the run will make) is known, else
        denser early. Frames are never deleted, so frame indices stay valid. ``capture(force=True)`` always
        records; :meth:`due` says whether the next call will.
    budget : the share of training time (the time between ``capture()`` calls) captures may take: a capture the
        schedule keeps is skipped when it would exceed it. Default ``"auto"``: 0.05 once the run has 100 frames,
        2 s of captures and 30 s of training behind it (short runs, demos and loops that only capture keep every
        frame); a number holds from the second capture on; None: no limit. ``rec.cost`` reports seconds per
        capture and their share of training (``record/budget.py``). ``fit(budget=...)`` passes it on.
    path : where to write the run as it grows (docs/run-format.md): a directory, or an fsspec URL such as
        ``"s3://bucket/runs/x"`` (also ``gs://``, ``az://``, ``memory://``; ``storage_options=`` go to fsspec).
        Frames then live there and memory holds only an index of them (about 30 bytes plus 8 per metric per
        frame) and a cache of recent frames (32 MB, at most 1,024); another process can follow the run with
        ``nnv.open_run(path, follow=True)``.
        An existing run there is refused unless ``overwrite=True``.

    Under torch.distributed (torchrun, DDP) only global rank 0 records: on every other rank ``rec.active``
    is False, :meth:`capture` returns None at once and nothing is written. A DataParallel/DDP/``torch.compile``
    wrapper is unwrapped: the recorder evaluates the module inside it (``rec.model``). Under FSDP
    (``FullyShardedDataParallel`` or ``fully_shard``) call :meth:`capture` and :meth:`due` on every rank at the same
    points of the training loop (after the optimizer step, from the training thread): each call is a collective in
    which the other ranks help gather the full weights onto rank 0, which alone evaluates and writes (``rec.model``
    is then a plain view of the model that holds those weights during a capture only); ``gradients=True`` is refused.

    Example
    -------
    >>> import torch.nn as nn, nnviz_widgets as nnv
    >>> X, y = nnv.datasets.moons(200)
    >>> rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), X, y, grid=50)
    >>> frame = rec.capture(loss=0.7)
    >>> frame.boundary.shape
    (50, 50, 2)

    Images: ``nnv.Recorder(cnn, X_images, y)`` with X of shape (N, 3, 32, 32) draws the boundary on the PCA plane
    of the images, conv filters in colour, and a Linear layer after a conv by that conv's channels x h x w.
    """

    def __init__(
        self,
        model: nn.Module,
        X,
        y,
        *,
        grid: int | tuple[int, int] | None = None,
        extent: Sequence[float] | None = None,
        classes: Sequence | None = None,
        output: str = "logits",
        plane=None,
        path=None,
        overwrite: bool = False,
        storage_options: dict | None = None,
        layers: str | Sequence[str] | None = None,
        outputs: bool | None = None,
        output_grid: int = 50,
        every: int = 1,
        max_frames: int | None = None,
        expected: int | None = None,
        activations: str | Sequence[str] | None = None,
        sample=DEFAULT_SAMPLE,
        points: int | str = POINTS,
        accuracy: str = "sample",
        weight_bytes: int | None = WEIGHT_BYTES,
        budget: float | str | None = "auto",
        histograms: bool | str | Sequence[str] = True,
        gradients: bool = False,
        bins: int = BINS,
    ):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(output, str) or output not in ("logits", "probabilities"):
            raise ValueError(f"output must be 'logits' or 'probabilities', got {output!r}")
        if accuracy not in ("sample", "full"):
            raise ValueError(f"accuracy must be 'sample' (on the points) or 'full' (every row of X), got {accuracy!r}")
        if gradients and is_sharded(model):  # raised on every rank alike: none is left waiting in a collective
            raise ValueError(
                "gradients=True cannot record a sharded (FSDP) model's gradients: each rank holds a shard of them. "
                "Record weight histograms only (gradients=False), or train with DDP to see gradients"
            )
        # captures evaluate, hook and name the module inside DataParallel/DDP/torch.compile (record/unwrap.py); an
        # FSDP model through a plain view that rank 0 fills with the full weights at each capture (distributed.py)
        self._sharded = Sharded(unwrap(model)) if is_sharded(model) else None
        self.model = self._sharded.model if self._sharded is not None else unwrap(model)
        self.rank = global_rank()
        self.active = self.rank == 0  # only global rank 0 records (and writes) under torch.distributed
        self.output = output
        self.accuracy = accuracy
        self.schedule = CaptureSchedule(every, max_frames, expected)
        self._cost = Cost(*check_budget(budget))
        self.ticks = 0  # capture() calls so far, kept or not
        self.feature_names = feature_names(X)  # X's own column names, or None
        self.X = check_X(X)  # (N, D) rows, or (N, C, H, W) images: as the model takes them
        self.classes, self.y = check_y(y, len(self.X), classes)
        self._class_order = ClassOrderCheck(self.classes)
        # the rows every capture evaluates (record/points.py); an explicit activation sample is always among them
        rows = stratified_rows(self.y, points)
        if is_number(sample) or isinstance(sample, (bool, np.bool_)):  # checked even when no activations use it
            sample = integer("sample", sample, what="a number of rows")
            if sample < 3:
                raise ValueError(f"sample must be at least 3 rows (an embedding needs 3 points), got {sample}")
        else:
            sample = choose_sample(len(self.X), sample)
            rows = np.union1d(rows, sample)
            sample = np.searchsorted(rows, sample)
        self.rows = rows
        self._labels = self.y[rows]  # the points' labels, as each capture scores its predictions against them
        flat = self.X[rows].reshape(len(rows), -1)
        self.plane = choose_plane(flat, plane, self.feature_names)
        shown = self.plane.to_plane(flat)  # where each drawn point is
        if grid is None:
            grid = 200 if flat.shape[1] == 2 else PLANE_GRID
        xs, ys = _grid_axes(shown, grid, extent)
        self.run = Run(
            grid=Grid(xs, ys),
            points=shown,
            labels=self.y[rows],
            classes=[str(c) for c in self.classes],
            axis_labels=self.plane.axis_labels,
        )
        # the model sees each grid point of the plane mapped back to its own input space, shaped like a row of X
        # (or, when its first layer is a Linear on the input, the plane coordinates through that layer folded into
        # the plane)
        self._plane_points = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        self._cache: dict = {}
        # the widest Linear layer's output, which bounds the rows of a forward pass on a CPU (_chunk_rows)
        linear = [m.out_features for m in self.model.modules() if isinstance(m, nn.Linear)]
        self._widest = max(linear, default=0)
        self._lock = threading.Lock()
        self._twin = KeptTwin()  # the model's eval-mode twin, kept between captures (under the lock)
        self._weights = WeightProbe(self.model, layers, weight_bytes)
        record_outputs = flat.shape[1] == 2 if outputs is None else flag("outputs", outputs)
        self._outputs = OutputProbe(
            self.model, self._weights.layers if record_outputs else {}, (len(ys), len(xs)), _output_grid(output_grid)
        )
        self._activations = ActivationProbe(self.model, activations, len(rows), sample)
        self._histograms = _histogram_probe(self.model, histograms, gradients, bins)
        self.run.sample = self._activations.sample  # which drawn points (rows of run.points) carry activations
        with self._full_weights():  # other ranks never evaluate (under FSDP they help gather the weights)
            inputs = self._check_model_output() if self.active else {}
            # capture()'s default epoch: did training start before frame 0?
            untrained = _fingerprint(self.model) if self.active else None
        self.run.layers = {
            name: describe_layer(m, self.X.shape[1:], inputs.get(name)) for name, m in self._weights.layers.items()
        }
        for name in self._outputs.watched:
            self.run.layers[name]["outputs"] = list(self._outputs.shape)
            self.run.layers[name]["activation"] = self._outputs.activations[name]  # None: pre-activation maps
        self.writer = None
        if not self.active:
            return
        self._untrained = untrained
        self._epoch_offset = 0
        overwrite = flag("overwrite", overwrite)
        if storage_options is not None and not isinstance(storage_options, dict):
            raise TypeError(f"storage_options must be a dict of fsspec options (or None), got {storage_options!r}")
        if path is not None:
            self.writer = RunWriter(
                self.run, path, overwrite=overwrite, storage_options=storage_options, index_only=True
            )
        log.info("%s", self.describe())

    def __repr__(self) -> str:
        return f"<Recorder {type(self.model).__name__}, {len(self.classes)} classes, {self.describe()}, {self.run!r}>"

    def describe(self) -> str:
        """What each capture records, in one line (the recorder also logs it at creation, logger
        ``"nnviz_widgets"``): the rows evaluated, the layers whose weights are kept, the histograms, the budget."""
        rows = f"{len(self.rows)} of {len(self.X)} rows" if len(self.rows) < len(self.X) else f"all {len(self.X)} rows"
        weights = self._weights.describe()
        budget = "no time budget" if self.cost.budget is None else f"time budget {self.cost.budget:g} of training"
        hist = f"histograms: {len(self._histograms.layers)} layers" if self._histograms is not None else "no histograms"
        unsaved = self.writer.unsaved if self.writer is not None else 0
        disk = f"; {unsaved} frames NOT SAVED to {self.writer.url!r} yet (a write failed)" if unsaved else ""
        return f"points: {rows} (stratified); weights: {weights}; {hist}; {budget}{disk}"

    @property
    def activation_layers(self) -> list[str]:
        """Names of the modules whose activations each frame records (the ``activations=`` argument), in the
        order given; ``[]`` when none. ``EmbeddingScatter(rec, layer=...)`` takes one.

        >>> import torch.nn as nn, nnviz_widgets as nnv
        >>> X, y = nnv.datasets.moons(100)
        >>> nnv.Recorder(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)), X, y, grid=10,
        ...              activations="1").activation_layers
        ['1']
        """
        return list(self._activations.modules)

    @property
    def cost(self) -> Cost:
        """Seconds per capture and their share of training time (``record/budget.py``)."""
        return self._cost

    # -- capture ------------------------------------------------------------------------------------
    def due(self) -> bool:
        """Whether the next :meth:`capture` call (without ``force``) will record a frame (the schedule keeps
        it and the time budget affords it); lets a loop skip computing costly metrics for calls that are dropped.

        >>> import torch.nn as nn, nnviz_widgets as nnv
        >>> X, y = nnv.datasets.moons(100)
        >>> rec = nnv.Recorder(nn.Linear(2, 2), X, y, grid=10, every=2)
        >>> [(rec.due(), rec.capture() is not None) for _ in range(3)]
        [(True, True), (False, False), (True, True)]
        """
        due = self.active and self.schedule.keep(self.ticks, len(self.run)) and self._cost.affordable()
        return agree(due) if self._sharded is not None else due  # every FSDP rank must act alike on it

    def capture(self, *, epoch: int | None = None, force: bool = False, **metrics) -> Frame | None:
        """Evaluate the model now and append one frame; returns it (None when the schedule skips this
        capture: see ``every`` / ``max_frames``, or the time budget does: see ``budget``; ``force=True``
        always records).

        ``metrics`` are numbers (floats, ints or one-element tensors) such as ``loss=loss.item()`` or
        the loss tensor itself (``float(loss)`` on a tensor that requires grad makes torch warn; a tensor is
        read only when the capture is kept, so a skipped one never waits for a GPU);
        ``accuracy`` on the recorder's points (``accuracy="full"``: on every row of X) is added unless given.
        ``epoch`` defaults to the number of epochs trained, counting one ``capture()`` call per epoch: the call's
        number (0, 1, ...) when the first call saw the weights the recorder was made with (a capture before
        training), else the call's number + 1 (only captures after each epoch), so the network after one epoch of
        training is always epoch 1.
        """
        if not self.active and self._sharded is None:
            # another rank records: no evaluation, no metric conversion (a GPU sync), no write
            self.ticks += 1
            return None
        force = flag("force", force)
        if self.active:  # checked at every call, converted only for a frame: a tensor's .item() waits for its GPU
            for name, value in metrics.items():
                _check_metric(name, value)
        epoch = None if epoch is None else _epoch(epoch)
        with self._lock:  # one capture at a time per recorder: ticks, frames, caches and costs stay consistent
            self._cost.called()
            tick, self.ticks = self.ticks, self.ticks + 1
            if not self._keeps(tick, force):
                self._cost.returned()
                return None
            start, frame = time.perf_counter(), None
            try:
                with self._full_weights() as model:  # under FSDP every rank gathers; only rank 0 evaluates
                    if self.active:
                        metrics = {name: _metric(name, value) for name, value in metrics.items()}
                        if tick == 0 and epoch is None:
                            self._epoch_offset = int(_fingerprint(model) != self._untrained)
                        frame = self._evaluate(tick + self._epoch_offset if epoch is None else epoch, metrics)
            finally:
                self._cost.returned(time.perf_counter() - start if self.active else None)
            return frame

    def _keeps(self, tick: int, force: bool) -> bool:
        """Whether capture number ``tick`` becomes a frame: rank 0 decides (the schedule, ``max_frames`` and the
        time budget); under FSDP every rank learns its decision, so all of them gather the weights or none does."""
        if not self.active:
            keep = False
        elif force:
            keep = self.schedule.room(len(self.run))  # max_frames is a hard bound, forced captures included
        else:
            keep = self.schedule.keep(tick, len(self.run))
            if keep and not self._cost.affordable():
                self._cost.skipped += 1
                keep = False
        return agree(keep) if self._sharded is not None else keep

    def _full_weights(self):
        """The model to evaluate, whole: ``self.model``, which under FSDP holds the full weights on rank 0 only
        inside this block (a collective every rank enters; record/distributed.py)."""
        return self._sharded.full() if self._sharded is not None else contextlib.nullcontext(self.model)

    def _evaluate(self, epoch: int, metrics: dict) -> Frame:
        # the model's eval-mode twin (record/twin.py): same weights, its own modes and probe hooks, so a
        # training thread never sees eval mode and captures from several threads never undo each other's modes.
        # A model that computes the same in both modes and carries no hooks, with no probe to hook it
        # (a boundary-only capture of a plain MLP), is evaluated as itself: its twin would compute the same
        probes = bool(self._outputs.watched or self._activations.modules)
        twin = None if not probes and mode_free(self.model) else self._twin.get(self.model)
        model = self.model if twin is None else twin.model
        # a probe that watches no layer needs no hooks (nor their context managers: boundary-only captures)
        outputs = self._outputs.hooked(twin) if self._outputs.watched else contextlib.nullcontext({})
        # with no probe hooks on either pass, one look at the model's layers (sequential_forward) serves both
        plain = None if probes else sequential_forward(model, self.X.shape[1:]) or model
        codes = self.output == "logits"  # a softmax or sigmoid: quantised as the chunks are joined (_probabilities)
        with outputs as seen:  # neuron outputs come from this same grid evaluation
            grid = self._grid_probabilities(model, plain, codes=codes)
        activations = self._activations.hooked(twin) if self._activations.modules else contextlib.nullcontext({})
        with activations as sample_seen:  # activations of the sample rows: same pass
            point_probs = self._probabilities("points", lambda: self.X[self.rows], plain, model=model)
        nx, ny = len(self.run.grid.xs), len(self.run.grid.ys)
        if codes:
            boundary = from_codes(grid[0].reshape(ny, nx, -1), 0.0, 1.0, nan=grid[1])
        else:  # grid is this capture's own fresh array of probabilities: the codes are worked out in it
            boundary = encode(grid.reshape(ny, nx, -1), "uint8", lo=0.0, hi=1.0, overwrite=True)
        # whole-array checks first: the per-row work is only needed once a model has diverged
        grid_finite = boundary.header["nan"] is None  # the encoder's own check: no second pass over the grid
        points_finite = bool(np.isfinite(point_probs).all())
        predictions = _predictions(point_probs, points_finite)
        labels = self._labels
        # the warning points at capture()'s caller; the check's counts give the points' accuracy too
        accuracy = self._class_order.see(predictions, labels, stacklevel=3)
        if "accuracy" not in metrics:
            if self.accuracy == "full":
                every = self._probabilities("data", self.X, model=model)
                metrics["accuracy"] = _accuracy(_predictions(every, bool(np.isfinite(every).all())), self.y)
            else:
                metrics["accuracy"] = accuracy
        arrays = {
            "boundary": boundary,
            # argmax of finite rows: every index is a class (what encode_classes checks for first)
            "predictions": from_codes(predictions, 0.0, 254.0, nan=False)
            if points_finite
            else encode_classes(predictions),
            **(self._weights.capture() if self._weights.layers else {}),
            **(self._outputs.encode(seen) if seen else {}),
            **(self._activations.encode(sample_seen) if self._activations.modules else {}),
            **(self._histograms.capture() if self._histograms is not None else {}),
        }
        diverged = not (grid_finite and points_finite)
        return self.run.append(epoch=epoch, metrics=metrics, diverged=diverged, arrays=arrays)

    def _grid_probabilities(self, model: nn.Module | None = None, forward=None, *, codes: bool = False):
        """The boundary probe: probabilities on the grid; through the folded first layer when that is exact.
        ``model``: the eval-mode twin to evaluate (default a fresh one); ``forward``: its forward path when the
        caller has looked it up (used when the grid is not folded); ``codes``: see :meth:`_probabilities`."""
        model = model or eval_twin(self.model).model
        split = first_linear(model, self.X.shape[1:]) if self._features > 2 else None
        if split is None:
            # a grid up to GRID_CACHE_BYTES is made once and kept on the device; a bigger one chunk by chunk there
            rows = _PlaneRows(self.plane, self._plane_points, self.X.shape[1:])
            return self._probabilities("grid", rows, forward, model=model, codes=codes)
        layer, rest = split
        w2, b2 = fold_linear(layer, self.plane)

        def forward(p: torch.Tensor) -> torch.Tensor:
            return run_after(rest, torch.addmm(b2, p, w2.t()))

        return self._probabilities("plane", self._plane_points, forward, model=model, codes=codes)

    @property
    def _grid_points(self) -> np.ndarray:
        """Every grid point as an input row of the model (the whole grid at once: for inspection and tests)."""
        return _PlaneRows(self.plane, self._plane_points, self.X.shape[1:])[:]

    @property
    def _features(self) -> int:
        return math.prod(self.X.shape[1:])

    def _probabilities(
        self, name: str, points: np.ndarray, forward=None, *, model: nn.Module | None = None, codes: bool = False
    ):
        """Class probabilities (N, K) as float32 NumPy from ``model``, an eval-mode twin of ``self.model``
        (default a fresh one; record/twin.py).

        ``points``: the input rows, a function that makes them, or a plane grid (``_PlaneRows``). ``name`` keys a
        cache so the grid and the data are made and moved to the model's device once (again only if the model
        moves or changes dtype or memory format): a capture on a GPU then does no host work per row. A plane grid
        over ``GRID_CACHE_BYTES`` is never kept: each chunk of it is made on the device from its plane points.
        The rows run in chunks (``CHUNK_ROWS`` rows and ``CHUNK_VALUES`` input values at most, on a CPU
        ``CPU_CHUNK_VALUES``) that stay on the device: the probabilities come back to the host once, after the
        last chunk. ``forward`` replaces the
        model on each chunk (the folded grid); by default a plain Sequential runs layer by layer
        (``sequential_forward``).

        ``codes=True`` (with ``output="logits"``): ``(codes, nan)``, the uint8 codes ``encode(probabilities,
        "uint8", lo=0, hi=1)`` makes and whether any is the non-finite code, bit for bit: each chunk's
        probabilities are divided by the codes' step and rounded as they are joined, while they are still in the
        cache (the passes the codec would make over the whole grid afterwards), then checked and cast on the host
        (:func:`_unit_codes`)."""
        param = _first_parameter(self.model)
        device = param.device if param is not None else torch.device("cpu")
        if device.type == "meta":
            raise ValueError(
                "the model is on the 'meta' device, which holds no weights: load real weights and move it to a "
                "device that computes, e.g. model.to_empty(device='cpu') then load_state_dict(...), or model.to('cuda')"
            )
        dtype = param.dtype if param is not None and param.dtype.is_floating_point else torch.float32
        row_shape = points.shape[1:] if hasattr(points, "shape") else self.X.shape[1:]
        channels_last = len(row_shape) == 3 and _channels_last(self.model)

        def to_device(rows) -> torch.Tensor:
            inputs = torch.as_tensor(rows).to(device=device, dtype=dtype)
            if channels_last:  # the layout the model's convolutions run fastest in
                inputs = inputs.contiguous(memory_format=torch.channels_last)
            return inputs

        lazy = isinstance(points, _PlaneRows) and points.nbytes > GRID_CACHE_BYTES
        if not lazy:
            key = (name, device, dtype, channels_last)
            if key not in self._cache:
                self._cache = {k: v for k, v in self._cache.items() if k[0] != name}
                rows = points() if callable(points) else points[:] if isinstance(points, _PlaneRows) else points
                self._cache[key] = to_device(rows)
            inputs = self._cache[key]
        else:  # a grid too big to keep: each chunk is made from its plane points on the device, then evaluated
            self._cache = {k: v for k, v in self._cache.items() if k[0] != name}
            inputs = points.on(device)
        chunk = self._chunk_rows(device, row_shape)
        model = model or eval_twin(self.model).model
        forward = forward or sequential_forward(model, self.X.shape[1:]) or model
        with torch.no_grad():
            if codes:  # the division writes each chunk out: a lazy chunk's buffer is free again after it
                scale = self._code_scale(device)
                out = self._scratch(device, (len(inputs), len(self.classes)))
                for i in range(0, len(inputs), chunk):
                    rows = to_device(inputs[i : i + chunk]) if lazy else inputs[i : i + chunk]
                    torch.div(self._forward(rows, forward).float(), scale, out=out[i : i + chunk]).round_()
                return _unit_codes(out.cpu().numpy())
            # a lazy chunk's rows live in a reused buffer: its probabilities are copied out
            out = [
                self._forward(to_device(inputs[i : i + chunk]), forward).clone()
                if lazy
                else self._forward(inputs[i : i + chunk], forward)
                for i in range(0, len(inputs), chunk)
            ]
        # one chunk (the sample rows, a small grid) needs no joining: a strided array of it is as good
        return (torch.cat(out) if len(out) > 1 else out[0]).float().cpu().numpy()

    def _chunk_rows(self, device: torch.device, row_shape) -> int:
        """Rows per forward pass: at most ``CHUNK_ROWS``, ``CHUNK_VALUES`` input values (``CPU_CHUNK_VALUES`` on a
        CPU) and, on a CPU, ``CPU_CHUNK_VALUES`` values in the widest Linear layer's output (see there)."""
        rows = (CPU_CHUNK_VALUES if device.type == "cpu" else CHUNK_VALUES) // max(1, math.prod(row_shape))
        if device.type == "cpu" and self._widest:
            rows = min(rows, CPU_CHUNK_VALUES // self._widest)
        return max(1, min(CHUNK_ROWS, rows))

    def _scratch(self, device: torch.device, shape: tuple[int, int]) -> torch.Tensor:
        """The float32 buffer the grid's codes are worked out in, kept between captures (captures hold the
        recorder's lock): a fresh one, 320 KB for a 200x200 grid of two classes, cost page faults at every capture
        that the allocator's reuse does not always spare (glibc returns big freed blocks to the system)."""
        key = ("codes scratch", device, shape)
        out = self._cache.get(key)
        if out is None:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != "codes scratch"}
            out = self._cache[key] = torch.empty(shape, dtype=torch.float32, device=device)
        return out

    def _code_scale(self, device: torch.device) -> torch.Tensor:
        """The uint8 codes' step, 1/254 in float32 (as the codec divides a float32 array by it), as a tensor on
        ``device``: a tensor divisor divides elementwise there, where a Python number may become a multiplication
        by its reciprocal, which rounds differently."""
        scale = self._cache.get(("code scale", device))
        if scale is None:
            scale = self._cache[("code scale", device)] = torch.tensor(1 / 254, dtype=torch.float32, device=device)
        return scale

    def _forward(self, inputs: torch.Tensor, forward) -> torch.Tensor:
        out = forward(inputs)
        if not isinstance(out, torch.Tensor):
            raise TypeError(
                f"the model returned {type(out).__name__}, not a tensor: the recorder needs a model whose "
                "forward returns (N, K) logits; wrap it in a module whose forward returns that tensor, "
                "e.g. `return self.net(x)[0]` for a model that returns (logits, ...)"
            )
        k, (n, width) = len(self.classes), (out.shape if out.ndim == 2 else (-1, -1))
        if n != inputs.shape[0] or not (width >= k or (width == 1 and k == 2)):
            raise ValueError(
                f"the model's output has shape {tuple(out.shape)} for {len(inputs)} inputs; expected (N, K) with "
                f"K >= {k} (the number of classes), or (N, 1) for two classes"
            )
        if self.output == "probabilities":
            self._check_probabilities(out)
        if width == 1:
            p1 = out[:, 0] if self.output == "probabilities" else torch.sigmoid(out[:, 0])
            return torch.stack([1 - p1, p1], dim=1)
        # softmax down the columns of the transpose: torch's CPU softmax over a short last dimension (K classes)
        # is several times slower than over a long contiguous one (8192 rows, K=2: 0.47 ms vs 0.18 ms here)
        probs = out if self.output == "probabilities" else torch.softmax(out.float().t().contiguous(), dim=0).t()
        return probs if width == k else probs[:, :k]

    def _check_probabilities(self, out: torch.Tensor) -> None:
        """With ``output="probabilities"``: every finite row must be probabilities (in [0, 1], summing to 1 over
        all columns when there are several), else the view would clip raw logits silently. At construction
        this raises; during training (a model that drifts, say) it warns once and records what it gets."""
        out = out.detach().float()
        o = out[torch.isfinite(out).all(dim=1)]
        bad = (o < -PROB_TOL).any(dim=1) | (o > 1 + PROB_TOL).any(dim=1)
        if out.shape[1] > 1:
            bad |= (o.sum(dim=1) - 1).abs() > PROB_SUM_TOL
        if not bool(bad.any()):
            return
        first = o[bad][0].tolist()[:6]
        message = (
            f"output='probabilities', but {int(bad.sum())} of {len(o)} rows of the model's output are not "
            f"probabilities (one is {[round(v, 4) for v in first]}): values must be in [0, 1] and each row sum to 1. "
            "If the model returns logits, use output='logits' (the default)"
        )
        if getattr(self, "_trial", True):
            raise ValueError(message)
        if not getattr(self, "_warned_probabilities", False):
            self._warned_probabilities = True
            warnings.warn(message, RuntimeWarning, stacklevel=4)

    def _check_model_output(self) -> dict[str, tuple[int, ...]]:
        """One trial forward on a few points, so a wrong model fails at construction, not mid-training.
        Returns the shape of one row of what each recorded Linear layer reads before it was flattened
        (``weights.traced_inputs``): a Linear after a convolution is drawn by the convolution's channels x h x w."""
        try:
            with traced_inputs(self.model, self._weights.layers) as inputs:
                self._trial = True
                self._probabilities("trial", self.X[: min(len(self.X), 64)])
        except RuntimeError as err:
            rows = f"{self.X.shape[1]} features" if self.X.ndim == 2 else "x".join(map(str, self.X.shape[1:]))
            raise ValueError(
                f"the model could not run on X of shape {self.X.shape} (float32 rows of {rows}): {err}"
            ) from err
        finally:
            self._trial = False
        return inputs


# -- validation -----------------------------------------------------------------------------------------
def check_X(X) -> np.ndarray:
    """``X`` as every part of the package takes it: a float32 array of finite values, (N, D) rows with D >= 2 or
    (N, C, H, W) images (any (N, ...) shape: each row is one model input), N >= 2 (from an array, a list or a
    tensor); otherwise a TypeError or ValueError that says what to change.

    >>> check_X(np.zeros((5, 3, 8, 8), np.uint8)).shape, check_X([[0, 1], [2, 3]]).dtype
    ((5, 3, 8, 8), dtype('float32'))
    """
    if isinstance(X, torch.Tensor):
        if X.device.type == "meta":
            raise ValueError("X is a tensor on the 'meta' device, which holds no values; pass the data itself")
        X = X.detach().cpu().numpy()
    try:
        arr = np.asarray(X)
    except Exception as err:  # noqa: BLE001 - any conversion failure is the same user error
        raise TypeError(
            f"X must be a numeric array or tensor of shape (N, D) or (N, C, H, W), got {type(X).__name__}: {err}"
        ) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"X must be numeric, got dtype {arr.dtype}; convert it with np.asarray(X, dtype=float)")
    if arr.ndim < 2:
        raise ValueError(
            f"X must be 2-D, shape (N, features), or images, shape (N, C, H, W) as the model takes them; got shape "
            f"{arr.shape}"
        )
    if len(arr) < 2:
        raise ValueError(f"X needs at least 2 rows, got {len(arr)}")
    if math.prod(arr.shape[1:]) < 2:
        raise ValueError(
            f"X has {math.prod(arr.shape[1:])} feature; the decision boundary is drawn on a plane, so X needs at "
            "least 2 columns"
        )
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
        big = np.abs(arr.reshape(len(arr), -1)).max(axis=1) > FLOAT32_SAFE
        if big.any():
            raise ValueError(
                f"X has {int(big.sum())} rows with values beyond float32's range (|x| > {FLOAT32_SAFE:.0e}, first at "
                f"row {int(np.argmax(big))}; the model computes in float32, so they would be inf): rescale X, e.g. "
                "X = (X - X.mean(0)) / X.std(0)"
            )
    arr = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
    if bad.any():
        raise ValueError(
            f"X has {int(bad.sum())} rows with NaN or inf (first at row {int(np.argmax(bad))}); "
            "drop or impute them, e.g. X = X[np.isfinite(X).all(axis=1)] (and the same rows of y)"
        )
    return arr


def check_y(y, n: int, classes: Sequence | None) -> tuple[list, np.ndarray]:
    """``(classes, codes)``: the class order (``classes``, or the sorted distinct labels) and ``y`` as int64 class
    indices into it, for ``n`` rows of X; otherwise a TypeError or ValueError that says what to change.

    >>> check_y(["cat", "dog", "cat"], 3, None)
    (['cat', 'dog'], array([0, 1, 0]))
    """
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    try:
        arr = np.asarray(y)
        if arr.dtype.kind in "US" and not isinstance(y, np.ndarray):
            arr = np.asarray(y, dtype=object)  # numpy reads [1, "1"] as two strings: keep each label's own kind
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"y must be 1-D, one label per row of X; it could not be read as an array: {err}") from None
    if arr.ndim != 1:
        arr = arr.squeeze() if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per row of X), got shape {np.shape(y)}")
    if len(arr) != n:
        raise ValueError(f"len(X) is {n} but len(y) is {len(arr)}: they need one label per row")
    arr = _labels(arr)
    if classes is None:
        order = sorted(set(arr.tolist()), key=lambda v: (str(type(v)), v))
    else:
        if isinstance(classes, (str, bytes)) or not isinstance(classes, (Sequence, np.ndarray)):
            raise TypeError(f"classes must be a list of labels (the class order), got {classes!r}")
        order = list(classes)
        if len(set(map(str, order))) != len(order):
            raise ValueError(f"classes has duplicates (or labels that read the same, like 1 and '1'): {order}")
        unknown = sorted({str(v) for v in arr.tolist()} - {str(c) for c in order})
        if unknown:
            raise ValueError(f"y has labels {unknown[:5]} that are not in classes={order}")
    if len(order) < 2:
        raise ValueError(f"y has only one class ({order}); a decision boundary needs at least 2 classes")
    if len(order) > MAX_CLASSES:
        raise ValueError(f"y has {len(order)} classes; the decision boundary view supports at most {MAX_CLASSES}")
    index = {str(c): i for i, c in enumerate(order)}
    return order, np.array([index[str(v)] for v in arr.tolist()], dtype=np.int64)


class _PlaneRows:
    """The plane's grid points as input rows of the model, made on demand: ``rows[i:j]`` maps only those plane
    points back to input space (float32), so a grid over very wide data never exists whole in memory."""

    def __init__(self, plane, points: np.ndarray, shape: tuple[int, ...]):
        self.plane, self.points, self.shape = plane, points, (len(points), *shape)
        self.ndim = len(self.shape)
        self.nbytes = 4 * math.prod(self.shape)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, rows: slice) -> np.ndarray:
        return self.plane.from_plane(self.points[rows]).reshape(-1, *self.shape[1:])

    def on(self, device: torch.device) -> _PlaneRowsOn:
        """The same rows made on ``device`` (``origin + p @ basis`` there): only the plane points move."""
        return _PlaneRowsOn(self, device)


class _PlaneRowsOn:
    """``_PlaneRows`` computed on a device, into one float32 buffer: ``rows[i:j]`` overwrites the rows made before
    (so a caller must be done with a chunk before asking for the next). One buffer rather than fresh tensors per
    chunk: alternating multi-megabyte allocations fragmented the heap until a 1.6 GB grid of wide X took 2 GB."""

    def __init__(self, rows: _PlaneRows, device: torch.device):
        self.shape = rows.shape
        self.origin = torch.as_tensor(rows.plane.origin, dtype=torch.float32).to(device)
        self.basis = torch.as_tensor(rows.plane.basis, dtype=torch.float32).to(device)
        self.points = torch.as_tensor(rows.points, dtype=torch.float32).to(device)
        self._buffer: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> torch.Tensor:
        points = self.points[rows]
        if self._buffer is None or len(self._buffer) < len(points):
            size = (len(points), self.basis.shape[1])
            self._buffer = torch.empty(size, dtype=torch.float32, device=self.basis.device)
        made = torch.addmm(self.origin, points, self.basis, out=self._buffer[: len(points)])
        return made.reshape(-1, *self.shape[1:])


def _grid_axes(X: np.ndarray, grid, extent) -> tuple[np.ndarray, np.ndarray]:
    if is_number(grid):
        nx = ny = integer("grid", grid, what="points per side")
    elif isinstance(grid, (tuple, list, np.ndarray)) and len(grid) == 2:
        nx, ny = (integer("grid", g, what="a pair (nx, ny) of points per side") for g in grid)
    else:
        raise TypeError(f"grid must be an int or a pair (nx, ny), got {grid!r}")
    if not (2 <= nx <= 2000 and 2 <= ny <= 2000):
        raise ValueError(f"grid must have 2 to 2000 points per side, got {nx}x{ny}")
    if extent is None:
        lo, hi = X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)
        pad = np.maximum((hi - lo) * 0.1, 1e-3)
        xmin, ymin = lo - pad
        xmax, ymax = hi + pad
    else:
        try:
            xmin, xmax, ymin, ymax = (real("extent", v) for v in extent)
        except (TypeError, ValueError):
            raise ValueError(f"extent must be (xmin, xmax, ymin, ymax), finite numbers, got {extent!r}") from None
        if not (xmin < xmax and ymin < ymax) or not all(map(math.isfinite, (xmin, xmax, ymin, ymax))):
            raise ValueError(f"extent needs finite xmin < xmax and ymin < ymax, got {extent!r}")
        if max(abs(xmin), abs(xmax), abs(ymin), abs(ymax), xmax - xmin, ymax - ymin) > FLOAT32_SAFE:
            raise ValueError(
                f"extent {extent!r} reaches beyond float32's range (|v| > {FLOAT32_SAFE:.0e}), where the model "
                "computes: every grid point would be inf; give an extent around the data"
            )
    return np.linspace(xmin, xmax, nx), np.linspace(ymin, ymax, ny)


def _histogram_probe(model: nn.Module, histograms, gradients, bins) -> HistogramProbe | None:
    if histograms is False:
        if gradients:
            raise ValueError("gradients=True needs histograms: leave histograms=True (or name the layers)")
        return None
    if not isinstance(histograms, (bool, str, list, tuple)):
        raise TypeError(f"histograms must be True, False, a layer name or a list of names, got {histograms!r}")
    return HistogramProbe(model, None if histograms is True else histograms, bins=bins, gradients=gradients)


def _output_grid(size) -> int:
    return integer("output_grid", size, lo=2, what="points per side of the neuron-output grid")


def _epoch(epoch) -> int:
    return integer("epoch", epoch, what="or None for the capture's number")


def _check_metric(name: str, value) -> None:
    """Refuses what :func:`_metric` cannot make a number of, without converting (no GPU sync)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"metric {name!r} is a tensor of {value.numel()} values; pass one number (loss.item())")
        if value.dtype.is_floating_point:
            return
    elif isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
        if np.ndim(value) == 0:
            return
    if not is_number(value):
        raise TypeError(f"metric {name!r} must be a number, got {type(value).__name__}")


def _metric(name: str, value) -> float:
    _check_metric(name, value)
    if isinstance(value, torch.Tensor) and value.dtype.is_floating_point:
        return float(value.item())  # NaN and inf are kept: they mark a diverged frame
    return float(value)


def _labels(arr: np.ndarray) -> np.ndarray:
    """Labels as integers or strings, one kind: None, NaN, non-integral numbers, labels of two kinds that could
    read the same (``1`` and ``"1"``) are refused, never merged or truncated."""
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind == "O":
        values = arr.tolist()
        kinds = {"text" if isinstance(v, (str, bytes)) else "number" if is_number(v) else "other" for v in values}
        if "other" in kinds:
            bad = next(v for v in values if not (isinstance(v, (str, bytes)) or is_number(v)))
            raise ValueError(f"y holds {bad!r} (at row {values.index(bad)}); labels must be integers or strings")
        if kinds == {"text", "number"}:
            raise ValueError(
                "y mixes numbers and strings (e.g. 1 and '1'), which would be merged or split silently; "
                "use one kind, e.g. y = [str(v) for v in y]"
            )
        text = bytes if all(isinstance(v, bytes) for v in values) else str
        arr = np.array(values, dtype=np.float64 if kinds == {"number"} else text) if values else arr
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError("y holds non-integer numbers (or NaN); labels must be integers or strings (class names)")
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iuUS":
        raise TypeError(f"y must hold integer or string labels, got dtype {arr.dtype}")
    return arr


def _accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """The share of rows predicted right: ``np.mean(predictions == labels)`` (a count over a length, exactly)
    without the float pass over the comparison."""
    return np.count_nonzero(predictions == labels) / len(labels)


def _unit_codes(q: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(codes, nan)`` for ``q = rint(p / (1/254))`` in float32, ``p`` probabilities from a softmax or sigmoid
    (never negative; NaN where the model diverged), worked out in ``q``: what ``encode(p, "uint8", lo=0.0,
    hi=1.0)`` makes, bit for bit, and whether any code is the non-finite one. The codec computes
    ``rint(clip(p, 0, 1) / scale)``; dividing by a positive step and rounding never decrease, so for finite
    ``p >= 0`` that is ``min(rint(p / scale), rint(1 / scale)) = min(q, 254)``: the clip matters only where
    ``p > 1``, which a softmax never gives, and one pass (``max``, which propagates NaN) tells.

    >>> p = np.array([0.0, 0.5, 1.0, np.nan], np.float32)
    >>> codes, nan = _unit_codes(np.rint(p / np.float32(1 / 254)))
    >>> codes.tolist(), nan
    ([0, 127, 254, 255], True)
    """
    if q.max() <= 254:  # and no NaN, which max propagates: the common case, no further pass
        return q.astype(np.uint8), False
    bad = ~np.isfinite(q)
    np.minimum(q, 254, out=q)
    q[bad] = 255
    return q.astype(np.uint8), bool(bad.any())


def _first_parameter(module: nn.Module) -> torch.Tensor | None:
    """``next(module.parameters(), None)`` (modules in pre-order, each one's own parameters in order), without
    building the generators ``parameters()`` stacks for the whole tree: it runs twice per capture."""
    for param in module._parameters.values():
        if param is not None:
            return param
    for child in module._modules.values():
        if child is not None and (param := _first_parameter(child)) is not None:
            return param
    return None


def _predictions(probs: np.ndarray, finite: bool) -> np.ndarray:
    """The most probable class of each row; -1 where a row's probabilities are not finite (a diverged model)."""
    if finite:
        return probs.argmax(axis=-1)
    ok = np.isfinite(probs).all(axis=-1)
    return np.where(ok, np.nan_to_num(probs).argmax(axis=-1), -1)


def _channels_last(model: nn.Module) -> bool:
    """Whether the model's convolutions hold their weights channels-last (``model.to(memory_format=...)``)."""
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return (
        conv is not None
        and conv.weight.is_contiguous(memory_format=torch.channels_last)
        and conv.weight.shape[2:] != (1, 1)
    )


def _fingerprint(model: nn.Module) -> list[tuple[float, float]]:
    """Sum and sum of squares of each floating-point parameter (float64): any optimizer step changes them."""
    with torch.no_grad():
        return [
            (float(p.double().sum()), float(p.double().square().sum()))
            for p in model.parameters()
            if p.is_floating_point() and p.device.type != "meta"
        ]
