"""Sharing what was recorded: a self-contained HTML page, a report page, and an MP4/GIF video (the `video` extra)."""

from ..run.run import EXPORTERS
from .html import report, to_html
from .video import render_frame, to_video

EXPORTERS.update(html=to_html, video=to_video)  # Run.to_html / Run.to_video hand over to these

__all__ = ["render_frame", "report", "to_html", "to_video"]
