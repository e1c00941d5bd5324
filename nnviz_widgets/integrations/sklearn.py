"""scikit-learn: train with ``partial_fit`` one epoch at a time and record after each.

``MLPClassifier`` is recorded through a PyTorch mirror of itself (``fc1``, ``fc2``, ... with its activation),
whose weights are copied from ``coefs_`` / ``intercepts_`` before every capture: the mirror computes exactly
what ``predict_proba`` does (tested), so the boundary is true and the weight mosaic shows ``coefs_``. Any other
estimator with ``partial_fit`` and ``predict_proba`` is recorded through ``predict_proba`` (boundary only).

>>> from sklearn.neural_network import MLPClassifier
>>> import nnviz_widgets as nnv
>>> from nnviz_widgets.integrations import sklearn as nnv_sklearn
>>> X, y = nnv.datasets.moons(200, seed=0)
>>> rec = nnv_sklearn.fit(MLPClassifier((8,), random_state=0), X, y, epochs=3, grid=20, show=False)
>>> len(rec.run), list(rec.run.layers)
(3, ['fc1', 'fc2'])
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from ..record import Recorder

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "identity": nn.Identity}


class MLPMirror(nn.Sequential):
    """A PyTorch copy of a fitted ``MLPClassifier``: ``forward`` returns its logits (one column, the logit of
    class 1, for two classes); ``sync()`` recopies ``coefs_`` / ``intercepts_``.

    >>> import warnings, torch, nnviz_widgets as nnv
    >>> from sklearn.neural_network import MLPClassifier
    >>> X, y = nnv.datasets.moons(100)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     est = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    >>> net = MLPMirror(est)
    >>> p1 = torch.sigmoid(net(torch.as_tensor(X)))[:, 0].detach().numpy()
    >>> bool(abs(p1 - est.predict_proba(X)[:, 1]).max() < 1e-5)
    True
    """

    def __init__(self, estimator):
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        act = ACTIVATIONS[estimator.activation]
        n = len(estimator.coefs_)
        for i, w in enumerate(estimator.coefs_):
            layers[f"fc{i + 1}"] = nn.Linear(w.shape[0], w.shape[1])
            if i < n - 1:
                layers[f"act{i + 1}"] = act()
        super().__init__(layers)
        self.estimator = estimator
        self.sync()

    def sync(self) -> None:
        """Copy the estimator's current ``coefs_`` / ``intercepts_`` into the mirror's layers."""
        with torch.no_grad():
            for i, (w, b) in enumerate(zip(self.estimator.coefs_, self.estimator.intercepts_, strict=True)):
                lin = getattr(self, f"fc{i + 1}")
                lin.weight.copy_(torch.as_tensor(w.T, dtype=torch.float32))
                lin.bias.copy_(torch.as_tensor(b, dtype=torch.float32))


class ProbaModel(nn.Module):
    """Any fitted estimator with ``predict_proba``, as a module returning probabilities (no weights).

    >>> import torch, nnviz_widgets as nnv
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = nnv.datasets.moons(100)
    >>> ProbaModel(LogisticRegression().fit(X, y))(torch.as_tensor(X)).shape
    torch.Size([100, 2])
    """

    def __init__(self, estimator):
        super().__init__()
        self.estimator = estimator

    def sync(self) -> None:
        """Nothing to copy: ``forward`` asks the estimator itself."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(self.estimator.predict_proba(x.detach().cpu().numpy()), dtype=torch.float32)


def mirror(estimator) -> nn.Module:
    """The module a recorder evaluates for ``estimator`` (fitted at least once): an :class:`MLPMirror` for
    ``MLPClassifier``, else a :class:`ProbaModel`.

    >>> import nnviz_widgets as nnv
    >>> from sklearn.linear_model import SGDClassifier
    >>> X, y = nnv.datasets.moons(100)
    >>> type(mirror(SGDClassifier(loss="log_loss").fit(X, y))).__name__
    'ProbaModel'
    """
    if type(estimator).__name__ == "MLPClassifier" and hasattr(estimator, "coefs_"):
        return MLPMirror(estimator)
    return ProbaModel(estimator)


def fit(estimator, X, y, *, epochs: int = 100, val=None, show: bool | None = None, views=None, **recorder_options):
    """``partial_fit`` ``epochs`` times on ``(X, y)``, recording after each; returns the recorder.

    Metrics per frame: ``loss`` (``estimator.loss_`` when it has one, else the log-loss on the training data),
    ``accuracy`` (the recorder's) and, with ``val=(X_val, y_val)``, ``val_loss`` and ``val_accuracy``.
    ``show`` displays the dashboard (default: inside IPython), ``views`` picks its views, and the other keyword
    arguments go to :class:`~nnviz_widgets.Recorder`.

    >>> from sklearn.linear_model import SGDClassifier
    >>> import nnviz_widgets as nnv
    >>> X, y = nnv.datasets.moons(100)
    >>> rec = fit(SGDClassifier(loss="log_loss", random_state=0), X, y, epochs=3, grid=20, show=False)
    >>> len(rec.run), sorted(rec.run[-1].metrics)
    (3, ['accuracy', 'loss'])
    """
    if not (hasattr(estimator, "partial_fit") and hasattr(estimator, "predict_proba")):
        raise TypeError(
            f"estimator must have partial_fit and predict_proba (e.g. MLPClassifier, SGDClassifier(loss='log_loss')), "
            f"got {type(estimator).__name__}"
        )
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    from ..train import _in_notebook

    Xa, ya = np.asarray(X), np.asarray(y)
    classes = np.unique(ya)
    estimator.partial_fit(Xa, ya, classes=classes)
    model = mirror(estimator)
    output = "logits" if isinstance(model, MLPMirror) else "probabilities"
    rec = Recorder(model, Xa, ya, classes=list(classes), output=output, **recorder_options)
    if _in_notebook() if show is None else show:
        from IPython.display import display

        from ..widgets.dashboard import Dashboard

        display(Dashboard(rec, views=views))
    for epoch in range(1, epochs + 1):
        if epoch > 1:
            estimator.partial_fit(Xa, ya)
        model.sync()
        rec.capture(epoch=epoch, **_metrics(estimator, Xa, ya, val, classes))
    return rec


def _metrics(estimator, X, y, val, classes) -> dict:
    from sklearn.metrics import log_loss

    loss = getattr(estimator, "loss_", None)
    out = {"loss": float(loss) if loss is not None else float(log_loss(y, estimator.predict_proba(X), labels=classes))}
    if val is not None:
        Xv, yv = (np.asarray(a) for a in val)
        out["val_loss"] = float(log_loss(yv, estimator.predict_proba(Xv), labels=classes))
        out["val_accuracy"] = float(np.mean(estimator.predict(Xv) == yv))
    return out
