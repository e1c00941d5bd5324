"""Every view is legible in a dark theme: in JupyterLab Light and Dark, and under VS Code's widget manager in a dark
theme, each title, legend, axis label, tick, note and control of a Dashboard (boundary, weight mosaic, activation
embedding, metric curves, player) has a contrast ratio of at least 4.5:1 (WCAG AA) against what is behind it,
measured twice: from computed styles (HTML text, alpha composited over the backgrounds behind it) and from pixels
(SVG text of the bqplot figures and the text the views paint on canvases). Canvases keep their light colours and
get a frame; the curves' dashed cursor keeps 3:1 (WCAG's ratio for graphics).

VS Code draws every widget output on a white box (vscode-jupyter's renderer styles.css,
``.cell-output-ipywidget-background``) with JupyterLab's light variables (labvariables.css), so there the views
stay light in a dark theme; what is checked is that nothing takes the dark theme's light text onto that box.

The weight histograms panel draws its layer names, numbers and axes on a canvas: they take the theme's text colour
on the page's own background (only the strips stay light pictures), and each layer's header fits the panel. At
800 px (JupyterLab's file browser open) in the dark theme, the player's controls stay on one line and a header with
long metric names is cut with an ellipsis instead of running off the page.

Screenshots: artifacts/screenshots/theme-{lab-light,lab-dark,vscode-dark,lab-dark-800}.png (gitignored).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from .conftest import SCREENSHOTS
from .vscode_host import VSCodePage

pytestmark = pytest.mark.browser

AA = 4.5
GRAPHICS = 3.0

CELL = """\
import torch
from torch import nn
import nnviz_widgets as nnv

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = nnv.datasets.moons(200, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.Recorder(model, X, y, grid=40, activations="1")
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
for epoch in range(12):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.capture(loss=float(loss))
dash = nnv.Dashboard(rec, width=260, height=220)
dash"""

# Text of the dashboard from computed styles: each element with its own text, or a control; its colour composited
# over the backgrounds behind it (the page's white when none is set). Also each SVG text box and canvas label
# region, for the pixel check, and the frames of the canvases.
PROBE = """(root) => {
    const parse = (c) => {
        const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
        if (!m) return null;
        const p = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
    const background = (el) => {
        const layers = [];
        for (let n = el; n; n = n.parentElement) {
            const c = parse(getComputedStyle(n).backgroundColor);
            if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
        }
        return layers.reverse().reduce((bg, c) => over(c, bg), [255, 255, 255, 1]);
    };
    const shown = (el) => { const r = el.getBoundingClientRect();  // what Playwright counts as visible
                            return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
    const text = [];
    for (const el of root.querySelectorAll('*')) {
        if (el.closest('svg') || !shown(el)) continue;
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!own && !['BUTTON', 'SELECT'].includes(el.tagName)) continue;
        const bg = background(el);
        const what = `${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}`;
        // a legend's line sample drawn with box-drawing characters is a graphic (3:1), not text
        const graphic = /^[\u2500-\u25ff\\s]+$/.test(el.textContent.trim());
        text.push({what: `${what} "${el.textContent.trim().slice(0, 24)}"`, graphic,
                   fg: over(parse(getComputedStyle(el).color), bg), bg});
    }
    // pixels: each SVG text, and the colour bar (its labels below the ramp), screenshot by their probe number
    const pixels = [...root.querySelectorAll('svg text')].filter((t) => t.textContent.trim() && shown(t))
        .map((t) => ({what: `svg "${t.textContent.trim().slice(0, 24)}"`, el: t, skip: 0}));
    const bar = root.querySelector('canvas.nnviz-colorbar');
    if (bar && shown(bar)) pixels.push({what: 'colour-bar labels', el: bar, skip: 16});
    pixels.forEach((p, i) => p.el.setAttribute('data-nnviz-probe', String(i)));
    const plot = root.querySelector('.nnviz-boundary canvas.nnviz-plot');
    const pageBg = background(plot.parentElement);
    const frames = [...root.querySelectorAll('.nnviz-boundary canvas.nnviz-plot, .nnviz-mosaic canvas.nnviz-zoom')]
        .filter(shown).map((c, i) => { c.setAttribute('data-nnviz-frame', String(i));
                         return {what: c.closest('.nnviz-boundary') ? 'boundary' : 'mosaic',
                                 outline: getComputedStyle(c).outlineStyle}; });
    const cursor = [...root.querySelectorAll('.bqplot path')].find((p) => {
        const d = getComputedStyle(p).strokeDasharray; return d && d !== 'none'; });
    const dashed = cursor && {stroke: parse(getComputedStyle(cursor).stroke),
                               bg: background(cursor.closest('.bqplot'))};
    // the histograms panel: its canvas's own background (a corner nothing is drawn on) and each layer's header
    // band, where the names and numbers are painted, in the canvas's px; and whether each header fits the canvas
    const hist = root.querySelector('.nnviz-histograms canvas.nnviz-plot');
    let histograms = null;
    if (hist && shown(hist)) {
        const r = hist.getBoundingClientRect(), dataset = hist.closest('.nnviz-histograms').dataset;
        const ctx = hist.getContext('2d');
        ctx.save();
        ctx.font = '600 11px sans-serif';
        const left = Number(dataset.plotLeft);
        const layers = JSON.parse(dataset.layers || '[]').map((l) => ({
            header: l.header, width: ctx.measureText(l.header).width + left,
            band: [l.top - 17, l.top - 2, left, r.width]}));
        ctx.restore();
        histograms = {layers, canvasWidth: r.width, pageBg: background(hist.parentElement)};
    }
    return {text, pixels: pixels.map(({what, skip}) => ({what, skip})), frames, pageBg, cursor: dashed || null,
            histograms};
}"""


def luminance(rgb) -> float:
    c = np.asarray(rgb[:3], dtype=float) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


def contrast(a, b) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def pixel_contrast(png: bytes, skip_rows: int = 0) -> float:
    """Contrast of the ink in a screenshot against its background: the most common colour is the background, the
    pixel farthest from it in contrast is the ink (text strokes reach their colour at their centre even when their
    edges are anti-aliased)."""
    from PIL import Image

    crop = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)[skip_rows:].reshape(-1, 3)
    assert len(crop), "an empty screenshot"
    colours, counts = np.unique(crop, axis=0, return_counts=True)
    bg = colours[np.argmax(counts)]
    return max(contrast(c, bg) for c in colours)


def measure(page, root, name: str) -> dict:
    """Every check on the dashboard ``root`` (a locator); saves ``theme-<name>.png``; returns what failed."""
    root.scroll_into_view_if_needed(timeout=5_000)
    probe = root.evaluate(PROBE)
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SCREENSHOTS / f"theme-{name}.png"), timeout=15_000)
    low = []
    for t in probe["text"]:
        r = contrast(t["fg"], t["bg"])
        if r < (GRAPHICS if t["graphic"] else AA):
            low.append(f"{t['what']}: {r:.2f}:1 (text {t['fg'][:3]} on {t['bg'][:3]})")
    for i, t in enumerate(probe["pixels"]):
        shot = root.locator(f'[data-nnviz-probe="{i}"]').screenshot(timeout=10_000)
        r = pixel_contrast(shot, t["skip"])
        if r < AA:
            low.append(f"{t['what']}: {r:.2f}:1 from pixels")
    for i, f in enumerate(probe["frames"]):
        if f["outline"] != "solid":
            low.append(f"the {f['what']} canvas has no frame")
        shot = root.locator(f'[data-nnviz-frame="{i}"]').screenshot(timeout=10_000)
        corner = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"))[2, 2].astype(int)  # the canvas's own colour
        if contrast(corner, (255, 255, 255)) > 1.2:
            low.append(f"the {f['what']} canvas is not light: {corner.tolist()}")
    cursor = probe["cursor"]
    if cursor is None or contrast(cursor["stroke"], cursor["bg"]) < GRAPHICS:
        low.append(f"the curves' dashed cursor: {cursor}")
    hist = probe["histograms"]
    if hist is None or not hist["layers"]:
        low.append("no weight histograms panel with layers to measure")
    else:
        shot = root.locator(".nnviz-histograms canvas.nnviz-plot").screenshot(timeout=10_000)
        pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"))  # device scale 1: one pixel per CSS px
        corner = pixels[3, 3]  # nothing is drawn there: the panel's own background
        if contrast(corner, hist["pageBg"]) > 1.1:
            low.append(f"the histograms panel's background {corner.tolist()} is not the page's {hist['pageBg'][:3]}")
        for layer in hist["layers"]:
            top, bottom, left, right = (int(round(v)) for v in layer["band"])
            band = io.BytesIO()
            Image.fromarray(pixels[top:bottom, left:right]).save(band, format="PNG")
            r = pixel_contrast(band.getvalue())
            if r < AA:
                low.append(f"histograms header {layer['header']!r}: {r:.2f}:1 from pixels")
            if layer["width"] > hist["canvasWidth"]:
                low.append(f"histograms header {layer['header']!r} runs past the panel ({layer['width']:.0f} px)")
    counted = len(probe["text"]) + len(probe["pixels"]) + (len(hist["layers"]) if hist else 0)
    return {"low": low, "counted": counted, "svg": len(probe["pixels"]) - 1, "pageBg": probe["pageBg"]}


def set_lab_theme(lab, theme: str) -> None:
    lab.page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    light = "true" if theme == "JupyterLab Light" else "false"
    lab.page.wait_for_function("(l) => document.body.dataset.jpThemeLight === l", arg=light, timeout=30_000)
    lab.page.wait_for_timeout(500)  # the theme's stylesheet applied, the views redrawn


def test_dashboard_legible_in_jupyterlab_light_and_dark(lab):
    lab.open_notebook("themes", [CELL])
    lab.run_cell(0, timeout=120_000)
    root = lab.cell(0).locator(".nnviz-dashboard")
    lab.poll(lambda: root.locator(".bqplot svg text").count(), lambda n: n > 10, 30, "the dashboard's figures draw")
    try:
        light = measure(lab.page, root, "lab-light")
        set_lab_theme(lab, "JupyterLab Dark")
        dark = measure(lab.page, root, "lab-dark")
    finally:
        set_lab_theme(lab, "JupyterLab Light")  # the server's settings are shared by the session's other tests
    print(f"JupyterLab Light: {light['counted']} texts measured; Dark: {dark['counted']} on {dark['pageBg'][:3]}")
    assert luminance(dark["pageBg"]) < 0.05, f"the dark theme did not apply: page {dark['pageBg']}"
    assert light["svg"] > 10 and dark["counted"] > 30, (light, dark)
    assert not light["low"], "below AA in JupyterLab Light:\n" + "\n".join(light["low"])
    assert not dark["low"], "below AA in JupyterLab Dark:\n" + "\n".join(dark["low"])


def test_dashboard_legible_in_vscode_dark(browser, jupyter_server, harness_url):
    url, sources = harness_url
    page = VSCodePage(browser, jupyter_server, url, sources, theme="vscode-dark")
    try:
        page.open([CELL])
        page.run_cell(0, timeout=120_000)
        root = page.cell(0).locator(".nnviz-dashboard")
        page.poll(lambda: root.locator(".bqplot svg text").count(), lambda n: n > 10, 30, "the figures draw")
        body = page.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert body == "rgb(31, 31, 31)", f"the page is not in VS Code's dark theme: {body}"
        dark = measure(page.page, root, "vscode-dark")
        print(f"VS Code dark: {dark['counted']} texts measured on {dark['pageBg'][:3]}")
        assert not dark["low"], "below AA under VS Code's widget manager, dark theme:\n" + "\n".join(dark["low"])
        page.assert_no_page_errors()
    finally:
        if page.kernel_id:
            jupyter_server.api(f"/api/kernels/{page.kernel_id}", method="DELETE")
        page.close()


NARROW = """\
import torch
from torch import nn
import nnviz_widgets as nnv

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = nnv.datasets.moons(200, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.Recorder(model, X, y, grid=40)
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X), torch.as_tensor(rec.y)
for epoch in range(6):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.capture(loss=loss.item(), validation_cross_entropy_loss=loss.item() * 1.1,
                balanced_accuracy_on_held_out_rows=0.5 + epoch / 20)
dash = nnv.Dashboard(rec)
dash"""

NARROW_LAYOUT = """(root) => {
    const out = root.closest('.jp-OutputArea-output');
    const right = out.getBoundingClientRect().right;
    const controls = [...root.querySelectorAll('.nnviz-player .nnviz-controls > *')]
        .filter((el) => el.getBoundingClientRect().width > 0);
    const tops = controls.map((el) => Math.round(el.getBoundingClientRect().top));
    const middles = controls.map((el) => { const r = el.getBoundingClientRect(); return r.top + r.height / 2; });
    const status = root.querySelector('.nnviz-status div[title]');
    const header = root.querySelector('.nnviz-header');
    return {n: controls.length, spread: Math.max(...middles) - Math.min(...middles), tops,
            controlsRight: Math.max(...controls.map((el) => el.getBoundingClientRect().right)), right,
            clipped: controls.filter((el) => el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'INPUT')
                .map((el) => el.className),
            headerRight: header.getBoundingClientRect().right, headerHeight: header.getBoundingClientRect().height,
            cut: status.scrollWidth > status.clientWidth, overflow: getComputedStyle(status).textOverflow,
            title: status.title, scroll: out.scrollWidth - out.clientWidth};
}"""


def test_player_and_header_fit_at_800px_in_jupyterlab_dark(lab):
    lab.page.set_viewport_size({"width": 800, "height": 1000})
    lab.open_notebook("themes-800", [NARROW])
    lab.run_cell(0, timeout=120_000)
    root = lab.cell(0).locator(".nnviz-dashboard")
    lab.poll(lambda: root.locator(".nnviz-player").get_attribute("data-frames"), lambda n: n == "6", 30, "6 frames")
    try:
        set_lab_theme(lab, "JupyterLab Dark")
        s = root.evaluate(NARROW_LAYOUT)
        root.screenshot(path=str(SCREENSHOTS / "theme-lab-dark-800.png"), timeout=15_000)
        dark = measure(lab.page, root, "lab-dark-800")
    finally:
        set_lab_theme(lab, "JupyterLab Light")
        lab.page.set_viewport_size({"width": 1280, "height": 1000})
    print(f"800 px: {s}")
    assert s["n"] >= 8 and s["spread"] <= 4, f"the player's controls wrap onto several lines: tops {s['tops']}"
    assert s["controlsRight"] <= s["right"] + 1 and s["headerRight"] <= s["right"] + 1, s
    assert not s["clipped"], f"controls narrower than their text: {s['clipped']}"
    assert s["headerHeight"] < 40, f"the header wraps ({s['headerHeight']} px tall)"
    assert s["cut"] and s["overflow"] == "ellipsis", f"the long header is not cut with an ellipsis: {s}"
    assert "balanced_accuracy_on_held_out_rows" in s["title"], "the whole line is the header's tooltip"
    assert s["scroll"] <= 1, f"the output scrolls sideways by {s['scroll']} px"
    assert not dark["low"], "below AA at 800 px in JupyterLab Dark:\n" + "\n".join(dark["low"])
