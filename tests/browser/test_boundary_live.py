"""DecisionBoundary in a real JupyterLab + Chromium: live frames, complete history, true pixels, playback,
a second view of the same widget and a page reload, and a burst of 1,000 captures.

Screenshots go to artifacts/screenshots/boundary-*.png (gitignored).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

pytestmark = pytest.mark.browser

EPOCHS = 40
CLASS_COLORS = {0: (0x1F, 0x77, 0xB4), 1: (0xFF, 0x7F, 0x0E)}  # tab10, what the view gets for classes 0, 1
ALPHA_RANGE = (0.15, 0.80)  # fill = white * (1 - alpha) + class colour * alpha
ALPHA_SLACK = 0.03  # rounding to 8 bits and image smoothing

SETUP = """\
import json, time
import numpy as np
import torch
from torch import nn
import nnviz_widgets as nnv

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = nnv.datasets.moons(500, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.Recorder(model, X, y)
view = nnv.DecisionBoundary(rec, show_points=False)
view"""

TRAIN = f"""\
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
t0 = time.perf_counter()
for epoch in range({EPOCHS}):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.capture(loss=float(loss))
    time.sleep(0.05)
print(json.dumps({{"train_s": time.perf_counter() - t0}}))"""

SAMPLES = """\
sent = view.wait_sent(30)
b = rec.run[-1].boundary                      # (H, W, K): row i at ys[i], column j at xs[j]
xs, ys = rec.run.grid.xs, rec.run.grid.ys
p, cls = b.max(axis=-1), b.argmax(axis=-1)
H, W = p.shape
ii, jj = np.nonzero(p > 0.8)
inner = (ii >= 3) & (ii < H - 3) & (jj >= 3) & (jj < W - 3)  # off the plot's frame
ii, jj = ii[inner], jj[inner]
pick = np.random.default_rng(0).choice(len(ii), size=min(150, len(ii)), replace=False)
samples = [[float(xs[j]), float(ys[i]), int(cls[i, j]), float(p[i, j])] for i, j in zip(ii[pick], jj[pick])]
print(json.dumps({"sent": sent, "extent": rec.run.grid.extent, "total": len(rec.run),
                  "last_epoch": rec.run[-1].epoch, "metrics": rec.run[-1].metrics, "samples": samples}))"""

REDISPLAY = "view"

BURST_SETUP = """\
import json, time
import torch
from torch import nn
import nnviz_widgets as nnv

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = nnv.datasets.moons(500, noise=0.2, seed=0)
Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)

def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))

def train(rec, n=1000):
    opt = torch.optim.Adam(rec.model.parameters(), 1e-2)
    t0 = time.perf_counter()
    for _ in range(n):
        loss = nn.functional.cross_entropy(rec.model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=float(loss))
    return time.perf_counter() - t0

rec = nnv.Recorder(mlp(), X, y, grid=50)
view = nnv.DecisionBoundary(rec, show_points=False)
view"""

BURST = """\
baseline_s = train(nnv.Recorder(mlp(), X, y, grid=50))   # the same loop with no view attached
wall_s = train(rec)
print(json.dumps({"wall_s": wall_s, "baseline_no_view_s": baseline_s, "frames": len(rec.run)}))"""


# -- page probes ---------------------------------------------------------------------------------------------
def view_state(lab, cell: int) -> dict | None:
    """The ``data-*`` of the boundary view in cell ``cell``'s output, plus its title and frame label.

    The view draws (and updates its ``data-*``) only while on screen, as a person would see it: scroll it into
    view and let two animation frames pass before reading."""
    return lab.page.evaluate(
        """async (i) => {
            const c = window.jupyterapp.shell.currentWidget.content.widgets[i];
            const root = c && c.node.querySelector('div.nnviz-boundary');
            if (!root) return null;
            const r = root.getBoundingClientRect();
            if (r.top < 0 || r.bottom > window.innerHeight) root.scrollIntoView({block: 'center'});
            for (let k = 0; k < 3; k++) await new Promise((ok) => requestAnimationFrame(ok));
            const q = (s) => { const n = root.querySelector(s); return n ? n.textContent : null; };
            const b = root.querySelector('button.nnviz-play');
            return {...root.dataset, title: q('.nnviz-title'), label: q('.nnviz-frame-label'),
                    legend: q('.nnviz-legend'), play: b ? (b.getAttribute('aria-label') || b.title) : null,
                    now: performance.now()};
        }""",
        cell,
    )


def wait_state(lab, cell: int, predicate, timeout: float, what: str) -> dict:
    """Poll ``view_state`` until ``predicate(state)``; fail with the last state seen."""
    return lab.poll(lambda: view_state(lab, cell), predicate, timeout, what)


def next_paint(lab) -> None:
    lab.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def canvas_pixels(lab, cell: int, points: list[list[float]], extent: list[float]) -> dict:
    """RGB of the canvas under each data point (x, y), through the plot box the view reports."""
    return lab.page.evaluate(
        """([i, points, extent]) => {
            const root = window.jupyterapp.shell.currentWidget.content.widgets[i].node
                .querySelector('div.nnviz-boundary');
            const canvas = root.querySelector('canvas.nnviz-plot');
            const d = root.dataset;
            const [left, top, width, height] = [d.plotLeft, d.plotTop, d.plotWidth, d.plotHeight].map(Number);
            const [xmin, xmax, ymin, ymax] = extent;
            const rx = canvas.width / canvas.clientWidth, ry = canvas.height / canvas.clientHeight;
            const ctx = canvas.getContext('2d');
            const rgb = points.map(([x, y]) => {
                const cx = left + ((x - xmin) / (xmax - xmin)) * width;
                const cy = top + ((ymax - y) / (ymax - ymin)) * height;
                const px = ctx.getImageData(Math.floor(cx * rx), Math.floor(cy * ry), 1, 1).data;
                return [px[0], px[1], px[2], px[3]];
            });
            return {rgb, ratio: [rx, ry], size: [canvas.width, canvas.height, canvas.clientWidth,
                    canvas.clientHeight], box: [left, top, width, height]};
        }""",
        [cell, points, extent],
    )


def classify_fill(rgb) -> tuple[int, float, float]:
    """(class, alpha, residual) of the class colour whose white blend fits ``rgb`` best (least squares)."""
    r = np.asarray(rgb[:3], dtype=float) - 255.0
    best = None
    for k, colour in CLASS_COLORS.items():
        d = np.asarray(colour, dtype=float) - 255.0
        alpha = float(r @ d / (d @ d))
        residual = float(np.linalg.norm(r - alpha * d))
        if best is None or residual < best[2]:
            best = (k, alpha, residual)
    return best


def stdout_json(lab, cell: int) -> dict:
    text = lab.cell_stdout(cell).strip().splitlines()
    assert text, f"cell {cell} printed nothing; outputs: {lab.cell_outputs(cell)}"
    return json.loads(text[-1])


# -- the trained notebook, shared by the tests below ---------------------------------------------------------
@dataclass
class Trained:
    lab: object
    seen_while_running: list = field(default_factory=list)  # (t, frames, prompt, kernel status) polls
    train_s: float = 0.0
    info: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def trained(new_lab):
    """Open the notebook, show the view, train while watching the page, then ask for sample points."""
    lab = new_lab()
    lab.open_notebook("boundary_live", [SETUP, TRAIN, SAMPLES, REDISPLAY])
    lab.run_cell(0, timeout=60_000)
    wait_state(lab, 0, lambda s: True, 20, "the view renders")
    out = Trained(lab)

    lab.start_cell(1)
    t0 = time.monotonic()
    shot = False
    while lab.cell_running(1) and time.monotonic() - t0 < 60:
        state = view_state(lab, 0) or {}
        frames = int(state.get("frames", 0))
        out.seen_while_running.append(
            (round(time.monotonic() - t0, 3), frames, lab.cell_prompt(1), lab.kernel_status(), lab.cell_running(1))
        )
        if not shot and frames >= 10 and lab.cell_running(1):
            lab.screenshot("boundary-1-during-training", lab.page.locator("div.nnviz-boundary").first)
            shot = True
        time.sleep(0.05)
    lab.wait_cell(1, timeout=60_000)
    out.train_s = stdout_json(lab, 1)["train_s"]

    lab.run_cell(2, timeout=60_000)
    out.info = stdout_json(lab, 2)
    yield out
    lab.assert_no_page_errors()


# -- tests --------------------------------------------------------------------------------------------------
def test_frames_arrive_while_the_training_cell_runs(trained):
    polls = trained.seen_while_running
    # a poll counts only if the cell was still running both by the run-cell promise and by the kernel / prompt
    live = [p for p in polls if p[4] and (p[2].strip() == "[*]:" or p[3] == "busy")]
    assert live, f"never saw the training cell running; polls: {polls[:5]}"
    most = max(frames for _, frames, *_ in live)
    print(
        f"training took {trained.train_s:.2f} s in the kernel; {len(polls)} polls; frames seen while running: "
        f"{[f for _, f, *_ in live]}"
    )
    assert most > 1, f"frames did not arrive while the cell ran (most seen {most}); polls: {polls}"
    trained.lab.assert_no_page_errors()


def test_complete_history_after_training(trained):
    lab, info = trained.lab, trained.info
    assert info["sent"] is True, "view.wait_sent(30) returned False"
    assert info["total"] == EPOCHS
    state = wait_state(lab, 0, lambda s: s.get("frames") == str(EPOCHS), 20, f"data-frames == {EPOCHS}")
    assert state["total"] == str(EPOCHS), state
    # the view follows live: it shows the last frame
    assert state["epoch"] == str(EPOCHS - 1), state
    assert state["drawnEpochNumber"] == str(info["last_epoch"]), state
    assert f"epoch {info['last_epoch']}" in state["title"], state["title"]
    assert "loss" in state["title"] and "accuracy" in state["title"], state["title"]
    assert state["label"] == f"frame {EPOCHS} / {EPOCHS}", state["label"]
    assert state["legend"] == "01", state["legend"]  # two swatches named "0" and "1"
    lab.screenshot("boundary-2-after-training", lab.page.locator("div.nnviz-boundary").first)
    lab.assert_no_page_errors()


def test_pixels_show_the_models_prediction(trained):
    lab, info = trained.lab, trained.info
    state = wait_state(lab, 0, lambda s: s.get("frames") == str(EPOCHS), 20, f"data-frames == {EPOCHS}")
    assert state["epoch"] == str(EPOCHS - 1), f"the view is not on the last frame: {state}"
    next_paint(lab)
    samples = info["samples"]
    assert len(samples) >= 60, f"only {len(samples)} confident grid points"
    px = canvas_pixels(lab, 0, [s[:2] for s in samples], info["extent"])
    lo, hi = ALPHA_RANGE
    good, bad = 0, []
    for (x, y, want, p), rgb in zip(samples, px["rgb"], strict=True):
        k, alpha, residual = classify_fill(rgb)
        if k == want and lo - ALPHA_SLACK <= alpha <= hi + ALPHA_SLACK:
            good += 1
        else:
            bad.append(
                f"({x:+.3f}, {y:+.3f}) p={p:.3f} class {want}: pixel {rgb} -> class {k}, "
                f"alpha {alpha:.3f}, residual {residual:.1f}"
            )
    print(f"canvas {px['size']} ratio {px['ratio']} plot box {px['box']}; {good}/{len(samples)} pixels agree")
    if bad:
        print("mismatches:\n  " + "\n  ".join(bad))
    assert good >= 0.95 * len(samples), f"{good}/{len(samples)} pixels show the predicted class:\n" + "\n".join(bad)
    lab.assert_no_page_errors()


def play_for(lab, cell: int, seconds: float) -> tuple[int, float, dict]:
    """From frame 0, play ``seconds`` and pause: (frames advanced, seconds played by the page's clock, state)."""
    root = lab.page.locator("div.nnviz-boundary").nth(0 if cell == 0 else 1)
    lab.page.evaluate(
        """(i) => { const s = window.jupyterapp.shell.currentWidget.content.widgets[i].node
                        .querySelector('input.nnviz-scrub');
                   s.value = '0'; s.dispatchEvent(new Event('input', {bubbles: true})); }""",
        cell,
    )
    wait_state(lab, cell, lambda s: s.get("epoch") == "0", 5, "the slider moved the view to frame 0")
    t0 = lab.page.evaluate("() => performance.now()")
    root.locator("button.nnviz-play").click(timeout=5_000)
    time.sleep(seconds)
    playing = view_state(lab, cell)
    return int(playing["epoch"]), (playing["now"] - t0) / 1000, playing


def test_play_and_pause(trained):
    lab = trained.lab
    root = lab.page.locator("div.nnviz-boundary").first
    wait_state(lab, 0, lambda s: s.get("frames") == str(EPOCHS), 20, f"data-frames == {EPOCHS}")
    advanced, dt, playing = play_for(lab, 0, 1.0)
    assert advanced > 0, f"play did not advance the frame in 1 s: {playing}"
    assert playing["play"] == "Pause", f"the play button does not offer pause while playing: {playing}"
    root.locator("button.nnviz-play").click(timeout=5_000)
    paused = view_state(lab, 0)
    time.sleep(0.5)
    later = view_state(lab, 0)
    assert later["epoch"] == paused["epoch"], f"the frame moved after pause: {paused['epoch']} -> {later['epoch']}"
    assert later["play"] == "Play", later
    lab.screenshot("boundary-3-after-play", root)
    # speed is 10 frames per second (the default): the view must not play faster than that
    fps = advanced / dt
    print(f"played {advanced} frames in {dt:.2f} s = {fps:.1f} fps at speed 10")
    assert fps <= 10 * 1.4 + 1, f"plays at {fps:.1f} fps with speed 10 ({advanced} frames in {dt:.2f} s)"
    lab.assert_no_page_errors()


def test_second_view_and_reload_get_the_whole_history(trained):
    lab = trained.lab
    lab.run_cell(3, timeout=30_000)
    both = str(EPOCHS)
    second = wait_state(lab, 3, lambda s: s.get("frames") == both, 20, f"the second view holds {both} frames")
    assert second["total"] == both, second
    first = view_state(lab, 0)
    assert first["frames"] == both and first["epoch"] == second["epoch"], (first, second)

    lab.save()  # what autosave does; the reload reads the notebook (its widget outputs) from disk
    lab.reload(n_cells=4)
    for cell in (0, 3):
        state = wait_state(
            lab,
            cell,
            lambda s: s.get("frames") == both,
            30,
            f"after a reload, the view in cell {cell} holds all {both} frames",
        )
        assert state["total"] == both, state
    lab.screenshot("boundary-4-after-reload", lab.page.locator("div.nnviz-boundary").first)

    # two views of one model play at the model's speed, not once per view
    advanced, dt, _ = play_for(lab, 3, 1.0)
    lab.page.locator("div.nnviz-boundary").nth(1).locator("button.nnviz-play").click(timeout=5_000)
    fps = advanced / dt
    print(f"two views: played {advanced} frames in {dt:.2f} s = {fps:.1f} fps at speed 10")
    assert fps <= 10 * 1.4 + 1, f"two views play at {fps:.1f} fps with speed 10 ({advanced} frames in {dt:.2f} s)"
    lab.assert_no_page_errors()


def test_burst_of_1000_captures_arrives_complete(lab):
    lab.open_notebook("boundary_burst", [BURST_SETUP, BURST])
    lab.run_cell(0, timeout=60_000)
    wait_state(lab, 0, lambda s: True, 20, "the view renders")
    lab.run_cell(1, timeout=90_000)
    out = stdout_json(lab, 1)
    print(f"1,000 captures + steps: {out['wall_s']:.2f} s with the view, {out['baseline_no_view_s']:.2f} s without")
    assert out["frames"] == 1000
    state = wait_state(lab, 0, lambda s: s.get("frames") == "1000", 60, "all 1,000 frames in the browser")
    assert state["total"] == "1000", state
    assert state["epoch"] == "999", f"the view does not follow to the last frame: {state}"
    lab.screenshot("boundary-5-after-burst", lab.page.locator("div.nnviz-boundary").first)
    lab.assert_no_page_errors()
