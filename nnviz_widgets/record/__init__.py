"""Recorders: capture what a network has become, one frame at a time."""

from .recorder import Recorder

__all__ = ["Recorder"]
