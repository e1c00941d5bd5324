"""The module a wrapped model computes with: DataParallel, DistributedDataParallel and ``torch.compile`` wrappers.

The recorder evaluates, hooks and names layers on the inner module: layer names are then the ones the user
wrote (``"fc1"``, not ``"module.fc1"`` or ``"_orig_mod.fc1"``), a capture never goes through DDP's gradient
machinery or DataParallel's scatter to every GPU, and a compiled model is evaluated eagerly, so the recorder's
hooks and its chunk sizes (which differ from the training batch) never make ``torch.compile`` recompile.
The inner module holds the very parameters the wrapper trains, so every capture sees the current weights.
"""

from __future__ import annotations

from torch import nn

# DataParallel and DistributedDataParallel keep the model as `.module`; torch.compile's OptimizedModule as
# `._orig_mod`. Checked by class name too, so a wrapper class from a torch build without distributed support
# (or a subclass of either) is still recognised.
_WRAPPERS = {"DataParallel": "module", "DistributedDataParallel": "module", "OptimizedModule": "_orig_mod"}


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside any stack of DataParallel / DistributedDataParallel / ``torch.compile`` wrappers.

    >>> import torch
    >>> net = nn.Linear(2, 2)
    >>> unwrap(nn.DataParallel(net)) is net, unwrap(net) is net
    (True, True)
    """
    seen = set()
    while id(model) not in seen:
        seen.add(id(model))
        attr = next((a for cls, a in _WRAPPERS.items() if _is(model, cls)), None)
        inner = getattr(model, attr, None) if attr else None
        if not isinstance(inner, nn.Module):
            return model
        model = inner
    return model


def _is(obj, name: str) -> bool:
    """Whether ``obj``'s class, or a class it derives from, is called ``name``."""
    return _is_class(type(obj), name)


def _is_class(cls: type, name: str) -> bool:
    """Whether ``cls``, or a class it derives from, is called ``name``."""
    return any(c.__name__ == name for c in cls.__mro__)
