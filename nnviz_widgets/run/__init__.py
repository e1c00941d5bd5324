"""The history of a training (Run, Frame), its wire codec, and where runs are stored (store.py)."""

from .run import Frame, Grid, Histogram, Run
from .store import open_run, runs

__all__ = ["Frame", "Grid", "Histogram", "Run", "open_run", "runs"]
