"""The views: one Python class and one front-end module each."""

from .boundary import DecisionBoundary
from .mosaic import WeightMosaic
from .player import Player

__all__ = ["DecisionBoundary", "Player", "WeightMosaic"]
