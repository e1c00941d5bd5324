"""Forward hooks that live only for one evaluation (the probes read layer outputs through them)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as _torch_module  # where torch keeps the global module hooks


def global_hooks() -> bool:
    """Whether forward hooks are registered for every module (``nn.modules.module.register_module_forward_hook``):
    they may look at any module's mode or output, so no shortcut past a module's own call is exact."""
    return bool(_torch_module._global_forward_hooks or _torch_module._global_forward_pre_hooks)


@contextlib.contextmanager
def forward_hooks(modules: dict[str, nn.Module], keep: Callable[[str, torch.Tensor], None]) -> Iterator[None]:
    """Inside the block, every forward of ``modules[name]`` calls ``keep(name, output)``; removed after, always."""
    handles = [m.register_forward_hook(lambda _m, _i, out, name=name: keep(name, out)) for name, m in modules.items()]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


@contextlib.contextmanager
def rows_hooked(
    modules: dict[str, nn.Module], rows: torch.Tensor, convert: Callable[[object], torch.Tensor] = lambda out: out
) -> Iterator[tuple[dict[str, list[torch.Tensor]], dict[str, int]]]:
    """Hooks on while inputs are evaluated in chunks, in row order; yields ``(seen, count)``: ``seen[name]`` the
    kept rows of each chunk's output (only rows whose index, counted across chunks, is in ``rows``: sorted, 1-D,
    int64), ``count[name]`` how many rows the module has output so far. No full output is ever copied."""
    seen: dict[str, list[torch.Tensor]] = {name: [] for name in modules}
    count = dict.fromkeys(modules, 0)
    host = rows.numpy()
    on_device: dict[torch.device, torch.Tensor] = {}  # the rows copied once per device, not once per chunk

    def keep(name: str, out) -> None:
        out = convert(out)
        start, stop = count[name], count[name] + len(out)
        count[name] = stop
        lo, hi = np.searchsorted(host, [start, stop])
        if out.device not in on_device:
            on_device[out.device] = rows.to(out.device)
        # index_select: the same rows as out[index], without the general advanced-indexing kernel (3x slower here)
        seen[name].append(out.detach().index_select(0, on_device[out.device][lo:hi] - start))

    with forward_hooks(modules, keep):
        yield seen, count
