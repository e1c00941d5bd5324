"""Keras 3 (torch backend): a ``keras.callbacks.Callback`` that records the untrained network (frame 0, "epoch 0")
and one frame at every epoch end (labelled with the epochs trained), as ``nnv.fit`` does.

Set ``KERAS_BACKEND=torch`` before Keras is first imported. The recorder evaluates the Keras model itself (in
inference mode); its ``Dense`` kernels are copied into PyTorch ``Linear`` mirrors named after the Keras layers
before each capture, so the weight mosaic shows them. Metrics are Keras' epoch ``logs`` (``loss``,
``accuracy``, ``val_loss``, ``val_accuracy``, ...).

>>> cb = RecorderCallback(X, y, grid=100)          # doctest: +SKIP
>>> model.fit(X, y, epochs=20, callbacks=[cb])     # doctest: +SKIP
>>> nnv.Dashboard(cb.rec)                          # doctest: +SKIP
"""

from __future__ import annotations

import functools
import os
import sys

import numpy as np
import torch
from torch import nn

from . import require


def __getattr__(name: str):
    if name in ("RecorderCallback", "KerasModel"):  # defined on first use: importing this must not need Keras
        return _classes()[name]
    raise AttributeError(name)


def _keras():
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = require("keras", "keras", "nnviz_widgets.integrations.keras")
    if keras.backend.backend() != "torch":
        raise ImportError(
            f"nnviz_widgets.integrations.keras needs Keras' torch backend, but it runs on {keras.backend.backend()!r} "
            f"(KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r}): set it to 'torch' before the "
            "first `import keras`"
        )
    return keras


SQUASHING = ("softmax", "sigmoid")


@functools.cache
def _classes() -> dict:
    keras = _keras()

    class KerasModel(nn.Module):
        """A Keras model as a module: ``forward`` runs it in inference mode; each Dense has a Linear mirror."""

        def __init__(self, model):
            super().__init__()
            self.keras_model = model
            self._mirrors: dict[str, nn.Linear] = {}  # layer name -> Linear child of that name
            for layer in model.layers:
                if isinstance(layer, keras.layers.Dense) and layer.built:
                    n_in, n_out = layer.kernel.shape
                    self._mirrors[layer.name] = nn.Linear(int(n_in), int(n_out), bias=layer.use_bias)
                    self.add_module(layer.name, self._mirrors[layer.name])
            self.sync()

        @property
        def squashed(self) -> bool:
            """True when the model ends in softmax/sigmoid (it outputs probabilities, not logits)."""
            act = getattr(self.keras_model.layers[-1], "activation", None)
            return getattr(act, "__name__", "") in SQUASHING

        def sync(self) -> None:
            with torch.no_grad():
                for layer in self.keras_model.layers:
                    if layer.name in self._mirrors:
                        lin = self._mirrors[layer.name]
                        lin.weight.copy_(torch.as_tensor(np.asarray(keras.ops.convert_to_numpy(layer.kernel)).T))
                        if layer.use_bias:
                            lin.bias.copy_(torch.as_tensor(np.asarray(keras.ops.convert_to_numpy(layer.bias))))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.keras_model(x, training=False)
            return torch.as_tensor(keras.ops.convert_to_numpy(out)) if not isinstance(out, torch.Tensor) else out

    class RecorderCallback(keras.callbacks.Callback):
        """Records the Keras model on ``(X, y)`` as training starts and at every epoch end; ``rec`` is the recorder
        once training starts.

        ``recorder_options`` go to :class:`nnviz_widgets.Recorder`; neuron-output maps are off (Keras layers are
        not PyTorch modules, so no hook sees them).
        """

        def __init__(self, X, y, **recorder_options):
            super().__init__()
            self.X, self.y = X, y
            self.options = recorder_options
            self.rec = None
            self.module = None

        def on_train_begin(self, logs=None) -> None:
            if self.rec is None:
                from ..record import Recorder

                self.module = KerasModel(self.model)
                options = {"output": "probabilities" if self.module.squashed else "logits", "outputs": False}
                self.rec = Recorder(self.module, self.X, self.y, **{**options, **self.options})
                if self.rec.active:  # frame 0: the untrained network, as nnv.fit records it
                    self.module.sync()
                    self.rec.capture(epoch=0)

        def on_epoch_end(self, epoch, logs=None) -> None:
            if not self.rec.active:  # another rank records (torch.distributed): no capture work here
                return
            self.module.sync()
            metrics = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
            self.rec.capture(epoch=int(epoch) + 1, **metrics)

    return {"KerasModel": KerasModel, "RecorderCallback": RecorderCallback}
