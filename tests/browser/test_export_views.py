"""Every view on one exported page, and the report page, opened from disk in headless Chromium with every network
request refused: each view draws every frame, one player moves them all, and pixels match what was recorded."""

import json
import math
import pathlib

import numpy as np
import pytest
import torch
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.export.video import diverging_rgb
from nnviz_widgets.record.histograms import rebin

pytestmark = pytest.mark.browser
SCREENSHOTS = pathlib.Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ROOTS = ["nnviz-player", "nnviz-boundary", "nnviz-mosaic", "nnviz-scatter", "nnviz-histograms", "nnviz-chart"]
# js/src/lib/histograms.js's SEQUENTIAL stops (white to dark blue) and its square-root count scale
STOPS = [(0, (255, 255, 255)), (0.25, (198, 219, 239)), (0.5, (107, 174, 214)), (0.75, (33, 113, 181)),
         (1, (8, 48, 107))]  # fmt: skip


def heat_rgb(count: float, peak: float) -> np.ndarray:
    i = round(math.sqrt(min(1, count / peak)) * 255) if peak > 0 and count > 0 else 0
    x = i / 255
    k = next(k for k in range(1, len(STOPS)) if x <= STOPS[k][0] or k == len(STOPS) - 1)
    (x0, c0), (x1, c1) = STOPS[k - 1], STOPS[k]
    return np.array([math.floor(a + (x - x0) / (x1 - x0) * (b - a) + 0.5) for a, b in zip(c0, c1, strict=True)])


@pytest.fixture(scope="module")
def recorded():
    X, y = nnv.datasets.moons(300, noise=0.2, seed=0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    rec = nnv.Recorder(model, X, y, grid=60, activations="3", gradients=True)
    opt = torch.optim.Adam(model.parameters(), 3e-2)
    Xt, yt = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
    for _ in range(12):
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture(loss=loss.item())
    return rec


def open_offline(chromium, path, *, dark=False):
    context = chromium.new_context(
        offline=True, viewport={"width": 1300, "height": 2600}, device_scale_factor=1,
        color_scheme="dark" if dark else "light",
    )  # fmt: skip
    requests, errors = [], []

    def only_files(route):
        requests.append(route.request.url)
        (route.continue_ if route.request.url.startswith(("file:", "blob:", "data:")) else route.abort)()

    context.route("**/*", only_files)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    return context, page, requests, errors


@pytest.fixture(scope="module")
def page_of_views(recorded, chromium, tmp_path_factory):
    path = nnv.export.to_html(recorded, tmp_path_factory.mktemp("views") / "views.html", title="every view")
    context, page, requests, errors = open_offline(chromium, path)
    n = len(recorded.run)
    for root in ROOTS:
        page.wait_for_selector(f'div.{root}[data-frames="{n}"][data-epoch="{n - 1}"]', timeout=30_000)
    yield page, recorded, requests, errors
    context.close()


def dataset(page, root: str) -> dict:
    return page.evaluate(f"Object.assign({{}}, document.querySelector('div.{root}').dataset)")


def pixels(page, root: str, points, canvas: str = "canvas.nnviz-plot") -> np.ndarray:
    return np.asarray(
        page.evaluate(
            """([root, canvas, points]) => {
                const c = document.querySelector(`div.${root} ${canvas}`);
                const ctx = c.getContext('2d'), s = c.width / c.clientWidth;
                const at = ([x, y]) => ctx.getImageData(Math.floor(x * s), Math.floor(y * s), 1, 1).data;
                return points.map((p) => Array.from(at(p)).slice(0, 3));
            }""",
            [root, canvas, [list(map(float, p)) for p in points]],
        ),
        dtype=float,
    )


def test_every_view_draws_every_frame_offline_with_one_player(page_of_views):
    page, rec, requests, errors = page_of_views
    n = len(rec.run)
    assert not [u for u in requests if not u.startswith(("file:", "blob:", "data:"))]
    assert not errors
    assert page.locator("input.nnviz-follow:visible").count() == 0  # nothing to follow in a static page
    assert page.locator("button.nnviz-play:visible").count() == 1  # one player
    page.locator("#player button.nnviz-step-back").click()
    page.locator("#player button.nnviz-step-back").click()
    for root in ROOTS:
        page.wait_for_selector(f'div.{root}[data-epoch="{n - 3}"]', timeout=10_000)
    page.locator("#player button.nnviz-step-forward").click()
    page.locator("#player button.nnviz-step-forward").click()
    for root in ROOTS:
        page.wait_for_selector(f'div.{root}[data-epoch="{n - 1}"]', timeout=10_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "export-every-view.png"), full_page=True)


def test_histogram_pixels_are_the_recorded_counts(page_of_views):
    page, rec, _, _ = page_of_views
    run = rec.run
    d = dataset(page, "nnviz-histograms")
    rows = {r["name"]: r for r in json.loads(d["layers"])}
    assert list(rows) == ["0", "2", "4"]
    left, width, total = float(d["plotLeft"]), float(d["plotWidth"]), len(run)
    for name in ("0", "2"):
        row = rows[name]
        hists = [f.histograms[name] for f in run]
        lo, hi = min(h.stats["lo"] for h in hists), max(h.stats["hi"] for h in hists)
        assert row["lo"] == pytest.approx(lo, rel=1e-6) and row["hi"] == pytest.approx(hi, rel=1e-6)
        bins = len(hists[0].counts)
        edges = np.linspace(lo, hi, bins + 1)
        cols = [rebin(h.counts, h.stats["lo"], h.stats["hi"], edges) for h in hists]
        peak = max(c.max() for c in cols)
        assert row["peak"] == pytest.approx(peak, rel=1e-4)
        picks = [(i, b) for i in range(0, total - 1, 2) for b in range(2, bins - 2, 5)]  # not the marked frame
        where = [(left + (i + 0.5) * width / total, row["top"] + (bins - 1 - b + 0.5) * row["height"] / bins)
                 for i, b in picks]  # fmt: skip
        got = pixels(page, "nnviz-histograms", where)
        want = np.array([heat_rgb(cols[i][b], peak) for i, b in picks])
        assert (want.sum(axis=1) < 700).sum() >= 10, "the layer's counts give some dark cells to check"
        assert np.abs(got - want).max() <= 2, f"layer {name}: the strip's cells are the re-binned counts"


def test_mosaic_pixels_are_the_recorded_weights(page_of_views):
    page, rec, _, _ = page_of_views
    d = dataset(page, "nnviz-mosaic")
    layer, run = d["layer"], rec.run
    maps = run[-1].outputs[layer]  # the page shows neuron outputs on 2-D data, as the Dashboard does
    m = float(d["scaleMax"])
    assert m == pytest.approx(max(np.nanmax(np.abs(f.outputs[layer])) for f in run), rel=1e-3)
    n, h, w = maps.shape
    rng = np.random.default_rng(0)
    t, r, c = rng.integers(0, n, 200), rng.integers(0, h, 200), rng.integers(0, w, 200)
    cols, tw, th, gap = int(d["cols"]), float(d["tilePx"]), float(d["tileHeight"]), float(d["gap"])
    where = [((ti % cols) * (tw + gap) + (ci + 0.5) * tw / w, (ti // cols) * (th + gap) + (h - 1 - ri + 0.5) * th / h)
             for ti, ri, ci in zip(t, r, c, strict=True)]  # fmt: skip
    got = pixels(page, "nnviz-mosaic", where)
    want = diverging_rgb(maps[t, r, c], m)
    close = np.abs(got - want).max(axis=1) <= 6
    assert close.mean() > 0.9, "the tiles are the recorded outputs on the layer's scale (tile edges may blend)"


def test_curves_panels_span_the_recorded_metrics(page_of_views):
    page, rec, _, _ = page_of_views
    panels = json.loads(dataset(page, "nnviz-chart")["panels"])
    loss = [f.metrics["loss"] for f in rec.run]
    assert [p["family"] for p in panels] == ["loss", "accuracy"]
    assert panels[0]["y0"] < min(loss) and panels[0]["y1"] > max(loss)


def test_report_page_summary_views_and_dark_theme(recorded, chromium, tmp_path):
    path = nnv.export.report(recorded, tmp_path / "report.html", title="Moons, 16-16")
    for dark in (False, True):
        context, page, requests, errors = open_offline(chromium, path, dark=dark)
        assert not errors and not [u for u in requests if not u.startswith(("file:", "blob:", "data:"))]
        summary = page.locator("table.summary").inner_text()
        assert "Linear 2→16" in summary and "300 points" in summary and f"0 to {len(recorded.run) - 1}" in summary
        assert page.locator("section.view p.hint").count() == 5  # one line per view: what to look for
        fg, bg = page.evaluate(
            "[getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]"
        )
        lum = [sum(int(v) for v in c[c.index("(") + 1 : c.index(")")].split(",")[:3]) for c in (fg, bg)]
        assert (lum[0] > lum[1]) == dark  # light text on dark, dark on light
        page.wait_for_selector(f'div.nnviz-boundary[data-frames="{len(recorded.run)}"]', timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / f"report-{'dark' if dark else 'light'}.png"), full_page=True)
        context.close()
