"""Sharing what was recorded: a self-contained HTML page, and an MP4/GIF video (the `video` extra)."""

from .html import to_html
from .video import render_frame, to_video

__all__ = ["render_frame", "to_html", "to_video"]
