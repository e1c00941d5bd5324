"""Histogram probe: each layer's weights (and, on request, gradients) as a fixed-bin histogram and a few norms.

A histogram is what stays cheap when the weights themselves are too big to record every frame: ``bins`` counts
(default 64) plus ten numbers per layer per frame, whatever the layer's size. Each capture stores, for every
``Linear`` and ``Conv`` layer (or the layers named)::

    hist/weights/<name>   float32 (bins,)  counts of the layer's finite weights in equal bins over [lo, hi]
    stats/weights/<name>  float32 (10,)    STATS: lo, hi, min, max, mean, std, norm, nonfinite, zeros, change

and with ``gradients=True`` the same of ``module.weight.grad`` as ``hist/grads/<name>`` / ``stats/grads/<name>``
(read at ``capture()``: call it after ``backward()`` and before the next ``zero_grad()``, as ``nnv.fit``, the
Lightning callback and a plain loop that zeroes gradients before ``backward()`` all do).

Binning: ``[lo, hi]`` is the frame's finite ``[min, max]`` (widened to ``min ± 0.5`` when every value is the same),
and value ``v`` falls in bin ``floor((v - lo) / (hi - lo) * bins)``, the maximum in the last bin: exactly so for a
tensor in host memory (binned in float64 by NumPy), by ``torch.histc`` (float32: a value on an edge may fall one bin
over) for one on a GPU, where only the counts come back.
Views put every frame of a layer on one range for the whole run with :func:`rebin`. ``change`` is the relative
change of a fixed sample of at most ``CHANGE_SAMPLE`` weights since the previous capture (``NaN`` on the first):
a layer whose weights stopped moving reads 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .._check import flag, integer
from .._check import names as check_names
from ..run.codec import Encoded, encode
from ..run.run import Histogram

BINS = 64
CHANGE_SAMPLE = 4096
HOST_VALUES = 1 << 22  # host tensors up to this many values are binned in NumPy (_host_histogram)
STATS = Histogram.STATS  # the ten numbers stored beside each histogram, in this order
KINDS = ("weights", "grads")
HIST_TYPES = (nn.Linear, nn.modules.conv._ConvNd)


def histogram_layers(model: nn.Module, layers: str | Sequence[str] | None = None) -> dict[str, nn.Module]:
    """The layers a histogram probe records, by module name: every ``Linear`` and ``Conv`` layer by default.

    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))
    >>> list(histogram_layers(net))
    ['0', '3']
    """
    found = {name: m for name, m in model.named_modules() if isinstance(m, HIST_TYPES)}
    if layers is None:
        return found
    names = check_names("histograms", layers)
    modules = dict(model.named_modules())
    out = {}
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"histograms: layers must be module names (strings), got {name!r}")
        module = modules.get(name)
        if module is None or not isinstance(getattr(module, "weight", None), torch.Tensor):
            what = "no module named" if module is None else f"a {type(module).__name__} without weights at"
            raise ValueError(f"histograms: the model has {what} {name!r}; its Linear and Conv layers are {list(found)}")
        out[name] = module
    return out


def layer_histogram(values: torch.Tensor, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, stats)`` of one tensor: float32 ``(bins,)`` counts and float32 ``(10,)`` :data:`STATS`
    (``change`` left NaN). Computed where the tensor lives; only ``bins + 10`` numbers come back.

    >>> counts, stats = layer_histogram(torch.tensor([0.0, 1.0, 2.0, 3.0, float("nan")]), bins=3)
    >>> counts.tolist(), dict(zip(STATS, stats.tolist()))["nonfinite"]
    ([1.0, 1.0, 2.0], 1.0)
    """
    v = values.detach().reshape(-1)
    if v.device.type == "cpu" and v.numel() <= HOST_VALUES:
        # a copy: NumPy on a parameter's own storage marks it not resizable for good, and FSDP frees the full
        # weights it gathered for a capture by resizing that storage (record/distributed.py)
        return _host_histogram(v.to(torch.float32, copy=True).numpy(), bins)
    v = v.float()
    n = v.numel()
    finite = torch.isfinite(v)
    nonfinite = n - int(finite.sum()) if n else 0
    if nonfinite:
        v = v[finite]
    if v.numel() == 0:
        return _nothing_finite(bins, nonfinite)
    vmin, vmax = (float(x) for x in torch.aminmax(v))
    lo, hi = (vmin, vmax) if vmax > vmin else (vmin - 0.5, vmin + 0.5)
    counts = torch.histc(v, bins=bins, min=lo, max=hi).cpu().numpy().astype(np.float32)
    std = float(v.std(unbiased=False))
    stats = [lo, hi, vmin, vmax, float(v.mean()), std, float(torch.linalg.vector_norm(v)), nonfinite]
    stats += [int((v == 0).sum()), float("nan")]
    return counts, np.array(stats, np.float32)


def _nothing_finite(bins: int, nonfinite: int) -> tuple[np.ndarray, np.ndarray]:
    nan = math.nan
    return np.zeros(bins, np.float32), np.array([0.0, 1.0, nan, nan, nan, nan, nan, nonfinite, 0, nan], np.float32)


def _host_histogram(v: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`layer_histogram` of a host array in a few NumPy passes, in float64: the documented binning
    written out. torch's ``histc`` and reductions cost ~10-120 us each on a small layer's weights, most of a
    digits dashboard capture's histograms; these take ~40 us a layer in all. Counts are exact (float64 edges)."""
    nonfinite = 0
    vmin, vmax = (float(v.min()), float(v.max())) if v.size else (math.nan, math.nan)
    if not (math.isfinite(vmin) and math.isfinite(vmax)):  # a NaN or an inf anywhere reaches min or max
        finite = np.isfinite(v)
        nonfinite = int(v.size - np.count_nonzero(finite))
        v = v[finite]
        if v.size == 0:
            return _nothing_finite(bins, nonfinite)
        vmin, vmax = float(v.min()), float(v.max())
    lo, hi = (vmin, vmax) if vmax > vmin else (vmin - 0.5, vmin + 0.5)
    x = v.astype(np.float64)
    idx = ((x - lo) / (hi - lo) * bins).astype(np.intp)  # >= 0: truncation is the floor
    np.minimum(idx, bins - 1, out=idx)  # the maximum in the last bin
    counts = np.bincount(idx, minlength=bins).astype(np.float32)
    mean = float(x.mean())
    d = x - mean  # two passes, as numpy's std makes them (and at a tenth of its cost on small arrays)
    stats = [lo, hi, vmin, vmax, mean, math.sqrt(float(np.dot(d, d)) / x.size), math.sqrt(float(np.dot(x, x)))]
    stats += [nonfinite, int(x.size - np.count_nonzero(x)), math.nan]
    return counts, np.array(stats, np.float32)


def rebin(counts: np.ndarray, lo: float, hi: float, edges: np.ndarray) -> np.ndarray:
    """Move ``counts`` of equal bins over ``[lo, hi]`` onto the bins ``edges``, spreading each bin's count evenly
    over its width (what the histogram view does in JS, to draw every frame on the run's one range). The total
    is kept when ``edges`` cover ``[lo, hi]``.

    >>> rebin(np.array([2.0, 4.0]), 0.0, 2.0, np.array([0.0, 0.5, 2.0])).tolist()
    [1.0, 5.0]
    """
    counts = np.asarray(counts, np.float64)
    src = np.linspace(lo, hi, len(counts) + 1)
    # the cumulative count is piecewise linear in value; sample it at the new edges and take differences
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    return np.diff(np.interp(np.asarray(edges, np.float64), src, cum))


class HistogramProbe:
    """Each capture: a histogram and norms of every selected layer's weights (and gradients), see the module doc.

    >>> net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> arrays = HistogramProbe(net).capture()
    >>> sorted(arrays), float(arrays["hist/weights/0"].decode().sum())
    (['hist/weights/0', 'hist/weights/2', 'stats/weights/0', 'stats/weights/2'], 16.0)
    """

    def __init__(
        self,
        model: nn.Module,
        layers: str | Sequence[str] | None = None,
        *,
        bins: int = BINS,
        gradients: bool = False,
    ):
        bins = integer("bins", bins, lo=2, hi=1024, what="histogram bins")
        gradients = flag("gradients", gradients)
        self.layers = histogram_layers(model, layers)
        self.bins = int(bins)
        self.gradients = gradients
        self._picks: dict[str, np.ndarray] = {}  # which weights the change estimate follows, per layer
        self._previous: dict[str, np.ndarray] = {}
        self._missing_grads: set[str] = set()

    @property
    def arrays(self) -> tuple[str, ...]:
        """Names of the arrays each capture adds (before any layer lacked a gradient)."""
        kinds = KINDS if self.gradients else KINDS[:1]
        return tuple(f"{part}/{kind}/{name}" for kind in kinds for name in self.layers for part in ("hist", "stats"))

    def capture(self) -> dict[str, Encoded]:
        out = {}
        with torch.no_grad():
            for name, module in self.layers.items():
                w = module.weight
                counts, stats = layer_histogram(w, self.bins)
                stats[-1] = self._change(name, w)
                out[f"hist/weights/{name}"] = encode(counts, "float32")
                out[f"stats/weights/{name}"] = encode(stats, "float32")
                if self.gradients:
                    if w.grad is None:
                        self._missing_grads.add(name)
                        continue
                    counts, stats = layer_histogram(w.grad, self.bins)
                    out[f"hist/grads/{name}"] = encode(counts, "float32")
                    out[f"stats/grads/{name}"] = encode(stats, "float32")
        return out

    @property
    def missing_gradients(self) -> list[str]:
        """Layers whose ``.grad`` was None at some capture (called before ``backward()`` or after ``zero_grad()``)."""
        return sorted(self._missing_grads)

    def _change(self, name: str, w: torch.Tensor) -> float:
        flat = w.detach().reshape(-1)
        idx = self._picks.get(name)
        if idx is None:
            n = flat.numel()
            pick = np.random.default_rng(0).choice(n, CHANGE_SAMPLE, False) if n > CHANGE_SAMPLE else np.arange(n)
            idx = np.sort(pick)
            self._picks[name] = idx
        # the sample alone comes back (a new tensor: NumPy never sees the parameter's storage, see
        # layer_histogram), in float32 (MPS has no float64); the norms are worked out in NumPy
        now = flat.index_select(0, torch.as_tensor(idx, device=flat.device)).float().cpu().numpy()
        now = now.astype(np.float64)
        before = self._previous.get(name)
        self._previous[name] = now
        if before is None:
            return math.nan
        d = now - before
        scale, diff = math.sqrt(float(np.dot(before, before))), math.sqrt(float(np.dot(d, d)))
        return diff / scale if scale > 0 else (0.0 if diff == 0 else math.inf)
