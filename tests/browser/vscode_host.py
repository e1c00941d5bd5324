"""The VS Code widget-manager page (tests/browser/vscode/, installed by scripts/setup.sh) served for the tests:
``harness_url`` (module fixture, registered in conftest.py) and :class:`VSCodePage`, a page with the
:class:`conftest.Lab` helpers whose cells run on a kernel of the test's Jupyter server and render through npm's
``@vscode/jupyter-ipywidgets8``. test_vscode.py says what differs from real VS Code."""

from __future__ import annotations

import functools
import http.server
import pathlib
import re
import sys
import threading

import pytest

from .conftest import Lab, poll

HARNESS = pathlib.Path(__file__).parent / "vscode"
REQUIRED = ("dist/harness.js", "node_modules/@vscode/jupyter-ipywidgets8/dist/ipywidgets.js",
            "node_modules/requirejs/require.js")  # fmt: skip
# VS Code reads each nbextension's extension.js and takes the module -> script entries of its requirejs config
# (baseIPyWidgetScriptManager.ts, extractRequireConfigFromWidgetEntry).
REQUIRE_ENTRY = re.compile(r"""["']?([@\w][\w@/.-]*)["']?\s*:\s*["'](nbextensions/[^"']+)["']""")


def widget_sources(nbextensions: pathlib.Path) -> dict[str, str]:
    """Module name -> URL path of its AMD script, from every ``<nbextensions>/*/extension.js``."""
    sources = {}
    for entry in sorted(nbextensions.glob("*/extension.js")):
        for module, path in REQUIRE_ENTRY.findall(entry.read_text(errors="replace")):
            sources[module] = "/" + path + ("" if path.endswith(".js") else ".js")
    return sources


class _Files(http.server.SimpleHTTPRequestHandler):
    """The harness folder at /, the kernel environment's nbextensions at /nbextensions/."""

    nbextensions: pathlib.Path

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/nbextensions/"):
            base, rest = self.nbextensions, clean[len("/nbextensions/") :]
        else:
            base, rest = HARNESS, clean.lstrip("/")
        target = (base / rest).resolve()
        return str(target) if target.is_relative_to(base.resolve()) else str(base / "missing")

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def harness_url():
    missing = [p for p in REQUIRED if not (HARNESS / p).exists()]
    if missing:
        pytest.fail(f"tests/browser/vscode is not installed ({missing}): run scripts/setup.sh")
    # The kernels of the test server run this interpreter (the python3 kernel of this environment): its prefix is
    # the kernel environment VS Code would look in.
    nbextensions = pathlib.Path(sys.prefix) / "share" / "jupyter" / "nbextensions"
    handler = functools.partial(type("Files", (_Files,), {"nbextensions": nbextensions}))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", widget_sources(nbextensions)
    finally:
        httpd.shutdown()
        httpd.server_close()


class VSCodePage(Lab):
    """The harness page: cells are executed on the kernel by the page and rendered by VS Code's widget manager."""

    host = "VS Code"
    cell_node = "(i) => document.getElementById('cell-' + i)"

    def __init__(self, browser, server, url: str, sources: dict, theme: str = "vscode-light"):
        super().__init__(browser, server)
        self.url, self.sources, self.theme = url, sources, theme
        self.cells: list[str] = []
        self.kernel_id: str | None = None

    def cell(self, i: int):
        return self.page.locator(f"#cell-{i}")

    def open(self, cells: list[str]) -> None:
        self.cells = list(cells)
        self.page.goto(f"{self.url}/index.html", timeout=60_000)
        self.page.evaluate("(t) => { document.body.className = t; document.body.dataset.vscodeThemeKind = t; }",
                           self.theme)  # fmt: skip
        self.page.wait_for_function("() => window.__vscodeReady === true && !!window.vscIPyWidgets8", timeout=30_000)
        self.kernel_id = self.page.evaluate(
            "(o) => nnvizHarness.start(o)",
            {"server": self.server.url, "kernelId": self.kernel_id, "sources": self.sources},
        )
        self.poll(lambda: self.kernel_status(), lambda s: s == "idle", 60, "the kernel is idle")

    def kernel_status(self) -> str:
        return self.page.evaluate("() => nnvizHarness.kernelStatus()")

    def start_cell(self, i: int) -> None:
        self.page.evaluate("([i, code]) => nnvizHarness.run(i, code)", [i, self.cells[i]])

    def _cell(self, i: int) -> dict | None:
        return self.page.evaluate("(i) => nnvizHarness.cell(i)", i)

    def cell_running(self, i: int) -> bool:
        rec = self._cell(i)
        return rec is not None and not rec["done"]

    def wait_cell(self, i: int, timeout: float = 60_000) -> dict:
        rec = poll(lambda: self._cell(i), lambda r: r["done"], timeout / 1000, f"VS Code: cell {i} finishes")
        assert not rec["errors"] and rec["status"] == "ok", f"cell {i} raised:\n" + "\n".join(rec["errors"])
        return rec

    def cell_stdout(self, i: int) -> str:
        rec = self._cell(i)
        return rec["stdout"] if rec else ""

    def save(self) -> None:
        """VS Code keeps the notebook document itself; nothing to save for a reload of the webview."""

    def reload(self, n_cells: int | None = None) -> None:
        """A new webview on the same kernel, where the dashboard's cell makes a new Dashboard of the same recorder."""
        self.open(self.cells)
        self.cells[0] = "dash = nnv.Dashboard(rec, width=260, height=220)\ndash"
        self.run_cell(0)
