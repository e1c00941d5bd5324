"""An eval-mode twin of a model: evaluate it without touching the model, so training never notices.

``model.eval()`` followed by restoring the old modes is a race as soon as two threads are involved: a capture
on one thread switches Dropout and BatchNorm off while a training step runs on another, and two captures that
overlap each restore the mode the other one set, leaving the model in eval mode for the rest of training.

:func:`eval_twin` builds a shallow copy of the module tree instead: every module is a new object of the same
class whose ``training`` is False, but it holds the very same parameter and buffer tensors (the same dicts),
so it computes with the current weights and costs no memory. Its hook dicts are copies: the user's own hooks
still fire on it, while hooks a probe registers on the twin never fire on the model (nor on the training
thread's forward passes). BatchNorm in eval mode reads its running statistics and never updates them, so the
model's buffers stay untouched. Building a twin walks the module tree once (a few microseconds a module).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

# the per-module hook registries that a probe's register_forward_hook writes to: copied, not shared
_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
)


class Twin:
    """``model``: the eval-mode copy; ``of(module)``: the copy of one of the original's modules."""

    def __init__(self, model: nn.Module):
        self._memo: dict[int, nn.Module] = {}
        self.model = _copy(model, self._memo)

    def of(self, module: nn.Module) -> nn.Module:
        return self._memo.get(id(module), module)

    def modules(self, named: dict[str, nn.Module]) -> dict[str, nn.Module]:
        """``{name: twin of module}`` for a ``{name: module}`` of the original."""
        return {name: self.of(m) for name, m in named.items()}


def eval_twin(model: nn.Module) -> Twin:
    """The model's eval-mode twin (see the module docstring).

    >>> import torch
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5)).train()
    >>> twin = eval_twin(net)
    >>> twin.model.training, twin.model[1].training, net.training, net[1].training
    (False, False, True, True)
    >>> twin.model[0].weight is net[0].weight, twin.model[1].running_mean is net[1].running_mean
    (True, True)
    >>> before = net[1].running_mean.clone()
    >>> _ = twin.model(torch.randn(8, 3))
    >>> bool(torch.equal(before, net[1].running_mean))
    True
    """
    return Twin(model)


def _copy(module: nn.Module, memo: dict[int, nn.Module]) -> nn.Module:
    key = id(module)
    if key in memo:  # a module used twice in the tree stays one module in the twin
        return memo[key]
    twin = type(module).__new__(type(module))
    memo[key] = twin
    state = dict(module.__dict__)
    state["training"] = False
    state["_modules"] = {name: None if child is None else _copy(child, memo) for name, child in module._modules.items()}
    for name in _HOOK_DICTS:
        if name in state:
            state[name] = OrderedDict(state[name])
    for name, value in state.items():
        # modules kept outside _modules (a plain list or tuple of layers, set with object.__setattr__) are
        # part of the computation too: their twins keep the whole evaluation in eval mode
        if isinstance(value, nn.Module) and not name.startswith("_"):
            state[name] = _copy(value, memo)
        elif type(value) in (list, tuple) and any(isinstance(v, nn.Module) for v in value):
            state[name] = type(value)(_copy(v, memo) if isinstance(v, nn.Module) else v for v in value)
    twin.__dict__.update(state)
    return twin
