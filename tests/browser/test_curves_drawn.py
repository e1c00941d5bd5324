"""The metric curves draw every recorded point where the axes say its value is, in a new user's first ``nnv.fit``
(fresh kernel, dashboard shown before the first frame) and on a ``background=True`` dashboard.

Each drawn dot is mapped back through the figure's own axis ticks (their bound values and pixel positions) and
compared with the series the kernel holds; the x ticks must carry labels and the dashed cursor must stand on the
last frame. These are the symptoms of the bqplot tick-formatter exception that froze the shared epoch scale.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

FIRST_FIT = """\
import json, torch
from torch import nn
import nnviz_widgets as nnv
torch.set_num_threads(1)
torch.manual_seed(0)
X, y = nnv.datasets.moons(300, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.fit(model, X, y, epochs=30, val=0.2, grid=24)"""

BACKGROUND = """\
torch.manual_seed(1)
model2 = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
rec2 = nnv.fit(model2, X, y, epochs=25, grid=16, background=True, views=["curves"])"""

SERIES = """\
assert rec2.training.join(60), rec2.training
for r in (rec, rec2):
    r.training.dashboard.views["curves"].redraw()  # the redraw thread's last pass, now, so the test need not wait
print(json.dumps([{k: [[f.epoch, f.metrics[k]] for f in r.run if k in f.metrics]
                   for k in ("loss", "val_loss", "accuracy", "val_accuracy")} for r in (rec, rec2)]))"""

# Every dot of one figure with its colour, and the figure's axes as (bound tick value, pixel) pairs.
DRAWN = """([i, family]) => {
    const cell = window.jupyterapp.shell.currentWidget.content.widgets[i].node;
    const fig = cell.querySelector('.nnviz-figure-' + family);
    if (!fig) return null;
    const mid = (n) => { const r = n.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; };
    const axes = [...fig.querySelectorAll('.axis')].map((a) => ({
        label: (a.querySelector('.axislabel') || {}).textContent,
        ticks: [...a.querySelectorAll('.tick')].map((t) => ({
            value: t.__data__, text: t.querySelector('text').textContent, at: mid(t.querySelector('line'))})),
    }));
    const dots = [...fig.querySelectorAll('.dot')].map((d) => ({fill: getComputedStyle(d).fill, at: mid(d)}));
    const cursor = [...fig.querySelectorAll('path')].filter((p) => {
        const dash = getComputedStyle(p).strokeDasharray;
        return dash && dash !== 'none' && p.getBoundingClientRect().height > 10;
    }).map(mid);
    return {axes, dots, cursor};
}"""

TRAIN, VAL = "rgb(31, 119, 180)", "rgb(255, 127, 14)"  # curves.COLORS


def _axis_map(ticks, coord):
    """value -> pixel along one axis, from two of its ticks (the axis is linear)."""
    a, b = ticks[0], ticks[-1]
    (v0, p0), (v1, p1) = (a["value"], a["at"][coord]), (b["value"], b["at"][coord])
    assert v1 != v0, f"the axis has one tick value only: {ticks}"
    return lambda v: p0 + (v - v0) * (p1 - p0) / (v1 - v0)


def check_figure(lab, cell, family, series, what):
    def read():
        return lab.page.evaluate(DRAWN, [cell, family])

    def dots_where_axes_say(drawn):
        if drawn is None:
            return False
        x_axis = next((a for a in drawn["axes"] if a["label"] == "epoch"), None)
        y_axis = next((a for a in drawn["axes"] if a is not x_axis and len(a["ticks"]) >= 2), None)
        if x_axis is None or y_axis is None or len(x_axis["ticks"]) < 2:
            return False
        fx, fy = _axis_map(x_axis["ticks"], 0), _axis_map(y_axis["ticks"], 1)
        for name, colour in ((family, TRAIN), ("val_" + family, VAL)):
            want = sorted((round(fx(e), 1), round(fy(v), 1)) for e, v in series.get(name, []))
            got = sorted((round(d["at"][0], 1), round(d["at"][1], 1)) for d in drawn["dots"] if d["fill"] == colour)
            if len(want) != len(got):
                return False
            if any(abs(w[0] - g[0]) > 1.5 or abs(w[1] - g[1]) > 1.5 for w, g in zip(want, got, strict=True)):
                return False
        return True

    drawn = lab.poll(read, dots_where_axes_say, 20, f"{what}: every {family} point drawn where the axes put it")
    x_axis = next(a for a in drawn["axes"] if a["label"] == "epoch")
    labels = [t["text"] for t in x_axis["ticks"]]
    assert all(labels) and labels == [str(int(t["value"])) for t in x_axis["ticks"]], f"{what}: x tick labels {labels}"
    last = max(e for points in series.values() for e, _ in points)
    assert len(drawn["cursor"]) == 1, f"{what}: expected one dashed cursor, found {drawn['cursor']}"
    assert abs(drawn["cursor"][0][0] - _axis_map(x_axis["ticks"], 0)(last)) < 1.5, (
        f"{what}: cursor not on the last frame"
    )


def test_first_fit_and_background_curves_are_drawn_true(lab):
    lab.open_notebook("curves-first-fit", [FIRST_FIT, BACKGROUND, SERIES])
    lab.run_cell(0, timeout=120_000)  # the kernel's first cell: the dashboard is shown before frame 0 exists
    lab.run_cell(1, timeout=60_000)
    lab.run_cell(2, timeout=90_000)
    first, background = json.loads(lab.cell_stdout(2))
    assert len(first["loss"]) == 30 and len(first["val_loss"]) == 31, first
    import collections

    print(collections.Counter(e[:300] for e in lab.page_errors))
    check_figure(lab, 0, "loss", first, "first fit")
    check_figure(lab, 0, "accuracy", first, "first fit")
    lab.screenshot("curves-first-fit", lab.page.locator(".jp-Cell").nth(0).locator(".nnviz-figure-loss"))
    check_figure(lab, 1, "loss", background, "background fit")
    check_figure(lab, 1, "accuracy", background, "background fit")
    lab.screenshot("curves-background-fit", lab.page.locator(".jp-Cell").nth(1).locator(".nnviz-figure-loss"))
    bqplot_errors = [e for e in lab.page_errors if "bqplot" in e or "invalid format" in e]
    assert not bqplot_errors, bqplot_errors
