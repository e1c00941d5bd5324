"""One scenario for every host (JupyterLab, Notebook 7, VS Code's widget manager): a Dashboard (boundary, weight
mosaic, activation embedding, metric curves, one player) watched while its training cell runs, its boundary
pixels compared with the model, played, scrubbed from a curve click, lasso-selected, reloaded, and a background
training ended with its Stop button.

A host is a page object with the :class:`conftest.Lab` helpers (``start_cell``, ``wait_cell``, ``run_cell``,
``cell_running``, ``cell_stdout``, ``poll``, ``screenshot``, ``reload``, ``save``, ``assert_no_page_errors``,
``page``) plus ``cell_node``: a JavaScript function ``(i) => element`` that finds cell ``i``'s output, and
``cell(i)``: a Playwright locator for it.
"""

from __future__ import annotations

import json
import time

import numpy as np

from .test_boundary_live import ALPHA_RANGE, ALPHA_SLACK, classify_fill

EPOCHS = 30

SETUP = """\
import json, time
import numpy as np
import torch
from torch import nn
import nnviz_widgets as nnv

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = nnv.datasets.moons(300, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.Recorder(model, X, y, grid=60, activations="2")
opt = torch.optim.Adam(model.parameters(), 1e-2)  # its first use imports torch._dynamo: seconds, kept out of the loop
dash = nnv.Dashboard(rec, width=260, height=220)
dash"""

TRAIN = f"""\
Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
for epoch in range({EPOCHS}):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.capture(loss=float(loss))
    time.sleep(0.05)
print(len(rec.run), "frames")"""

SAMPLES = """\
boundary = dash.views["boundary"]
boundary.show_points = False  # the points would cover the pixels compared below
sent = boundary.wait_sent(30)
b = rec.run[-1].boundary
xs, ys = rec.run.grid.xs, rec.run.grid.ys
p, cls = b.max(axis=-1), b.argmax(axis=-1)
H, W = p.shape
ii, jj = np.nonzero(p > 0.8)
inner = (ii >= 3) & (ii < H - 3) & (jj >= 3) & (jj < W - 3)
ii, jj = ii[inner], jj[inner]
pick = np.random.default_rng(0).choice(len(ii), size=min(120, len(ii)), replace=False)
samples = [[float(xs[j]), float(ys[i]), int(cls[i, j]), float(p[i, j])] for i, j in zip(ii[pick], jj[pick])]
print(json.dumps({"sent": sent, "extent": rec.run.grid.extent, "samples": samples}))"""

READ = """print(json.dumps({"epoch": dash.player.epoch, "selection": list(dash.views["embedding"].selection)}))"""

BACKGROUND = """\
torch.manual_seed(1)
model2 = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec2 = nnv.fit(model2, X, y, epochs=100_000, grid=30, background=True, views=["curves"])"""

JOIN = """print("joined", rec2.training.join(30), rec2.training.state)"""

CELLS = [SETUP, TRAIN, SAMPLES, READ, BACKGROUND, JOIN]

# Every view's state in one cell's output, read after two animation frames (the views draw once per frame).
STATE = """async ([i, visible]) => {
    const cell = (%s)(i);
    const player = cell && cell.querySelector('.nnviz-player');
    if (!player) return null;
    if (visible) player.scrollIntoView({block: 'start'});
    for (let k = 0; k < 2; k++) await new Promise((ok) => requestAnimationFrame(ok));
    const data = (sel) => { const n = cell.querySelector(sel); return n ? {...n.dataset} : {}; };
    const b = data('div.nnviz-boundary'), m = data('div.nnviz-mosaic'), s = data('div.nnviz-scatter');
    return {player: player.dataset.epoch, frames: player.dataset.frames, boundary: b.epoch, boundaryFrames: b.frames,
            mosaic: m.epoch, mosaicFrames: m.frames, scatter: s.epoch, scatterFrames: s.frames,
            selected: s.selected, curves: data('.nnviz-curves-cursor').epoch,
            figures: cell.querySelectorAll('.bqplot').length, stop: cell.querySelector('.nnviz-stop') !== null,
            status: (cell.querySelector('.nnviz-status') || {}).textContent || ''};
}"""

PIXELS = """([i, points, extent]) => {
    const root = (%s)(i).querySelector('div.nnviz-boundary');
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


def state(host, cell: int, visible: bool = True) -> dict | None:
    return host.page.evaluate(STATE % host.cell_node, [cell, visible])


def wait_for(host, cell: int, predicate, timeout: float, what: str) -> dict:
    return host.poll(lambda: state(host, cell), predicate, timeout, f"{host.host}: {what}")


def together(s: dict) -> bool:
    return s["player"] == s["boundary"] == s["mosaic"] == s["scatter"] == s["curves"]


def complete(s: dict, n: int = EPOCHS) -> bool:
    return all(s[k] == str(n) for k in ("frames", "boundaryFrames", "mosaicFrames", "scatterFrames"))


def last_json(host, cell: int) -> dict:
    lines = host.cell_stdout(cell).strip().splitlines()
    assert lines, f"{host.host}: cell {cell} printed nothing"
    return json.loads(lines[-1])


def scrub(host, cell: int, frame: int) -> None:
    host.cell(cell).locator(".nnviz-player input.nnviz-scrub").evaluate(
        "(s, v) => { s.value = String(v); s.dispatchEvent(new Event('input', {bubbles: true})); }", frame
    )


def run_every_view(host, shot: str) -> dict:
    """Run the scenario in ``host`` (cells already loaded as :data:`CELLS`); screenshots are named ``shot-*``.

    Returns what it measured (frames seen while the cell ran, pixel agreement) for the caller to print."""
    report: dict = {}
    host.run_cell(0, timeout=120_000)
    wait_for(host, 0, lambda s: s["mosaic"] is not None and s["scatter"] is not None, 40, "the dashboard renders")

    # live: frames reach every view while the training cell still runs
    host.start_cell(1)
    seen, t0 = [], time.monotonic()
    while host.cell_running(1) and time.monotonic() - t0 < 90:
        s = state(host, 0) or {}  # on screen, as a person watching it: views out of sight do not draw
        if host.cell_running(1):
            seen.append((int(s.get("boundaryFrames") or 0), int(s.get("mosaicFrames") or 0),
                         int(s.get("scatterFrames") or 0), int(s.get("frames") or 0)))  # fmt: skip
        if len(seen) == 8:
            host.screenshot(f"{shot}-during-training")
        time.sleep(0.1)
    host.wait_cell(1, timeout=90_000)
    report["seen_while_running"] = seen
    assert seen, f"{host.host}: never saw the training cell running"
    most = np.max(seen, axis=0).tolist()
    assert min(most) > 1, f"{host.host}: frames did not reach every view while the cell ran: {seen}"

    # complete history, and the boundary's pixels are the model's classes
    host.run_cell(2, timeout=60_000)
    info = last_json(host, 2)
    assert info["sent"] is True, info
    done = wait_for(host, 0, complete, 30, f"every view holds all {EPOCHS} frames")
    assert together(done) and done["player"] == str(EPOCHS - 1), f"{host.host}: not all on the last frame: {done}"
    wait_for(host, 0, lambda s: True, 5, "one more paint without the points")
    rgb = host.page.evaluate(PIXELS % host.cell_node, [0, [s[:2] for s in info["samples"]], info["extent"]])
    lo, hi = ALPHA_RANGE
    good = 0
    for (_, _, want, _), px in zip(info["samples"], rgb, strict=True):
        k, alpha, _ = classify_fill(px)
        good += k == want and lo - ALPHA_SLACK <= alpha <= hi + ALPHA_SLACK
    report["pixels_agree"] = f"{good}/{len(rgb)}"
    assert len(rgb) >= 60 and good >= 0.95 * len(rgb), f"{host.host}: {good}/{len(rgb)} pixels show the class"
    host.screenshot(f"{shot}-after-training")

    # playback: one play click moves every view together
    scrub(host, 0, 2)
    start = wait_for(host, 0, lambda s: s["player"] == "2" and together(s), 10, "scrub to frame 2 moves every view")
    play = host.cell(0).locator(".nnviz-player button.nnviz-play")
    play.click(timeout=5_000)
    time.sleep(1.2)
    play.click(timeout=5_000)
    paused = wait_for(host, 0, together, 5, "every view on the player's frame after play and pause")
    assert int(paused["player"]) > int(start["player"]), f"{host.host}: play did not advance: {start} -> {paused}"

    # resync: after a reload every view asks for, and gets, the whole history again (the curves are drawn anew:
    # a figure made before its first data can draw wrongly, a bug of its own, so the click below comes after)
    host.save()
    host.reload()
    again = wait_for(host, 0, complete, 60, f"after a reload every view holds all {EPOCHS} frames again")
    report["after_reload"] = again
    host.screenshot(f"{shot}-after-reload")

    # browser -> Python: a click on a loss dot sets the player's epoch in the kernel, which moves every view
    dots = host.cell(0).locator(".nnviz-figure-loss .dot")
    deadline = time.monotonic() + 10  # every frame has arrived; bqplot draws the last dots on its own next frame
    while dots.count() != EPOCHS and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dots.count() == EPOCHS, f"{host.host}: {dots.count()} loss dots, expected {EPOCHS}"
    dots.nth(20).click(timeout=5_000, force=True)
    wait_for(host, 0, lambda s: s["player"] == "20" and together(s), 15, "a click on the loss curve moves the player")
    host.run_cell(3)
    assert last_json(host, 3)["epoch"] == 20, host.cell_stdout(3)

    # browser -> Python: a lasso around the embedding's middle selects points the kernel reads
    scatter = host.cell(0).locator("div.nnviz-scatter")
    scatter.scroll_into_view_if_needed(timeout=5_000)
    scatter.locator(".nnviz-tool-lasso").click(timeout=5_000)
    box = scatter.locator(".nnviz-scatter-overlay").bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, min(box["width"], box["height"]) / 3
    ring = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 20)]
    host.page.mouse.move(*ring[0])
    host.page.mouse.down()
    for p in ring[1:]:
        host.page.mouse.move(*p, steps=2)
    host.page.mouse.up()
    chosen = wait_for(host, 0, lambda s: int(s["selected"] or 0) > 0, 5, "the lasso selected points")
    host.poll(
        lambda: (host.run_cell(3), last_json(host, 3))[1]["selection"],
        lambda sel: len(sel) == int(chosen["selected"]),
        10,
        f"{host.host}: the lasso's {chosen['selected']} points reach the kernel",
    )
    host.screenshot(f"{shot}-lasso", scatter)

    # Stop: the button ends a background training
    host.run_cell(4, timeout=60_000)
    wait_for(host, 4, lambda s: s["stop"] and "running" in s["status"], 30, "background training shows Stop")
    time.sleep(0.5)
    host.cell(4).locator(".nnviz-stop").evaluate("(b) => b.click()")  # a click; Playwright's waits on a busy page
    host.run_cell(5, timeout=60_000)
    assert "joined True stopped" in host.cell_stdout(5), host.cell_stdout(5)
    wait_for(host, 4, lambda s: "stopped" in s["status"], 10, "the dashboard says stopped")
    host.screenshot(f"{shot}-stopped")
    host.assert_no_page_errors()
    return report
