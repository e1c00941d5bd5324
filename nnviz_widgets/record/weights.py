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
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .._check import _as_int, is_number
from .._check import names as check_names
from ..run.codec import Encoded, encode
from ._hooks import rows_hooked
from .twin import Twin

WEIGHT_TYPES = (nn.Linear, nn.Conv2d)
WEIGHT_DTYPE = "uint16"
# Default per-frame budget for recorded weights (2 bytes each): 262,144 weights, e.g. all of 784-128-64-10, or a
# ResNet's stem and first stage plus its classifier. A ResNet-18 recorded whole would be 22 MB per frame.
WEIGHT_BYTES = 512 * 1024
PAGE_TILES = 256  # tiles on one mosaic page (widgets/mosaic.py): a layer with more is not drawn well at a glance
OUTPUT_DTYPE = "uint8"  # neuron maps are only looked at, never compared: 127 steps each side of zero suffice
# Element-wise activations: a layer's output map shows what comes out of the activation right after it.
ACTIVATIONS = (
    nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Softplus, nn.ReLU6, nn.Hardtanh,
)  # fmt: skip


def weight_layers(
    model: nn.Module, layers: str | Sequence[str] | None = None, budget: int | None = None
) -> dict[str, nn.Module]:
    """The layers a weight probe records, by module name (``model.named_modules()``).

    ``None``: the layers a mosaic shows well, while their weights fit ``budget`` bytes per frame (every ``Linear``
    and ``Conv2d`` when ``budget`` is None): the model's first weight layer (it reads the input: conv filters, or
    a Linear layer's weights as images), then, in model order, each layer whose tiles fit one mosaic page (a
    Linear's neurons, a conv's filters times input channels, an RGB conv's filters: at most ``PAGE_TILES``).
    Named layers are recorded exactly, whatever their size. Unknown names and modules without weights raise
    ``ValueError`` listing the valid names.

    >>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    >>> list(weight_layers(net))
    ['0', '2']
    >>> wide = nn.Sequential(nn.Linear(8, 300), nn.ReLU(), nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 2))
    >>> list(weight_layers(wide, budget=100_000))
    ['0', '4']
    """
    found = {name: m for name, m in model.named_modules() if isinstance(m, WEIGHT_TYPES)}
    if layers is None:
        return found if budget is None else _within_budget(found, budget)
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


def _within_budget(found: dict[str, nn.Module], budget: int) -> dict[str, nn.Module]:
    chosen, spent = {}, 0
    for i, (name, m) in enumerate(found.items()):
        size = 2 * m.weight.numel()
        if (i == 0 or _tiles(m) <= PAGE_TILES) and spent + size <= budget:
            chosen[name] = m
            spent += size
    return chosen


def _tiles(m: nn.Module) -> int:
    out, cin = m.weight.shape[:2]
    return int(out if isinstance(m, nn.Linear) or cin in (1, 3) else out * cin)


def check_weight_bytes(weight_bytes) -> int | None:
    if weight_bytes is None:
        return None
    if is_number(weight_bytes) and _as_int(weight_bytes) is not None:
        weight_bytes = _as_int(weight_bytes)
    if isinstance(weight_bytes, bool) or not isinstance(weight_bytes, (int, np.integer)) or weight_bytes < 0:
        raise ValueError(
            f"weight_bytes must be a number of bytes per frame (>= 0) or None (every Linear and Conv2d layer), "
            f"got {weight_bytes!r}"
        )
    return int(weight_bytes)


@contextlib.contextmanager
def traced_inputs(model: nn.Module, layers: dict[str, nn.Module]) -> Iterator[dict[str, tuple[int, ...]]]:
    """While the block runs the model: for each Linear layer in ``layers``, the shape of one row of the last image-
    shaped (N, C, H, W) output any module produced before the layer ran, when it holds exactly the layer's inputs
    (a Linear after ``conv -> pool -> flatten`` reads C x H x W values); filled in as the model runs."""
    found: dict[str, tuple[int, ...]] = {}
    last: list[tuple[int, ...]] = [()]

    def image(_m, _i, out) -> None:
        if isinstance(out, torch.Tensor) and out.ndim == 4:
            last[0] = tuple(int(d) for d in out.shape[1:])

    def reads(name: str, layer: nn.Module) -> Callable:
        def hook(_m, args) -> None:
            x = args[0] if args else None
            if isinstance(x, torch.Tensor) and x.ndim == 2 and last[0] and math.prod(last[0]) == x.shape[1]:
                found.setdefault(name, last[0])

        return hook

    handles = [m.register_forward_hook(image) for m in model.modules() if m is not model]
    handles += [m.register_forward_pre_hook(reads(n, m)) for n, m in layers.items() if isinstance(m, nn.Linear)]
    try:
        yield found
    finally:
        for h in handles:
            h.remove()


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


def describe_layer(module: nn.Module, row_shape, traced: tuple[int, ...] | None = None) -> dict:
    """What a view needs to know about a layer to lay out its tiles (JSON-able). ``row_shape``: one input of the
    model (``(D,)`` or ``(C, H, W)``); ``traced``: the (C, H, W) a Linear layer's input was before it was flattened.

    ``image`` is ``[channels, h, w]`` when a Linear layer's weights per neuron are an image: it reads the model's
    image input, or the output of a convolution (then ``channels`` is the conv's output channels); else None.
    """
    shape = [int(s) for s in module.weight.shape]
    row = (int(row_shape),) if isinstance(row_shape, (int, np.integer)) else tuple(int(d) for d in row_shape)
    n_features = math.prod(row)
    if isinstance(module, nn.Conv2d):
        return {"type": "Conv2d", "shape": shape, "input": False, "features": n_features, "outputs": None}
    reads_input = shape[1] == n_features  # reads the model's input: its weights may be an image
    image = None
    if reads_input and len(row) in (2, 3):
        image = [1, *row] if len(row) == 2 else list(row)
    elif traced is not None and math.prod(traced[1:]) > 1 and math.prod(traced) == shape[1]:
        image = list(traced)
    return {
        "type": "Linear",
        "shape": shape,
        "input": reads_input,
        "features": n_features,
        "image": image,
        "outputs": None,  # (rows, cols) of its neuron-output maps when those are recorded
    }


class WeightProbe:
    """Each capture: every selected layer's weights as ``weights/<name>`` (uint16, per-layer scale), within a
    per-frame byte budget unless the layers are named (see :func:`weight_layers`)."""

    def __init__(self, model: nn.Module, layers: str | Sequence[str] | None = None, budget: int | None = None):
        self.budget = check_weight_bytes(budget)
        self.layers = weight_layers(model, layers, self.budget)
        self.named = layers is not None
        self.skipped = [] if self.named else [n for n in weight_layers(model) if n not in self.layers]

    @property
    def nbytes(self) -> int:
        """Bytes of weights per frame."""
        return sum(2 * m.weight.numel() for m in self.layers.values())

    def describe(self) -> str:
        names = ", ".join(self.layers) or "none"
        text = f"{names} ({_size(self.nbytes)} per frame"
        if self.skipped:
            text += f"; {len(self.skipped)} more layers over the {_size(self.budget)} budget or too many tiles"
        return text + ")"

    def capture(self) -> dict[str, Encoded]:
        return {f"weights/{name}": encode_weights(_numpy(m.weight)) for name, m in self.layers.items()}


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} B"


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
    # a copy: NumPy holding a parameter's own storage pins it, and FSDP frees the full weights it gathered for a
    # capture by resizing that storage to nothing (record/distributed.py), which then fails
    return t.detach().to("cpu", torch.float32, copy=True).numpy()


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
