"""Weight mosaic benchmarks: the weight probe's cost per capture next to one training epoch, and the browser's
draw time per frame of a mosaic (headless Debian Chromium, the built js bundle on a stand-in widget model).

    .venv/bin/python benchmarks/bench_mosaic.py
"""

from __future__ import annotations

import base64
import json
import statistics

import numpy as np
import torch
from _timing import median_seconds
from torch import nn

import nnviz_widgets as nnv
from nnviz_widgets.record.weights import WeightProbe
from nnviz_widgets.widgets._base import bundle
from nnviz_widgets.widgets._stream import frames_message
from nnviz_widgets.widgets.mosaic import WeightMosaic, tile_layout

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def probe_vs_epoch(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    probe = WeightProbe(model)
    opt = torch.optim.Adam(model.parameters(), 1e-2)

    def epoch():
        loss = nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return median_seconds(probe.capture, 20, warmup=1), median_seconds(epoch, 10, warmup=1)


PAGE = """<!doctype html><html><body><div id="view"></div><script type="module">
const state = __STATE__;
const handlers = new Map();
const emit = (name, ...args) => (handlers.get(name) || []).forEach((cb) => cb(...args));
const model = { get: (k) => state[k], set: (k, v) => { state[k] = v; emit("change:" + k, v); },
  on: (n, cb) => handlers.set(n, [...(handlers.get(n) || []), cb]),
  off: (n, cb) => handlers.set(n, (handlers.get(n) || []).filter((h) => h !== cb)),
  send: () => {}, save_changes: () => {} };
const url = URL.createObjectURL(new Blob([__BUNDLE__], { type: "text/javascript" }));
const widget = (await import(url)).default;
widget.initialize({ model });
widget.render({ model, el: document.getElementById("view") });
const raw = atob(__DATA__), bytes = new Uint8Array(raw.length);
for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
const buffers = []; let at = 0;
for (const size of __SIZES__) { buffers.push(new DataView(bytes.buffer, at, size)); at += size; }
emit("msg:custom", __MESSAGE__, buffers);
window.__model = model;
</script></body></html>"""


def draw_times(page, run, layer: str, frames: int = 30) -> list[float]:
    tiling = tile_layout(run.layers[layer], page_size=256)
    state = {
        "epoch": 0,
        "playing": False,
        "speed": 10,
        "loop": True,
        "follow": False,
        "controls": True,
        "layer": layer,
        "layer_names": [layer],
        "show": "weights",
        "scale": "layer",
        "tiling": tiling,
        "tile_size": 0,
        "labels": True,
        "page": 0,
        "page_size": 256,
        "pinned": -1,
        "width": 480,
        "title": "",
    }
    # what the widget sends: the whole layer, or only the page on screen when the layer spans pages
    view = WeightMosaic(run, layer=layer, page_size=256)
    message, buffers = frames_message(view._sender.run, list(range(len(run))), view._arrays, seq=1)
    view.close()
    html = (
        PAGE.replace("__STATE__", json.dumps(state))
        .replace("__BUNDLE__", json.dumps(bundle("mosaic.js").read_text()))
        .replace("__MESSAGE__", json.dumps(message))
        .replace("__SIZES__", json.dumps([len(b) for b in buffers]))
        .replace("__DATA__", json.dumps(base64.b64encode(b"".join(buffers)).decode()))
    )
    page.set_content(html)
    page.wait_for_function("() => document.querySelector('.nnviz-mosaic')?.dataset.frames > 0", timeout=60_000)
    return page.evaluate(
        """async (n) => {
            const root = document.querySelector('.nnviz-mosaic'), out = [];
            const total = Number(root.dataset.total);
            for (let i = 0; i < n; i++) {
                window.__model.set('epoch', i % total);
                await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                out.push(Number(root.dataset.drawMs));
            }
            return out;
        }""",
        frames,
    )


def recorded(model: nn.Module, X, y, frames: int):
    rec = nnv.Recorder(
        model, X[:200], y[:200], grid=10, layers=[next(n for n, m in model.named_modules() if isinstance(m, nn.Linear))]
    )
    opt = torch.optim.SGD(model.parameters(), 0.5)
    Xt, yt = torch.as_tensor(X[:200]), torch.as_tensor(y[:200])
    for _ in range(frames):
        loss = nn.functional.cross_entropy(model(Xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.capture()
    return rec.run


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    X, y = nnv.datasets.digits(size=28)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    seed = nn.Sequential(
        nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 25), nn.ReLU(), nn.Linear(25, 10)
    )
    wide = nn.Sequential(nn.Linear(784, 4096), nn.ReLU(), nn.Linear(4096, 10))
    rows = []
    for label, model in [("784-100-64-25-10", seed), ("784-4096-10", wide)]:
        probe, epoch = probe_vs_epoch(model, Xt, yt)
        nbytes = sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight")) * 2
        rows.append(
            (
                f"weight-probe capture, {label} (uint16, {nbytes / 1e6:.2f} MB/frame)",
                f"{probe * 1e3:.2f} ms = {probe / epoch:.1%} of one full-batch Adam epoch ({epoch * 1e3:.0f} ms, "
                "1,797 digits at 28x28)",
                "small next to an epoch",
            )
        )

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        for label, model in [
            ("100 tiles of 28x28 (784-100)", nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))),
            (
                "4096 neurons, a page of 256 tiles of 28x28",
                nn.Sequential(nn.Linear(784, 4096), nn.ReLU(), nn.Linear(4096, 10)),
            ),
        ]:
            run = recorded(model, X, y, frames=6)
            ms = draw_times(page, run, "0")
            rows.append(
                (
                    f"browser draw per frame, {label}",
                    f"{statistics.median(ms):.1f} ms median (p90 {np.percentile(ms, 90):.1f} ms)",
                    "<= 8 ms median",
                )
            )
        browser.close()

    print("| measure | result | target |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
