"""Forward hooks that live only for one evaluation (the probes read layer outputs through them)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn


@contextlib.contextmanager
def forward_hooks(modules: dict[str, nn.Module], keep: Callable[[str, torch.Tensor], None]) -> Iterator[None]:
    """Inside the block, every forward of ``modules[name]`` calls ``keep(name, output)``; removed after, always."""
    handles = [m.register_forward_hook(lambda _m, _i, out, name=name: keep(name, out)) for name, m in modules.items()]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
