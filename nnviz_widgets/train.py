"""``fit()``: a small, honest mini-batch trainer that records as it goes; ``watch()``: views for your own loop.

``fit`` shuffles the training data each epoch (seeded), takes one optimizer step per mini-batch, and after
each epoch (or every ``every`` steps) records one frame with ``loss`` (the mean mini-batch training loss since
the previous frame), ``accuracy`` (the recorder's, on its fixed sample of the training set, eval mode) and, with
``val=``, ``val_loss`` and ``val_accuracy`` on the validation data in eval mode.

``every`` means one thing everywhere: the recorder keeps one frame per ``every`` calls of ``rec.capture()``
(``Recorder(every=)``, ``record/schedule.py``). ``fit`` calls ``capture()`` once per epoch, or, when given
``every``, once per optimizer step, so ``fit(every=n)`` records every n steps and is exactly your own loop
calling ``rec.capture()`` after each step with ``Recorder(every=n)``.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ._check import flag, integer, is_number, real
from .record import Recorder, check_X, check_y
from .record.twin import eval_twin

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


class Training:
    """A running (or finished) ``fit``: ``stop()`` ends it after the current epoch; ``join()`` waits for it.

    ``state`` is ``"running"``, ``"stopping"``, ``"stopped"`` (by :meth:`stop`), ``"done"`` or ``"failed"``
    (``error`` holds the exception). ``epoch`` is the last finished epoch (1-based count).

    >>> import torch.nn as nn, nnviz_widgets as nnv
    >>> X, y = nnv.datasets.moons(100)
    >>> rec = nnv.fit(nn.Linear(2, 2), X, y, epochs=200, grid=20, show=False, background=True)
    >>> rec.training.stop()
    >>> rec.training.join(30)                     # True once the thread has ended
    True
    >>> rec.training.state in ("stopped", "done")
    True
    """

    _running: set[Training] = set()  # every fit that has not ended yet (running() lists them)
    _registry = threading.Lock()

    @classmethod
    def running(cls) -> list[Training]:
        """Every ``fit`` of this process that is still running or stopping (oldest first): a handle on a
        background training whose cell was re-run or whose recorder was dropped.

        >>> [t.stop() for t in nnv.Training.running()]      # doctest: +SKIP
        """
        with cls._registry:
            return sorted(cls._running, key=lambda t: t._started)

    def __init__(self, rec: Recorder, epochs: int):
        self.rec = rec
        self._started = time.monotonic()
        self.epochs = epochs
        self.epoch = 0
        self.state = "running"
        self.error: BaseException | None = None
        self.dashboard = None
        self.thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._listeners: list[Callable[[Training], None]] = []

    def __repr__(self) -> str:
        return f"<Training {self.state}, epoch {self.epoch}/{self.epochs}>"

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called (training ends after the current epoch)."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask training to end after the current epoch (its frame is still recorded)."""
        if self.state == "running":
            self._stop.set()
            self._set("stopping")

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a background run to end; True when it has."""
        if self.thread is not None:
            self.thread.join(timeout)
            return not self.thread.is_alive()
        return True

    def subscribe(self, fn: Callable[[Training], None]) -> None:
        """Call ``fn(training)`` (on the training thread) whenever ``state`` or ``epoch`` changes."""
        self._listeners.append(fn)

    def _begin(self) -> None:
        with Training._registry:
            Training._running.add(self)

    def _end(self) -> None:
        with Training._registry:
            Training._running.discard(self)

    def _set(self, state: str | None = None, epoch: int | None = None) -> None:
        if state is not None:
            self.state = state
        if epoch is not None:
            self.epoch = epoch
        for fn in list(self._listeners):
            fn(self)


def fit(
    model: nn.Module,
    X,
    y,
    *,
    epochs: int = 100,
    lr: float = 1e-2,
    batch_size: int = 32,
    optimizer: str | torch.optim.Optimizer | Callable = "adam",
    val=None,
    device=None,
    loss: Callable | None = None,
    every: int | None = None,
    max_frames: int | None = None,
    background: bool = False,
    show: bool | None = None,
    seed: int = 0,
    views=None,
    **recorder_options,
) -> Recorder:
    """Train ``model`` on ``(X, y)`` with mini-batches, recording one frame per epoch; returns the recorder.

    Parameters
    ----------
    epochs, lr, batch_size : the usual; the data are reshuffled every epoch (``seed`` makes it repeatable).
    optimizer : ``"adam"`` (default), ``"adamw"``, ``"sgd"``, an optimizer instance, or ``fn(params)``.
    val : validation data ``(X_val, y_val)``, or a fraction (0-1) of ``(X, y)`` held out (seeded).
    device : where to train (``"cpu"``, ``"cuda"``, a ``torch.device``); default the model's own.
    loss : ``fn(logits, targets)``; default cross-entropy (binary cross-entropy for one output column).
    every : record every ``every`` optimizer steps instead of every epoch (``fit`` then calls ``capture()``
        after each step and ``Recorder(every=every)`` keeps every n-th call; the final step is always recorded).
    max_frames : keep at most this many frames, evenly spaced (the last step is always recorded).
    background : train in a thread and return at once; ``rec.training`` is the :class:`Training` handle
        (``stop()``, ``join()``), and the dashboard's stop button ends it after the current epoch.
    show : display the dashboard (default: when running in a notebook); ``views`` is passed to it.
    recorder_options : passed to :class:`Recorder` (``grid=``, ``plane=``, ``layers=``, ``path=``, ...).

    >>> import torch.nn as nn, nnviz_widgets as nnv
    >>> X, y = nnv.datasets.moons(200, seed=0)
    >>> net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> rec = nnv.fit(net, X, y, epochs=3, grid=20, show=False)
    >>> len(rec.run), [f.epoch for f in rec.run], sorted(rec.run[-1].metrics)
    (4, [0, 1, 2, 3], ['accuracy', 'loss'])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs = integer("epochs", epochs, lo=1)
    batch_size = integer("batch_size", batch_size, lo=1)
    if every is not None:
        every = integer("every", every, lo=1)
    lr = real("lr", lr, lo=0, lo_open=True)
    seed = integer("seed", seed, lo=0)
    background = flag("background", background)
    if show is not None:
        show = flag("show", show)
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be a function fn(logits, targets) -> loss tensor, got {loss!r}")
    if device is not None:
        try:
            model.to(device)
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"device={device!r} is not a device torch can use here: {err}") from None
    if views is not None:
        from .widgets.dashboard import _check_views

        _check_views(views)  # refused now, not after training when a dashboard is first shown
    X, y, val = _split(X, y, val, seed)
    if not hasattr(X, "__len__"):
        raise TypeError(f"X must be an array of shape (N, features) or (N, C, H, W), got {type(X).__name__}")
    steps_per_epoch = math.ceil(len(X) / batch_size)
    if "expected" in recorder_options:
        raise TypeError("fit() got expected=: it counts its own capture() calls (epochs, or steps with every=)")
    captures = 1 + (epochs if every is None else epochs * steps_per_epoch)  # capture() calls; +1: untrained
    rec = Recorder(
        model,
        X,
        y,
        every=every or 1,
        max_frames=max_frames,
        expected=captures if max_frames else None,
        **recorder_options,
    )
    training = Training(rec, epochs)
    rec.training = training
    # a re-run cell must not leave the earlier fit training the same model unseen: it is asked to stop, and
    # this one starts once it has (after its current epoch)
    earlier = [t for t in Training.running() if t.rec.model is rec.model]
    for old in earlier:
        warnings.warn(
            f"fit: stopping the earlier fit still training this model ({old!r}); this one starts when it ends",
            RuntimeWarning,
            stacklevel=2,
        )
        old.stop()
    if show is None:
        show = _in_notebook()
    if show:
        from IPython.display import display

        from .widgets.dashboard import Dashboard

        training.dashboard = Dashboard(rec, views=views, training=training)
        display(training.dashboard)
    opt = _optimizer(optimizer, model, lr)
    loss_fn = loss or _Loss()
    args = (model, rec, training, opt, loss_fn, val, batch_size, every, seed, earlier)
    training._begin()
    if background:
        training.thread = threading.Thread(target=_train, args=args, name="nnviz-fit", daemon=True)
        training.thread.start()
    else:
        _train(*args)
        if training.error is not None:
            raise training.error
    return rec


def watch(model: nn.Module, X, y, *, views=None, show: bool | None = None, **recorder_options):
    """A recorder and a dashboard for your own training loop: call ``rec.capture(loss=...)`` in it.

    >>> rec, dash = nnv.watch(model, X, y)          # doctest: +SKIP
    >>> for epoch in range(100):                    # doctest: +SKIP
    ...     ...                                     # your training step
    ...     rec.capture(loss=loss.item())
    """
    from .widgets.dashboard import Dashboard, _check_views

    if show is not None:
        show = flag("show", show)
    _check_views(views)
    rec = Recorder(model, X, y, **recorder_options)
    dash = Dashboard(rec, views=views)
    if _in_notebook() if show is None else show:
        from IPython.display import display

        display(dash)
    return rec, dash


# -- the loop ---------------------------------------------------------------------------------------------
def _train(model, rec, training, opt, loss_fn, val, batch_size, every, seed, earlier=()) -> None:
    try:
        for old in earlier:
            old.join()
        _loop(model, rec, training, opt, loss_fn, val, batch_size, every, seed)
    finally:
        training._end()


def _loop(model, rec, training, opt, loss_fn, val, batch_size, every, seed) -> None:
    # `model` as given: a DDP wrapper must run the training steps (its gradient sync); rec.model is unwrapped
    param = next(model.parameters())
    device = param.device
    dtype = param.dtype if param.dtype.is_floating_point else torch.float32  # data in the model's own dtype
    Xt = torch.as_tensor(rec.X, device=device, dtype=dtype)
    yt = torch.as_tensor(rec.y, device=device)
    if val is not None:
        val = (val[0].to(device, dtype), val[1].to(device))
    gen = torch.Generator().manual_seed(seed)
    total = training.epochs * math.ceil(len(Xt) / batch_size)
    step, losses = 0, _Losses()
    try:
        _capture(model, rec, losses, val, loss_fn, epoch=0, force=True)  # frame 0: the untrained network
        for epoch in range(training.epochs):
            model.train()
            order = torch.randperm(len(Xt), generator=gen).to(device)
            for start in range(0, len(Xt), batch_size):
                idx = order[start : start + batch_size]
                batch_loss = loss_fn(model(Xt[idx]), yt[idx])
                opt.zero_grad()
                batch_loss.backward()
                opt.step()
                losses.add(batch_loss)  # no .item(): a GPU runs on without waiting for each step's loss
                step += 1
                if every is not None:  # one capture() per step; the recorder's schedule keeps every n-th
                    if rec.due() or step == total:
                        _capture(model, rec, losses, val, loss_fn, epoch=step, force=step == total)
                    else:
                        rec.capture(epoch=step)  # counted, skipped: nothing is evaluated
            last = epoch == training.epochs - 1 or training.stopping
            if every is None:
                _capture(model, rec, losses, val, loss_fn, epoch=epoch + 1, force=last)
            elif last and losses:
                _capture(model, rec, losses, val, loss_fn, epoch=step, force=True)
            training._set(epoch=epoch + 1)
            if training.stopping:
                training._set("stopped")
                return
        training._set("done")
    except BaseException as err:  # noqa: BLE001 - handed to the caller (foreground) or kept on the handle
        training.error = err
        training._set("failed")


class _Losses:
    """The training steps' losses since the last capture, kept as tensors on their device: a float per step
    (``loss.item()``) would make the host wait for a GPU at every step. Every ``FLUSH`` steps, and at a capture,
    they come to the host at once and are summed in float64."""

    FLUSH = 4096

    def __init__(self) -> None:
        self._pending: list[torch.Tensor] = []
        self._total, self._count = 0.0, 0

    def __bool__(self) -> bool:
        return bool(self._pending) or self._count > 0

    def add(self, loss: torch.Tensor) -> None:
        self._pending.append(loss.detach().reshape(()))
        if len(self._pending) >= self.FLUSH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            values = torch.stack(self._pending).to("cpu", torch.float64)
            self._total += float(values.sum())
            self._count += len(self._pending)
            self._pending.clear()

    def mean(self) -> float | None:
        """The mean loss since the last call (None if no step ran); starts over."""
        self._flush()
        mean = self._total / self._count if self._count else None
        self.clear()
        return mean

    def clear(self) -> None:
        self._pending.clear()
        self._total, self._count = 0.0, 0


def _capture(model, rec, losses, val, loss_fn, *, epoch, force) -> None:
    sharded = rec._sharded is not None  # FSDP: no rank holds the whole model, so all of them run validation
    if not rec.active and not sharded:  # another rank records (torch.distributed): skip the validation pass too
        losses.clear()
        rec.capture(epoch=epoch)
        return
    loss = losses.mean()
    metrics = {"loss": loss} if loss is not None else {}
    if val is not None:
        metrics.update(_evaluate_sharded(model, *val, loss_fn) if sharded else _evaluate(rec.model, *val, loss_fn))
    rec.capture(epoch=epoch, force=force, **metrics)


def _evaluate(model, Xv: torch.Tensor, yv: torch.Tensor, loss_fn, *, twin: bool = True) -> dict:
    device = next(model.parameters()).device
    twin = eval_twin(model).model if twin else model  # eval mode without switching the model (record/twin.py)
    with torch.no_grad():
        out = twin(Xv.to(device))
        yd = yv.to(device)
        val_loss = float(loss_fn(out, yd))
        pred = out.argmax(1) if out.shape[1] > 1 else (out[:, 0] > 0).long()
        acc = float((pred == yd).float().mean())
    return {"val_loss": val_loss, "val_accuracy": acc}


def _evaluate_sharded(model, Xv: torch.Tensor, yv: torch.Tensor, loss_fn) -> dict:
    """Validation of an FSDP model through its own forward pass, which every rank runs (it gathers the shards).
    Eval mode is switched on the model itself: this loop is its only user, between two of its training steps."""
    training = model.training
    model.eval()
    try:
        return _evaluate(model, Xv, yv, loss_fn, twin=False)
    finally:
        model.train(training)


# -- arguments --------------------------------------------------------------------------------------------
def _split(X, y, val, seed):
    """(X, y, val) with val as (X_val tensor, y_val class-index tensor) or None."""
    if val is None:
        return X, y, None
    if is_number(val):
        val = real("val", val, lo=0, hi=1, lo_open=True, hi_open=True, what="a fraction held out")
        Xa, ya = check_X(X), np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
        perm = np.random.default_rng(seed).permutation(len(Xa))
        n_val = max(1, round(len(Xa) * val))
        X, y, val = Xa[perm[n_val:]], ya[perm[n_val:]], (Xa[perm[:n_val]], ya[perm[:n_val]])
    if not (isinstance(val, (tuple, list)) and len(val) == 2):
        raise TypeError(f"val must be (X_val, y_val) or a fraction, got {type(val).__name__}")
    classes, _ = check_y(y, len(check_X(X)), None)
    Xv = check_X(val[0])
    _, yv = check_y(val[1], len(Xv), classes)
    return X, y, (torch.as_tensor(Xv), torch.as_tensor(yv))


def _optimizer(optimizer, model, lr):
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        if optimizer.lower() not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {sorted(OPTIMIZERS)}, an optimizer or fn(params); got {optimizer!r}"
            )
        return OPTIMIZERS[optimizer.lower()](model.parameters(), lr=lr)
    if callable(optimizer):
        return optimizer(model.parameters())
    raise TypeError(f"optimizer must be a name, a torch optimizer or fn(params), got {type(optimizer).__name__}")


class _Loss:
    """Cross-entropy on logits; binary cross-entropy when the model has one output column."""

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if out.shape[1] == 1:
            return nn.functional.binary_cross_entropy_with_logits(out[:, 0], target.to(out.dtype))
        return nn.functional.cross_entropy(out, target)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None
