"""Every view under VS Code's own widget manager: npm's ``@vscode/jupyter-ipywidgets8`` (the bundle VS Code's notebook
webview loads) on a page this test serves with requirejs, on a real kernel of the test's Jupyter server through a
``@jupyterlab/services`` KernelConnection (tests/browser/vscode/, installed by scripts/setup.sh), widget scripts
from the kernel environment's ``share/jupyter/nbextensions`` as VS Code's LocalIPyWidgetScriptManager finds them.
Nothing comes from a CDN.

The scenario is ``every_view.py``'s: live frames while the cell runs, boundary pixels against the model, playback,
a curve click and a lasso read in the kernel, resync, Stop.

What still differs from real VS Code (see also the README's host table):
- VS Code relays kernel messages through its extension host (postMessage, buffers re-encoded) to a proxy kernel in
  the webview; here the page holds the kernel connection itself, so message timing and buffer copies differ.
- The webview's theme variables are the Light+/Dark+ values in vscode/theme.css, not read from a running VS Code.
- "Reload": VS Code's widget manager restores models only from a notebook's saved state, never from a live kernel
  (its ``restoreWidgets`` is "hardcoded to only support loading widgets from the notebook"), so a new webview knows
  only the models whose comms open after it (here re-displaying the old ``dash`` fails with "widget model not
  found", as in microsoft/vscode-jupyter#5424). The reload here is a new page on the same kernel where the user
  makes a new Dashboard of the same recorder; the test checks that its views get the whole history.

Screenshots: artifacts/screenshots/vscode-*.png (gitignored).
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request

import pytest

from .every_view import CELLS, run_every_view
from .vscode_host import VSCodePage

pytestmark = pytest.mark.browser


@pytest.fixture
def vscode(browser, jupyter_server, harness_url):
    url, sources = harness_url
    page = VSCodePage(browser, jupyter_server, url, sources)
    yield page
    with contextlib.suppress(Exception):
        if page.kernel_id:
            jupyter_server.api(f"/api/kernels/{page.kernel_id}", method="DELETE")
    page.assert_no_page_errors()
    page.close()


def test_widget_sources_come_from_the_kernel_environment(harness_url):
    url, sources = harness_url
    assert {"anywidget", "bqplot", "bqscales"} <= set(sources), sources
    for module in ("anywidget", "bqplot"):
        with urllib.request.urlopen(url + sources[module], timeout=5) as r:
            body = r.read()
        assert r.status == 200 and b"define(" in body, (module, body[:200])  # an AMD module for requirejs


def test_every_view_in_vscode(vscode):
    vscode.open(CELLS)
    t0 = time.monotonic()
    report = run_every_view(vscode, "vscode")
    messages = vscode.page.evaluate("() => nnvizHarness.messages()")
    print(f"VS Code widget manager: {time.monotonic() - t0:.0f} s; frames seen while training ran "
          f"{report['seen_while_running'][::4]}; boundary pixels agreeing {report['pixels_agree']}; "
          f"manager log tail {json.dumps(messages[-3:])}")  # fmt: skip
