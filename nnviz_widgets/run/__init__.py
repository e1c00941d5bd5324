"""The history of a training (Run, Frame) and its wire codec."""

from .run import Frame, Grid, Run

__all__ = ["Frame", "Grid", "Run"]
