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
        assert "Linear 2→16" in summary and "300 points" in summary and f"1 to {len(recorded.run)}" in summary
        assert page.locator("section.view p.hint").count() == 5  # one line per view: what to look for
        fg, bg = page.evaluate(
            "[getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]"
        )
        lum = [sum(int(v) for v in c[c.index("(") + 1 : c.index(")")].split(",")[:3]) for c in (fg, bg)]
        assert (lum[0] > lum[1]) == dark  # light text on dark, dark on light
        page.wait_for_selector(f'div.nnviz-boundary[data-frames="{len(recorded.run)}"]', timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / f"report-{'dark' if dark else 'light'}.png"), full_page=True)
        context.close()


def test_mosaic_change_since_first_and_previous(recorded, chromium, tmp_path):
    """show="change": each tile is the weights' change on its own symmetric scale, and the colour bar says which."""
    run = recorded.run
    w = np.stack([f.weights["2"] for f in run])  # (frames, 16, 16), as the browser decodes them
    for since, ref in (("first", w[0]), ("previous", w[-2])):
        view = nnv.WeightMosaic(recorded, layer="2", show="change", since=since)
        path = nnv.export.to_html(view, tmp_path / f"change-{since}.html")
        view.close()
        context, page, _, errors = open_offline(chromium, path)
        page.wait_for_selector(f'div.nnviz-mosaic[data-frames="{len(run)}"][data-epoch="{len(run) - 1}"]')
        d = dataset(page, "nnviz-mosaic")
        steps = w[1:] - (w[:1] if since == "first" else w[:-1])
        assert float(d["scaleMax"]) == pytest.approx(np.abs(steps).max(), rel=1e-3)
        change = w[-1] - ref
        cols, tw, th, gap = int(d["cols"]), float(d["tilePx"]), float(d["tileHeight"]), float(d["gap"])
        t, k = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
        t, k = t.ravel(), k.ravel()  # tile t (neuron), weight k in a 4x4 tile
        x = (t % cols) * (tw + gap) + (k % 4 + 0.5) * tw / 4
        y = (t // cols) * (th + gap) + (k // 4 + 0.5) * th / 4
        where = list(zip(x, y, strict=True))
        got = pixels(page, "nnviz-mosaic", where)
        want = diverging_rgb(change[t, k], float(d["scaleMax"]))
        assert np.abs(got - want).max() <= 3, f"since {since}: tiles are the change of each weight"
        caption = page.evaluate("""() => {
            const c = document.querySelector('div.nnviz-mosaic canvas.nnviz-colorbar');
            return c.height / (window.devicePixelRatio || 1);
        }""")
        assert caption == 48  # room for the caption naming the reference frame
        assert f"since the {since} frame" in page.locator("div.nnviz-mosaic").inner_text()
        assert not errors
        page.screenshot(path=str(SCREENSHOTS / f"mosaic-change-{since}.png"))
        context.close()


def _moons_run(hidden, epochs, every):
    X, y = nnv.datasets.moons(300, noise=0.2, seed=0)
    torch.manual_seed(1)
    layers, width = [], 2
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, 2))
    rec = nnv.Recorder(model, X, y, grid=50, every=every)
    opt = torch.optim.Adam(model.parameters(), 3e-2)
    Xt, yt = torch.as_tensor(rec.X), torch.as_tensor(rec.y)
    for epoch in range(epochs + 1):
        if epoch:
            loss = nn.functional.cross_entropy(model(Xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
        rec.capture(epoch=epoch, loss=float(nn.functional.cross_entropy(model(Xt), yt)))
    return rec


def test_compare_page_aligns_runs_by_epoch_and_draws_each(chromium, tmp_path):
    from nnviz_widgets.export.video import class_colors, fill_rgb

    wide, deep = _moons_run([64], 12, 1), _moons_run([8, 8, 8], 12, 3)  # deep: a frame every 3 epochs
    cmp = nnv.Compare(wide, deep.run, view="boundary", names=["wide", "deep"])
    assert [len(r) for r in cmp.runs] == [13, 5] and cmp.reference == 0
    assert cmp.frame_for(1, 7) == 2  # epoch 7: deep's frame of epoch 6
    path = cmp.to_html(tmp_path / "compare.html")
    cmp.close()
    context, page, requests, errors = open_offline(chromium, path)
    assert not errors and not [u for u in requests if not u.startswith(("file:", "blob:", "data:"))]
    assert page.locator("section.view h2").all_inner_texts() == ["wide", "deep"]
    page.wait_for_selector('div.nnviz-boundary[data-frames="13"][data-epoch="12"]')
    sections = page.locator("section.view").all_inner_texts()
    assert [text.count(name) for text, name in zip(sections, ("wide", "deep"), strict=True)] == [1, 1], (
        "each run named once"
    )
    page.wait_for_selector('div.nnviz-boundary[data-frames="5"][data-epoch="4"]')
    for _ in range(5):
        page.locator("#player button.nnviz-step-back").click()  # player at epoch 7
    page.wait_for_selector('div.nnviz-player[data-epoch="7"]')
    epochs = page.evaluate("[...document.querySelectorAll('div.nnviz-boundary')].map(e => e.dataset.drawnEpochNumber)")
    assert epochs == ["7", "6"]  # each run at the same moment of training
    roots = page.locator("div.nnviz-boundary")
    for k, (run, index) in enumerate(((wide.run, 7), (deep.run, 2))):
        d = roots.nth(k).evaluate("e => Object.assign({}, e.dataset)")
        left, top, pw, ph = (float(d[key]) for key in ("plotLeft", "plotTop", "plotWidth", "plotHeight"))
        xmin, xmax, ymin, ymax = run.grid.extent
        probs, colors = run[index].boundary, fill_rgb(run[index].arrays["boundary"], class_colors(2))
        xs, ys = run.grid
        cells = [(i, j) for i in range(2, len(ys) - 2, 3) for j in range(2, len(xs) - 2, 3)
                 if probs[i - 1 : i + 2, j - 1 : j + 2].max(axis=-1).min() > 0.85]  # fmt: skip
        dots = np.array([(left + (x - xmin) / (xmax - xmin) * pw, top + (ymax - y) / (ymax - ymin) * ph)
                         for x, y in run.points])  # fmt: skip
        where, want = [], []
        for i, j in cells:
            cx, cy = left + (xs[j] - xmin) / (xmax - xmin) * pw, top + (ymax - ys[i]) / (ymax - ymin) * ph
            if np.hypot(*(dots - (cx, cy)).T).min() > 8:
                where.append((cx, cy))
                want.append(colors[i, j])
        assert len(where) >= 20
        got = np.asarray(roots.nth(k).evaluate(
            """(root, pts) => {
                const c = root.querySelector('canvas.nnviz-plot'), ctx = c.getContext('2d');
                const s = c.width / c.clientWidth;
                const at = ([x, y]) => ctx.getImageData(Math.floor(x * s), Math.floor(y * s), 1, 1).data;
                return pts.map((p) => Array.from(at(p)).slice(0, 3));
            }""", [list(map(float, p)) for p in where]), dtype=float)  # fmt: skip
        assert np.abs(got - np.asarray(want, dtype=float)).max() <= 12, f"run {k}: pixels are its own model's classes"
    page.screenshot(path=str(SCREENSHOTS / "compare-boundary.png"), full_page=True)
    context.close()


def test_a_page_of_one_view_is_headed_by_what_it_shows(tmp_path):
    import re

    rec = _moons_run([8], 2, 1)
    for view, heading in (
        (nnv.DecisionBoundary(rec), "Decision boundary"),
        (nnv.WeightMosaic(rec, layer="0"), "Weights"),
    ):
        page = nnv.export.to_html(view, tmp_path / "one.html").read_text()
        assert re.findall(r"<h2>(.*?)</h2>", page) == [heading], "not the widget's class name"
        view.close()


def test_compare_curves_overlay_one_colour_per_run():
    wide, deep = _moons_run([64], 4, 1), _moons_run([8, 8, 8], 4, 1)
    cmp = nnv.Compare(wide, deep, view="curves")
    assert cmp.names == ["run 1", "run 2"] and list(cmp.figures) == ["loss", "accuracy"]
    lines = [m for m in cmp.figures["loss"].marks if m.labels and m.labels[0].endswith("loss")]
    assert [m.colors[0] for m in lines] == ["#1f77b4", "#ff7f0e"]
    np.testing.assert_allclose(lines[1].y, [f.metrics["loss"] for f in deep.run])
    cmp.player.epoch = 2
    assert list(cmp._cursors[0].x) == [2.0, 2.0]
    with pytest.raises(TypeError, match="two or more runs"):
        nnv.Compare(wide)
    with pytest.raises(ValueError, match="names must be a list of 2"):
        nnv.Compare(wide, deep, names=["a"])
    cmp.close()
