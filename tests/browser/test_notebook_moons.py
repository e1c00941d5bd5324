"""notebooks/01_moons_live.ipynb, as committed, runs in JupyterLab in Chromium, and its view shows the seed's three
moments: epoch 1 (an untrained, nearly straight boundary), epoch 20 (bending) and epoch 100 (the moons separated).

Screenshots: artifacts/screenshots/notebook-moons-epoch-{1,20,100}.png and, side by side,
notebook-moons-epochs.png (gitignored; ``scripts/readme_images.py`` turns them into README pictures).
"""

from __future__ import annotations

import shutil

import nbformat
import numpy as np
import pytest

from .conftest import LAB_LOAD_TIMEOUT, REPO, SCREENSHOTS

pytestmark = pytest.mark.browser

NOTEBOOK = REPO / "notebooks" / "01_moons_live.ipynb"
MOMENTS = (1, 20, 100)  # epochs the seed shows; the notebook captures epoch e as frame e - 1

# what the view shows: its title and frame label; and the plot's pixels as (H, W, 3) bytes
STATE = """(root) => ({title: root.querySelector('.nnviz-title').textContent,
                     label: root.querySelector('.nnviz-frame-label').textContent})"""
PIXELS = """(root) => {
    const c = root.querySelector('canvas.nnviz-plot');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return {w: c.width, h: c.height, pixels: Array.from(d.filter((_, i) => i % 4 !== 3))};
}"""


def _class_share(state) -> tuple[float, float]:
    """Fractions of the plot's pixels clearly tinted blue (class 0) and orange (class 1), on a 4-pixel lattice."""
    rgb = np.asarray(state["pixels"], dtype=np.int16).reshape(state["h"], state["w"], 3)[::4, ::4]
    r, b = rgb[..., 0], rgb[..., 2]
    return float(np.mean(b > r + 40)), float(np.mean(r > b + 40))


def test_moons_notebook_shows_epochs_1_20_100(lab):
    shutil.copy(NOTEBOOK, lab.server.root / NOTEBOOK.name)
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    lab.page.goto(f"{lab.server.url}/lab/tree/{NOTEBOOK.name}?reset", timeout=LAB_LOAD_TIMEOUT)
    lab.wait_notebook_ready(len(cells))
    for i, cell in enumerate(cells):  # top to bottom, as a reader would
        if cell.cell_type == "code":
            lab.run_cell(i, timeout=180_000)
    train = next(i for i, c in enumerate(cells) if c.cell_type == "code" and "rec.capture" in c.source)
    assert "100 frames recorded" in lab.cell_stdout(train)

    view = lab.page.locator(".jp-Cell").nth(1).locator("div.nnviz-boundary")
    view.scroll_into_view_if_needed(timeout=5_000)
    lab.poll(lambda: view.evaluate(STATE), lambda s: s["label"] == "frame 100 / 100", 60, "all 100 frames arrived")
    scrub = view.locator("input.nnviz-scrub")
    shots, seen = [], {}
    for epoch in MOMENTS:
        scrub.evaluate("(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }", epoch - 1)
        state = lab.poll(
            lambda: view.evaluate(STATE),
            lambda s, e=epoch: s["title"].startswith(f"epoch {e} ") and s["label"] == f"frame {e} / 100",
            15,
            f"the view shows epoch {epoch}",
        )
        seen[epoch] = {**state, **view.evaluate(PIXELS)}
        path = SCREENSHOTS / f"notebook-moons-epoch-{epoch}.png"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=str(path))
        shots.append(path)

    acc = {e: float(s["title"].split("accuracy ")[1].split()[0]) for e, s in seen.items()}
    assert acc[1] < acc[20] < acc[100] and acc[100] >= 0.95, f"accuracy should climb to separation: {acc}"
    share = {e: _class_share(s) for e, s in seen.items()}  # untrained: pale, mostly one class; trained: both, vivid
    assert min(share[100]) > 0.15, f"epoch 100: both class regions should be drawn: {share}"
    assert sum(share[1]) < sum(share[100]), f"epoch 1 should be less confident than epoch 100: {share}"
    first, last = (np.asarray(seen[e]["pixels"], dtype=np.int16) for e in (1, 100))
    changed = float(np.mean(np.abs(first - last).reshape(-1, 3).max(axis=1) > 40))
    assert changed > 0.1, f"the boundary at epoch 100 should differ from epoch 1 (changed {changed:.1%} of pixels)"

    try:
        from PIL import Image
    except ImportError:  # the strip is a convenience; the three screenshots are already written
        return
    images = [Image.open(p).convert("RGB") for p in shots]
    strip = Image.new("RGB", (sum(im.width for im in images) + 20 * (len(images) - 1), max(im.height for im in images)),
                      "white")  # fmt: skip
    x = 0
    for im in images:
        strip.paste(im, (x, 0))
        x += im.width + 20
    strip.save(SCREENSHOTS / "notebook-moons-epochs.png")
