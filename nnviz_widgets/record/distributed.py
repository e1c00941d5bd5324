"""Which process records under torch.distributed (torchrun, DDP, FSDP, Lightning, accelerate): global rank 0 only.

Every rank runs the same script, so every rank builds a Recorder; only rank 0's evaluates the model and writes.
The others skip all capture work, so nothing waits on them and no two processes write one run.

A sharded model (FSDP1, FSDP2, DTensor parameters) is the exception that needs the other ranks: rank 0 holds only
its shard of each weight. There every rank's ``capture()`` joins one collective that gathers the full weights onto
rank 0 (:class:`Sharded`), and rank 0's decision to record or skip (schedule, time budget) is broadcast first
(:func:`agree`), so the ranks never disagree on whether a gather follows; only rank 0 evaluates and writes.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import nn

from .twin import _HOOK_DICTS
from .unwrap import _is, _is_class


def global_rank() -> int:
    """This process's global rank: from torch.distributed once it is initialised, else from ``RANK`` (which
    torchrun, Lightning and accelerate set before it is); 0 when the process is not distributed.

    >>> global_rank()
    0
    """
    if dist.is_available() and dist.is_initialized():
        return int(dist.get_rank())
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


# -- sharded models (FSDP) ------------------------------------------------------------------------------------
# FSDP1 wraps modules in FullyShardedDataParallel (the module inside is `_fsdp_wrapped_module`) and flattens their
# parameters into FlatParameters; FSDP2 (`fully_shard`) swaps a module's class for an FSDP<Class> subclass of
# FSDPModule and its parameters for DTensor shards. Recognised by class name, so no import of either is needed.
_FSDP1, _FSDP2, _FLAT = "FullyShardedDataParallel", "FSDPModule", "FlatParameter"


def is_sharded(model: nn.Module) -> bool:
    """Whether any parameter of ``model`` lives in shards across ranks: FSDP (either API) or DTensor parameters.

    >>> is_sharded(nn.Linear(2, 2))
    False
    """
    return any(_is(m, _FSDP1) or _is(m, _FSDP2) for m in model.modules()) or any(
        _is(p, "DTensor") for p in model.parameters()
    )


def agree(value: bool) -> bool:
    """Rank 0's ``value``, on every rank (a collective: every rank must call it, in the same order)."""
    box = [bool(value)]
    dist.broadcast_object_list(box, src=0)
    return bool(box[0])


class Sharded:
    """An FSDP (or DTensor-parallel) model seen whole by rank 0, for the recorder.

    ``model`` is a plain, eval-mode view of the model's module tree: FSDP1 wrappers are skipped, FSDP2 modules are
    of their own classes again and without FSDP's hooks, so layer names are the ones the user wrote and a forward
    pass through the view runs no collective. It shares every module's buffers (BatchNorm's running statistics;
    eval mode only reads them) but holds its own parameter slots, empty (meta tensors of the right shapes) except
    inside :meth:`full`.

    ``full()`` is a collective, entered by every rank at the same point: it gathers the full parameters onto rank
    0 (FSDP1: ``summon_full_params(rank0_only=True, writeback=False)``, which unshards in place; DTensor:
    ``full_tensor()``, one parameter at a time, which the other ranks free at once) and puts them in the view's
    slots there. Nothing is written back and the model's own parameters, modes and buffers are never touched, so
    training does not notice. On rank 0 the full weights are held for the duration of the block only.

    Under FSDP1 building the view gathers the full weights once on every rank (an FSDP1 shard does not know its
    parameters' shapes; a DTensor does), so every rank's recorder sees the same layers and raises the same errors.
    """

    def __init__(self, model: nn.Module):
        self._root = model
        self._fsdp1 = any(_is(m, _FSDP1) for m in model.modules())
        self._dtensors = any(_is(p, "DTensor") for p in model.parameters())  # FSDP2, tensor parallelism
        self._slots: list[tuple] = []  # (view module, name, source module, empty placeholder)
        with self._summoned(rank0_only=False):
            self.model = _plain(model, {}, self._slots)

    @contextlib.contextmanager
    def full(self) -> Iterator[nn.Module]:
        """Yields the view holding the full weights on rank 0 (on other ranks, still empty): see the class doc."""
        rank0 = global_rank() == 0
        with self._summoned(rank0_only=True), torch.no_grad():
            try:
                for view, name, source, _empty in self._slots:
                    # a DTensor shard (FSDP2 keeps the root's weights whole after a forward pass without backward:
                    # every rank sees the same state) is all-gathered, every rank taking part in the slots' order
                    full = getattr(source, name) if rank0 or self._dtensors else None
                    if _is(full, "DTensor"):
                        full = full.full_tensor()
                    if rank0:
                        view._parameters[name] = full
                    full = None
                yield self.model
            finally:
                for view, name, _source, empty in self._slots:
                    view._parameters[name] = empty

    def _summoned(self, rank0_only: bool):
        if not self._fsdp1:
            return contextlib.nullcontext()
        from torch.distributed.fsdp import FullyShardedDataParallel

        return FullyShardedDataParallel.summon_full_params(self._root, writeback=False, rank0_only=rank0_only)


def _plain(module: nn.Module, memo: dict, slots: list) -> nn.Module:
    while _is(module, _FSDP1):
        module = module._fsdp_wrapped_module
    if id(module) in memo:  # a module used twice stays one module
        return memo[id(module)]
    cls = next(c for c in type(module).__mro__ if not _is_class(c, _FSDP2))
    view = cls.__new__(cls)
    memo[id(module)] = view
    state = dict(module.__dict__)
    params = {n: p for n, p in module._parameters.items() if not _is(p, _FLAT)}  # FSDP1's flat shards: not the user's
    for name in params:
        state.pop(name, None)  # FSDP1 keeps unsharded views as plain attributes between passes
    state["_parameters"] = {n: None if p is None else _empty(p) for n, p in params.items()}
    state["training"] = False
    state["_modules"] = {n: None if c is None else _plain(c, memo, slots) for n, c in module._modules.items()}
    for name in _HOOK_DICTS:  # FSDP2's pre/post-forward hooks would gather shards: the user's own hooks stay
        if name in state:
            state[name] = OrderedDict((k, h) for k, h in state[name].items() if not _fsdp_hook(h))
    view.__dict__.update(state)
    slots.extend((view, n, module, view._parameters[n]) for n, p in params.items() if p is not None)
    return view


def _empty(p: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(torch.empty(p.shape, dtype=p.dtype, device="meta"), requires_grad=False)


def _fsdp_hook(hook) -> bool:
    owner = getattr(hook, "__self__", None)
    return owner is not None and type(owner).__module__.startswith("torch.distributed")
