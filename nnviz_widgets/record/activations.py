"""Activation probe: a hidden layer's outputs on a fixed sample of the data, each capture, for embeddings.

The sample is chosen once (the same rows every epoch, so a point on screen is one data row throughout);
the recorder runs the model on it under ``torch.no_grad()`` in eval mode with forward hooks on the chosen
layers, and stores each layer's output, flattened per row, as ``activations/<name>`` (uint16, per-frame range).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .._check import integer, is_number
from .._check import names as check_names
from ..run.codec import Encoded, encode
from ._hooks import rows_hooked
from .twin import Twin

DEFAULT_SAMPLE = 1000


def choose_sample(n: int, sample, seed: int = 0) -> np.ndarray:
    """Row indices: ``sample`` rows at random (sorted; all rows when there are fewer), or the given indices.

    >>> choose_sample(5, 10).tolist(), choose_sample(100, [3, 1, 4]).tolist()
    ([0, 1, 2, 3, 4], [3, 1, 4])
    """
    if is_number(sample):
        sample = integer("sample", sample, what="a number of rows")
        if sample < 3:
            raise ValueError(f"sample must be at least 3 rows (an embedding needs 3 points), got {sample}")
        if sample >= n:
            return np.arange(n)
        return np.sort(np.random.default_rng(seed).choice(n, int(sample), replace=False))
    idx = np.asarray(sample)
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or len(idx) < 3:
        raise ValueError(f"sample must be a number of rows or a 1-D array of at least 3 row indices, got {sample!r}")
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"sample holds row indices outside 0..{n - 1}")
    return idx.astype(np.int64)


class ActivationProbe:
    def __init__(self, model: nn.Module, layers: str | Sequence[str] | None, n: int, sample=DEFAULT_SAMPLE):
        names = [] if layers is None else check_names("activations", layers)
        modules = dict(model.named_modules())
        missing = [name for name in names if name not in modules or name == ""]
        if missing:
            known = [name for name in modules if name]
            raise ValueError(f"activations: no module named {missing} in the model; its modules are {known}")
        self.modules = {name: modules[name] for name in names}
        self.sample = choose_sample(n, sample) if names else np.zeros(0, np.int64)
        self.n = n
        order = np.argsort(self.sample, kind="stable")
        self._sorted = torch.as_tensor(self.sample[order])  # the sample's row indices, sorted
        self._back = torch.as_tensor(np.argsort(order, kind="stable"))  # sorted position of each sample row

    @contextlib.contextmanager
    def hooked(self, twin: Twin) -> Iterator[dict[str, list[torch.Tensor]]]:
        """Hooks on the twin's modules while all ``n`` rows of the data are evaluated (in chunks, in order); yields
        ``{name: [rows]}``, after the block one tensor of the sample's rows in the sample's order (so the sample
        needs no forward pass of its own)."""
        with rows_hooked(twin.modules(self.modules), self._sorted, _tensor) as (seen, count):
            yield seen
        for name, chunks in seen.items():
            if count[name] != self.n:
                raise ValueError(
                    f"activations: layer {name!r} ran {count[name]} rows for {self.n} inputs; "
                    "pick a layer that runs once per forward pass, on one row per input"
                )
            rows = torch.cat(chunks)
            seen[name] = [rows[self._back.to(rows.device)]]

    def encode(self, seen: dict[str, list[torch.Tensor]]) -> dict[str, Encoded]:
        arrays = {}
        for name, chunks in seen.items():
            out = torch.cat([c.reshape(len(c), -1) for c in chunks]).float().cpu().numpy()
            if len(out) != len(self.sample):
                raise ValueError(
                    f"activations: layer {name!r} ran {len(out)} rows for a sample of {len(self.sample)}; "
                    "pick a layer that runs once per forward pass"
                )
            arrays[f"activations/{name}"] = encode(out, "uint16")
        return arrays


def _tensor(out) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]  # e.g. an RNN's (output, hidden)
    raise TypeError(f"activations: the layer returned {type(out).__name__}, not a tensor")
