"""The traits-only transport (what Colab gets) in a real JupyterLab + Chromium, with custom messages switched off:
live frames while the training cell runs, the history after it, true pixels, playback, and a page reload.

The view is made with ``transport="state"`` and its ``send`` replaced by one that raises, so not one custom
message can carry a frame: everything the page shows came through synced traits. Screenshots go to
artifacts/screenshots/transport-state-*.png (gitignored).
"""

from __future__ import annotations

import time

import pytest

from tests.browser.test_boundary_live import (
    ALPHA_RANGE,
    ALPHA_SLACK,
    SAMPLES,
    canvas_pixels,
    classify_fill,
    next_paint,
    stdout_json,
    view_state,
    wait_state,
)

pytestmark = pytest.mark.browser

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
rec = nnv.Recorder(model, X, y, grid=60)
view = nnv.DecisionBoundary(rec, show_points=False, transport="state")
custom_messages = []
def refuse(content, buffers=None):   # the custom-message path, switched off
    custom_messages.append(content)
    raise RuntimeError("custom messages are off in this test")
view.send = refuse
view"""

TRAIN = f"""\
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
for epoch in range({EPOCHS}):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.capture(loss=float(loss))
    time.sleep(0.08)
print(json.dumps({{"custom_messages": len(custom_messages)}}))"""

CHECK = """\
print(json.dumps({"custom_messages": len(custom_messages), "transport": view.transport, "sender": view._sender is None,
                  "history": [f["index"] for f in view._history["frames"]]}))"""


@pytest.fixture(scope="module")
def state_lab(new_lab):
    lab = new_lab()
    lab.open_notebook("transport_state", [SETUP, TRAIN, SAMPLES, CHECK])
    lab.run_cell(0, timeout=60_000)
    wait_state(lab, 0, lambda s: True, 30, "the view renders")
    seen = []
    lab.start_cell(1)
    t0 = time.monotonic()
    while lab.cell_running(1) and time.monotonic() - t0 < 90:
        state = view_state(lab, 0) or {}
        seen.append((int(state.get("frames", 0)), lab.cell_running(1), lab.kernel_status()))
        time.sleep(0.05)
    lab.wait_cell(1, timeout=90_000)
    assert stdout_json(lab, 1)["custom_messages"] == 0
    lab.run_cell(2, timeout=60_000)
    info = stdout_json(lab, 2)
    lab.run_cell(3, timeout=30_000)
    check = stdout_json(lab, 3)
    yield lab, seen, info, check
    lab.assert_no_page_errors()


def test_live_frames_arrive_through_traits_alone(state_lab):
    lab, seen, _info, check = state_lab
    assert check["transport"] == "state" and check["sender"] is True
    assert check["custom_messages"] == 0, "a frame went out as a custom message"
    live = [frames for frames, running, status in seen if running and status == "busy"]
    assert live and max(live) > 1, f"no frames arrived while the training cell ran: {seen}"
    assert len(set(live)) > 2, f"the view did not move while training: {seen}"
    lab.screenshot("transport-state-1-after-training", lab.page.locator("div.nnviz-boundary").first)


def test_history_pixels_and_playback(state_lab):
    lab, _seen, info, check = state_lab
    # 30 frames of 60x60x2 + 300 predictions fit the default 2 MB: the whole history is in state
    assert check["history"] == list(range(EPOCHS))
    state = wait_state(lab, 0, lambda s: s.get("frames") == str(EPOCHS), 20, f"data-frames == {EPOCHS}")
    assert state["total"] == str(EPOCHS) and state["epoch"] == str(EPOCHS - 1), state
    next_paint(lab)
    samples = info["samples"]
    px = canvas_pixels(lab, 0, [s[:2] for s in samples], info["extent"])
    lo, hi = ALPHA_RANGE
    good = sum(
        1
        for (_x, _y, want, _p), rgb in zip(samples, px["rgb"], strict=True)
        if (fit := classify_fill(rgb))[0] == want and lo - ALPHA_SLACK <= fit[1] <= hi + ALPHA_SLACK
    )
    assert len(samples) >= 40 and good >= 0.95 * len(samples), f"{good}/{len(samples)} pixels show the model"

    root = lab.page.locator("div.nnviz-boundary").first
    lab.page.evaluate(
        """() => { const s = window.jupyterapp.shell.currentWidget.content.widgets[0].node
                        .querySelector('input.nnviz-scrub');
                   s.value = '0'; s.dispatchEvent(new Event('input', {bubbles: true})); }"""
    )
    wait_state(lab, 0, lambda s: s.get("epoch") == "0", 5, "the slider moved the view to frame 0")
    root.locator("button.nnviz-play").click(timeout=5_000)
    playing = wait_state(lab, 0, lambda s: int(s.get("epoch", 0)) >= 3, 10, "play advances through the history")
    root.locator("button.nnviz-play").click(timeout=5_000)
    assert playing["frames"] == str(EPOCHS), playing
    lab.screenshot("transport-state-2-after-play", root)


def test_reload_gets_the_history_from_state(state_lab):
    lab = state_lab[0]
    lab.save()
    lab.reload(n_cells=4)
    state = wait_state(
        lab, 0, lambda s: s.get("frames") == str(EPOCHS), 30, "after a reload the view holds every frame"
    )
    assert state["total"] == str(EPOCHS), state
    lab.run_cell(3, timeout=30_000)
    assert stdout_json(lab, 3)["custom_messages"] == 0
