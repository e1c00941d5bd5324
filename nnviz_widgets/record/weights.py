"""Weight and neuron-output probes: what each layer has become, as arrays a mosaic can draw.

Weights travel as ``uint16`` with a per-layer, per-frame scale that is symmetric about zero
(``lo = -max|w|``, ``hi = +max|w|``): zero is exactly a code (32767), so the sign of every weight survives,
and one step is ``max|w| / 32767``. ``uint8`` (one step = ``max|w| / 127``) would draw the same picture but
cannot tell a weight that stopped changing from one still moving by a small Adam step, which is what flags a
dead neuron; the cost is 2 bytes per weight (784-100-64-25-10: 173 KB per frame).

Neuron outputs (TensorFlow-Playground style) are read by forward hooks during the boundary probe's own
grid evaluation, subsampled to a coarser grid (about 50x50): no extra forward pass.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .._check import names as check_names
from ..run.codec import Encoded, encode
from ._hooks import rows_hooked
from .twin import Twin

WEIGHT_TYPES = (nn.Linear, nn.Conv2d)
WEIGHT_DTYPE = "uint16"
OUTPUT_DTYPE = "uint8"  # neuron maps are only looked at, never compared: 127 steps each side of zero suffice
# Element-wise activations: a layer's output map shows what comes out of the activation right after it.
ACTIVATIONS = (
    nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Softplus, nn.ReLU6, nn.Hardtanh,
)  # fmt: skip


def weight_layers(model: nn.Module, layers: str | Sequence[str] | None = None) -> dict[str, nn.Module]:
    """The layers a weight probe records, by module name (``model.named_modules()``).

    ``None``: every ``Linear`` and ``Conv2d``. Unknown names and modules without weights raise ``ValueError``
    listing the valid names.

    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> list(weight_layers(net))
    ['0', '2']
    """
    found = {name: m for name, m in model.named_modules() if isinstance(m, WEIGHT_TYPES)}
    if layers is None:
        return found
    names = check_names("layers", layers)
    modules = dict(model.named_modules())
    out = {}
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"layers must be module names (strings), got {name!r}")
        if name not in modules:
            raise ValueError(f"layers: the model has no module named {name!r}; its weight layers are {list(found)}")
        if name not in found:
            raise ValueError(
                f"layers: module {name!r} is a {type(modules[name]).__name__}, which has no weights to draw "
                f"(Linear and Conv2d do); the model's weight layers are {list(found)}"
            )
        out[name] = found[name]
    return out


def encode_weights(w: np.ndarray) -> Encoded:
    """Quantise one layer's weights to uint16 over ``[-max|w|, +max|w|]`` (NaN/inf get the reserved code).

    >>> e = encode_weights(np.array([-2.0, 0.0, 1.0]))
    >>> e.decode().round(4).tolist(), e.header["dtype"]
    ([-2.0, 0.0, 1.0], 'uint16')
    """
    w = np.asarray(w)
    finite = np.isfinite(w)
    m = float(np.abs(w[finite] if not finite.all() else w).max()) if finite.any() else 0.0
    return encode(w, WEIGHT_DTYPE, lo=-m, hi=m)


def describe_layer(module: nn.Module, n_features: int) -> dict:
    """What a view needs to know about a layer to lay out its tiles (JSON-able)."""
    shape = [int(s) for s in module.weight.shape]
    if isinstance(module, nn.Conv2d):
        return {"type": "Conv2d", "shape": shape, "input": False, "features": int(n_features), "outputs": None}
    return {
        "type": "Linear",
        "shape": shape,
        "input": shape[1] == int(n_features),  # reads the model's input: its weights may be an image
        "features": int(n_features),
        "outputs": None,  # (rows, cols) of its neuron-output maps when those are recorded
    }


class WeightProbe:
    """Each capture: every selected layer's weights as ``weights/<name>`` (uint16, per-layer scale)."""

    def __init__(self, model: nn.Module, layers: str | Sequence[str] | None = None):
        self.layers = weight_layers(model, layers)

    def capture(self) -> dict[str, Encoded]:
        return {f"weights/{name}": encode_weights(_numpy(m.weight)) for name, m in self.layers.items()}


class OutputProbe:
    """Each capture: every selected Linear layer's neuron outputs on a subsampled grid as ``outputs/<name>``,
    shape (neurons, rows, cols), row 0 at the bottom (the grid's ``ys[0]``), quantised symmetric about zero.

    The output shown is the one after the layer's activation when an element-wise activation module follows
    it directly in the same container (``Linear -> ReLU``), else the layer's own output: ``activations[name]`` is
    that module's class name, or ``None`` when the map is pre-activation (say ``F.relu`` called in ``forward``,
    which no hook can see).
    """

    def __init__(self, model: nn.Module, layers: dict[str, nn.Module], grid_shape: tuple[int, int], size: int):
        ny, nx = grid_shape
        self.rows = _subsample(ny, size)
        self.cols = _subsample(nx, size)
        self.flat = (self.rows[:, None] * nx + self.cols[None, :]).reshape(-1)  # which grid points to keep
        self._flat = torch.as_tensor(self.flat)  # sorted: rows run bottom-up, columns left to right
        self.shape = (len(self.rows), len(self.cols))
        self.watched = {name: _shown_module(model, name) for name, m in layers.items() if isinstance(m, nn.Linear)}
        self.activations = {
            name: None if shown is layers[name] else type(shown).__name__ for name, shown in self.watched.items()
        }

    @contextlib.contextmanager
    def hooked(self, twin: Twin) -> Iterator[dict[str, list[torch.Tensor]]]:
        """Hooks on the twin's modules while the grid is evaluated (in chunks); yields ``{name: [kept rows of
        each chunk]}``.

        Each hook keeps only the subsampled grid points of its chunk, so no full-grid activation is ever copied."""
        with rows_hooked(twin.modules(self.watched), self._flat) as (seen, _count):
            yield seen

    def encode(self, seen: dict[str, list[torch.Tensor]]) -> dict[str, Encoded]:
        arrays = {}
        for name, chunks in seen.items():
            if not chunks:
                continue
            out = torch.cat(chunks)
            if out.ndim != 2 or out.shape[0] != len(self.flat):
                continue  # not one row per grid point (e.g. one activation module reused after several layers)
            maps = out.float().cpu().numpy().T  # (neurons, kept points)
            arrays[f"outputs/{name}"] = encode_outputs(maps.reshape(-1, *self.shape))
        return arrays


def encode_outputs(maps: np.ndarray) -> Encoded:
    finite = np.isfinite(maps)
    m = float(np.abs(maps[finite]).max()) if finite.any() else 0.0
    return encode(maps, OUTPUT_DTYPE, lo=-m, hi=m)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()


def _subsample(n: int, size: int) -> np.ndarray:
    """About ``size`` evenly spaced indices of ``range(n)``, first and last included."""
    if n <= size:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, size)).astype(np.int64))


def _shown_module(model: nn.Module, name: str) -> nn.Module:
    """The layer itself, or the element-wise activation that directly follows it in the same container."""
    modules = list(model.named_modules())
    names = [n for n, _ in modules]
    i = names.index(name)
    parent = name.rpartition(".")[0]
    for later, module in modules[i + 1 :]:
        if later.startswith(name + "."):
            continue  # the layer's own children
        if later.rpartition(".")[0] == parent and isinstance(module, ACTIVATIONS):
            return module
        break
    return dict(modules)[name]
