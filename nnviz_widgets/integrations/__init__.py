"""Adapters that decide *when* to call ``Recorder.capture()`` for other frameworks; none of them draws.

- ``integrations.sklearn.fit(estimator, X, y, epochs=...)``: ``MLPClassifier`` (weights from ``coefs_``) or any
  estimator with ``partial_fit`` + ``predict_proba``;
- ``integrations.lightning.RecorderCallback``: a Lightning ``Callback`` (captures on rank 0 only);
- ``integrations.keras.RecorderCallback``: a Keras 3 ``Callback`` (torch backend).

Each module imports its framework lazily and names the extra to install when it is missing.
"""

from __future__ import annotations

import importlib


def require(module: str, extra: str, what: str):
    """Import ``module`` or raise ImportError naming the extra that installs it (``what`` says who needs it).

    >>> require("json", "dev", "this example").dumps([1])
    '[1]'
    >>> require("no_such_module", "keras", "KerasCallback")
    Traceback (most recent call last):
    ImportError: KerasCallback needs no_such_module: pip install 'nnviz_widgets[keras]' (or pip install keras)
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{what} needs {module.split('.')[0]}: pip install 'nnviz_widgets[{extra}]' (or pip install {extra})"
        ) from err
