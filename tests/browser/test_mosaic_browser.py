"""WeightMosaic in a real JupyterLab + Chromium: trained live on digits, tile pixels true to the recorded weights,
scrubbing changes the tiles, a Player drives it, and a conv model shows its filters.

Screenshots go to artifacts/screenshots/mosaic-*.png (gitignored).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.browser

EPOCHS = 12

SETUP = """\
import json, time
import numpy as np
import torch
from torch import nn
import nnviz_widgets as nnv

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = nnv.datasets.digits()
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 10))
rec = nnv.Recorder(model, X, y, grid=50)
view = nnv.WeightMosaic(rec, layer="1", width=420)
view"""

TRAIN = f"""\
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
for epoch in range({EPOCHS}):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad(); loss.backward(); opt.step()
    rec.capture(loss=float(loss))
    time.sleep(0.1)
print(view.wait_sent(30))"""

# tile, row, col and the recorded weight for a sample of the layer's weights at frame i; and the layer's scale
SAMPLES = """\
def samples(i, layer="1", n=300):
    w = rec.run[i].weights[layer]
    scale = max(float(np.nanmax(np.abs(f.weights[layer]))) for f in rec.run)
    rng = np.random.default_rng(i)
    t, p = rng.integers(0, w.shape[0], n), rng.integers(0, w.shape[1], n)
    return {"scale": scale, "samples": [[int(a), int(b), float(w[a, b])] for a, b in zip(t, p)]}
print(json.dumps({"last": samples(len(rec.run) - 1), "first": samples(0), "total": len(rec.run)}))"""

PLAYER = """\
m2 = nnv.WeightMosaic(rec, layer="3", width=300, follow=False, epoch=2)  # see the report: drive() races follow
player = nnv.Player(rec, m2, follow=False, epoch=2)
display(player, m2)"""

CONV = """\
torch.manual_seed(1)
conv = nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 36, 10))
crec = nnv.Recorder(conv, X, y, grid=20)
copt = torch.optim.Adam(conv.parameters(), 1e-2)
for _ in range(5):
    loss = nn.functional.cross_entropy(conv(Xt), yt); copt.zero_grad(); loss.backward(); copt.step()
    crec.capture(loss=float(loss))
cview = nnv.WeightMosaic(crec, layer="1", tile_size=48)
w = crec.run[-1].weights["1"]
print(json.dumps({"w": w[:, 0].tolist(), "scale": max(float(np.abs(f.weights["1"]).max()) for f in crec.run)}))
cview"""


def mosaic_state(lab, cell: int) -> dict | None:
    return lab.page.evaluate(
        """async (i) => {
            const c = window.jupyterapp.shell.currentWidget.content.widgets[i];
            const root = c && c.node.querySelector('div.nnviz-mosaic');
            if (!root) return null;
            root.scrollIntoView({block: 'center'});
            for (let k = 0; k < 3; k++) await new Promise((ok) => requestAnimationFrame(ok));
            return {...root.dataset, title: root.querySelector('.nnviz-title').textContent};
        }""",
        cell,
    )


def wait_mosaic(lab, cell, predicate, timeout=30.0, what=""):
    import time

    deadline, state = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        state = mosaic_state(lab, cell)
        if state and predicate(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"{what}: last state {state}; errors {lab.page_errors + lab.console[-10:]}")


def tile_pixels(lab, cell: int, picks: list[list[int]]) -> list[list[int]]:
    """RGB at the centre of weight p of tile t (row-major in the tile), through the geometry the view reports."""
    return lab.page.evaluate(
        """([i, picks]) => {
            const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
            const root = cell.node.querySelector('div.nnviz-mosaic');
            const canvas = root.querySelector('canvas.nnviz-plot');
            const d = root.dataset;
            const cols = Number(d.cols), tw = Number(d.tilePx), th = Number(d.tileHeight), gap = Number(d.gap);
            const ctx = canvas.getContext('2d');
            const rx = canvas.width / canvas.clientWidth;
            return picks.map(([t, p, h, w]) => {
                const k = t - Number(d.first);
                const x = (k % cols) * (tw + gap) + ((p % w) + 0.5) * tw / w;
                const y = Math.floor(k / cols) * (th + gap) + (Math.floor(p / w) + 0.5) * th / h;
                return Array.from(ctx.getImageData(Math.floor(x * rx), Math.floor(y * rx), 1, 1).data).slice(0, 3);
            });
        }""",
        [cell, picks],
    )


def check_colours(rgb, weights, scale):
    """Sign: red above zero, blue below; magnitude: farther from white for larger |w| (on the layer's scale)."""
    rgb = np.asarray(rgb, dtype=float)
    w = np.asarray(weights)
    strong = np.abs(w) > 0.15 * scale  # near zero both are near white: sign is not visible there
    redness = rgb[:, 0] - rgb[:, 2]
    assert strong.sum() >= 10
    assert (np.sign(redness[strong]) == np.sign(w[strong])).mean() == 1.0
    dist = np.linalg.norm(247 - rgb, axis=1)
    order = np.argsort(np.abs(w))
    # distance from white grows with |w|: strong rank correlation
    ranks = np.empty(len(w))
    ranks[np.argsort(dist)] = np.arange(len(w))
    corr = np.corrcoef(ranks[order], np.arange(len(w)))[0, 1]
    assert corr > 0.9, corr


def test_mosaic_live_true_pixels_scrub_player_conv(lab):
    lab.open_notebook("mosaic", [SETUP, TRAIN, SAMPLES, PLAYER, CONV])
    lab.run_cell(0)
    lab.start_cell(1)
    # frames arrive while the training cell still runs
    seen_live = wait_mosaic(lab, 0, lambda s: int(s["frames"]) >= 2, 30, "live frames")
    assert lab.cell_running(1) or int(seen_live["frames"]) >= 2
    lab.wait_cell(1, 90_000)
    state = wait_mosaic(lab, 0, lambda s: int(s["frames"]) == EPOCHS and int(s["epoch"]) == EPOCHS - 1, 30, "all")
    assert state["tiles"] == "100" and state["cols"] == "10" and state["layer"] == "1"
    lab.run_cell(2)
    info = json.loads(lab.cell_stdout(2).strip().splitlines()[-1])
    assert abs(float(state["scaleMax"]) - info["last"]["scale"]) / info["last"]["scale"] < 1e-3

    picks = [[t, p, 8, 8] for t, p, _ in info["last"]["samples"]]
    check_colours(tile_pixels(lab, 0, picks), [w for *_, w in info["last"]["samples"]], info["last"]["scale"])
    lab.screenshot("mosaic-digits-live", lab.page.locator("div.nnviz-mosaic").first)

    # scrub to the first frame: the tiles change and show frame 0's weights
    before = tile_pixels(lab, 0, picks)
    lab.page.evaluate("""() => { const s = document.querySelector('div.nnviz-mosaic input.nnviz-scrub');
                                 s.value = '0'; s.dispatchEvent(new Event('input')); }""")
    wait_mosaic(lab, 0, lambda s: s["epoch"] == "0", 10, "scrubbed to 0")
    first_picks = [[t, p, 8, 8] for t, p, _ in info["first"]["samples"]]
    check_colours(tile_pixels(lab, 0, first_picks), [w for *_, w in info["first"]["samples"]], info["first"]["scale"])
    assert tile_pixels(lab, 0, picks) != before

    # hover and pin: the enlarged tile and the value under the cursor
    canvas = lab.page.locator("div.nnviz-mosaic canvas.nnviz-plot").first
    canvas.click(position={"x": 2, "y": 2})
    pinned = lab.page.locator("div.nnviz-mosaic .nnviz-mosaic-readout").first.text_content()
    assert "neuron 0" in pinned and "row 0, col 0" in pinned

    # a Player drives a second mosaic (another layer: 10x10 tiles of the 100 hidden neurons)
    lab.run_cell(3)
    m2 = wait_mosaic(lab, 3, lambda s: int(s["frames"]) == EPOCHS and s["epoch"] == "2", 30, "player mosaic")
    assert m2["layer"] == "3" and m2["tiles"] == "64"
    lab.page.locator(".nnviz-player button.nnviz-step-forward").first.click()
    wait_mosaic(lab, 3, lambda s: s["epoch"] == "3", 10, "player stepped the mosaic")
    lab.screenshot("mosaic-player-layer3", lab.page.locator(".nnviz-player").first)

    # a conv model shows its 8 filters (3x3) true to the weights
    lab.run_cell(4)
    conv = json.loads(lab.cell_stdout(4).strip().splitlines()[-1])
    cstate = wait_mosaic(lab, 4, lambda s: int(s["frames"]) == 5 and s["epoch"] == "4", 30, "conv mosaic")
    assert cstate["tiles"] == "8"
    w = np.asarray(conv["w"]).reshape(8, 9)
    picks = [[t, p, 3, 3] for t in range(8) for p in range(9)]
    check_colours(tile_pixels(lab, 4, picks), w.reshape(-1).tolist(), conv["scale"])
    lab.screenshot("mosaic-conv-filters", lab.page.locator("div.nnviz-mosaic").last)
