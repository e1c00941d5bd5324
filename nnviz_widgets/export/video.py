"""A recorded run as a video (MP4 or GIF): frames drawn in Python from the same encoded arrays the browser draws.

The picture follows the browser view (js/src/boundary.js and js/src/lib/colormap.js): each grid cell is the
winning class's colour mixed with white, alpha = 0.15 + 0.65 * step / 63 over 64 confidence steps (grey where
the model diverged), smoothed bilinearly between cell centres; the decision boundary where the top class
changes; the data by true class with misclassified points ringed; axes with ticks; a title with the epoch and
metrics; a legend. Frames are drawn at twice the size and halved, which anti-aliases lines, dots and text.

Needs the ``video`` extra (Pillow for drawing, imageio-ffmpeg for MP4): ``pip install nnviz_widgets[video]``.
"""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path

import numpy as np

from .._check import _as_int, flag, is_number, real
from .._files import atomic_path
from ..run import Run
from ..run.codec import DTYPES, Encoded
from ..widgets._base import PALETTE

MIN_FPS = 0.1  # a GIF frame lasts at most 655 s, and slower is never what was meant
VIEWS = ("boundary", "mosaic", "dashboard")
SIZE = (640, 560)  # multiples of 16, so H.264 needs no padding
MOSAIC_SIZE = (480, 560)
DASHBOARD_SIZE = (SIZE[0] + MOSAIC_SIZE[0], SIZE[1])
# The weight mosaic's diverging map (js/src/lib/mosaic.js, after ColorBrewer's RdBu): blue - white - red.
DIVERGING_STOPS = [
    (-1, (5, 48, 97)), (-0.6, (33, 102, 172)), (-0.3, (146, 197, 222)), (0, (247, 247, 247)),
    (0.3, (244, 165, 130)), (0.6, (178, 24, 43)), (1, (103, 0, 31)),
]  # fmt: skip
LUT_SIZE = 256
MARGIN = {"left": 58, "right": 16, "top": 34, "bottom": 76}  # the legend sits under the x-axis label
LEVELS = 64  # confidence steps, as js/src/lib/colormap.js: a ramp that reads as continuous
DIVERGED_GREY = (187, 187, 187)
SUPERSAMPLE = 2
EXTRA = "pip install 'nnviz_widgets[video]'"


def _need(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"video export needs {module.split('.')[0]}: install the video extra with `{EXTRA}`") from err


# -- colours (the same arithmetic as js/src/lib/colormap.js) ------------------------------------------------
def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def class_colors(k: int) -> np.ndarray:
    """(k, 3) uint8 class colours: the tab10 palette the browser uses."""
    return np.array([_rgb(PALETTE[i % len(PALETTE)]) for i in range(k)], dtype=np.float64)


def _band(p: np.ndarray, k: int) -> np.ndarray:
    c = (p - 1 / k) / (1 - 1 / k) if k > 1 else np.ones_like(p)
    return np.minimum(LEVELS - 1, np.floor(np.clip(c, 0, 1) * LEVELS)).astype(np.int64)


def band_lut(colors: np.ndarray) -> np.ndarray:
    """(K, LEVELS, 3) uint8: class colour k at confidence band b mixed with white (JS ``blend``)."""
    alpha = 0.15 + 0.65 * np.arange(LEVELS) / (LEVELS - 1)
    mixed = 255 * (1 - alpha[None, :, None]) + colors[:, None, :] * alpha[None, :, None]
    return np.floor(mixed + 0.5).astype(np.uint8)  # Math.round: halves go up


def fill_rgb(boundary: Encoded, colors: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 cell colours of an encoded (H, W, K) probability grid, image row 0 = grid row 0."""
    h = boundary.header
    codes = np.frombuffer(boundary.data, dtype=DTYPES[h["dtype"]]).reshape(h["shape"])
    k = codes.shape[-1]
    if h["dtype"] == "float32":
        values = codes.astype(np.float64)
        bad = np.isnan(values).any(axis=-1)
    else:  # decoded as the JS does it, in float64 from the codes
        values = codes * float(h["scale"]) + float(h["offset"])
        bad = (codes == h["nan"]).any(axis=-1) if h.get("nan") is not None else np.zeros(codes.shape[:-1], bool)
    winner = np.nan_to_num(values, nan=-np.inf).argmax(axis=-1)
    best = np.take_along_axis(values, winner[..., None], axis=-1)[..., 0]
    out = band_lut(colors[:k])[winner, _band(np.nan_to_num(best), k)]
    out[bad] = DIVERGED_GREY
    return out


# -- small helpers shared with the browser's look ---------------------------------------------------------
def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], int]:
    """Ticks at 1, 2 or 5 times a power of ten, about ``count`` of them, and their decimals (js/src/lib/axes.js)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [], 0
    rough = (hi - lo) / max(1, count)
    power = 10 ** math.floor(math.log10(rough))
    step = next((m * power for m in (1, 2, 5, 10) if m * power >= rough), 10 * power)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    i = math.ceil(lo / step - 1e-9)
    ticks = []
    while i * step <= hi + step * 1e-9:
        ticks.append(round(i * step, decimals))
        i += 1
    return ticks, decimals


def format_metric(value: float) -> str:
    """3 significant digits without trailing zeros: 0.9500 -> "0.95" (js ``formatMetric``)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    text = repr(float(f"{value:.3g}"))
    return text[:-2] if text.endswith(".0") else text


def _interpolate(probs: np.ndarray, pw: int, ph: int) -> np.ndarray:
    """(ph, pw, K) probabilities at the plot's pixel centres, bilinear between grid points (as the fill is)."""
    Image = _need("PIL.Image")  # noqa: N806
    hgt, wid, k = probs.shape
    box = (0.5, 0.5, wid - 0.5, hgt - 0.5)
    layers = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(probs[::-1, :, c])).resize(
                (pw, ph), Image.Resampling.BILINEAR, box=box
            )
        )
        for c in range(k)
    ]
    return np.stack(layers, axis=-1)


def _boundary_mask(probs: np.ndarray) -> np.ndarray:
    """Pixels where the winning class changes (not where the model diverged), thickened to ~1.5 px."""
    win = probs.argmax(axis=-1)
    ok = np.isfinite(probs).all(axis=-1)
    edge = np.zeros(win.shape, bool)
    right = (win[:, 1:] != win[:, :-1]) & ok[:, 1:] & ok[:, :-1]
    down = (win[1:] != win[:-1]) & ok[1:] & ok[:-1]
    edge[:, 1:] |= right
    edge[:, :-1] |= right
    edge[1:] |= down
    edge[:-1] |= down
    return edge


def _font(size: int):
    """DejaVu Sans when the system has it (it has subscripts such as x₁), else Pillow's own font."""
    ImageFont = _need("PIL.ImageFont")  # noqa: N806
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


# -- one frame --------------------------------------------------------------------------------------------
def render_frame(run: Run, index: int, *, size: tuple[int, int] = SIZE):
    """Frame ``index`` of ``run`` as a PIL RGB image of ``size`` (width, height), drawn like the browser view.

    >>> render_frame(rec.run, -1).save("last.png")   # doctest: +SKIP
    """
    Image = _need("PIL.Image")  # noqa: N806 - the module's own name
    ImageDraw = _need("PIL.ImageDraw")  # noqa: N806
    if not isinstance(run, Run):
        raise TypeError(f"run must be a nnviz_widgets Run, got {type(run).__name__}")
    if not is_number(index) or _as_int(index) is None or not -len(run) <= _as_int(index) < len(run):
        raise ValueError(f"index must be an int in -{len(run)}..{len(run) - 1} (the run's frames), got {index!r}")
    index = _as_int(index)
    s = SUPERSAMPLE
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all((_as_int(v) or 0) >= 1 for v in size)):
        raise ValueError(f"size must be (width, height) in whole pixels, got {size!r}")
    width, height = (_as_int(v) for v in size)
    frame = run[index]
    boundary = frame.arrays["boundary"]
    k = max(boundary.header["shape"][-1], len(run.classes), 2)
    colors = class_colors(k)
    xmin, xmax, ymin, ymax = run.grid.extent
    left, top = MARGIN["left"] * s, MARGIN["top"] * s
    pw, ph = (width - MARGIN["left"] - MARGIN["right"]) * s, (height - MARGIN["top"] - MARGIN["bottom"]) * s
    img = Image.new("RGB", (width * s, height * s), "white")

    # probabilities as colour: cell centres sit on the extent's linspace, colours blend bilinearly between them
    cells = Image.fromarray(fill_rgb(boundary, colors)[::-1].copy())  # image row 0 = top = ymax
    gw, gh = cells.size
    plot = np.asarray(cells.resize((pw, ph), Image.Resampling.BILINEAR, box=(0.5, 0.5, gw - 0.5, gh - 0.5))).copy()
    plot[_boundary_mask(_interpolate(frame.boundary, pw, ph))] = (34, 34, 34)
    img.paste(Image.fromarray(plot), (left, top))

    draw = ImageDraw.Draw(img)
    font, label_font, title_font = _font(11 * s), _font(12 * s), _font(14 * s)

    def sx(x):
        return left + (x - xmin) / (xmax - xmin) * pw

    def sy(y):
        return top + (ymax - y) / (ymax - ymin) * ph

    # data by true class, white-edged; the misclassified ringed in black, drawn last
    r, ring = 3 * s, 5.5 * s
    predictions = frame.predictions
    wrong = []
    for (x, y), label, pred in zip(run.points, run.labels, predictions, strict=False):
        px, py = sx(float(x)), sy(float(y))
        if not (left <= px <= left + pw and top <= py <= top + ph):
            continue
        draw.ellipse((px - r, py - r, px + r, py + r), fill=tuple(int(c) for c in colors[label % k]), outline="white",
                     width=s)  # fmt: skip
        if pred != label:
            wrong.append((px, py))
    for px, py in wrong:
        draw.ellipse((px - ring, py - ring, px + ring, py + ring), outline="black", width=int(1.5 * s))

    # axes
    draw.rectangle((left, top, left + pw, top + ph), outline=(68, 68, 68), width=s)
    ticks, decimals = nice_ticks(xmin, xmax, max(2, round(pw / s / 80)))
    for t in ticks:
        x = sx(t)
        draw.line((x, top + ph, x, top + ph + 4 * s), fill=(68, 68, 68), width=s)
        draw.text((x, top + ph + 6 * s), f"{t:.{decimals}f}", fill=(51, 51, 51), font=font, anchor="mt")
    ticks, decimals = nice_ticks(ymin, ymax, max(2, round(ph / s / 60)))
    for t in ticks:
        y = sy(t)
        draw.line((left - 4 * s, y, left, y), fill=(68, 68, 68), width=s)
        draw.text((left - 6 * s, y), f"{t:.{decimals}f}", fill=(51, 51, 51), font=font, anchor="rm")
    xlabel, ylabel = (_one_line(a) for a in (list(run.axis_labels) + ["", ""])[:2])
    draw.text((left + pw / 2, top + ph + 22 * s), xlabel, fill=(51, 51, 51), font=label_font, anchor="mt")
    if ylabel:
        tw = int(draw.textlength(ylabel, font=label_font)) + 4 * s
        side = Image.new("RGB", (tw, 16 * s), "white")
        ImageDraw.Draw(side).text((tw / 2, 8 * s), ylabel, fill=(51, 51, 51), font=label_font, anchor="mm")
        side = side.rotate(90, expand=True)
        img.paste(side, (4 * s, int(top + ph / 2 - side.height / 2)))

    # title: epoch and metrics, "diverged" in red
    title = _one_line(
        " · ".join([f"epoch {frame.epoch}"] + [f"{n} {format_metric(v)}" for n, v in frame.metrics.items()])
    )
    draw.text((8 * s, 9 * s), title, fill=(34, 34, 34), font=title_font)
    if frame.diverged:
        x = 8 * s + draw.textlength(title, font=title_font)
        draw.text((x, 9 * s), " · diverged", fill=(214, 39, 40), font=title_font)

    # legend: a swatch and the class name, one row under the axis label
    x, y = left, (height - 20) * s
    for i, name in enumerate(map(_one_line, run.classes)):
        draw.rounded_rectangle((x, y, x + 10 * s, y + 10 * s), radius=2 * s, fill=tuple(int(c) for c in colors[i]))
        draw.text((x + 14 * s, y + 5 * s), str(name), fill=(34, 34, 34), font=font, anchor="lm")
        x += 14 * s + draw.textlength(str(name), font=font) + 12 * s
    return img.reduce(s)


def _one_line(label) -> str:
    """A label as one line: PIL cannot anchor multi-line text, and a class name with a line break (from a CSV
    cell, say) is still that class; it is drawn with spaces for the breaks."""
    return re.sub(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+", " ", str(label))


# -- the weight mosaic and the dashboard ----------------------------------------------------------------------
def diverging_lut() -> np.ndarray:
    """(LUT_SIZE, 3) uint8, -1 to +1: the mosaic's blue-white-red map, rounded as the browser rounds."""
    out = np.zeros((LUT_SIZE, 3), np.uint8)
    for i in range(LUT_SIZE):
        x = 2 * i / (LUT_SIZE - 1) - 1
        k = next(
            k for k in range(1, len(DIVERGING_STOPS)) if x <= DIVERGING_STOPS[k][0] or k == len(DIVERGING_STOPS) - 1
        )
        (x0, c0), (x1, c1) = DIVERGING_STOPS[k - 1], DIVERGING_STOPS[k]
        f = (x - x0) / (x1 - x0)
        out[i] = [math.floor(a + f * (b - a) + 0.5) for a, b in zip(c0, c1, strict=True)]
    return out


def diverging_rgb(values: np.ndarray, m: float) -> np.ndarray:
    """Colours of ``values`` on the symmetric scale ``[-m, m]`` (JS ``divergingColor``); NaN is grey."""
    v = np.asarray(values, np.float64)
    x = np.clip(np.nan_to_num(v / m if m > 0 else v * 0), -1, 1)
    out = diverging_lut()[np.floor((x + 1) / 2 * (LUT_SIZE - 1) + 0.5).astype(np.int64)]
    out[np.isnan(v)] = DIVERGED_GREY
    return out


def mosaic_layer(run: Run, layer=None) -> tuple[str, str, dict, float]:
    """``(layer, show, tiling, scale)`` of a mosaic video: the first recorded layer unless named, its neuron
    outputs when recorded (as the Dashboard shows), and one scale for the whole run (max |value| of every frame)."""
    from ..widgets.mosaic import tile_layout

    if not run.layers:
        raise ValueError("view='mosaic' needs recorded layer weights; the run has none")
    layer = next(iter(run.layers)) if layer is None else str(layer)
    if layer not in run.layers:
        raise ValueError(f"layer {layer!r} was not recorded; recorded layers are {list(run.layers)}")
    show = "outputs" if run.layers[layer].get("outputs") else "weights"
    name = f"{show}/{layer}"
    scale = 0.0
    for frame in run:
        enc = frame.arrays.get(name)
        if enc is not None:  # symmetric codes: the offset is -max|value| of that frame
            scale = max(scale, abs(float(enc.header["offset"])))
    return layer, show, tile_layout(run.layers[layer], show=show), scale


def render_mosaic(run: Run, index: int, *, layer=None, size: tuple[int, int] = MOSAIC_SIZE, plan=None):
    """Frame ``index``'s weight mosaic (one tile per neuron, blue-white-red on the run's one scale) as a PIL image.
    Colour-input filters (3 channels) are drawn as the mean of their channels.

    >>> render_mosaic(rec.run, -1).save("weights.png")   # doctest: +SKIP
    """
    Image = _need("PIL.Image")  # noqa: N806
    ImageDraw = _need("PIL.ImageDraw")  # noqa: N806
    layer, show, lay, m = plan or mosaic_layer(run, layer)
    frame = run[index]
    width, height = size
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    title = " · ".join(
        [f"{layer} {show}", f"epoch {frame.epoch}"] + [f"{n} {format_metric(v)}" for n, v in frame.metrics.items()]
    )
    draw.text((8, 9), title, fill=(34, 34, 34), font=_font(13))
    enc = frame.arrays.get(f"{show}/{layer}")
    n = min(lay["tiles"], lay["page_size"])
    cols, rows = lay["cols"], lay["rows"]
    top, bar_h, gap = 34, 44, 2
    tile = max(1, min((width - 16) // cols, (height - top - bar_h) // rows) - gap)
    if enc is not None:
        flat = enc.decode().reshape(-1)
        per = lay["values"]
        for t in range(n):
            vals = flat[t * per : (t + 1) * per]
            if lay["rgb"]:
                vals = vals.reshape(3, -1).mean(axis=0)
            cells = np.full(lay["h"] * lay["w"], np.nan)
            cells[: len(vals)] = vals[: len(cells)]
            cells = cells.reshape(lay["h"], lay["w"])
            if lay.get("flip"):
                cells = cells[::-1]
            rgb = diverging_rgb(cells, m)
            rgb[np.isnan(cells)] = (230, 230, 230) if not np.isnan(vals).any() else DIVERGED_GREY
            tile_img = Image.fromarray(rgb.astype(np.uint8)).resize((tile, tile), Image.Resampling.NEAREST)
            img.paste(tile_img, (8 + (t % cols) * (tile + gap), top + (t // cols) * (tile + gap)))
    # colour bar: the scale and what it means
    y = height - bar_h + 8
    ramp = diverging_lut()[np.linspace(0, LUT_SIZE - 1, width - 80).astype(int)][None].repeat(10, axis=0)
    img.paste(Image.fromarray(ramp), (40, y))
    font = _font(11)
    for x, text in ((40, f"{-m:.3g}"), (40 + (width - 80) / 2, "0"), (width - 40, f"{m:.3g}")):
        draw.text((x, y + 13), text, fill=(51, 51, 51), font=font, anchor="mt")
    return img


def render_curves(run: Run, index: int, *, size: tuple[int, int] = (MOSAIC_SIZE[0], 240)):
    """Loss and accuracy (each metric family in its own panel) up to frame ``index``, the frame marked."""
    Image = _need("PIL.Image")  # noqa: N806
    ImageDraw = _need("PIL.ImageDraw")  # noqa: N806
    width, height = size
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font(11)
    frames = list(run)
    names = [n for n in dict.fromkeys(k for f in frames for k in f.metrics)]
    families = {}
    for n in names:
        families.setdefault(n.removeprefix("val_").removeprefix("train_"), []).append(n)
    panels = list(families.items())[:2]
    xs = [f.epoch for f in frames]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    ph = (height - 8) // max(1, len(panels))
    for p, (_family, members) in enumerate(panels):
        top, left, right, bottom = 8 + p * ph + 14, 48, width - 10, 8 + (p + 1) * ph - 18
        values = [v for f in frames for n in members if math.isfinite(v := f.metrics.get(n, math.nan))]
        lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
        lo, hi = (lo - 0.5, hi + 0.5) if hi <= lo else (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))

        def sx(x, left=left, right=right):
            return left + (x - x0) / (x1 - x0) * (right - left)

        def sy(y, top=top, bottom=bottom, lo=lo, hi=hi):
            return bottom - (y - lo) / (hi - lo) * (bottom - top)

        draw.rectangle((left, top, right, bottom), outline=(68, 68, 68))
        ticks, dec = nice_ticks(lo, hi, 3)
        for t in ticks:
            draw.text((left - 4, sy(t)), f"{t:.{dec}f}", fill=(51, 51, 51), font=font, anchor="rm")
        for j, n in enumerate(members):
            pts = [
                (sx(f.epoch), sy(f.metrics[n]))
                for f in frames[: index + 1]
                if math.isfinite(f.metrics.get(n, math.nan))
            ]
            color = _rgb(PALETTE[j % len(PALETTE)])
            if len(pts) > 1:
                draw.line(pts, fill=color, width=2)
            now = frames[index].metrics.get(n, math.nan)
            draw.text((left + 4 + 120 * j, top - 13), f"{n} {format_metric(now)}", fill=color, font=font)
        x = sx(frames[index].epoch)
        draw.line((x, top, x, bottom), fill=(85, 85, 85), width=1)
    return img


def render_dashboard(run: Run, index: int, *, layer=None, plan=None):
    """The boundary, the weight mosaic and the curves of frame ``index``, side by side, as one PIL image."""
    Image = _need("PIL.Image")  # noqa: N806
    img = Image.new("RGB", DASHBOARD_SIZE, "white")
    img.paste(render_frame(run, index), (0, 0))
    right = (DASHBOARD_SIZE[0] - SIZE[0], DASHBOARD_SIZE[1])
    if run.layers:
        img.paste(render_mosaic(run, index, layer=layer, size=(right[0], right[1] - 240), plan=plan), (SIZE[0], 0))
    img.paste(render_curves(run, index, size=(right[0], 240)), (SIZE[0], right[1] - 240))
    return img


def _renderer(run: Run, view: str, layer):
    if view == "boundary":
        if layer is not None:
            raise ValueError("layer: the boundary video shows no layer; use view='mosaic' or 'dashboard'")
        return lambda i: render_frame(run, i)
    plan = mosaic_layer(run, layer) if view == "mosaic" or run.layers else None
    if view == "mosaic":
        return lambda i: render_mosaic(run, i, plan=plan)
    return lambda i: render_dashboard(run, i, plan=plan)


# -- the video --------------------------------------------------------------------------------------------
class _Progress:
    """A one-line bar on stderr: ``moons.mp4 [#######-------]  40/100``."""

    def __init__(self, label: str, total: int, enabled: bool):
        self.label, self.total, self.enabled = label, total, enabled

    def update(self, done: int) -> None:
        if self.enabled:
            filled = round(30 * done / max(1, self.total))
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'-' * (30 - filled)}] {done:4d}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def to_video(
    run: Run, path: str | Path, *, view: str = "boundary", fps: float = 10, progress: bool = True, layer=None
) -> Path:
    """Write ``run`` as an MP4 (H.264) or GIF, chosen by ``path``'s suffix, one video frame per recorded frame.

    ``view``: ``"boundary"`` (the decision boundary), ``"mosaic"`` (one layer's weights, or its neuron outputs
    when recorded, on one colour scale for the whole run; ``layer`` picks it, default the first recorded) or
    ``"dashboard"`` (the two side by side, with the loss and accuracy curves up to each frame).

    >>> rec.run.to_video("moons.mp4", fps=20)   # doctest: +SKIP
    >>> rec.run.to_video("weights.gif", view="mosaic", layer="0")   # doctest: +SKIP
    """
    if not isinstance(run, Run):
        raise TypeError(f"run must be a nnviz_widgets Run, got {type(run).__name__}")
    if view not in VIEWS:
        raise ValueError(f"view must be one of {list(VIEWS)}, got {view!r}")
    fps = real("fps", fps, lo=MIN_FPS, hi=120, what="video frames per second")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path ending in .mp4 or .gif, got {type(path).__name__}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise ValueError(f"path must end in .mp4 or .gif, got {str(path)!r}")
    if not len(run):
        raise ValueError("the run has no frames yet: capture at least one before exporting")
    progress = flag("progress", progress)
    _need("PIL.Image")
    draw = _renderer(run, view, layer)
    bar = _Progress(path.name, len(run), progress)
    frames = (draw(i) for i in range(len(run)))
    try:
        with atomic_path(path, "the video") as tmp:  # a failed export leaves an existing file as it was
            if suffix == ".gif":
                _write_gif(tmp, frames, fps, bar)
            else:
                _write_mp4(tmp, frames, fps, bar, {"boundary": SIZE, "mosaic": MOSAIC_SIZE}.get(view, DASHBOARD_SIZE))
    finally:
        bar.close()
    return path


def _write_gif(path: Path, frames, fps: float, bar: _Progress) -> None:
    Image = _need("PIL.Image")  # noqa: N806

    def paletted():
        for i, im in enumerate(frames):
            yield im.convert("P", palette=Image.Palette.ADAPTIVE, colors=255)
            bar.update(i + 1)

    it = paletted()
    first = next(it)
    first.save(path, save_all=True, append_images=it, duration=round(1000 / fps), loop=0, optimize=False)


def _write_mp4(path: Path, frames, fps: float, bar: _Progress, size: tuple[int, int]) -> None:
    imageio_ffmpeg = _need("imageio_ffmpeg")
    try:
        imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as err:
        raise RuntimeError(f"no ffmpeg found for MP4 export ({err}); install the video extra with `{EXTRA}`") from err
    writer = imageio_ffmpeg.write_frames(
        str(path), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p", quality=7,
        macro_block_size=16, ffmpeg_log_level="error",
    )  # fmt: skip
    writer.send(None)
    try:
        for i, im in enumerate(frames):
            writer.send(np.ascontiguousarray(np.asarray(im, dtype=np.uint8)))
            bar.update(i + 1)
    finally:
        writer.close()
