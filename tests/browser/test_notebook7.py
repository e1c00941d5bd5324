"""Notebook 7 (the `notebook` package) in Chromium: the every-view scenario of ``every_view.py`` — live frames
while the cell runs, boundary pixels against the model, playback, a curve click and a lasso read in the kernel,
resync after a reload, Stop — as in JupyterLab.

Screenshots: artifacts/screenshots/notebook7-*.png (gitignored).
"""

from __future__ import annotations

import pytest

from .every_view import CELLS, run_every_view

pytestmark = pytest.mark.browser


def test_every_view_in_notebook7(notebook7):
    notebook7.open_notebook("every_view", CELLS)
    report = run_every_view(notebook7, "notebook7")
    print(
        f"Notebook 7: frames seen while training ran {report['seen_while_running'][::4]}; "
        f"boundary pixels agreeing with the model {report['pixels_agree']}"
    )
