"""Sharing what was recorded: a self-contained HTML page (video and CLI export come later)."""

from .html import to_html

__all__ = ["to_html"]
