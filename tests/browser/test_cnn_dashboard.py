"""A CNN's dashboard in a real JupyterLab + Chromium: a residual CNN with BatchNorm trained on colour images (N, 3, 8,
8); the mosaic shows its first conv's filters in colour, each pixel the recorded weight; the penultimate layer's
embedding moves over epochs as the player scrubs. Screenshots: artifacts/screenshots/cnn-*.png (gitignored)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.browser

EPOCHS = 4

SETUP = f"""\
import json
import numpy as np
import torch
from torch import nn
import nnviz_widgets as nnv

torch.set_num_threads(1)
torch.manual_seed(0)

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))

cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), Block(8), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 3))
rng = np.random.default_rng(0)
y = rng.integers(0, 3, 900)
X = rng.normal(0, 0.5, size=(900, 3, 8, 8)).astype(np.float32)
X[np.arange(900), y] += 1.0            # the class is the brightest colour channel
rec = nnv.fit(cnn, X, y, epochs={EPOCHS}, batch_size=64, lr=1e-2, grid=32, activations="7", budget=None, show=False)
dash = nnv.Dashboard(rec, width=300, height=260)
w = rec.run[-1].weights["0"]
print(json.dumps({{"w": w.tolist(), "frames": len(rec.run), "sample": len(rec.run.sample)}}))
dash"""

MOSAIC = """async (i) => {
    const cell = window.jupyterapp.shell.currentWidget.content.widgets[i].node;
    const root = cell.querySelector('div.nnviz-mosaic');
    const scatter = cell.querySelector('div.nnviz-scatter');
    if (!root || !scatter) return null;
    root.scrollIntoView({block: 'center'});
    for (let k = 0; k < 3; k++) await new Promise((ok) => requestAnimationFrame(ok));
    return {mosaic: {...root.dataset}, scatter: {...scatter.dataset},
            player: cell.querySelector('.nnviz-player').dataset.epoch};
}"""

PIXELS = """([i, picks]) => {
    const root = window.jupyterapp.shell.currentWidget.content.widgets[i].node.querySelector('div.nnviz-mosaic');
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
}"""


def state(lab):
    return lab.page.evaluate(MOSAIC, 0)


def scrub(lab, epoch: int) -> None:
    lab.page.locator(".nnviz-player input.nnviz-scrub").first.evaluate(
        f"(s) => {{ s.value = '{epoch}'; s.dispatchEvent(new Event('input', {{bubbles: true}})); }}"
    )


def point(lab, i: int) -> list[float]:
    return lab.page.locator("div.nnviz-scatter").first.evaluate(f"(r) => r.nnvizScatter.screenOf({i})")


def test_cnn_dashboard_shows_rgb_filters_and_an_embedding_over_epochs(lab):
    lab.open_notebook("cnn-dashboard", [SETUP])
    lab.run_cell(0, timeout=240_000)
    info = json.loads(lab.cell_stdout(0).strip().splitlines()[-1])
    frames = info["frames"]
    assert frames == EPOCHS + 1
    s = lab.poll(
        lambda: state(lab),
        lambda s: s is not None and int(s["mosaic"]["frames"]) == frames and s["scatter"].get("frames") == str(frames),
        60,
        "the dashboard's mosaic and embedding hold every frame",
    )
    scrub(lab, frames - 1)
    s = lab.poll(
        lambda: state(lab),
        lambda s: s["mosaic"]["epoch"] == s["scatter"]["epoch"] == str(frames - 1),
        10,
        "the player moves both views to the last frame",
    )
    # the first conv reads RGB: one colour tile of 3x3 per filter
    assert s["mosaic"]["layer"] == "0" and s["mosaic"]["tiles"] == "8"
    assert s["scatter"]["points"] == str(info["sample"])

    # every pixel of every filter is its recorded weight: channel c = 127.5 + w_c * 255 / (2 * max|w|)
    w = np.asarray(info["w"])  # (8, 3, 3, 3)
    scale = float(s["mosaic"]["scaleMax"])
    assert abs(scale - np.abs(w).max()) / np.abs(w).max() < 1e-3
    picks = [[t, p, 3, 3] for t in range(8) for p in range(9)]
    got = np.asarray(lab.page.evaluate(PIXELS, [0, picks]), dtype=float)
    want = np.clip(np.round(127.5 + w.reshape(8, 3, 9).transpose(0, 2, 1).reshape(-1, 3) * 255 / (2 * scale)), 0, 255)
    assert np.abs(got - want).max() <= 3, np.abs(got - want).max()
    lab.screenshot("cnn-dashboard", lab.page.locator(".nnviz-dashboard").first)

    # the embedding of the penultimate layer moves over epochs: scrub the one player from the last frame to the first
    last = point(lab, 5)
    scrub(lab, 0)
    lab.poll(lambda: state(lab), lambda s: s["scatter"]["epoch"] == "0" and s["mosaic"]["epoch"] == "0", 10, "scrub")
    lab.page.wait_for_timeout(300)
    first = point(lab, 5)
    assert first != last, "the embedding moves between epochs"
    lab.screenshot("cnn-dashboard-epoch0", lab.page.locator(".nnviz-dashboard").first)
    lab.assert_no_page_errors()
