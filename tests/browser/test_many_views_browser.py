"""One recorder in many views of a real JupyterLab: they stay in step, a view displayed
twice and one closed and shown again get the whole history, and hostile labels plus a diverging model in every
view: no script runs, labels show as text, diverged frames are marked and playback goes on."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

EVIL = "<img src=x onerror=alert(1)>"
VIEWS = "div.nnviz-boundary, div.nnviz-mosaic, div.nnviz-scatter, div.nnviz-player"

MANY = [
    """\
import torch, ipywidgets as widgets
from torch import nn
from IPython.display import display
import nnviz_widgets as nnv

torch.set_num_threads(1)
torch.manual_seed(0)
X, y = nnv.datasets.moons(300, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.Recorder(model, X, y, grid=40)
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
def train(epochs):
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad(); loss.backward(); opt.step()
        rec.capture(loss=loss.item())
train(20)
size = dict(width=220, height=200)
views = [nnv.DecisionBoundary(rec, **size), nnv.DecisionBoundary(rec, show_points=False, **size),
         nnv.WeightMosaic(rec, layer="0", width=220), nnv.WeightMosaic(rec, layer="2", width=220),
         nnv.DecisionBoundary(rec, **size)]
player = nnv.Player(rec, *views)
display(player, widgets.HBox(views[:3]), widgets.HBox(views[3:]))""",
    "display(views[0])  # the same view displayed a second time",
    "display(views[4])  # run twice: the first display is closed, then the view is shown again",
    "train(10)",
]

# A view scrolled out of sight does not draw (js/src/lib/dom.js), so each is brought into view before it is read.
STATE = """async () => {
    const views = [...document.querySelectorAll('.jp-OutputArea-output')].flatMap((out) =>
        [...out.querySelectorAll('div.nnviz-boundary, div.nnviz-mosaic, div.nnviz-player')]);
    const states = [];
    for (const v of views) {
        v.scrollIntoView({block: 'center'});
        for (let k = 0; k < 3; k++) await new Promise((ok) => requestAnimationFrame(ok));
        states.push({kind: v.className.split(' ')[0], epoch: v.dataset.epoch, frames: v.dataset.frames,
                     total: v.dataset.total});
    }
    return states;
}"""


def views_state(lab):
    return lab.page.evaluate(STATE)


def in_step(states, frames: str, epoch: str | None = None) -> bool:
    return (
        bool(states)
        and all(s["frames"] == frames and (epoch is None or s["epoch"] == epoch) for s in states)
        and len({s["epoch"] for s in states}) == 1
    )


def test_many_views_of_one_recorder_stay_in_step(lab):
    lab.open_notebook("many_views", MANY)
    lab.run_cell(0, timeout=120_000)
    lab.poll(lambda: views_state(lab), lambda s: len(s) == 6 and in_step(s, "20"), 60, "player + 5 views hold 20")
    lab.run_cell(1)
    lab.run_cell(2)
    lab.run_cell(2)  # closes the first display of views[4] and displays it again
    lab.run_cell(3, timeout=120_000)  # 10 more frames, live, to every display
    states = lab.poll(
        lambda: views_state(lab),
        lambda s: len(s) == 8 and in_step(s, "30"),
        60,
        "8 displays (5 views + 1 twice + 1 re-shown + player) hold all 30 frames",
    )
    assert states[0]["kind"] == "nnviz-player"

    scrub = lab.page.locator(".nnviz-player input.nnviz-scrub").first
    for target in ("4", "17", "29"):
        scrub.evaluate(f"(s) => {{ s.value = '{target}'; s.dispatchEvent(new Event('input', {{bubbles: true}})); }}")
        lab.poll(lambda: views_state(lab), lambda s, t=target: in_step(s, "30", t), 15, f"every display at {target}")

    play = lab.page.locator(".nnviz-player button.nnviz-play").first
    scrub.evaluate("(s) => { s.value = '0'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    play.click(timeout=5_000)
    lab.poll(lambda: views_state(lab), lambda s: s and int(s[0]["epoch"]) >= 5, 20, "playing advances")
    play.click(timeout=5_000)
    time.sleep(0.5)
    paused = lab.poll(lambda: views_state(lab), lambda s: in_step(s, "30"), 15, "every display agrees after pause")
    # paused where it was (playback loops, 30 frames in 3 s: on a loaded machine it may have wrapped to 0 first)
    time.sleep(1.0)
    assert in_step(views_state(lab), "30", paused[0]["epoch"]), "playback went on after pause"
    lab.assert_no_page_errors()


HOSTILE = [
    f"""\
import torch
from torch import nn
from IPython.display import display
import nnviz_widgets as nnv

EVIL = {EVIL!r}
torch.set_num_threads(1)
torch.manual_seed(0)
X, y = nnv.datasets.moons(200, seed=0)
names = [EVIL, "</script><script>alert(2)</script>"]
model = nn.Sequential()
model.add_module(EVIL, nn.Linear(2, 16))  # a layer whose name is HTML
model.add_module("relu", nn.ReLU())
model.add_module("out", nn.Linear(16, 2))
rec = nnv.Recorder(model, X, [names[int(v)] for v in y], grid=40, activations="relu", sample=100)
dash = nnv.Dashboard(rec, width=260, height=220)
scatter = nnv.EmbeddingScatter(rec, layer="relu", width=260, height=220)
display(dash, nnv.Player(rec, scatter), scatter)
opt = torch.optim.SGD(model.parameters(), lr=1e6)
Xt, yt = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
for step in range(12):  # diverges within a few steps at lr=1e6
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad(); loss.backward(); opt.step()
    rec.capture(**{{"loss": loss.item(), EVIL: 1.0}})
print("diverged frames", sum(f.diverged for f in rec.run), "of", len(rec.run))""",
]

HOSTILE_STATE = """() => {
    const views = [...document.querySelectorAll('VIEWS')];
    const out = '.jp-OutputArea-output';
    return {
        views: views.map((v) => ({kind: v.className.split(' ')[0], epoch: v.dataset.epoch, frames: v.dataset.frames,
                                  diverged: !!v.querySelector('.nnviz-diverged'), text: v.innerText})),
        injected: document.querySelectorAll(`${out} img[src="x"], ${out} svg[onload]`).length,
        scripts: [...document.querySelectorAll(`${out} script`)].length,
    };
}""".replace("VIEWS", VIEWS)


def test_hostile_labels_and_a_diverging_model_in_every_view(lab):
    # views draw (and update their data-frames) only while on screen (lib/dom.js drawOncePerFrame): a window tall
    # enough for the dashboard and the player and scatter below it
    lab.page.set_viewport_size({"width": 1280, "height": 2400})
    dialogs = []
    lab.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    lab.open_notebook("hostile", HOSTILE)
    lab.run_cell(0, timeout=120_000)
    out = lab.cell_stdout(0)
    total = int(out.split("of")[1])
    assert int(out.split()[2]) > 0, out
    kinds = {"nnviz-boundary", "nnviz-mosaic", "nnviz-scatter", "nnviz-player"}
    state = lab.poll(
        lambda: lab.page.evaluate(HOSTILE_STATE),
        lambda s: {v["kind"] for v in s["views"]} >= kinds and all(v["frames"] == str(total) for v in s["views"]),
        90,
        "every dashboard view holds every frame",
    )
    # the last frame is diverged: every view marks it
    state = lab.poll(
        lambda: lab.page.evaluate(HOSTILE_STATE),
        lambda s: all(v["diverged"] for v in s["views"]),
        30,
        "every view marks the diverged frame",
    )
    text = lab.page.locator(".jp-OutputArea-output").first.inner_text()
    assert EVIL in text, "the HTML label should show as text"
    assert state["injected"] == 0 and state["scripts"] == 0
    # playback goes on through the diverged frames (loop on): it wraps from the end to the start
    play = lab.page.locator(".nnviz-player button.nnviz-play").first
    play.click(timeout=5_000)
    seen = set()
    lab.poll(
        lambda: lab.page.evaluate(HOSTILE_STATE),
        lambda s: seen.add(s["views"][0]["epoch"]) or len(seen) >= min(total, 6),
        30,
        "playback keeps going",
    )
    play.click(timeout=5_000)
    lab.page.wait_for_timeout(300)
    assert not dialogs, f"a label ran script: {dialogs}"
    lab.screenshot("reliability-hostile-diverged")
    lab.assert_no_page_errors()


def test_the_exported_page_shows_hostile_labels_as_text(chromium, tmp_path):
    import numpy as np
    import torch
    from torch import nn

    import nnviz_widgets as nnv

    names = [EVIL, "</script><script>alert(2)</script>"]
    X, y = nnv.datasets.moons(100, seed=0)
    torch.manual_seed(0)
    rec = nnv.Recorder(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)), X, np.array(names)[y], grid=30)
    for i in range(3):
        rec.capture(**{"loss": 1.0 / (i + 1), "<svg onload=alert(3)>": 1.0})
    path = rec.run.to_html(tmp_path / "hostile.html", title="<script>alert(4)</script>")
    page = chromium.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector('div.nnviz-boundary[data-frames="3"]', timeout=30_000)
    page.wait_for_timeout(300)
    legend = page.locator("div.nnviz-legend").inner_text()
    assert all(name in legend for name in names), legend
    assert "<svg onload=alert(3)>" in page.locator("body").inner_text()  # a metric name, shown as text
    assert "<script>alert(4)</script>" in page.locator("h1").inner_text()
    assert page.locator("body img, body svg[onload]").count() == 0 and page.locator("script").count() == 1
    assert not dialogs and not errors, (dialogs, errors)
    page.close()
