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

:class:`KeptTwin` keeps one twin between captures and checks, more cheaply than a rebuild, that the model is
still what it copied: the same attributes (the same objects, modes aside), the same submodules and hooks.
Parameters and buffers need no check: the twin holds the model's own dicts of them, so a replaced weight or a
new buffer is seen at once. Anything else (a layer replaced, a hook added, ``dropout.p`` set) builds a new twin.
"""

from __future__ import annotations

import operator
from collections import OrderedDict

from torch import nn

from ._hooks import global_hooks

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

    def __init__(self, model: nn.Module, *, kept: bool = False):
        self._memo: dict[int, nn.Module] = {}
        # kept (KeptTwin): each original module and its snapshot, to tell later whether the twin is still current
        self._copied: list[tuple[nn.Module, tuple, list]] | None = [] if kept else None
        self.source = model
        self.model = _copy(model, self._memo, self._copied)

    def current(self) -> bool:
        """Whether the original is still as this twin copied it (see :class:`KeptTwin`)."""
        return self._copied is not None and all(_same(_snapshot(m, seq), snap) for m, seq, snap in self._copied)

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


# stock modules whose forward never reads ``training``: a model made only of these computes the same in both modes
MODE_FREE = frozenset(
    {nn.Sequential, nn.Linear, nn.Bilinear, nn.Identity, nn.Flatten, nn.Unflatten}
    | {nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d}
    | {nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d}
    | {nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish}
    | {nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LogSoftmax, nn.Softplus, nn.Softsign, nn.Hardtanh, nn.Hardswish}
    | {nn.Hardsigmoid, nn.Tanhshrink, nn.LayerNorm}
)


def mode_free(model: nn.Module) -> bool:
    """Whether evaluating ``model`` as it is gives what its eval-mode twin gives: every module in the tree one of
    the stock ``MODE_FREE`` classes (exactly: a subclass may read ``training``), with its class's own
    ``forward``, and no forward hooks anywhere (a hook may look at the mode it runs in).

    >>> mode_free(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)))
    True
    >>> mode_free(nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 2)))
    False
    """
    return not global_hooks() and _mode_free(model)


def _mode_free(model: nn.Module) -> bool:
    # a loop, not generators: this runs at every capture (the two hook dicts hold every forward hook: the
    # with_kwargs and always_called dicts only flag some of their entries)
    stack = [model]
    while stack:
        module = stack.pop()
        if module is None:
            continue
        d = module.__dict__
        if type(module) not in MODE_FREE or "forward" in d or d["_forward_hooks"] or d["_forward_pre_hooks"]:
            return False
        stack += d["_modules"].values()
    return True


class KeptTwin:
    """One model's eval-mode twin, kept from one :meth:`get` to the next while the model is unchanged (see the
    module docstring); a recorder keeps one, under its capture lock."""

    def __init__(self):
        self._twin: Twin | None = None

    def get(self, model: nn.Module) -> Twin:
        twin = self._twin
        if twin is None or twin.source is not model or not twin.current():
            twin = self._twin = Twin(model, kept=True)
        return twin


def _sequences(module: nn.Module) -> tuple[str, ...]:
    """The names of the module's plain list and tuple attributes, whose contents a snapshot holds too."""
    return tuple(k for k, v in module.__dict__.items() if type(v) in (list, tuple))


def _snapshot(module: nn.Module, sequences: tuple[str, ...]) -> list:
    """What a twin copies of ``module`` rather than shares, as the objects themselves (compared by identity: no
    tensor's ``==`` is ever called): its attributes (names and values, its mode aside, which the twin never
    copies), its submodules, its forward hooks, and what its plain lists and tuples named in ``sequences`` hold
    (modules kept outside ``_modules``; a list that gets a module appended later too). A new list attribute adds
    a name, a replaced one changes a value. The counts keep one part from shifting into the next."""
    d = dict(module.__dict__)
    d["training"] = None
    snap = [*d, *d.values()]
    modules = d["_modules"]
    snap += (len(modules), *modules.values())
    for name in _HOOK_DICTS:
        hooks = d.get(name, ())
        snap += (len(hooks), *hooks)
    for name in sequences:
        value = d[name]
        snap += (len(value), *value)
    return snap


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _copy(module: nn.Module, memo: dict[int, nn.Module], copied: list | None = None) -> nn.Module:
    key = id(module)
    if key in memo:  # a module used twice in the tree stays one module in the twin
        return memo[key]
    twin = type(module).__new__(type(module))
    memo[key] = twin
    if copied is not None:
        sequences = _sequences(module)
        copied.append((module, sequences, _snapshot(module, sequences)))
    state = dict(module.__dict__)
    state["training"] = False
    state["_modules"] = {
        name: None if child is None else _copy(child, memo, copied) for name, child in module._modules.items()
    }
    for name in _HOOK_DICTS:
        if name in state:
            state[name] = OrderedDict(state[name])
    for name, value in state.items():
        # modules kept outside _modules (a plain list or tuple of layers, set with object.__setattr__) are
        # part of the computation too: their twins keep the whole evaluation in eval mode
        if isinstance(value, nn.Module) and not name.startswith("_"):
            state[name] = _copy(value, memo, copied)
        elif type(value) in (list, tuple) and any(isinstance(v, nn.Module) for v in value):
            state[name] = type(value)(_copy(v, memo, copied) if isinstance(v, nn.Module) else v for v in value)
    twin.__dict__.update(state)
    return twin
