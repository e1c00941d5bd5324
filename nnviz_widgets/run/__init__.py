"""The history of a training (Run, Frame) and its wire codec."""

from .run import Frame, Grid, Histogram, Run
from .store import open_run

__all__ = ["Frame", "Grid", "Histogram", "Run", "open_run"]
