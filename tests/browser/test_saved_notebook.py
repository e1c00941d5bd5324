"""A notebook saved with widget state plays without a kernel: executed by nbclient (which stores
``metadata.widgets`` as ``jupyter nbconvert --execute`` does), converted by ``jupyter nbconvert --to html``, opened
offline in Chromium. The page's CDN requests (require.js, @jupyter-widgets/html-manager, anywidget) are answered
from local files: npm's packages in js/node_modules and anywidget's AMD bundle from the kernel environment's
share/jupyter/nbextensions; every other request off 127.0.0.1 is refused. Then: the views show the last frame,
the player plays the history, and the pixels of a frame scrubbed to are what the model computed there.

Screenshots go to artifacts/screenshots/saved-notebook-*.png (gitignored).
"""

from __future__ import annotations

import base64
import functools
import http.server
import io
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tests.browser.conftest import REPO, SCREENSHOTS, poll
from tests.browser.test_boundary_live import ALPHA_RANGE, ALPHA_SLACK, classify_fill

pytestmark = pytest.mark.browser

EPOCHS = 24
WIDTH, HEIGHT = 420, 360
SHARE = pathlib.Path(sys.prefix) / "share" / "jupyter"
NODE = REPO / "js" / "node_modules"

SETUP = f"""\
import json
import numpy as np
import torch
from torch import nn
from IPython.display import display
import nnviz_widgets as nnv

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = nnv.datasets.moons(300, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.Recorder(model, X, y, grid=50)
dash = nnv.Dashboard(rec, width={WIDTH}, height={HEIGHT})   # player, boundary, mosaic, bqplot curves
view = dash.views["boundary"]
dash"""

TRAIN = f"""\
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
for epoch in range({EPOCHS}):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.capture(loss=loss.item())"""

# grid points where frame `i` is confident, away from the plot's frame and the data points drawn on top, as
# (x, y, class): the colour there says which class the model picked
SAMPLES = """\
def samples(i, n=120):
    b = rec.run[i].boundary
    xs, ys = rec.run.grid.xs, rec.run.grid.ys
    p, cls = b.max(axis=-1), b.argmax(axis=-1)
    H, W = p.shape
    ii, jj = np.nonzero(p > 0.8)
    inner = (ii >= 2) & (ii < H - 2) & (jj >= 2) & (jj < W - 2)
    gx, gy = xs[jj][:, None], ys[ii][:, None]
    clear = np.hypot(gx - X[None, :, 0], gy - X[None, :, 1]).min(axis=1) > 0.15
    ii, jj = ii[inner & clear], jj[inner & clear]
    pick = np.random.default_rng(i).choice(len(ii), size=min(n, len(ii)), replace=False)
    return [[float(xs[j]), float(ys[i]), int(cls[i, j])] for i, j in zip(ii[pick], jj[pick])]
print(json.dumps({"extent": rec.run.grid.extent, "last": samples(len(rec.run) - 1), "early": samples(8)}))"""

REDISPLAY = "view"  # shown again after training: its mime bundle's PNG is the last frame


def execute(tmp: pathlib.Path) -> pathlib.Path:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, TRAIN, SAMPLES, REDISPLAY)]
    env_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env_path])])
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp)}}).execute()
    finally:
        if env_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_path
    path = tmp / "saved.ipynb"
    nbformat.write(nb, str(path))
    (REPO / "artifacts").mkdir(exist_ok=True)
    nbformat.write(nb, str(REPO / "artifacts" / "saved-notebook.ipynb"))  # to look at after a failure
    return path


class Offline:
    """Answers a static page's CDN requests from local files; refuses (and lists) every other outside request."""

    LOCAL = {
        "require.js": NODE / "requirejs" / "require.js",
        "html-manager": NODE / "@jupyter-widgets" / "html-manager" / "dist",
        "anywidget": SHARE / "nbextensions" / "anywidget" / "index.js",
        "bqplot": SHARE / "nbextensions" / "bqplot" / "index.js",
        "bqscales": SHARE / "nbextensions" / "bqscales" / "index.js",
    }

    def __init__(self):
        self.served: list[str] = []
        self.refused: list[str] = []

    def file_for(self, url: str) -> pathlib.Path | None:
        if "/require.js/" in url or url.endswith("/require.min.js"):
            return self.LOCAL["require.js"]
        if "@jupyter-widgets/html-manager@" in url and "/dist/" in url:
            return self.LOCAL["html-manager"] / url.split("/dist/", 1)[1].split("?")[0]
        for package in ("anywidget", "bqplot", "bqscales"):  # widget modules: the kernel environment's AMD bundles
            if f"/npm/{package}@" in url and url.split("?")[0].endswith("/dist/index.js"):
                return self.LOCAL[package]
        return None

    def handle(self, route) -> None:
        url = route.request.url
        if url.startswith("http://127.0.0.1"):
            route.continue_()
            return
        path = self.file_for(url)
        if path is not None and path.is_file():
            self.served.append(url)
            kind = "application/javascript" if path.suffix == ".js" else None
            route.fulfill(path=str(path), content_type=kind)
        else:
            self.refused.append(url)
            route.abort()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    for need in Offline.LOCAL.values():
        if not need.exists():
            pytest.fail(f"{need} is missing: run scripts/setup.sh (npm's html-manager, anywidget's nbextension)")
    tmp = tmp_path_factory.mktemp("saved-notebook")
    path = execute(tmp)
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", str(path)], check=True, capture_output=True, timeout=120
    )
    return path, tmp / "saved.html"


@pytest.fixture(scope="module")
def served(saved):
    """The folder with the page, on a free port of 127.0.0.1."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(saved[1].parent))
    handler.log_message = lambda *_args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{saved[1].name}"
    server.shutdown()
    server.server_close()


def cell_output(nb_path: pathlib.Path, cell: int, key: str):
    nb = json.loads(nb_path.read_text())
    for out in nb["cells"][cell]["outputs"]:
        data = out.get("data", {})
        if key in data:
            return data[key]
        if key == "stdout" and out.get("name") == "stdout":
            return "".join(out["text"])
    raise AssertionError(f"cell {cell} has no {key} output: {nb['cells'][cell]['outputs']}")


def saved_view_state(path: pathlib.Path, cls: str, with_buffers: bool = False) -> dict:
    """The saved widget state of the one view of class ``cls`` in the notebook at ``path``."""
    nb = json.loads(path.read_text())
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [m for m in state.values() if m["state"].get("_anywidget_id", "").endswith("." + cls)]
    assert len(views) == 1, f"{len(views)} {cls} in the saved state"
    return views[0] if with_buffers else views[0]["state"]


def test_the_saved_notebook_holds_the_history_in_widget_state(saved):
    view = saved_view_state(saved[0], "DecisionBoundary", with_buffers=True)
    assert [f["index"] for f in view["state"]["_history"]["frames"]] == list(range(EPOCHS))  # 24 x 5 KB fit 2 MB
    assert len(view["buffers"]) >= EPOCHS  # binary, base64 in the file
    mosaic = saved_view_state(saved[0], "WeightMosaic")["_history"]["frames"]
    assert mosaic[-1]["index"] == EPOCHS - 1 and sum(len(f["arrays"]) for f in mosaic) == len(mosaic)
    player = saved_view_state(saved[0], "Player")["_history"]["frames"]
    assert [f["index"] for f in player] == list(range(EPOCHS))


def test_the_png_in_the_mime_bundle_is_the_last_frame(saved):
    from PIL import Image

    from nnviz_widgets.export.video import MARGIN

    info = json.loads(cell_output(saved[0], 2, "stdout"))
    png = Image.open(io.BytesIO(base64.b64decode(cell_output(saved[0], 3, "image/png")))).convert("RGB")
    assert png.size == (WIDTH, HEIGHT)
    pixels = np.asarray(png)
    xmin, xmax, ymin, ymax = info["extent"]
    pw, ph = WIDTH - MARGIN["left"] - MARGIN["right"], HEIGHT - MARGIN["top"] - MARGIN["bottom"]
    agree = 0
    for x, y, want in info["last"]:
        px = int(MARGIN["left"] + (x - xmin) / (xmax - xmin) * pw)
        py = int(MARGIN["top"] + (ymax - y) / (ymax - ymin) * ph)
        k, alpha, _ = classify_fill(pixels[py, px])
        agree += k == want and ALPHA_RANGE[0] - ALPHA_SLACK <= alpha <= ALPHA_RANGE[1] + ALPHA_SLACK
    assert agree >= 0.95 * len(info["last"]), f"{agree}/{len(info['last'])} PNG pixels show the model's class"


PROBE = """(sel) => {
    const root = document.querySelectorAll(sel)[0];
    if (!root) return null;
    return {...root.dataset};
}"""

PIXELS = """([points, extent]) => {
    const root = document.querySelector('div.nnviz-boundary');
    const canvas = root.querySelector('canvas.nnviz-plot');
    const d = root.dataset;
    const [left, top, width, height] = [d.plotLeft, d.plotTop, d.plotWidth, d.plotHeight].map(Number);
    const [xmin, xmax, ymin, ymax] = extent;
    const rx = canvas.width / canvas.clientWidth, ry = canvas.height / canvas.clientHeight;
    const ctx = canvas.getContext('2d');
    return points.map(([x, y]) => {
        const cx = left + ((x - xmin) / (xmax - xmin)) * width, cy = top + ((ymax - y) / (ymax - ymin)) * height;
        return Array.from(ctx.getImageData(Math.floor(cx * rx), Math.floor(cy * ry), 1, 1).data);
    });
}"""


def agreeing(page, samples, extent) -> int:
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    lo, hi = ALPHA_RANGE
    rgbs = page.evaluate(PIXELS, [[s[:2] for s in samples], extent])
    fits = [classify_fill(rgb) for rgb in rgbs]
    return sum(
        k == s[2] and lo - ALPHA_SLACK <= a <= hi + ALPHA_SLACK for s, (k, a, _r) in zip(samples, fits, strict=True)
    )


def test_the_static_page_shows_and_plays_the_views_offline(saved, served, chromium):
    info = json.loads(cell_output(saved[0], 2, "stdout"))
    offline = Offline()
    context = chromium.new_context(viewport={"width": 1100, "height": 1400}, device_scale_factor=1)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda err: errors.append(f"{err.name}: {err.message}"))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "nnviz" in m.text else None)
        context.route("**/*", offline.handle)
        page.goto(served, timeout=60_000)

        def view():
            return page.evaluate(PROBE, "div.nnviz-boundary")

        where = f"served {offline.served}, refused {offline.refused}, errors {errors}"
        state = poll(view, lambda s: s.get("frames") == str(EPOCHS), 60, f"the static view holds {EPOCHS} frames")
        assert state["total"] == str(EPOCHS), state
        # the player follows live: it moves to the newest frame, and jslink moves the view
        poll(view, lambda s: s.get("epoch") == str(EPOCHS - 1), 10, "the view shows the last frame")
        assert any("anywidget" in u for u in offline.served), where
        ours = ("anywidget", "bqplot", "bqscales", "html-manager", "require")
        assert not [u for u in offline.refused if any(name in u for name in ours)], where
        kept = len(saved_view_state(saved[0], "WeightMosaic")["_history"]["frames"])  # thinned to 2 MB
        mosaic = poll(
            lambda: page.evaluate(PROBE, "div.nnviz-mosaic"),
            lambda s: s.get("frames") == str(kept) and s.get("epoch") == str(EPOCHS - 1),
            30,
            f"the static mosaic holds the {kept} frames saved and shows the last",
        )
        assert mosaic["total"] == str(EPOCHS), mosaic
        lines = poll(
            lambda: page.evaluate("() => document.querySelectorAll('.bqplot path.line').length"),
            lambda n: n >= 1,
            30,
            f"the bqplot curves draw; {where}",
        )
        assert lines >= 1
        last = agreeing(page, info["last"], info["extent"])
        assert last >= 0.95 * len(info["last"]), f"{last}/{len(info['last'])} pixels show the last frame; {where}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "saved-notebook-1-last-frame.png"))

        player = page.locator("div.nnviz-player").first
        player.locator("button.nnviz-play").click(timeout=10_000)
        seen = set()
        end = time.monotonic() + 10
        while time.monotonic() < end and len(seen) < 5:
            seen.add(view()["epoch"])
            time.sleep(0.05)
        player.locator("button.nnviz-play").click(timeout=10_000)
        assert len(seen) >= 5, f"play did not move the view through the history: {sorted(seen)}"

        page.evaluate(
            """() => { const s = document.querySelector('div.nnviz-player input.nnviz-scrub');
                       s.value = '8'; s.dispatchEvent(new Event('input', {bubbles: true})); }"""
        )
        poll(view, lambda s: s.get("epoch") == "8", 10, "the player's slider moved the view to frame 8")
        early = agreeing(page, info["early"], info["extent"])
        assert early >= 0.95 * len(info["early"]), f"{early}/{len(info['early'])} pixels show frame 8"
        page.screenshot(path=str(SCREENSHOTS / "saved-notebook-2-frame-8.png"))
        assert not errors, errors
    finally:
        context.close()
