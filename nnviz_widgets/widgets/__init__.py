"""The views: one Python class and one front-end module each."""

from .boundary import DecisionBoundary
from .compare import Compare
from .curves import MetricCurves
from .dashboard import Dashboard
from .histograms import WeightHistograms
from .mosaic import WeightMosaic
from .player import Player

__all__ = ["DecisionBoundary", "Player", "WeightMosaic"]
__all__ += ["Compare", "Dashboard", "MetricCurves", "WeightHistograms"]
from .scatter import EmbeddingScatter  # noqa: E402

__all__ += ["EmbeddingScatter"]
