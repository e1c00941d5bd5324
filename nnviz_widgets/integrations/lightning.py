"""PyTorch Lightning: a ``Callback`` that records the network as training starts (frame 0, "epoch 0") and one
frame at the end of every training epoch (labelled with the epochs trained), as ``nnv.fit`` does.

Under DDP (or any multi-process strategy) only global rank 0 records: the other ranks build no recorder and
never evaluate the grid, so nothing waits on them. Under FSDP (``strategy="fsdp"``) every rank builds one, and
each epoch's capture gathers the full weights onto rank 0, which alone evaluates and writes them. Give the
recorder a ``path=`` to watch a cluster job from a notebook with ``nnv.open_run(path, follow=True)``.

Metrics: every scalar in ``trainer.callback_metrics`` (what the module logged with ``self.log``), with a
``train_`` prefix dropped (``train_loss`` -> ``loss``), so train and ``val_`` curves share a figure.

>>> cb = RecorderCallback(X, y, grid=100)          # doctest: +SKIP
>>> L.Trainer(max_epochs=20, callbacks=[cb]).fit(module, loader)   # doctest: +SKIP
>>> nnv.Dashboard(cb.rec)                          # doctest: +SKIP
"""

from __future__ import annotations

import functools

from . import require


def metrics_of(callback_metrics: dict) -> dict[str, float]:
    """Scalar metrics from Lightning's ``callback_metrics`` as floats, ``train_`` prefixes dropped.

    >>> import torch
    >>> metrics_of({"train_loss": torch.tensor(0.5), "val_acc": 1, "hist": torch.zeros(3)})
    {'loss': 0.5, 'val_acc': 1.0}
    """
    out = {}
    for name, value in callback_metrics.items():
        if hasattr(value, "numel"):
            if value.numel() != 1:
                continue
            value = value.item()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name[6:] if name.startswith("train_") else name] = float(value)
    return out


def __getattr__(name: str):
    if name == "RecorderCallback":  # defined on first use: importing this module must not need Lightning
        return _callback_class()
    raise AttributeError(name)


@functools.cache
def _callback_class():
    pl = require("lightning.pytorch", "lightning", "nnviz_widgets.integrations.lightning")

    class RecorderCallback(pl.Callback):
        """Records ``pl_module`` on ``(X, y)`` as training starts and after each training epoch, on global rank 0
        only.

        ``recorder_options`` go to :class:`nnviz_widgets.Recorder` (``grid=``, ``path=``, ``max_frames=`` ...).
        ``rec`` is the recorder (None before ``fit`` starts and, unless the model is sharded, on every rank
        but 0).
        """

        def __init__(self, X, y, **recorder_options):
            super().__init__()
            self.X, self.y = X, y
            self.options = recorder_options
            self.rec = None
            self._started = False

        def on_fit_start(self, trainer, pl_module) -> None:
            if self.rec is not None:
                return
            from ..record import Recorder
            from ..record.distributed import is_sharded

            wrapped = getattr(getattr(trainer, "strategy", None), "model", None) or pl_module
            if is_sharded(wrapped):
                # FSDP: every rank's capture joins the gather of the full weights, so every rank has a recorder
                # (only rank 0's evaluates and writes), made from the outermost FSDP module that holds them all
                self.rec = Recorder(wrapped, self.X, self.y, **self.options)
            elif trainer.is_global_zero:
                self.rec = Recorder(pl_module, self.X, self.y, **self.options)

        def on_train_start(self, trainer, pl_module) -> None:
            # frame 0: the network before this fit trains it (the untrained one, as nnv.fit records it), once per
            # callback; under FSDP every rank joins, as in every capture
            if self.rec is None or self._started:
                return
            self._started = True
            self.rec.capture(epoch=trainer.current_epoch)

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            if self.rec is None or trainer.sanity_checking:
                return
            epoch = trainer.current_epoch + 1
            if not self.rec.active:  # another rank of a sharded model: it helps gather the weights, no metrics
                self.rec.capture(epoch=epoch)
                return
            self.rec.capture(epoch=epoch, **metrics_of(trainer.callback_metrics))

    return RecorderCallback
