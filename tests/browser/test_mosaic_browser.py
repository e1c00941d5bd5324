"""WeightMosaic in a real JupyterLab + Chromium: trained live on digits, tile pixels true to the recorded weights,
scrubbing changes the tiles, a Player drives it, a conv model shows its filters, and ``nnv.Compare(...,
view="mosaic")`` shows each run's own weights.

Screenshots go to artifacts/screenshots/mosaic-*.png (gitignored).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from nnviz_widgets.export.video import diverging_rgb

pytestmark = pytest.mark.browser

EPOCHS = 12
_rng = np.random.default_rng(7)
LIVE_PICKS = [[int(t), int(p)] for t, p in zip(_rng.integers(0, 100, 200), _rng.integers(0, 64, 200), strict=True)]

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
SAMPLES = (
    f"LIVE_PICKS = {LIVE_PICKS}\n"
    + """\
def samples(i, layer="1", n=300):
    w = rec.run[i].weights[layer]
    scale = max(float(np.nanmax(np.abs(f.weights[layer]))) for f in rec.run)
    rng = np.random.default_rng(i)
    t, p = rng.integers(0, w.shape[0], n), rng.integers(0, w.shape[1], n)
    return {"scale": scale, "samples": [[int(a), int(b), float(w[a, b])] for a, b in zip(t, p)]}
live = {str(f.epoch): [float(f.weights["1"][t, p]) for t, p in LIVE_PICKS] for f in rec.run}
print(json.dumps({"last": samples(len(rec.run) - 1), "first": samples(0), "total": len(rec.run), "live": live}))"""
)

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
    return lab.poll(lambda: mosaic_state(lab, cell), predicate, timeout, what)


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


# A mosaic root's dataset and the RGB at the centre of weight p (row-major in an 8x8 tile) of tile t, read in the
# same task, so both are of the same paint.
TILE_RGB = """(root, picks) => {
    const canvas = root.querySelector('canvas.nnviz-plot'), d = root.dataset, ctx = canvas.getContext('2d');
    const cols = Number(d.cols), tw = Number(d.tilePx), th = Number(d.tileHeight), gap = Number(d.gap);
    const rx = canvas.width / canvas.clientWidth;
    const rgb = picks.map(([t, p]) => {
        const x = (t % cols) * (tw + gap) + ((p % 8) + 0.5) * tw / 8;
        const y = Math.floor(t / cols) * (th + gap) + (Math.floor(p / 8) + 0.5) * th / 8;
        return Array.from(ctx.getImageData(Math.floor(x * rx), Math.floor(y * rx), 1, 1).data).slice(0, 3);
    });
    return {...d, rgb};
}"""


def live_tiles(lab, cell: int, picks: list[list[int]]) -> dict | None:
    """:data:`TILE_RGB` of cell ``cell``'s mosaic, or None before it has drawn."""
    return lab.page.evaluate(
        f"""([i, picks]) => {{
            const cell = window.jupyterapp.shell.currentWidget.content.widgets[i].node;
            const root = cell.querySelector('div.nnviz-mosaic');
            return root && root.dataset.frames ? ({TILE_RGB})(root, picks) : null;
        }}""",
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
    # frames arrive while the training cell still runs, and the tiles drawn then are that frame's weights
    live = []
    t0 = time.monotonic()
    while lab.cell_running(1) and time.monotonic() - t0 < 60:
        shown = live_tiles(lab, 0, LIVE_PICKS)
        if shown and int(shown["frames"]) >= 2 and lab.cell_running(1):
            live.append(shown)
        time.sleep(0.05)
    lab.wait_cell(1, 90_000)
    assert live, "no frame was drawn while the training cell ran"
    state = wait_mosaic(lab, 0, lambda s: int(s["frames"]) == EPOCHS and int(s["epoch"]) == EPOCHS - 1, 30, "all")
    assert state["tiles"] == "100" and state["cols"] == "10" and state["layer"] == "1"
    lab.run_cell(2)
    info = json.loads(lab.cell_stdout(2).strip().splitlines()[-1])
    for shown in live[-3:]:  # the last few live paints: by then the layer's scale has settled less than at first
        want = diverging_rgb(np.asarray(info["live"][shown["drawnEpochNumber"]]), float(shown["scaleMax"]))
        close = np.abs(np.asarray(shown["rgb"], dtype=float) - want).max(axis=1) <= 3
        assert close.mean() >= 0.98, f"live, epoch {shown['drawnEpochNumber']}: tiles are not its weights"
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


WIDE = """\
torch.manual_seed(0)
wide = nn.Sequential(nn.Flatten(), nn.Linear(64, 4096), nn.ReLU(), nn.Linear(4096, 10))
wrec = nnv.Recorder(wide, X[:300], y[:300], grid=10, layers="1")
wopt = torch.optim.Adam(wide.parameters(), 1e-2)
for _ in range(4):
    loss = nn.functional.cross_entropy(wide(Xt[:300]), yt[:300]); wopt.zero_grad(); loss.backward(); wopt.step()
    wrec.capture(loss=float(loss))
wview = nnv.WeightMosaic(wrec, layer="1", width=480, follow=False, epoch=3)
w = wrec.run[3].weights["1"]
print(json.dumps({"scale": max(float(np.abs(f.weights["1"]).max()) for f in wrec.run),
                  "p0": w[:256].tolist(), "p1": w[256:512].tolist()}))
wview"""

MOONS = """\
torch.manual_seed(0)
Xm, ym = nnv.datasets.moons(300, noise=0.2, seed=0)
class Functional(nn.Module):  # fc1's activation is a function call: its maps are pre-activation
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.act, self.out = nn.Linear(2, 8), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2)
    def forward(self, x):
        return self.out(self.act(self.fc2(torch.relu(self.fc1(x)))))
mnet = Functional()
mrec = nnv.Recorder(mnet, Xm, ym, grid=100)
mopt = torch.optim.Adam(mnet.parameters(), 3e-2)
Xmt, ymt = torch.as_tensor(Xm), torch.as_tensor(ym)
for _ in range(8):
    loss = nn.functional.cross_entropy(mnet(Xmt), ymt); mopt.zero_grad(); loss.backward(); mopt.step()
    mrec.capture(loss=float(loss))
oview = nnv.WeightMosaic(mrec, layer="fc2", show="outputs", tile_size=96)
pview = nnv.WeightMosaic(mrec, layer="fc1", show="outputs", tile_size=96)
print(json.dumps({k: mrec.run[-1].outputs[k].tolist() for k in ("fc1", "fc2")}))
display(oview, pview)"""

RGB = """\
torch.manual_seed(2)
X3 = np.concatenate([X, X[:, ::-1], 16 - X], axis=1).astype(np.float32)  # 3 "colour" planes of 8x8
rgbnet = nn.Sequential(nn.Unflatten(1, (3, 8, 8)), nn.Conv2d(3, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 36, 10))
rrec = nnv.Recorder(rgbnet, X3, y, grid=10)
ropt = torch.optim.Adam(rgbnet.parameters(), 1e-2)
X3t = torch.as_tensor(X3)
for _ in range(3):
    loss = nn.functional.cross_entropy(rgbnet(X3t), yt); ropt.zero_grad(); loss.backward(); ropt.step()
    rrec.capture(loss=float(loss))
rview = nnv.WeightMosaic(rrec, layer="1", tile_size=60)
print(json.dumps({"w": rrec.run[-1].weights["1"].tolist(),
                  "scale": max(float(np.abs(f.weights["1"]).max()) for f in rrec.run)}))
rview"""


# two runs of different widths side by side; the notebook's SETUP cell has imported torch, nn, np and nnv
COMPARE = """\
recs = []
for seed, width in ((0, 16), (1, 9)):
    torch.manual_seed(seed)
    cmodel = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
    crec2 = nnv.Recorder(cmodel, X[:400], y[:400], grid=10)
    cmp_opt = torch.optim.Adam(cmodel.parameters(), 1e-2)
    for _ in range(4):
        loss = nn.functional.cross_entropy(cmodel(Xt[:400]), yt[:400])
        cmp_opt.zero_grad(); loss.backward(); cmp_opt.step()
        crec2.capture(loss=loss.item())
    recs.append(crec2)
cmp = nnv.Compare(*recs, view="mosaic", names=["16 wide", "9 wide"], width=300)
cmp"""

COMPARE_WEIGHTS = """\
print(json.dumps([{"weights": [f.weights["0"].tolist() for f in r.run],
                   "scale": max(float(np.abs(f.weights["0"]).max()) for f in r.run)} for r in recs]))"""

# :data:`TILE_RGB` of every mosaic of cell i
COMPARE_TILES = f"""([i, picks]) => [
    ...window.jupyterapp.shell.currentWidget.content.widgets[i].node.querySelectorAll('div.nnviz-mosaic')
].map((root) => ({TILE_RGB})(root, picks))"""


def wait_nth_mosaic(lab, cell: int, k: int, predicate, timeout: float, what: str) -> dict:
    """The dataset of the k-th mosaic of a cell (scrolled into view: an off-screen view does not draw)."""
    script = """async ([i, k]) => {
        const r = window.jupyterapp.shell.currentWidget.content.widgets[i].node
            .querySelectorAll('div.nnviz-mosaic')[k];
        if (!r) return null;
        r.scrollIntoView({block: 'center'});
        for (let n = 0; n < 3; n++) await new Promise((ok) => requestAnimationFrame(ok));
        return {...r.dataset};
    }"""
    return lab.poll(lambda: lab.page.evaluate(script, [cell, k]), predicate, timeout, what)


def test_mosaic_paging_tile_size_outputs_and_colour_filters(lab):
    lab.open_notebook(
        "mosaic-more",
        [
            SETUP.replace("view\n", "").rsplit("\n", 1)[0],
            TRAIN.replace(f"range({EPOCHS})", "range(1)"),
            WIDE,
            "print(wview.tile_size)",
            MOONS,
            RGB,
            COMPARE,
            COMPARE_WEIGHTS,
        ],
    )
    lab.run_cell(0)
    lab.run_cell(1, 60_000)

    # -- a 4096-neuron layer: 16 pages of 256 tiles; only the page on screen travels --------------------------
    lab.run_cell(2, 120_000)
    wide = json.loads(lab.cell_stdout(2).strip().splitlines()[-1])
    s = wait_mosaic(lab, 2, lambda s: int(s["frames"]) == 4 and s["array"] == "weights/1[0:256]", 60, "wide page 0")
    assert (s["tiles"], s["pages"], s["count"], s["page"]) == ("4096", "16", "256", "0")
    assert float(s["drawMs"]) > 0
    rng = np.random.default_rng(0)
    picks = [[int(t), int(p), 8, 8] for t, p in zip(rng.integers(0, 256, 300), rng.integers(0, 64, 300), strict=True)]
    first_page = tile_pixels(lab, 2, picks)
    check_colours(first_page, [wide["p0"][t][p] for t, p, *_ in picks], wide["scale"])
    lab.screenshot("mosaic-4096-page1", lab.page.locator("div.nnviz-mosaic").nth(0))

    root = "window.jupyterapp.shell.currentWidget.content.widgets[2].node"
    lab.page.evaluate(f"() => {root}.querySelector('button.nnviz-page-next').click()")
    s = wait_mosaic(lab, 2, lambda s: s["page"] == "1" and s["array"] == "weights/1[256:512]", 60, "next page")
    assert (s["first"], s["count"]) == ("256", "256") and float(s["drawMs"]) > 0
    picks1 = [[t + 256, p, h, w_] for t, p, h, w_ in picks]
    second_page = tile_pixels(lab, 2, picks1)
    assert second_page != first_page
    check_colours(second_page, [wide["p1"][t - 256][p] for t, p, *_ in picks1], wide["scale"])
    lab.screenshot("mosaic-4096-page2", lab.page.locator("div.nnviz-mosaic").nth(0))
    lab.page.evaluate(f"() => {root}.querySelector('button.nnviz-page-prev').click()")
    wait_mosaic(lab, 2, lambda s: s["page"] == "0" and s["array"] == "weights/1[0:256]", 60, "previous page")
    assert tile_pixels(lab, 2, picks) == first_page

    # -- the tile-size picker drives the synced trait -----------------------------------------------------------
    lab.page.evaluate(f"""() => {{ const s = {root}.querySelector('select.nnviz-tile-size');
                                   s.value = '16'; s.dispatchEvent(new Event('change')); }}""")
    s = wait_mosaic(lab, 2, lambda s: s["tileSize"] == "16" and s["tilePx"] == "16", 10, "tile size 16")
    lab.run_cell(3)
    assert lab.cell_stdout(3).strip().splitlines()[-1] == "16"
    check_colours(tile_pixels(lab, 2, picks), [wide["p0"][t][p] for t, p, *_ in picks], wide["scale"])

    # -- neuron output maps on 2-D moons: pixels follow the sign of the recorded outputs ------------------------
    lab.run_cell(4, 120_000)
    outs = json.loads(lab.cell_stdout(4).strip().splitlines()[-1])
    for k, layer, stage in [(0, "fc2", "after Tanh"), (1, "fc1", "pre-activation")]:
        state = wait_nth_mosaic(lab, 4, k, lambda s: s["frames"] == "8" and s["array"] != "", 30, layer)
        assert state["layer"] == layer and state["stage"] == stage and state["tiles"] == "8"
        maps = np.asarray(outs[layer])  # (8, 50, 50), row 0 at the bottom
        n, h, w = maps.shape
        t, r, c = rng.integers(0, n, 400), rng.integers(0, h, 400), rng.integers(0, w, 400)
        rgb = np.asarray(
            lab.page.evaluate(
                """([k, picks]) => {
                    const root = window.jupyterapp.shell.currentWidget.content.widgets[4].node
                        .querySelectorAll('div.nnviz-mosaic')[k];
                    const canvas = root.querySelector('canvas.nnviz-plot'), d = root.dataset;
                    const cols = Number(d.cols), tw = Number(d.tilePx), th = Number(d.tileHeight), gap = Number(d.gap);
                    const ctx = canvas.getContext('2d');
                    return picks.map(([t, row, col, h, w]) => {
                        const x = (t % cols) * (tw + gap) + (col + 0.5) * tw / w;
                        const y = Math.floor(t / cols) * (th + gap) + (row + 0.5) * th / h;
                        return Array.from(ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data).slice(0, 3);
                    });
                }""",
                [k, [[int(a), int(h - 1 - b), int(cc), h, w] for a, b, cc in zip(t, r, c, strict=True)]],
            ),
            dtype=float,
        )
        v = maps[t, r, c]
        strong = np.abs(v) > 0.15 * np.abs(maps).max()
        assert strong.sum() >= 20 and (v[strong] < 0).any() and (v[strong] > 0).any()
        assert (np.sign(rgb[strong, 0] - rgb[strong, 2]) == np.sign(v[strong])).all()
        lab.screenshot(f"mosaic-moons-outputs-{layer}", lab.page.locator("div.nnviz-mosaic").nth(1 + k))

    # -- a 3-channel conv model: one colour tile per filter, each channel true to its weights -------------------
    lab.run_cell(5, 120_000)
    rgbinfo = json.loads(lab.cell_stdout(5).strip().splitlines()[-1])
    s = wait_mosaic(lab, 5, lambda s: s["frames"] == "3" and s["array"] == "weights/1", 30, "rgb conv")
    assert s["tiles"] == "6" and s["cols"] == "3"
    wts = np.asarray(rgbinfo["w"])  # (6, 3, 3, 3)
    picks = [[f, p, 3, 3] for f in range(6) for p in range(9)]
    rgb = np.asarray(tile_pixels(lab, 5, picks), dtype=float)
    expected = 255 * (0.5 + wts.reshape(6, 3, 9).transpose(0, 2, 1).reshape(-1, 3) / (2 * rgbinfo["scale"]))
    assert np.abs(rgb - expected).max() <= 1.5  # red, green, blue each from black (-max) to full (+max)
    assert rgb.std(axis=1).mean() > 10  # in colour, not grey
    lab.screenshot("mosaic-conv-rgb", lab.page.locator("div.nnviz-mosaic").last)

    # -- nnv.Compare(view="mosaic"): each run's tiles from its own weights ------------------------------------------
    check_compare_mosaic(lab, 6)


def check_compare_mosaic(lab, cell: int) -> None:
    """Cell ``cell`` shows ``nnv.Compare(..., view="mosaic")`` of two runs, cell ``cell + 1`` prints their weights:
    each run's tiles are its own weights (not the other run's), at the last frame and after the shared player is
    moved in the browser (the views follow it through jslink, no kernel round trip)."""
    lab.run_cell(cell, timeout=120_000)
    lab.run_cell(cell + 1)
    runs = json.loads(lab.cell_stdout(cell + 1).strip().splitlines()[-1])
    rng = np.random.default_rng(0)
    picks = [[int(t), int(p)] for t, p in zip(rng.integers(0, 9, 200), rng.integers(0, 64, 200), strict=True)]
    t, p = np.array(picks).T

    def shown(frame: int) -> list[dict]:
        return lab.poll(
            lambda: lab.page.evaluate(COMPARE_TILES, [cell, picks]),
            lambda views: len(views) == 2 and all(v["frames"] == "4" and v["epoch"] == str(frame) for v in views),
            30,
            f"both mosaics on frame {frame}",
        )

    for frame in (3, 1):
        if frame != 3:  # the shared player, moved in the browser
            lab.page.locator(".nnviz-compare .nnviz-player input.nnviz-scrub").first.evaluate(
                "(s, v) => { s.value = String(v); s.dispatchEvent(new Event('input', {bubbles: true})); }", frame
            )
        views = shown(frame)
        lab.screenshot(f"compare-mosaic-frame-{frame}", lab.page.locator(".nnviz-compare").first)
        for k, (view, run) in enumerate(zip(views, runs, strict=True)):
            assert view["tiles"] == str(len(run["weights"][0])), view
            assert float(view["scaleMax"]) == pytest.approx(run["scale"], rel=1e-3), "each run on its own scale"
            got = np.asarray(view["rgb"], dtype=float)
            own = diverging_rgb(np.asarray(run["weights"][frame])[t, p], run["scale"])
            assert np.abs(got - own).max() <= 3, f"frame {frame}, run {k}: the tiles are this run's weights"
            other = runs[1 - k]
            theirs = diverging_rgb(np.asarray(other["weights"][frame])[t, p], other["scale"])
            assert np.abs(got - theirs).max(axis=1).mean() > 20, f"frame {frame}, run {k}: not the other run's"
