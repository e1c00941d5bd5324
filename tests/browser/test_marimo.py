"""The anywidget views outside Jupyter: a marimo app (``marimo run``, headless) shows a trained DecisionBoundary through
``mo.ui.anywidget``; Chromium checks that the frames arrived and the canvas draws them, and that a click on the view's
controls reaches Python (marimo re-runs the cell that reads the widget).

Skipped when marimo, Playwright or Debian's chromium is missing (``pip install marimo``). Screenshot:
artifacts/screenshots/marimo-boundary.png (gitignored).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import poll

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
EPOCHS = 30

APP = f"""\
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import torch
    from torch import nn

    import nnviz_widgets as nnv

    torch.manual_seed(0)
    torch.set_num_threads(1)
    X, y = nnv.datasets.moons(300, noise=0.2, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    rec = nnv.Recorder(model, X, y, grid=80)
    opt = torch.optim.Adam(model.parameters(), 2e-2)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for _epoch in range({EPOCHS}):
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())
    view = mo.ui.anywidget(nnv.DecisionBoundary(rec, width=420, height=360))
    view
    return mo, view


@app.cell
def _(mo, view):
    mo.md(f"python sees frame {{view.widget.epoch}}")
    return


if __name__ == "__main__":
    app.run()
"""

# fractions of the canvas (plot and axes margin) that are inked, and bluish / orangish (the tab10 class colours);
# before the frames arrive only the points are drawn (< 10 %)
INK = """(canvas) => {
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0, blue = 0, orange = 0;
    for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] === 0 || (d[i] > 235 && d[i + 1] > 235 && d[i + 2] > 235)) continue;
        ink++;
        if (d[i + 2] > d[i] + 40) blue++;
        if (d[i] > d[i + 2] + 40) orange++;
    }
    const n = d.length / 4;
    return {ink: ink / n, blue: blue / n, orange: orange / n};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def marimo_app(tmp_path):
    pytest.importorskip("marimo", reason="pip install marimo")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: the browser tests need Debian's chromium")
    (tmp_path / "app.py").write_text(APP)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    log = tmp_path / "marimo.log"
    cmd = [sys.executable, "-m", "marimo", "run", "app.py", "--headless", "--host", "127.0.0.1",
           "--port", str(port), "--no-token"]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"marimo exited with {proc.returncode}:\n{log.read_text(errors='replace')}"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
            assert time.monotonic() < deadline, f"marimo did not answer in 60 s:\n{log.read_text(errors='replace')}"
            time.sleep(0.25)
        yield url, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the app's kernel, by the group we started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_decision_boundary_renders_in_marimo(marimo_app, chromium):
    # the session's one Chromium (conftest.py): Playwright's sync API allows one instance per thread
    url, log = marimo_app
    page = chromium.new_page(viewport={"width": 1000, "height": 800})
    try:
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(f"{err.name}: {err.message}"))
        page.goto(url, timeout=60_000)
        # Playwright's CSS locators pierce the shadow DOM marimo renders anywidget views into
        label, title, canvas = (page.locator(sel).first for sel in
                                (".nnviz-frame-label", ".nnviz-title", "canvas.nnviz-plot"))  # fmt: skip

        def read():
            try:
                return {"label": label.text_content(timeout=1_000), "title": title.text_content(timeout=1_000)}
            except Exception:  # noqa: BLE001 - not rendered yet (the app is still training)
                return None

        state = poll(read, lambda s: s["label"] == f"frame {EPOCHS} / {EPOCHS}", 90, "every frame arrived")
        assert f"epoch {EPOCHS}" in state["title"] and "accuracy" in state["title"], state
        ink = poll(lambda: canvas.evaluate(INK), lambda s: s["ink"] > 0.5, 10, "the plot is filled")
        assert ink["blue"] > 0.15 and ink["orange"] > 0.15, f"both class regions should be drawn: {ink}"
        (REPO / "artifacts" / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(REPO / "artifacts" / "screenshots" / "marimo-boundary.png"))

        # browser -> Python: step back one frame; marimo re-runs the cell that reads view.widget.epoch
        page.locator("button.nnviz-step-back").first.click()
        seen = page.get_by_text(f"python sees frame {EPOCHS - 2}")
        seen.wait_for(timeout=30_000)
        assert not errors, f"page errors: {errors}"
    finally:
        page.close()
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]
