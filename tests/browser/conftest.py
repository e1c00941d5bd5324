"""Real-browser harness: JupyterLab on a free port, headless Debian Chromium driven by Playwright.

Fixtures
--------
``jupyter_server``  session: a JupyterLab server (no token, offline, its own settings/workspace dirs) whose
                    kernels import this checkout (PYTHONPATH); stopped with every kernel at the end.
``chromium``        session: Playwright Chromium at /usr/bin/chromium (skips the tests only if it is missing).
``browser``         session: that Chromium, with the JupyterLab server started.
``lab``             function: a fresh page (``lab.page``) with helpers to open a notebook and run its cells;
                    fails the test on page errors from our modules (see ``Lab.assert_no_page_errors``).
``new_lab``         factory for extra pages (a module-scoped notebook shared by several tests).
``notebook7``       function: the same helpers on a page of a Notebook 7 server (``notebook7_server``, session).

The helpers drive JupyterLab through ``window.jupyterapp`` (``--LabApp.expose_app_in_browser``):
``notebook:run-cell`` resolves when the cell has finished, so ``run_cell`` awaits it and ``start_cell``
keeps the promise in the page (``window.__nnvizRuns``) so a test can watch the page while the cell runs.
Every wait has a timeout: the suite never hangs.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
SERVER_START_TIMEOUT = 60.0
KERNEL_READY_TIMEOUT = 60_000  # ms
LAB_LOAD_TIMEOUT = 60_000  # ms

# Page errors whose text mentions one of these come from our code (anywidget loads _esm from a blob: URL).
OUR_MODULES = ("nnviz", "anywidget", "blob:", "boundary", "player")


# -- processes -----------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (kernels run in their own session, so a process-group kill misses them)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class JupyterServer:
    def __init__(self, proc: subprocess.Popen, url: str, root: pathlib.Path, log: pathlib.Path):
        self.proc, self.url, self.root, self.log = proc, url, root, log

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                for k in self.api("/api/kernels"):
                    with contextlib.suppress(Exception):
                        self.api(f"/api/kernels/{k['id']}", method="DELETE")
        below = _descendants(self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in below):
            time.sleep(0.1)
        for pid in below:  # leftovers (kernels in their own session): by id, never by name
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


# What each front-end needs on its command line besides the server's own options, and the page that answers
# once it is up. Both expose their application object as ``window.jupyterapp``.
FRONT_ENDS = {
    "lab": (
        ["jupyterlab", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabServerApp.open_browser=False"],
        "/lab",
    ),
    "notebook7": (["notebook", "--JupyterNotebookApp.expose_app_in_browser=True"], "/tree"),
}  # fmt: skip


@contextlib.contextmanager
def start_jupyter(front_end: str = "lab"):
    """A Jupyter server for ``front_end`` (a key of ``FRONT_ENDS``) on a free port, stopped with its kernels."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: the browser tests need Debian's chromium")
    app_args, ready_page = FRONT_ENDS[front_end]
    base = pathlib.Path(tempfile.mkdtemp(prefix="nnviz-browser-"))
    root = base / "notebooks"
    root.mkdir()
    for d in ("settings", "workspaces", "runtime", "config", "data"):
        (base / d).mkdir()
    # Quiet and offline: no news, no update check, no notification prompt (user settings in our own dir).
    notif = base / "settings" / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True})
    )
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTER_CONFIG_DIR=str(base / "config"),
        IPYTHONDIR=str(base / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    cmd = [
        sys.executable, "-m", app_args[0], "--no-browser", *app_args[1:],
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
        "--allow-root", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
        r"--ServerApp.allow_origin_pat=http://127\.0\.0\.1:\d+",  # pages a test serves itself (test_vscode.py)
    ]  # fmt: skip
    log = base / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True)
    server = JupyterServer(proc, f"http://127.0.0.1:{port}", root, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{app_args[0]} exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                server.api("/api/status")
                with urllib.request.urlopen(server.url + ready_page, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app_args[0]} did not answer in {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")
            time.sleep(0.25)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def jupyter_server():
    with start_jupyter("lab") as server:
        yield server


@pytest.fixture(scope="session")
def chromium():
    """Playwright's Chromium (Debian's build), one per session: Playwright's sync API allows one per thread."""
    if not pathlib.Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: the browser tests need Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def browser(chromium, jupyter_server):
    """The Chromium that drives the JupyterLab server."""
    return chromium


def poll(read, predicate, timeout: float, what: str, context=lambda: ""):
    """Call ``read()`` every 0.1 s until ``predicate(state)`` holds (state not None); fail with the last state
    and ``context()``."""
    deadline, state = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        state = read()
        if state is not None and predicate(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"{what}: not reached in {timeout:.0f} s; last state: {state}\n{context()}")


# -- the page --------------------------------------------------------------------------------------------
class Lab:
    """One browser page on the JupyterLab server, with notebook helpers."""

    host = "JupyterLab"
    cell_node = "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node"  # cell i's element

    def cell(self, i: int):
        """A locator for cell ``i`` of the open notebook."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(i)

    def notebook_url(self, name: str) -> str:
        return f"{self.server.url}/lab/tree/{name}.ipynb?reset"

    def __init__(self, browser, server: JupyterServer):
        self.server = server
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page_errors: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda err: self.page_errors.append(f"{err.name}: {err.message}\n{err.stack}"))

    def _on_console(self, msg) -> None:
        if msg.type in ("error", "warning"):
            loc = msg.location or {}
            self.console.append(f"[{msg.type}] {msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})")

    # -- errors --------------------------------------------------------------------------------------
    def our_errors(self) -> list[str]:
        """Page errors, and console errors, that come from our modules (anywidget ESM) or mention them."""
        errs = [e for e in self.page_errors if any(m in e for m in OUR_MODULES)]
        errs += [c for c in self.console if c.startswith("[error]") and any(m in c for m in OUR_MODULES)]
        return errs

    def assert_no_page_errors(self) -> None:
        errs = self.our_errors()
        assert not errs, "errors in the browser from our modules:\n" + "\n".join(errs)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()

    # -- notebooks -----------------------------------------------------------------------------------
    def open_notebook(self, name: str, cells: list[str]) -> None:
        """Write ``name``.ipynb (code cells, Python 3 kernel), open it and wait for an idle kernel."""
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nbformat.write(nb, str(self.server.root / f"{name}.ipynb"))
        self.page.goto(self.notebook_url(name), timeout=LAB_LOAD_TIMEOUT)
        self.wait_notebook_ready(len(cells))

    def dismiss_dialogs(self) -> None:
        """Accept a kernel-select (or any) dialog if one shows: Select / Python 3."""
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            with contextlib.suppress(Exception):
                select = dialog.locator("select")
                if select.count():
                    options = select.first.locator("option").all_text_contents()
                    py = next((o for o in options if "Python 3" in o), None)
                    if py:
                        select.first.select_option(label=py)
                dialog.locator(".jp-Dialog-button.jp-mod-accept").first.click(timeout=5_000)

    def wait_notebook_ready(self, n_cells: int | None = None, timeout: float = KERNEL_READY_TIMEOUT) -> None:
        self.page.wait_for_function(
            "() => !!window.jupyterapp && window.jupyterapp.started !== undefined", timeout=LAB_LOAD_TIMEOUT
        )
        js = """(n) => {
            const w = window.jupyterapp.shell.currentWidget;
            if (!w || !w.content || !w.sessionContext || !w.context || !w.context.isReady) return false;
            if (n !== null && w.content.widgets.length !== n) return false;
            const k = w.sessionContext.session && w.sessionContext.session.kernel;
            return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
        }"""
        deadline = time.monotonic() + timeout / 1000
        while True:
            self.dismiss_dialogs()
            try:
                self.page.wait_for_function(js, arg=n_cells, timeout=1_000)
                return
            except Exception as err:  # noqa: BLE001 - a Playwright timeout: look for a dialog and retry
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"the notebook's kernel was not idle in {timeout / 1000:.0f} s; "
                        f"server log:\n{self.server.log_tail()}\nconsole:\n" + "\n".join(self.console[-20:])
                    ) from err

    def start_cell(self, i: int) -> None:
        """Start running cell ``i`` without waiting for it (see :meth:`cell_running`, :meth:`wait_cell`)."""
        self.page.evaluate(
            """(i) => {
                const app = window.jupyterapp, nb = app.shell.currentWidget.content;
                nb.activeCellIndex = i;
                nb.deselectAll();
                window.__nnvizRuns = window.__nnvizRuns || {};
                const run = {done: false, ok: null, error: null, t0: performance.now(), t1: null};
                window.__nnvizRuns[i] = run;
                app.commands.execute('notebook:run-cell').then(
                    (ok) => Object.assign(run, {done: true, ok, t1: performance.now()}),
                    (e) => Object.assign(run, {done: true, ok: false, error: String(e), t1: performance.now()}));
            }""",
            i,
        )

    def cell_running(self, i: int) -> bool:
        return not self.page.evaluate(
            "(i) => !!(window.__nnvizRuns && window.__nnvizRuns[i] && window.__nnvizRuns[i].done)", i
        )

    def wait_cell(self, i: int, timeout: float = 60_000) -> dict:
        """Wait until cell ``i`` (started with :meth:`start_cell`) has finished; raise on an error output."""
        try:
            self.page.wait_for_function(
                "(i) => window.__nnvizRuns[i] && window.__nnvizRuns[i].done", arg=i, timeout=timeout
            )
        except Exception as err:  # noqa: BLE001
            raise AssertionError(
                f"cell {i} did not finish in {timeout / 1000:.0f} s; outputs: {self.cell_outputs(i)}"
            ) from err
        run = self.page.evaluate("(i) => window.__nnvizRuns[i]", i)
        errors = [o for o in self.cell_outputs(i) if o.get("output_type") == "error"]
        assert not errors, f"cell {i} raised:\n" + "\n".join(
            f"{e.get('ename')}: {e.get('evalue')}\n" + "\n".join(e.get("traceback", [])) for e in errors
        )
        assert run["ok"] is not False, f"cell {i} did not run: {run}"
        return run

    def run_cell(self, i: int, timeout: float = 60_000) -> dict:
        """Run cell ``i`` and wait until it has finished."""
        self.start_cell(i)
        return self.wait_cell(i, timeout)

    def cell_outputs(self, i: int) -> list[dict]:
        return self.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.toJSON()", i
        )

    def cell_stdout(self, i: int) -> str:
        out = []
        for o in self.cell_outputs(i):
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                text = o.get("text", "")
                out.append("".join(text) if isinstance(text, list) else text)
        return "".join(out)

    def cell_prompt(self, i: int) -> str:
        return self.page.evaluate(
            """(i) => { const c = window.jupyterapp.shell.currentWidget.content.widgets[i];
                        const p = c.node.querySelector('.jp-InputPrompt'); return p ? p.textContent : ''; }""",
            i,
        )

    def kernel_status(self) -> str:
        return self.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status")

    def save(self) -> None:
        """Save the notebook (outputs included), as JupyterLab's autosave would."""
        self.page.evaluate(
            """async () => { const w = window.jupyterapp.shell.currentWidget;
                             await w.context.save(); return w.context.model.dirty; }"""
        )

    def reload(self, n_cells: int | None = None) -> None:
        """Reload the page with the kernel alive; dismiss dialogs; wait for the notebook and its kernel.

        Save first (:meth:`save`) if the outputs should survive: a reload reads the notebook from disk."""
        self.page.reload(timeout=LAB_LOAD_TIMEOUT)
        self.wait_notebook_ready(n_cells)

    def poll(self, read, predicate, timeout: float, what: str):
        """:func:`poll`, reporting this page's errors and last console lines on failure."""
        return poll(read, predicate, timeout, what, lambda: f"browser errors: {self.page_errors + self.console[-10:]}")

    def screenshot(self, name: str, locator=None) -> pathlib.Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if locator is not None:
            with contextlib.suppress(Exception):
                locator.scroll_into_view_if_needed(timeout=5_000)
        self.page.screenshot(path=str(path), timeout=15_000)
        return path


@pytest.fixture(scope="session")
def new_lab(browser, jupyter_server):
    """``new_lab()`` -> a fresh :class:`Lab`; every one made is closed at the end of the session."""
    made: list[Lab] = []

    def make() -> Lab:
        lab = Lab(browser, jupyter_server)
        made.append(lab)
        return lab

    yield make
    for lab in made:
        lab.close()


class Notebook7(Lab):
    """A page on a Notebook 7 server: one notebook per page, the same JupyterLab objects underneath
    (``window.jupyterapp.shell.currentWidget`` is the notebook panel), so every :class:`Lab` helper works."""

    host = "Notebook 7"

    def notebook_url(self, name: str) -> str:
        return f"{self.server.url}/notebooks/{name}.ipynb"


@pytest.fixture(scope="session")
def notebook7_server(chromium):
    with start_jupyter("notebook7") as server:
        yield server


@pytest.fixture
def notebook7(chromium, notebook7_server):
    """A fresh Notebook 7 page for one test; the test fails on page errors from our modules."""
    page = Notebook7(chromium, notebook7_server)
    yield page
    page.assert_no_page_errors()
    page.close()


@pytest.fixture
def lab(new_lab):
    """A fresh page for one test; the test fails on page errors from our modules."""
    lab = new_lab()
    yield lab
    lab.assert_no_page_errors()
    lab.close()


from .vscode_host import harness_url  # noqa: E402, F401 - the VS Code page's server, for test_vscode and test_themes
