"""The exported HTML page, opened from disk in headless Chromium with every network request refused."""

import pathlib

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.export.video import band_lut, class_colors, fill_rgb

pytestmark = pytest.mark.browser
SCREENSHOTS = pathlib.Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A trained moons run whose first class is named with HTML, and its exported page."""
    X, y = nnv.datasets.moons(300, noise=0.15, seed=0)
    names = np.array([EVIL, "right"])[y]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    rec = nnv.Recorder(model, X, names, grid=100, classes=[EVIL, "right"])
    opt = torch.optim.Adam(model.parameters(), 2e-2)
    Xt, yt = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
    for _ in range(60):
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())
    page = rec.run.to_html(tmp_path_factory.mktemp("page") / "moons.html", title=f"moons {EVIL}")
    return rec.run, page


@pytest.fixture(scope="module")
def offline_page(exported, chromium):
    run, path = exported
    context = chromium.new_context(offline=True, viewport={"width": 900, "height": 800}, device_scale_factor=1)
    requests = []

    def only_files(route):
        requests.append(route.request.url)
        if route.request.url.startswith(("file:", "blob:", "data:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector(f'div.nnviz-boundary[data-frames="{len(run)}"]', timeout=30_000)
    page.wait_for_function(f"document.querySelector('div.nnviz-boundary').dataset.epoch === '{len(run) - 1}'")
    yield page, run, {"dialogs": dialogs, "errors": errors, "requests": requests}
    context.close()


def test_page_renders_offline_with_every_frame(offline_page):
    page, run, seen = offline_page
    root = page.locator("div.nnviz-boundary")
    assert root.get_attribute("data-frames") == str(len(run))
    assert not [u for u in seen["requests"] if not u.startswith(("file:", "blob:", "data:"))]
    assert not seen["errors"]


def test_pixels_are_the_recorded_classes(offline_page):
    page, run, _ = offline_page
    dataset = page.evaluate("Object.assign({}, document.querySelector('div.nnviz-boundary').dataset)")
    left, top = float(dataset["plotLeft"]), float(dataset["plotTop"])
    width, height = float(dataset["plotWidth"]), float(dataset["plotHeight"])
    xmin, xmax, ymin, ymax = run.grid.extent
    probs = run[-1].boundary
    colors = fill_rgb(run[-1].arrays["boundary"], class_colors(2))
    xs, ys = run.grid

    def css(x, y):
        return left + (x - xmin) / (xmax - xmin) * width, top + (ymax - y) / (ymax - ymin) * height

    dots = np.array([css(x, y) for x, y in run.points])
    candidates = []
    for i in range(2, len(ys) - 2):
        for j in range(2, len(xs) - 2):
            cx, cy = css(xs[j], ys[i])
            sure = probs[i - 1 : i + 2, j - 1 : j + 2].max(axis=-1).min() > 0.8  # the cell and its neighbours
            if sure and np.hypot(*(dots - (cx, cy)).T).min() > 9:
                candidates.append((i, j, cx, cy))
    rng = np.random.default_rng(0)
    picks = [candidates[k] for k in rng.choice(len(candidates), size=min(60, len(candidates)), replace=False)]
    assert len(picks) >= 30
    pixels = page.evaluate(
        """(points) => {
            const c = document.querySelector('canvas.nnviz-plot');
            const sx = c.width / c.clientWidth, sy = c.height / c.clientHeight;
            const ctx = c.getContext('2d');
            const at = ([x, y]) => ctx.getImageData(Math.floor(x * sx), Math.floor(y * sy), 1, 1).data;
            return points.map((p) => Array.from(at(p)));
        }""",
        [[cx, cy] for _, _, cx, cy in picks],
    )
    lut = band_lut(class_colors(2)).astype(int)  # (class, band, rgb)
    for (i, j, _, _), rgba in zip(picks, pixels, strict=True):
        rgb = np.array(rgba[:3])
        recorded = int(probs[i, j].argmax())
        nearest = np.abs(lut - rgb).sum(-1).min(axis=1).argmin()
        assert nearest == recorded, f"grid ({i}, {j}): pixel {rgb} is not class {recorded}'s colour"
        assert np.abs(rgb - colors[i, j]).max() <= 12, f"grid ({i}, {j}): pixel {rgb}, expected {colors[i, j]}"


def test_html_in_labels_is_text(offline_page):
    page, _, seen = offline_page
    legend = page.locator("div.nnviz-legend")
    assert EVIL in legend.inner_text()
    assert page.locator("div.nnviz-legend img, h1 img, p img").count() == 0
    assert EVIL in page.locator("h1").inner_text()
    page.wait_for_timeout(300)
    assert not seen["dialogs"]


def test_play_advances_and_screenshot(offline_page):
    page, run, seen = offline_page
    root = page.locator("div.nnviz-boundary")
    page.locator("#player button.nnviz-step-back").click()
    page.wait_for_function(f"document.querySelector('div.nnviz-boundary').dataset.epoch === '{len(run) - 2}'")
    page.locator("#player button.nnviz-play").click()
    page.wait_for_function("document.querySelector('div.nnviz-boundary').dataset.epoch === '2'", timeout=20_000)
    page.wait_for_function("Number(document.querySelector('div.nnviz-boundary').dataset.epoch) >= 6", timeout=20_000)
    page.locator("#player button.nnviz-play").click()  # pause
    epoch = int(root.get_attribute("data-epoch"))
    page.wait_for_timeout(400)
    assert abs(int(root.get_attribute("data-epoch")) - epoch) <= 1  # paused
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "export-page.png"))
    assert not seen["dialogs"] and not seen["errors"]
