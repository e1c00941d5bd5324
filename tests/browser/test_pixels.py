"""What each view draws, pixel by pixel, against what the model or the run computed: exported offline pages in
headless Chromium (the same JS bundle a notebook uses, without a kernel to wait for).

- boundary: every sampled cell's colour is the model's winning class at its confidence band, near the boundary as
  well as far from it, and black rings stand exactly around the points the model gets wrong;
- a diverged frame (NaN weights) is grey in the boundary and in the mosaic, the frame before it is not;
- embedding scatter (2-D, 3-D, and an activation embedding over epochs): every point's screen position is its
  coordinates under one camera, and the pixel there is its class's colour;
- curves: the drawn line passes through every recorded metric value;
- Compare(view="mosaic"): each run's tiles are that run's weights, not the other run's.

Samples are taken where one colour is expected (away from points, lines and tile edges); screenshots go to
artifacts/screenshots/pixels-*.png.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.export.video import DIVERGED_GREY, band_lut, class_colors, diverging_rgb, fill_rgb

from ..conftest import _train as train
from .scatter_pixels import check_scatter, screen_positions
from .test_export_views import SCREENSHOTS, open_offline

pytestmark = pytest.mark.browser
WHITE = np.array([255, 255, 255])


# -- helpers ---------------------------------------------------------------------------------------------------
def canvas_rgb(page, selector: str, n: int = 0) -> np.ndarray:
    """(H, W, 3) ints: the n-th canvas matching ``selector``, read back as PNG (the page's scale is 1)."""
    url = page.evaluate("([s, n]) => document.querySelectorAll(s)[n].toDataURL('image/png')", [selector, n])
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def dataset(page, selector: str, n: int = 0) -> dict:
    return page.evaluate("([s, n]) => Object.assign({}, document.querySelectorAll(s)[n].dataset)", [selector, n])


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"pixels-{name}.png"), full_page=True)


def open_page(chromium, path, selector: str, frames: int):
    """The page at ``path``, once every ``selector`` view holds ``frames`` frames and shows the last."""
    context, page, requests, errors = open_offline(chromium, path)
    page.wait_for_function(
        """([s, n]) => { const all = [...document.querySelectorAll(s)];
                         return all.length > 0 && all.every((e) => e.dataset.frames === String(n)
                             && e.dataset.epoch === String(n - 1) && Number(e.dataset.draws) > 0); }""",
        arg=[selector, frames],
        timeout=30_000,
    )
    assert not errors, errors
    return context, page


def model_probs(model, points: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.as_tensor(points, dtype=torch.float32)), dim=-1).numpy()


def bilinear(cells: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Colours of an image of ``cells`` (row 0 on top) at fractional texel coordinates (u across, v down), blended
    between texel centres as the canvas's smoothed ``drawImage`` does."""
    h, w = cells.shape[:2]
    u, v = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    j0, i0 = np.minimum(np.floor(u).astype(int), w - 2), np.minimum(np.floor(v).astype(int), h - 2)
    fu, fv = (u - j0)[:, None], (v - i0)[:, None]
    c = cells.astype(float)
    top = c[i0, j0] * (1 - fu) + c[i0, j0 + 1] * fu
    bottom = c[i0 + 1, j0] * (1 - fu) + c[i0 + 1, j0 + 1] * fu
    return top * (1 - fv) + bottom * fv


class Plot:
    """The boundary view's data -> CSS px mapping, from the geometry its root reports and the run's extent."""

    def __init__(self, d: dict, extent):
        self.left, self.top = float(d["plotLeft"]), float(d["plotTop"])
        self.width, self.height = float(d["plotWidth"]), float(d["plotHeight"])
        self.xmin, self.xmax, self.ymin, self.ymax = (float(v) for v in extent)

    def __call__(self, x, y):
        x, y = np.asarray(x, float), np.asarray(y, float)
        return (self.left + (x - self.xmin) / (self.xmax - self.xmin) * self.width,
                self.top + (self.ymax - y) / (self.ymax - self.ymin) * self.height)  # fmt: skip


def grid_points(run) -> np.ndarray:
    xs, ys = run.grid
    gx, gy = np.meshgrid(xs, ys)  # row i is ys[i]: the grid's own layout, row 0 at the bottom
    return np.stack([gx, gy], axis=-1)


def far_from(where: np.ndarray, dots: np.ndarray, radius: float) -> np.ndarray:
    """Which of ``where`` (n, 2) lie more than ``radius`` px from every one of ``dots`` (m, 2)."""
    return np.sqrt(((where[:, None, :] - dots[None, :, :]) ** 2).sum(-1)).min(axis=1) > radius


# -- the decision boundary -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moons():
    """A soft moons model: wide confidence bands, some points wrong."""
    X, y = nnv.datasets.moons(200, noise=0.3, seed=1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    rec = nnv.Recorder(model, X, y, grid=60, activations="3")
    train(rec, 8, lr=2e-2)
    return rec


@pytest.fixture(scope="module")
def boundary_page(moons, chromium, tmp_path_factory):
    rec = moons
    view = nnv.DecisionBoundary(rec, width=720, height=620)
    path = nnv.export.to_html(view, tmp_path_factory.mktemp("boundary") / "boundary.html")
    view.close()
    context, page = open_page(chromium, path, "div.nnviz-boundary", len(rec.run))
    yield page
    context.close()


def test_boundary_cells_are_the_models_class_and_confidence_near_the_boundary_too(moons, boundary_page):
    rec = moons
    page, run = boundary_page, rec.run
    probs = model_probs(rec.model, grid_points(run))  # (H, W, K): the model itself, now
    assert np.abs(probs - run[-1].boundary).max() < 0.01, "the recorded grid is the model's (up to quantisation)"
    fill = fill_rgb(run[-1].arrays["boundary"], class_colors(2))  # the colour rule, row 0 = grid row 0
    plot = Plot(dataset(page, "div.nnviz-boundary"), run.grid.extent)
    img = canvas_rgb(page, "div.nnviz-boundary canvas.nnviz-plot")
    shoot(page, "boundary")

    xs, ys = run.grid
    H, W = len(ys), len(xs)
    win = probs.argmax(-1)
    ii, jj = np.meshgrid(np.arange(1, H - 1), np.arange(1, W - 1), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    # no boundary line within a cell: the 3x3 neighbourhood has one winning class
    same = np.array([(win[i - 1 : i + 2, j - 1 : j + 2] == win[i, j]).all() for i, j in zip(ii, jj, strict=True)])
    cx, cy = plot(xs[jj], ys[ii])
    dots = np.stack(plot(*run.points.T), axis=1)
    keep = same & far_from(np.stack([cx, cy], 1), dots, 10)  # points (r 3) and rings (r 6.3) left alone
    ii, jj, px, py = ii[keep], jj[keep], np.floor(cx[keep]).astype(int), np.floor(cy[keep]).astype(int)

    # where each pixel centre falls in the grid image (row 0 on top), as drawImage maps it
    dx, dy = (plot.xmax - plot.xmin) / (W - 1), (plot.ymax - plot.ymin) / (H - 1)
    x0, y0 = plot(plot.xmin - dx / 2, plot.ymax + dy / 2)
    x1, y1 = plot(plot.xmax + dx / 2, plot.ymin - dy / 2)
    u = (px + 0.5 - x0) / ((x1 - x0) / W) - 0.5
    v = (py + 0.5 - y0) / ((y1 - y0) / H) - 0.5
    want = bilinear(fill[::-1], u, v)
    got = img[py, px]
    assert np.abs(got - want).max() <= 6, "each cell is drawn in the colour rule's colour"

    lut = band_lut(class_colors(2)).astype(int)  # (class, band, rgb)
    shown = np.abs(lut[None] - got[:, None, None]).sum(-1).reshape(len(got), -1).argmin(1)
    cls, band = shown // lut.shape[1], shown % lut.shape[1]
    assert (cls == win[ii, jj]).all(), "the hue is the model's winning class"
    p = probs[ii, jj].max(-1)
    steps = lut.shape[1]  # confidence steps of the colour rule (LEVELS)
    unsure, sure = band <= 0.45 * (steps - 1), band >= 0.7 * (steps - 1)
    assert unsure.sum() >= 15 and len(set(band[unsure])) >= 3, f"few low-confidence cells checked: {band}"
    assert sure.sum() >= 15
    assert p[unsure].max() < p[sure].min(), "the lighter bands are the less confident cells"
    ink = (WHITE - got).sum(1)
    assert ink[unsure].mean() < 0.7 * ink[sure].mean(), "low confidence is drawn lighter (mixed with white)"


def ring_darkness(img: np.ndarray, centres: np.ndarray, radius: float = 5.5, k: int = 16) -> np.ndarray:
    """Per centre, the share of ``k`` points on a circle of ``radius`` px whose 3x3 neighbourhood holds a dark
    pixel (a black ring; the boundary line crosses a circle at two places only)."""
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False)
    out = []
    for cx, cy in centres:
        dark = 0
        for a in angles:
            x, y = int(np.floor(cx + radius * np.cos(a))), int(np.floor(cy + radius * np.sin(a)))
            dark += img[y - 1 : y + 2, x - 1 : x + 2].sum(-1).min() < 250
        out.append(dark / k)
    return np.array(out)


def test_rings_are_exactly_around_the_points_the_model_gets_wrong(moons, boundary_page):
    rec = moons
    page, run = boundary_page, rec.run
    labels, predicted = np.asarray(run.labels), np.asarray(run[-1].predictions)
    p = model_probs(rec.model, run.points)
    sure = np.abs(p[:, 0] - p[:, 1]) > 0.02  # a near-tie may round either way in the recorder's float32
    assert (p.argmax(-1) == predicted)[sure].all(), "the recorded predictions are the model's"
    plot = Plot(dataset(page, "div.nnviz-boundary"), run.grid.extent)
    dots = np.stack(plot(*run.points.T), axis=1)
    img = canvas_rgb(page, "div.nnviz-boundary canvas.nnviz-plot")
    gaps = np.sqrt(((dots[:, None] - dots[None]) ** 2).sum(-1)) + np.eye(len(dots)) * 1e9
    inside = (dots[:, 0] > plot.left + 9) & (dots[:, 0] < plot.left + plot.width - 9)
    inside &= (dots[:, 1] > plot.top + 9) & (dots[:, 1] < plot.top + plot.height - 9)
    alone = (gaps.min(1) > 15) & inside  # no other point's ring or dot on this one's circle
    wrong = predicted != labels
    dark = ring_darkness(img, dots[alone])
    assert ((dark >= 0.6) | (dark <= 0.4)).all(), f"a half-drawn ring: {dark}"
    assert wrong[alone].sum() >= 3 and (~wrong[alone]).sum() >= 20, (wrong[alone].sum(), alone.sum())
    ringed = dark >= 0.6
    np.testing.assert_array_equal(ringed, wrong[alone], "ringed exactly where prediction != label")


# -- a diverged frame --------------------------------------------------------------------------------------------
def test_diverged_frame_is_grey_in_the_boundary_and_the_mosaic(chromium, tmp_path):
    X, y = nnv.datasets.moons(120, noise=0.2, seed=2)
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    rec = nnv.Recorder(model, X, y, grid=30)
    train(rec, 3, lr=5e-2)
    with torch.no_grad():  # what an exploding learning rate leaves behind
        for param in model.parameters():
            param.fill_(float("nan"))
    rec.capture(loss=float("nan"))
    run = rec.run
    assert [f.diverged for f in run] == [False, False, False, True]
    path = nnv.export.to_html(rec, tmp_path / "diverged.html", views=["boundary", "mosaic"])
    context, page = open_page(chromium, path, "div.nnviz-boundary, div.nnviz-mosaic", len(run))
    shoot(page, "diverged")

    plot = Plot(dataset(page, "div.nnviz-boundary"), run.grid.extent)
    xs, ys = run.grid
    ii, jj = np.meshgrid(np.arange(1, len(ys) - 1, 2), np.arange(1, len(xs) - 1, 2), indexing="ij")
    cx, cy = plot(xs[jj.ravel()], ys[ii.ravel()])
    where = np.stack([cx, cy], 1)
    where = where[far_from(where, np.stack(plot(*run.points.T), axis=1), 10)]
    assert len(where) >= 40
    px, py = np.floor(where).astype(int).T

    def mosaic_cells(d):  # the centre of each quarter of every tile
        cols, tw, th, gap = int(d["cols"]), float(d["tilePx"]), float(d["tileHeight"]), float(d["gap"])
        quarters = [(t, fx, fy) for t in range(int(d["count"])) for fx in (0.25, 0.75) for fy in (0.25, 0.75)]
        return np.array(
            [((t % cols) * (tw + gap) + fx * tw, (t // cols) * (th + gap) + fy * th) for t, fx, fy in quarters]
        ).astype(int)

    grey = np.array(DIVERGED_GREY)
    b = canvas_rgb(page, "div.nnviz-boundary canvas.nnviz-plot")[py, px]
    assert dataset(page, "div.nnviz-boundary")["diverged"] == "true"
    assert np.abs(b - grey).max() <= 2, "the diverged frame's boundary is grey"
    md = dataset(page, "div.nnviz-mosaic")
    mx, my = mosaic_cells(md).T
    m = canvas_rgb(page, "div.nnviz-mosaic canvas.nnviz-plot")[my, mx]
    assert int(md["diverged"]) > 0 and np.abs(m - grey).max() <= 2, "the diverged frame's tiles are grey"

    page.locator("#player button.nnviz-step-back").click()
    page.wait_for_selector(f'div.nnviz-boundary[data-epoch="{len(run) - 2}"][data-diverged="false"]')
    page.wait_for_selector(f'div.nnviz-mosaic[data-epoch="{len(run) - 2}"]')
    page.wait_for_timeout(100)
    b = canvas_rgb(page, "div.nnviz-boundary canvas.nnviz-plot")[py, px]
    assert (np.abs(b - grey).max(1) > 10).all(), "the frame before it shows the classes"
    m = canvas_rgb(page, "div.nnviz-mosaic canvas.nnviz-plot")[my, mx]
    assert (np.abs(m - grey).max(1) > 2).mean() > 0.9, "the frame before it shows values"
    context.close()


# -- the embedding scatter ---------------------------------------------------------------------------------------
def test_exported_embedding_points_at_each_frames_coordinates_2d_and_3d(moons, chromium, tmp_path):
    """The page of an activation embedding over epochs (2-D and 3-D): at the last frame, a frame stepped back to,
    and (3-D) after an orbit, every point is where that frame's coordinates put it, in its class's colour."""
    rec = moons
    n = len(rec.run)
    seen = {}
    for dims in (2, 3):
        view = nnv.EmbeddingScatter(rec, layer="3", dims=dims, width=520, height=420)
        assert view.wait_sent(60)
        labels = np.frombuffer(view.labels, np.uint8).astype(int)
        assert len(labels) == len(rec.y) and (labels == rec.y).all()  # every row is in the sample here
        path = nnv.export.to_html(view, tmp_path / f"embedding-{dims}d.html")
        context, page = open_page(chromium, path, "div.nnviz-scatter", n)
        for index in (n - 1, n - 4):
            if index != n - 1:
                for _ in range(n - 1 - index):
                    page.locator("#player button.nnviz-step-back").click()
                page.wait_for_selector(f'div.nnviz-scatter[data-epoch="{index}"]')
            coords = view.run[index].arrays["embedding"].decode()
            assert coords.shape == (len(labels), dims)
            seen[f"{dims}d-frame-{index}"] = check_scatter(page, coords, labels, view.colors, f"{dims}d-{index}")
        if dims == 3:  # orbit: the points move on screen, and still sit where one camera puts them
            before = screen_positions(page, len(labels))
            box = page.locator(".nnviz-scatter-overlay").bounding_box()
            page.mouse.move(box["x"] + 150, box["y"] + 150)
            page.mouse.down()
            page.mouse.move(box["x"] + 230, box["y"] + 190, steps=5)
            page.mouse.up()
            assert np.abs(screen_positions(page, len(labels)) - before).max() > 5, "the orbit moved nothing"
            seen["3d-orbited"] = check_scatter(page, coords, labels, view.colors, "3d-orbited")
        view.close()
        context.close()
    print(seen)  # points checked per frame, shown with -s


def test_exported_scatter_of_data_points_at_their_coordinates_2d_and_3d(chromium, tmp_path):
    """A scatter of fixed data (no recorder) exports too: a page without a player whose points sit at the data's
    coordinates in their class colours, in 2-D and in 3-D."""
    from sklearn.datasets import make_blobs

    for dims in (2, 3):
        X, y = make_blobs(300, n_features=dims, centers=3, cluster_std=1.2, random_state=dims)
        view = nnv.EmbeddingScatter(X, y, method=None, dims=dims, width=520, height=420, title=f"blobs {dims}-D")
        path = nnv.export.to_html(view, tmp_path / f"blobs-{dims}d.html")
        view.close()
        context, page, requests, errors = open_offline(chromium, path)
        page.wait_for_function("() => Number(document.querySelector('div.nnviz-scatter').dataset.draws) > 0")
        assert not errors and not [u for u in requests if not u.startswith(("file:", "blob:", "data:"))]
        assert page.locator("div.nnviz-player").is_hidden(), "nothing to play: no player"
        assert dataset(page, "div.nnviz-scatter")["points"] == "300"
        check_scatter(page, X, np.asarray(y), view.colors, f"blobs-{dims}d")
        shoot(page, f"blobs-{dims}d")
        context.close()


# -- the curves of a page --------------------------------------------------------------------------------------
def near_colour(img: np.ndarray, x: float, y: float, rgb, reach: int = 1, tol: float = 80) -> bool:
    """Whether a pixel within ``reach`` px of (x, y) is close to ``rgb`` (an antialiased 1.8 px line)."""
    xi, yi = int(np.floor(x)), int(np.floor(y))
    window = img[yi - reach : yi + reach + 1, xi - reach : xi + reach + 1]
    return bool((np.sqrt(((window - np.asarray(rgb)) ** 2).sum(-1)) < tol).any())


def test_curves_pass_through_every_recorded_metric(moons, chromium, tmp_path):
    rec = moons
    run = rec.run
    path = nnv.export.to_html(rec, tmp_path / "curves.html", views=["curves"])
    context, page = open_page(chromium, path, "div.nnviz-chart", len(run))
    page.locator("#player button.nnviz-step-back").click()  # the cursor off the last epoch's column
    page.wait_for_selector(f'div.nnviz-chart[data-epoch="{len(run) - 2}"]')
    panels = json.loads(dataset(page, "div.nnviz-chart")["panels"])
    img = canvas_rgb(page, "div.nnviz-chart canvas.nnviz-plot")
    shoot(page, "curves")
    train_colour = (31, 119, 180)  # the first member of a panel: js/src/chart.js COLORS[0]
    for panel in panels:
        name = panel["members"][0]
        epochs = np.array([f.epoch for f in run if name in f.metrics], float)
        values = np.array([f.metrics[name] for f in run if name in f.metrics], float)
        assert len(values) == len(run) >= 6, name
        assert panel["y0"] <= values.min() and panel["y1"] >= values.max(), f"{name}: the axis holds every value"

        def sx(x, p=panel):
            return p["left"] + (x - p["x0"]) / (p["x1"] - p["x0"]) * p["width"]

        def sy(v, p=panel):
            return p["top"] + (p["y1"] - v) / (p["y1"] - p["y0"]) * p["height"]

        # every vertex, and the middle of every segment, is on the drawn line
        mid_e, mid_v = (epochs[1:] + epochs[:-1]) / 2, (values[1:] + values[:-1]) / 2
        where = [(sx(e), sy(v)) for e, v in zip(np.r_[epochs, mid_e], np.r_[values, mid_v], strict=True)]
        on = [near_colour(img, x, y, train_colour) for x, y in where]
        assert all(on), f"{name}: the line misses the recorded values at {np.flatnonzero(~np.array(on)).tolist()}"
        # and the check can tell: the same values 6 px lower are mostly off the line
        off = [near_colour(img, x, y + 6, train_colour) for x, y in where]
        assert np.mean(off) < 0.5, f"{name}: the line is too thick to tell where it is"
    context.close()


# -- Compare(view="mosaic") --------------------------------------------------------------------------------------
def test_compare_mosaic_page_shows_each_runs_own_weights(chromium, tmp_path):
    X, y = nnv.datasets.digits()
    X, y = X[:400], y[:400]
    recs = []
    for seed, width in ((0, 16), (1, 9)):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
        rec = nnv.Recorder(model, X, y, grid=10)
        train(rec, 3, lr=1e-2)
        recs.append(rec)
    cmp = nnv.Compare(*recs, view="mosaic", names=["16 wide", "9 wide"])
    path = cmp.to_html(tmp_path / "compare-mosaic.html")
    cmp.close()
    context, page = open_page(chromium, path, "div.nnviz-mosaic", 3)
    shoot(page, "compare-mosaic")
    assert page.locator("section.view h2").all_inner_texts() == ["16 wide", "9 wide"]
    rng = np.random.default_rng(0)
    got_all, picks_all = [], []
    for k, rec in enumerate(recs):
        d = dataset(page, "div.nnviz-mosaic", k)
        assert (d["layer"], d["array"], d["tiles"]) == ("0", "weights/0", str(rec.model[0].out_features))
        weights = [f.weights["0"] for f in rec.run]  # (neurons, 64) each
        m = float(d["scaleMax"])
        assert m == pytest.approx(max(np.abs(w).max() for w in weights), rel=1e-3), "the run's own scale"
        t, p = rng.integers(0, 9, 300), rng.integers(0, 64, 300)  # tiles both runs have
        cols, tw, th, gap = int(d["cols"]), float(d["tilePx"]), float(d["tileHeight"]), float(d["gap"])
        x = (t % cols) * (tw + gap) + (p % 8 + 0.5) * tw / 8
        yy = (t // cols) * (th + gap) + (p // 8 + 0.5) * th / 8
        got = canvas_rgb(page, "div.nnviz-mosaic canvas.nnviz-plot", k)[
            np.floor(yy).astype(int), np.floor(x).astype(int)
        ]
        want = diverging_rgb(weights[-1][t, p], m)
        assert np.abs(got - want).max() <= 3, f"run {k}: its tiles are its last frame's weights"
        got_all.append(got)
        picks_all.append((t, p, m))
    for k in (0, 1):  # and not the other run's: the same tiles coloured by the other weights differ
        t, p, _ = picks_all[k]
        other = recs[1 - k].run[-1].weights["0"][t, p]
        assert np.abs(got_all[k] - diverging_rgb(other, picks_all[1 - k][2])).max(1).mean() > 20
    context.close()
