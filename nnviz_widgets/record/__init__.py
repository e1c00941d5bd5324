"""Recorders: capture what a network has become, one frame at a time."""

from .recorder import Recorder, check_X, check_y

__all__ = ["Recorder", "check_X", "check_y"]
