"""The dashboard's layout as a person sees it, at 800 px (JupyterLab with its file browser open leaves the notebook
about 500 px) and at 1400 px: one header line holds the training state, epoch, metrics and Stop; no part overlaps
another; nothing runs past the right edge; views sit side by side when there is room and stack when there is not.
Screenshots: artifacts/screenshots/dashboard-layout-{800,1400}.png."""

from __future__ import annotations

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
rec = nnv.fit(model, X, y, epochs=12, val=0.2, grid=40, activations="2", show=False)
dash = nnv.Dashboard(rec)
dash"""

# Every part a person reads in the first output cell: the header, the player, each view and each curve figure,
# with the texts that repeat the metrics line ("epoch 12 · loss 0.3 ...").
LAYOUT = """() => {
    const out = document.querySelector('.jp-Cell .jp-OutputArea-output');
    const dash = out && out.querySelector('.nnviz-dashboard');
    if (!dash) return null;
    const box = (el) => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
    const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const parts = [];
    const add = (kind, el) => { if (el && visible(el)) parts.push({kind, ...box(el)}); };
    add('header', dash.querySelector('.nnviz-header'));
    add('player', dash.querySelector('.nnviz-player'));
    for (const kind of ['boundary', 'mosaic', 'scatter']) add(kind, dash.querySelector('.nnviz-' + kind));
    for (const fig of dash.querySelectorAll('.bqplot')) add('figure', fig);
    const metricLines = [...dash.querySelectorAll('*')].filter((el) => visible(el) &&
        [...el.childNodes].some((n) => n.nodeType === 3 && /epoch \\d+.*loss/.test(n.textContent))).length;
    const header = dash.querySelector('.nnviz-header');
    return {parts, metricLines, outRight: out.getBoundingClientRect().right,
            scrollWidth: out.scrollWidth, clientWidth: out.clientWidth,
            headerText: header ? header.textContent : '',
            headerHeight: header ? header.getBoundingClientRect().height : 0,
            stop: !!(header && header.querySelector('.nnviz-stop')),
            frames: [...dash.querySelectorAll('.nnviz-player, .nnviz-boundary, .nnviz-mosaic, .nnviz-scatter')]
                .map((el) => el.className + ':' + el.dataset.frames).join(' '),
            ready: !!dash.querySelector('.nnviz-figure-loss') &&
                dash.querySelector('.nnviz-player')?.dataset.frames === '13'};
}"""


def overlaps(a, b) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 1
        and b["x"] < a["x"] + a["w"] - 1
        and a["y"] < b["y"] + b["h"] - 1
        and (b["y"] < a["y"] + a["h"] - 1)
    )


@pytest.mark.parametrize("width", [800, 1400])
def test_dashboard_reads_at_a_glance(lab, width):
    lab.page.set_viewport_size({"width": width, "height": 1000})
    lab.open_notebook(f"dashboard-layout-{width}", [SETUP])
    lab.run_cell(0, timeout=120_000)
    try:
        lab.poll(lambda: lab.page.evaluate(LAYOUT), lambda s: s and s["ready"], 40, "dashboard drawn")
    finally:
        lab.screenshot(f"dashboard-layout-{width}")
    lab.page.wait_for_timeout(500)  # bqplot lays its figures out after they attach
    s = lab.page.evaluate(LAYOUT)
    lab.screenshot(f"dashboard-layout-{width}")

    assert s["metricLines"] == 1, f"the metrics line shows {s['metricLines']} times; only the header should hold it"
    assert "epoch" in s["headerText"] and "loss" in s["headerText"], s["headerText"]
    assert s["headerHeight"] < 40, f"the header wraps onto several lines ({s['headerHeight']} px tall)"
    kinds = [p["kind"] for p in s["parts"]]
    assert {"header", "player", "boundary", "mosaic", "scatter", "figure"} <= set(kinds), kinds
    for i, a in enumerate(s["parts"]):
        assert a["x"] + a["w"] <= s["outRight"] + 1, f"{a['kind']} runs past the output's right edge: {a}"
        for b in s["parts"][i + 1 :]:
            assert not overlaps(a, b), f"{a['kind']} overlaps {b['kind']}: {a} {b}"
    assert s["scrollWidth"] <= s["clientWidth"] + 1, "the output scrolls sideways"
    views = {p["kind"]: p for p in s["parts"] if p["kind"] in ("boundary", "mosaic", "scatter")}
    rows = len({round(p["y"]) for p in views.values()})
    if width >= 1400:
        assert rows < len(views), f"at {width} px the views should share a row: {views}"
