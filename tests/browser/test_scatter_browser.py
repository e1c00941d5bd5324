"""EmbeddingScatter in JupyterLab: digits t-SNE with thumbnails (hover shows the label and the image), a lasso
selection read back in the kernel, a selection set from Python, a 100,000-point scatter that renders and pans
through its texture path, the 3-D density view, and activations over epochs."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest

from .scatter_pixels import check_scatter

pytestmark = pytest.mark.browser

SETUP = """\
import numpy as np
from sklearn.datasets import load_digits
import nnviz_widgets as nnv
d = load_digits()
X, y, images = d.data[:500], d.target[:500], d.images[:500]
view = nnv.EmbeddingScatter(X, y, method="tsne", images=images, width=520, height=420, title="digits t-SNE")
view"""
READ = "import json; print(json.dumps({'selection': view.selection, 'y': y.tolist()}))"
# a view's coordinates, labels and class colours as the kernel holds them
COORDS = """\
import json
def drawn(v):
    coords = np.frombuffer(v.coords, "<f4").reshape(-1, v.dims)
    return {"coords": coords.tolist(), "labels": np.frombuffer(v.labels, np.uint8).tolist(), "colors": list(v.colors)}
print(json.dumps(drawn(%s)))"""
SET = "view.selection = [0, 1, 2]"
BIG = """\
rng = np.random.default_rng(0)
cls = rng.integers(0, 5, 100_000)
big = nnv.EmbeddingScatter(rng.normal(size=(100_000, 2)) + np.c_[cls, cls % 2] * 3, cls,
                           method=None, width=500, height=400, title="100k points")
big"""

STATE = """(n) => {
    const roots = [...document.querySelectorAll('.jp-OutputArea-output div.nnviz-scatter')];
    const r = roots[n];
    if (!r) return null;
    return {...r.dataset, tooltip: r.querySelector('.nnviz-tooltip-label')?.textContent ?? '',
            tooltipShown: getComputedStyle(r.querySelector('.nnviz-tooltip')).display !== 'none',
            imageShown: getComputedStyle(r.querySelector('.nnviz-tooltip-image')).display !== 'none'};
}"""


def wait_for(lab, n, predicate, timeout, what):
    return lab.poll(lambda: lab.page.evaluate(STATE, n), predicate, timeout, what)


def overlay_box(lab, n):
    return lab.page.locator(".jp-OutputArea-output div.nnviz-scatter .nnviz-scatter-overlay").nth(n).bounding_box()


def test_digits_hover_lasso_and_100k(lab):
    lab.open_notebook("scatter", [SETUP, READ, SET, BIG, COORDS % "view"])
    lab.run_cell(0, timeout=180_000)
    state = wait_for(lab, 0, lambda s: s.get("points") == "500" and int(s.get("draws", 0)) > 0, 30, "digits drawn")

    # every point where its t-SNE coordinates are, in its class's colour (before any hover or selection)
    lab.run_cell(4)
    kernel = json.loads(lab.cell_stdout(4).strip().splitlines()[-1])
    drawn = check_scatter(lab.page, np.asarray(kernel["coords"]), np.asarray(kernel["labels"]), kernel["colors"],
                          "lab-digits-tsne")  # fmt: skip
    assert drawn["checked"] >= 250, drawn
    renderer = state["renderer"]
    root = lab.page.locator(".jp-OutputArea-output div.nnviz-scatter").first
    root.scroll_into_view_if_needed()
    box = overlay_box(lab, 0)

    # hover: move onto point 17, the tooltip names its class and shows its thumbnail
    i = 17
    x, y = root.evaluate(f"(r) => r.nnvizScatter.screenOf({i})")
    lab.page.mouse.move(box["x"] + x, box["y"] + y)
    hovered = wait_for(lab, 0, lambda s: s["tooltipShown"] and s["hover"] != "-1", 5, "tooltip shown")
    j = int(hovered["hover"])
    lab.run_cell(1)
    labels = json.loads(lab.cell_stdout(1).strip().splitlines()[-1])["y"]
    assert hovered["hoverLabel"] == str(labels[j]), hovered
    assert hovered["tooltip"] == f"{labels[j]} · #{j}"
    assert hovered["imageShown"], "images= gives a thumbnail"
    if j != i:  # another point drawn on top of 17 within a pixel or two: it must be as close
        xj, yj = root.evaluate(f"(r) => r.nnvizScatter.screenOf({j})")
        assert abs(xj - x) + abs(yj - y) < 4
    lab.screenshot("scatter-digits-hover", root)

    # lasso around the middle of the plot
    lab.page.locator(".nnviz-tool-lasso").first.click()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 90
    poly = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 24)]
    lab.page.mouse.move(*poly[0])
    lab.page.mouse.down()
    for p in poly[1:]:
        lab.page.mouse.move(*p, steps=2)
    lab.page.mouse.up()
    selected = wait_for(lab, 0, lambda s: int(s["selected"]) > 0, 5, "lasso selected points")
    time.sleep(0.5)
    lab.run_cell(1)
    in_kernel = json.loads(lab.cell_stdout(1).strip().splitlines()[-1])["selection"]
    assert len(in_kernel) == int(selected["selected"]) > 0
    inside = root.evaluate(
        """(r, [idx, cx, cy, rad]) => { const b = r.querySelector('.nnviz-scatter-overlay').getBoundingClientRect();
            return idx.map((i) => { const [x, y] = r.nnvizScatter.screenOf(i);
                                    return Math.hypot(b.left + x - cx, b.top + y - cy) <= rad + 1; }); }""",
        [in_kernel, cx, cy, r],
    )
    assert all(inside), "every selected point lies inside the lasso"
    lab.screenshot("scatter-digits-lasso", root)

    # selection set from Python reaches the view
    lab.run_cell(2)
    wait_for(lab, 0, lambda s: s["selected"] == "3", 10, "selection from Python")

    # 100,000 points render
    lab.run_cell(3, timeout=120_000)
    big = wait_for(lab, 1, lambda s: s.get("points") == "100000" and int(s.get("draws", 0)) > 0, 60, "100k drawn")
    assert big["renderer"] == renderer
    big_root = lab.page.locator(".jp-OutputArea-output div.nnviz-scatter").nth(1)
    big_root.scroll_into_view_if_needed()
    time.sleep(0.5)
    png = lab.page.locator(".jp-OutputArea-output div.nnviz-scatter .nnviz-scatter-stage").nth(1).screenshot()
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(int)
    coloured = ((pixels.max(axis=1) - pixels.min(axis=1)) > 60).mean()
    assert coloured > 0.05, f"only {coloured:.1%} of the 100k plot is coloured"
    lab.screenshot("scatter-100k", big_root)

    # panning 100k points redraws a texture of them (uniforms only); every point again once the camera rests
    big_box = overlay_box(lab, 1)
    lab.page.locator(".nnviz-tool-pan").nth(1).click()
    lab.page.mouse.move(big_box["x"] + 250, big_box["y"] + 200)
    lab.page.mouse.down()
    lab.page.mouse.move(big_box["x"] + 300, big_box["y"] + 230, steps=4)
    wait_for(lab, 1, lambda s: s["drawMode"] == "texture", 5, "a texture redrawn while the camera moves")
    lab.page.mouse.up()
    rested = wait_for(lab, 1, lambda s: s["drawMode"] == "all", 10, "every point drawn once the camera rests")
    assert rested["drawnPoints"] == "100000"
    lab.assert_no_page_errors()


EPOCHS = """\
import torch, ipywidgets as widgets
from torch import nn
import numpy as np
from sklearn.datasets import load_digits
import nnviz_widgets as nnv
d = load_digits()
X, y = d.data.astype("float32") / 16, d.target
dens = nnv.EmbeddingScatter(X, y, method="pca", density="over", width=360, height=300, title="density")
cube = nnv.EmbeddingScatter(X, y, method="pca", dims=3, width=360, height=300, title="3-D")
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
rec = nnv.Recorder(model, X, y, grid=40, activations="1", sample=400)
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
for epoch in range(15):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad(); loss.backward(); opt.step()
    rec.capture(loss=loss.item())
acts = nnv.EmbeddingScatter(rec, layer="1", width=360, height=300, title="layer 1 activations")
boundary = nnv.DecisionBoundary(rec, width=360, height=300)
player = nnv.Player(rec, acts, boundary)
widgets.VBox([widgets.HBox([dens, cube]), player, widgets.HBox([acts, boundary])])"""


def test_density_3d_and_activations_over_epochs(lab):
    lab.open_notebook("scatter-epochs", [EPOCHS, COORDS % "cube"])
    lab.run_cell(0, timeout=180_000)
    dens = wait_for(lab, 0, lambda s: int(s.get("draws", 0)) > 0 and s["points"] == "1797", 30, "density view")
    assert dens["density"] == "over"
    cube = wait_for(lab, 1, lambda s: s["dims"] == "3" and int(s.get("draws", 0)) > 0, 30, "3-D view")
    root3 = lab.page.locator(".jp-OutputArea-output div.nnviz-scatter").nth(1)
    lab.run_cell(1)
    kernel = json.loads(lab.cell_stdout(1).strip().splitlines()[-1])
    cube_points = (np.asarray(kernel["coords"]), np.asarray(kernel["labels"]), kernel["colors"])
    drawn = check_scatter(lab.page, *cube_points, "lab-digits-pca-3d", k=1)
    before = root3.evaluate("(r) => r.nnvizScatter.screenOf(0)")
    box = overlay_box(lab, 1)
    lab.page.mouse.move(box["x"] + 100, box["y"] + 150)
    lab.page.mouse.down()
    lab.page.mouse.move(box["x"] + 180, box["y"] + 170, steps=5)
    lab.page.mouse.up()
    after = root3.evaluate("(r) => r.nnvizScatter.screenOf(0)")
    assert abs(after[0] - before[0]) + abs(after[1] - before[1]) > 2, f"orbit moved nothing: {before} {after}"
    orbited = check_scatter(lab.page, *cube_points, "lab-digits-pca-3d-orbited", k=1)
    assert min(drawn["checked"], orbited["checked"]) >= 100, (drawn, orbited)
    assert cube["renderer"] in ("webgl", "canvas2d")

    # 3-D density: "only" keeps each class's core (the densest 60 % of its points): fewer coloured pixels
    def coloured(n):
        png = lab.page.locator(".jp-OutputArea-output div.nnviz-scatter .nnviz-scatter-stage").nth(n).screenshot()
        from PIL import Image

        px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(int)
        return int(((px.max(axis=1) - px.min(axis=1)) > 60).sum())

    time.sleep(0.4)
    all_points = coloured(1)
    root3.locator(".nnviz-density").select_option("only")
    only = wait_for(lab, 1, lambda s: s["density"] == "only", 10, "3-D density view")
    time.sleep(0.4)
    core = coloured(1)
    assert 0 < core < 0.9 * all_points, f"3-D density 'only' coloured {core} px of {all_points}"
    note = root3.locator(".nnviz-scatter-note").text_content()
    assert "core" in note, note
    assert only["dims"] == "3"
    lab.screenshot("scatter-density-3d", lab.page.locator(".jp-OutputArea-output").first)

    acts = wait_for(lab, 2, lambda s: s["frames"] == "15", 60, "15 projected frames")
    assert acts["points"] == "400"
    scrub = lab.page.locator(".nnviz-player input.nnviz-scrub")
    scrub.evaluate("(s) => { s.value = '3'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    wait_for(lab, 2, lambda s: s["epoch"] == "3", 10, "the player moves the activations view")
    p3 = (
        lab.page.locator(".jp-OutputArea-output div.nnviz-scatter").nth(2).evaluate("(r) => r.nnvizScatter.screenOf(5)")
    )
    scrub.evaluate("(s) => { s.value = '14'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
    wait_for(lab, 2, lambda s: s["epoch"] == "14", 10, "the player moves the activations view")
    time.sleep(0.3)
    p14 = (
        lab.page.locator(".jp-OutputArea-output div.nnviz-scatter").nth(2).evaluate("(r) => r.nnvizScatter.screenOf(5)")
    )
    assert p3 != p14, "points move between epochs"
    lab.screenshot("scatter-activations-epochs", lab.page.locator(".nnviz-player").first)
    lab.assert_no_page_errors()
