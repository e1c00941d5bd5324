"""Where an EmbeddingScatter's points are and what colour they are drawn in, for any page that shows one (an
exported page, JupyterLab): every point's screen position (``root.nnvizScatter.screenOf``) must be its coordinates
under one camera (2-D: an axis-aligned map with square pixels; 3-D: any pinhole camera), and the pixel there, on a
screenshot of the plot, its class's colour over the white stage."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .conftest import SCREENSHOTS

WHITE = np.array([255, 255, 255])


def screen_positions(page, n: int, k: int = 0) -> np.ndarray:
    return np.asarray(
        page.evaluate(
            """([n, k]) => { const r = document.querySelectorAll('div.nnviz-scatter')[k];
                             return Array.from({length: n}, (_, i) => r.nnvizScatter.screenOf(i)); }""",
            [n, k],
        ),
        dtype=float,
    )


def fit_camera(coords: np.ndarray, screen: np.ndarray) -> tuple[np.ndarray, float]:
    """The projective camera (3x4; 2-D: an affine map) that best takes ``coords`` to ``screen``, and the largest
    distance in px between where it puts a point and where the view says the point is (DLT, normalised)."""

    def normalise(p):
        mean, scale = p.mean(0), np.sqrt(2) / np.sqrt(((p - p.mean(0)) ** 2).sum(1)).mean()
        t = np.eye(p.shape[1] + 1)
        t[:-1, :-1] *= scale
        t[:-1, -1] = -mean * scale
        return t, np.c_[p, np.ones(len(p))] @ t.T

    if coords.shape[1] == 2:
        A = np.c_[coords, np.ones(len(coords))]
        M, *_ = np.linalg.lstsq(A, screen, rcond=None)
        return M.T, float(np.sqrt(((A @ M - screen) ** 2).sum(1)).max())
    tx, X = normalise(coords)
    tu, U = normalise(screen)
    rows = []
    for x, (u, v, _) in zip(X, U, strict=True):
        rows.append(np.r_[x, 0 * x, -u * x])
        rows.append(np.r_[0 * x, x, -v * x])
    P = np.linalg.svd(np.asarray(rows))[2][-1].reshape(3, 4)
    P = np.linalg.inv(tu) @ P @ tx
    h = np.c_[coords, np.ones(len(coords))] @ P.T
    return P, float(np.sqrt(((h[:, :2] / h[:, 2:] - screen) ** 2).sum(1)).max())


def class_of_pixels(rgb: np.ndarray, colors: np.ndarray, bg=WHITE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel the class whose colour, laid over ``bg`` at some opacity, explains it best, and how far off
    that best explanation is (RGB units), and that opacity."""
    d = rgb[:, None, :] - bg  # (n, 1, 3)
    c = (colors - bg)[None]  # (1, K, 3)
    alpha = np.clip((d * c).sum(-1) / (c * c).sum(-1), 0, 1)
    err = np.sqrt(((d - alpha[..., None] * c) ** 2).sum(-1))
    k = err.argmin(1)
    return k, err[np.arange(len(k)), k], alpha[np.arange(len(k)), k]


def check_scatter(page, coords: np.ndarray, labels: np.ndarray, hexes, name: str, k: int = 0) -> dict:
    """Points at their coordinates (one camera explains every screen position) and drawn in their class colours."""
    n, dims = coords.shape
    screen = screen_positions(page, n, k)
    camera, off = fit_camera(coords.astype(float), screen)
    assert off < 0.75, f"{name}: a point is {off:.2f} px from where one camera puts its coordinates"
    if dims == 2:
        (a, b, _), (c, d, _) = camera
        assert a > 0 > d and abs(b) < 1e-3 * a and abs(c) < 1e-3 * a, f"{name}: x right, y up, no turn: {camera}"
        assert abs(a + d) < 0.01 * a, f"{name}: square pixels: {camera}"
    else:
        depth = np.c_[coords, np.ones(n)] @ camera[2]
        assert (np.sign(depth) == np.sign(depth[0])).all(), f"{name}: every point in front of the camera"
    root = page.locator("div.nnviz-scatter").nth(k)
    root.scroll_into_view_if_needed()
    page.evaluate("(k) => document.querySelectorAll('div.nnviz-scatter')[k].nnvizScatter.drawNow()", k)
    box = root.locator(".nnviz-scatter-overlay").bounding_box()
    png = page.screenshot(clip=box)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img.astype(np.uint8)).save(SCREENSHOTS / f"pixels-scatter-{name}.png")
    h, w = img.shape[:2]
    colors = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in hexes])
    gaps = np.sqrt(((screen[:, None] - screen[None]) ** 2).sum(-1)) + np.eye(n) * 1e9
    near_other = ((gaps < 12) & (labels[:, None] != labels[None])).any(1)  # another class drawn over it, maybe
    inside = (screen[:, 0] >= 2) & (screen[:, 0] < w - 2) & (screen[:, 1] >= 2) & (screen[:, 1] < h - 2)
    alone = ~near_other & inside
    x, y = np.floor(screen[alone]).astype(int).T
    shown, err, alpha = class_of_pixels(img[y, x], colors)
    right = (shown == labels[alone]) & (err < 16) & (alpha > 0.7)
    assert alone.sum() >= min(40, n) and right.mean() >= 0.97, (
        f"{name}: {right.sum()} of {alone.sum()} points show their class colour at their position; "
        f"wrong ones: {img[y, x][~right][:5].tolist()} for classes {labels[alone][~right][:5].tolist()}"
    )
    renderer = page.evaluate("(k) => document.querySelectorAll('div.nnviz-scatter')[k].dataset.renderer", k)
    return {"checked": int(alone.sum()), "right": int(right.sum()), "off_px": off, "renderer": renderer}
