"""Make the README's pictures with the project itself, in JupyterLab and headless Chromium (the browser tests'
harness): ``docs/images/moons-epochs.png`` (notebook 01 at epochs 1, 20 and 100, from
tests/browser/test_notebook_moons.py) and one picture per view: ``boundary.png``, ``mosaic.png``,
``embeddings.png`` and ``dashboard.png``. Each is reduced to a 256-colour PNG and kept under 300 KB.

    .venv/bin/python scripts/readme_images.py            # needs the dev extra and Debian's chromium; ~5 min
    .venv/bin/python scripts/readme_images.py views      # only the four views (or: moons)

Offline: the data are scikit-learn's bundled digits and the built-in 2-D sets.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402  (the video extra, part of dev)
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import conftest as harness  # noqa: E402

OUT = REPO / "docs" / "images"
LIMIT = 300_000  # bytes per picture

SETUP = """\
import torch
from torch import nn
import nnviz_widgets as nnv

torch.set_num_threads(1)"""

# one view per cell: (file name, code whose last line displays it)
VIEWS = [
    (
        "boundary",
        """\
torch.manual_seed(0)
X, y = nnv.datasets.spiral(600, classes=3, turns=1.0, noise=0.04, seed=0)
model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3))
rec = nnv.Recorder(model, X, y)
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
for epoch in range(300):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad(); loss.backward(); opt.step()
    rec.capture(loss=loss.item())
nnv.DecisionBoundary(rec, width=520, height=440, title="spiral, 3 classes")""",
    ),
    (
        "mosaic",
        """\
torch.manual_seed(0)
X, y = nnv.datasets.digits(size=28)
model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
rec = nnv.Recorder(model, X, y, grid=50)
opt = torch.optim.Adam(model.parameters(), 1e-2)
Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
for epoch in range(30):
    loss = nn.functional.cross_entropy(model(Xt), yt)
    opt.zero_grad(); loss.backward(); opt.step()
    rec.capture(loss=loss.item())
nnv.WeightMosaic(rec, layer="0", width=520)""",
    ),
    (
        "embeddings",
        """\
from sklearn.datasets import load_digits
digits = load_digits()
nnv.EmbeddingScatter(digits.data[:1000], digits.target[:1000], method="tsne", images=digits.images[:1000],
                     density="over", width=520, height=440, title="digits, t-SNE")""",
    ),
    (
        "dashboard",
        """\
torch.manual_seed(0)
X, y = nnv.datasets.moons(500, noise=0.2, seed=0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
rec = nnv.fit(model, X, y, epochs=60, lr=1e-2, batch_size=32, val=0.2, grid=100)""",
    ),
]


def save_small(src: Path, dest: Path) -> None:
    """Write ``src`` as a 256-colour PNG at ``dest``, halving its size until it is under LIMIT bytes."""
    image = Image.open(src).convert("RGB")
    while True:
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dest, optimize=True)
        if dest.stat().st_size < LIMIT:
            return
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.Resampling.LANCZOS)


def moons_epochs() -> None:
    """Notebook 01 in JupyterLab at epochs 1, 20 and 100: the browser test writes the strip."""
    test = REPO / "tests" / "browser" / "test_notebook_moons.py"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)], check=True, cwd=REPO)
    save_small(harness.SCREENSHOTS / "notebook-moons-epochs.png", OUT / "moons-epochs.png")


def views() -> None:
    """Each view in its own cell of one notebook; a screenshot of each cell's output."""
    server_cm = contextlib.contextmanager(harness.jupyter_server.__wrapped__)
    with server_cm() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS, headless=True)
        lab = harness.Lab(browser, server)
        lab.page.set_viewport_size({"width": 1280, "height": 2400})  # the dashboard is taller than a screen
        try:
            lab.open_notebook("readme_views", [SETUP] + [code for _, code in VIEWS])
            lab.run_cell(0, timeout=120_000)
            for i, (name, _) in enumerate(VIEWS, start=1):
                t0 = time.monotonic()
                lab.run_cell(i, timeout=300_000)
                output = lab.page.locator(".jp-Cell").nth(i).locator(".jp-OutputArea-output").last
                output.scroll_into_view_if_needed(timeout=10_000)
                time.sleep(4)  # let the sender backfill every frame and the views draw the newest one
                shot = harness.SCREENSHOTS / f"readme-{name}.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                output.screenshot(path=str(shot))
                save_small(shot, OUT / f"{name}.png")
                print(f"{name}: {time.monotonic() - t0:.0f} s, {(OUT / f'{name}.png').stat().st_size / 1e3:.0f} KB")
            lab.assert_no_page_errors()
        finally:
            lab.close()
            browser.close()


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    parts = sys.argv[1:] or ["moons", "views"]
    if "moons" in parts:
        moons_epochs()
    if "views" in parts:
        views()
    print("wrote", ", ".join(sorted(p.name for p in OUT.glob("*.png"))))
