"""The dashboard in a real JupyterLab: one play click moves every view together, a click on the loss curve moves
the player, and the stop button ends background training."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

SETUP = """\
import torch
from torch import nn
import nnviz_widgets as nnv

torch.set_num_threads(1)
torch.manual_seed(0)
X, y = nnv.datasets.moons(300, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.fit(model, X, y, epochs=30, val=0.2, grid=60, show=False)
dash = nnv.Dashboard(rec, width=300, height=260)
dash"""

BACKGROUND = """\
torch.manual_seed(1)
model2 = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec2 = nnv.fit(model2, X, y, epochs=100_000, grid=30, background=True, views=["curves"])"""

CHECK = """\
print("joined", rec2.training.join(30), rec2.training.state, rec2.training.epoch, len(rec2.run))"""

STATE = """async (i) => {
    const cell = window.jupyterapp.shell.currentWidget.content.widgets[i].node;
    const player = cell.querySelector('.nnviz-player');
    if (!player) return null;
    for (let k = 0; k < 2; k++) await new Promise((ok) => requestAnimationFrame(ok));
    const epoch = (sel) => { const n = cell.querySelector(sel); return n ? n.dataset.epoch : null; };
    const cursor = cell.querySelector('.nnviz-figure-loss');
    return {player: player.dataset.epoch, frames: player.dataset.frames,
            boundary: epoch('div.nnviz-boundary'), mosaic: epoch('div.nnviz-mosaic'),
            curves: epoch('.nnviz-curves-cursor'),
            figures: cell.querySelectorAll('.bqplot').length, stop: cell.querySelector('.nnviz-stop') !== null,
            status: (cell.querySelector('.nnviz-status') || {}).textContent, hasLoss: cursor !== null};
}"""


CURSOR_AT = """(dot) => {
    const fig = dot.closest('.nnviz-figure-loss');
    const dashed = [...fig.querySelectorAll('path')].filter((p) => {
        const dash = getComputedStyle(p).strokeDasharray;
        return dash && dash !== 'none' && p.getBoundingClientRect().height > 10;
    });
    if (dashed.length === 0) return null;
    const c = dashed[0].getBoundingClientRect(), d = dot.getBoundingClientRect();
    return {cursor: c.x + c.width / 2, dot: d.x + d.width / 2, dashed: dashed.length};
}"""


def wait_for(lab, cell, predicate, timeout, what):
    return lab.poll(lambda: lab.page.evaluate(STATE, cell), predicate, timeout, what)


def together(s):
    return s["player"] == s["boundary"] == s["mosaic"] == s["curves"]


def test_dashboard_one_player_curves_and_stop(lab):
    # views draw (and update their data-epoch) only while on screen (lib/dom.js drawOncePerFrame): a window tall
    # enough for the whole dashboard keeps the player and the views visible while a curve dot is clicked
    lab.page.set_viewport_size({"width": 1280, "height": 2400})
    lab.open_notebook("dashboard", [SETUP, BACKGROUND, CHECK])
    lab.run_cell(0, timeout=120_000)
    wait_for(lab, 0, lambda s: s["frames"] == "31" and s["hasLoss"] and s["figures"] >= 2, 40, "dashboard ready")
    cell0 = lab.page.locator(".jp-Cell").nth(0)

    cell0.locator(".nnviz-player input.nnviz-scrub").evaluate(
        "(s) => { s.value = '2'; s.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    start = wait_for(lab, 0, lambda s: s["player"] == "2" and together(s), 10, "scrub to frame 2 moves every view")

    play = cell0.locator(".nnviz-player button.nnviz-play")
    play.click(timeout=5_000)
    time.sleep(1.2)
    play.click(timeout=5_000)
    paused = wait_for(lab, 0, together, 5, "every view on the player's frame after one play click")
    assert int(paused["player"]) > int(start["player"]), f"play did not advance: {start} -> {paused}"
    lab.screenshot("dashboard-after-play", cell0)

    # the loss figure holds val_loss (first seen: frame 0 has it, 31 dots) then the training loss (frames 1-30);
    # click the training-loss dot of frame 20
    dots = cell0.locator(".nnviz-figure-loss .dot")
    assert dots.count() == 61, f"expected 31 val_loss + 30 loss dots on the loss figure, found {dots.count()}"
    shown = dots.nth(31 + int(paused["player"]) - 1).evaluate(CURSOR_AT)  # training-loss dot of the paused frame
    assert shown and abs(shown["cursor"] - shown["dot"]) < 1.5, f"the dashed cursor is not on the shown frame: {shown}"
    dots.nth(31 + 19).click(timeout=5_000, force=True)
    clicked = wait_for(
        lab, 0, lambda s: s["player"] == "20" and together(s), 15, "a click on the loss curve moves the player"
    )
    lab.screenshot("dashboard-curve-click", cell0)
    assert clicked["curves"] == "20"
    # the dashed cursor line itself (moved by js/src/lib/curves.js, in the browser) stands on the clicked dot
    where = lab.poll(
        lambda: dots.nth(31 + 19).evaluate(CURSOR_AT), lambda d: d and abs(d["cursor"] - d["dot"]) < 1.5, 10,
        "the dashed cursor on the loss figure moves to the clicked frame",
    )  # fmt: skip
    assert where["dashed"] == 1, where

    lab.start_cell(1)
    lab.wait_cell(1, timeout=60_000)
    wait_for(
        lab, 1, lambda s: s["stop"] and "running" in (s["status"] or ""), 30, "background training shows a stop button"
    )
    time.sleep(1.0)
    lab.page.locator(".jp-Cell").nth(1).locator(".nnviz-stop").click(timeout=5_000)
    lab.run_cell(2, timeout=60_000)
    out = lab.cell_stdout(2)
    assert "joined True stopped" in out, out
    wait_for(lab, 1, lambda s: "stopped" in (s["status"] or ""), 10, "the dashboard says stopped")
    lab.screenshot("dashboard-stopped", lab.page.locator(".jp-Cell").nth(1))
    lab.assert_no_page_errors()
