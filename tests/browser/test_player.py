"""One Player drives two boundary views together, in the browser (jslink on epoch, no kernel round trip)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

SETUP = """\
import torch, ipywidgets as widgets
from torch import nn
import nnviz_widgets as nnv

torch.manual_seed(0)
X, y = nnv.datasets.moons(300, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.Recorder(model, X, y, grid=60)
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
for epoch in range(30):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad(); loss.backward(); opt.step()
    rec.capture(loss=loss.item())
a = nnv.DecisionBoundary(rec, width=300, height=260)
b = nnv.DecisionBoundary(rec, width=300, height=260, show_points=False)
player = nnv.Player(rec, a, b)
widgets.VBox([player, widgets.HBox([a, b])])"""

STATE = """async () => {
    const out = document.querySelector('.jp-OutputArea-output .nnviz-player');
    if (!out) return null;
    out.scrollIntoView({block: 'start'});
    for (let k = 0; k < 3; k++) await new Promise((ok) => requestAnimationFrame(ok));
    const views = [...document.querySelectorAll('div.nnviz-boundary')].map((v) => v.dataset.epoch);
    const controls = [...document.querySelectorAll('div.nnviz-boundary .nnviz-play')]
        .map((b) => b.closest('[style]') ? getComputedStyle(b).display !== 'none' && b.offsetParent !== null : true);
    return {player: out.dataset.epoch, frames: out.dataset.frames, views, controlsVisible: controls};
}"""


def wait_for(lab, predicate, timeout, what):
    return lab.poll(lambda: lab.page.evaluate(STATE), predicate, timeout, what)


def test_player_moves_every_view_together(lab):
    lab.open_notebook("player", [SETUP])
    lab.run_cell(0, timeout=90_000)
    state = wait_for(lab, lambda s: s["frames"] == "30" and len(s["views"]) == 2, 30, "player and two views ready")
    assert not any(state["controlsVisible"]), f"driven views should hide their own controls: {state}"

    scrub = lab.page.locator(".nnviz-player input.nnviz-scrub")
    scrub.evaluate("(s) => { s.value = '5'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    wait_for(lab, lambda s: s["player"] == "5" and s["views"] == ["5", "5"], 10, "scrubbing the player moves both")

    lab.page.locator(".nnviz-player button.nnviz-play").click(timeout=5_000)
    time.sleep(1.0)
    lab.page.locator(".nnviz-player button.nnviz-play").click(timeout=5_000)
    paused = wait_for(lab, lambda s: s["views"][0] == s["views"][1] == s["player"], 5, "views agree after pause")
    assert int(paused["player"]) > 5, f"play did not advance: {paused}"
    time.sleep(0.5)
    assert lab.page.evaluate(STATE)["player"] == paused["player"], "the player moved after pause"
    lab.screenshot("player-two-views", lab.page.locator(".jp-OutputArea-output").first)
    lab.assert_no_page_errors()
