"""nnviz_widgets: watch a neural network learn, live, inside a notebook.

>>> import nnviz_widgets as nnv
>>> X, y = nnv.datasets.moons(500, noise=0.2, seed=0)
"""

from . import datasets, export  # noqa: F401 - export registers Run.to_html / Run.to_video
from .record import Recorder
from .run import Frame, Run, open_run, runs
from .train import Training, fit, watch
from .widgets import Compare, Dashboard, DecisionBoundary, MetricCurves, Player, WeightHistograms, WeightMosaic

__version__ = "0.1.0"

__all__ = [
    "DecisionBoundary", "Frame", "Player", "Recorder", "Run", "WeightMosaic", "datasets", "open_run", "__version__",
]  # fmt: skip
__all__ += ["Compare", "Dashboard", "MetricCurves", "Training", "WeightHistograms", "fit", "runs", "watch"]
from .embed import embed  # noqa: E402
from .widgets import EmbeddingScatter  # noqa: E402

__all__ += ["EmbeddingScatter", "embed"]
