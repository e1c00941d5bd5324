"""Embedding benchmarks: t-SNE / UMAP wall time and trustworthiness, and the scatter's frame times in
headless Chromium (pan/zoom in 2-D, orbit in 3-D, at 100k and 1M points) and its load time at 1M.

    .venv/bin/python benchmarks/bench_embed.py               # everything (the t-SNE part takes minutes)
    .venv/bin/python benchmarks/bench_embed.py --part browser
    .venv/bin/python benchmarks/bench_embed.py --part browser --bundle /tmp/old/scatter.js --sizes 100000
    .venv/bin/python benchmarks/bench_embed.py --part tsne --n 20000
    .venv/bin/python benchmarks/bench_embed.py --part tsne --n 20000 --data classification
    .venv/bin/python benchmarks/bench_embed.py --part tsne --n 70000 --methods ours opentsne --seeds 0

t-SNE part: our default path, the same with exaggeration 1, openTSNE's defaults and scikit-learn at its best
(``n_jobs=-1``), alternately, on generated data (no downloads): ``digits`` (scikit-learn's digits upsampled to
28x28, noised copies) or ``classification`` (``make_classification``, 784 features, most of them noise).

Browser part: the built bundle (nnviz_widgets/static/scatter.js; ``--bundle OLD.js`` adds another, measured
side by side with it, each size and dims alternately, in one browser) rendered in a bare page with a stand-in
model (no Jupyter), points generated in the page. "draw" is one draw call and a 1-pixel readback (the whole
GPU work, done on the CPU by SwiftShader here); "frame" is the interval between animation frames while the
camera moves every frame (what a person sees). "load" is from handing over the coordinates to the first
finished draw (GPU work included); "longest block" is the longest gap of a 10 ms heartbeat timer during a second
load of the same points, up to 300 ms after its first draw, without the readback (a frozen tab would show seconds).
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
BUNDLE = REPO / "nnviz_widgets" / "static" / "scatter.js"
CHROMIUM = "/usr/bin/chromium"

PAGE = """<!doctype html><html><body style="margin:0"><div id="host"></div>
<script type="module">
import widget from "./scatter.js";
function fakeModel(traits) {
  const state = {...traits}, handlers = new Map();
  const emit = (n, ...a) => [...(handlers.get(n) ?? [])].forEach((f) => f(...a));
  return { get: (n) => state[n], set(n, v) { if (state[n] !== v) { state[n] = v; emit(`change:${n}`); } },
    save_changes() {}, send() {},
    on(n, f) { if (!handlers.has(n)) handlers.set(n, new Set()); handlers.get(n).add(f); },
    off(n, f) { handlers.get(n)?.delete(f); } };
}
function points(n, dims) {
  // ten Gaussian clusters, deterministic
  let s = 1;
  const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const pos = new Float32Array(n * dims), lab = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 10; lab[i] = c;
    for (let d = 0; d < dims; d++) pos[i * dims + d] = Math.cos(c * 2.1 + d * 1.3) * 6 + gauss();
  }
  return {pos, lab};
}
window.bench = async (n, dims) => {
  const host = document.getElementById("host");
  host.replaceChildren();
  const {pos, lab} = points(n, dims);
  const model = fakeModel({_uid: `b${n}-${dims}-${Math.random()}`, epoch: 0, playing: false, speed: 10, loop: true,
    follow: true, controls: false, dims, coords: new DataView(new ArrayBuffer(0)), labels: new DataView(lab.buffer),
    n_points: n, classes: [...Array(10).keys()].map(String),
    colors: ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"],
    hidden: [], selection: [], images: new DataView(new ArrayBuffer(0)), image_shape: [], density: "off",
    point_size: 0, axis_labels: ["a", "b"], source_kind: "data", width: 800, height: 600, title: ""});
  const el = document.createElement("div"); host.append(el);
  widget.initialize({model});
  widget.render({model, el});
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
  const root = el.querySelector(".nnviz-scatter");
  // a 1-pixel readback waits for the GPU's work (gl.finish alone may return before ANGLE/SwiftShader has drawn)
  const gl = root.querySelector("canvas.nnviz-plot").getContext("webgl"), px = new Uint8Array(4);
  const sync = () => gl?.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  // load: hand over the coordinates, wait for the first draw and for the GPU to finish it
  const t0 = performance.now();
  const draws0 = Number(root.dataset.draws);
  model.set("coords", new DataView(pos.buffer));
  while (Number(root.dataset.draws) === draws0) await new Promise((ok) => requestAnimationFrame(ok));
  sync();
  const load = performance.now() - t0;
  // longest block: the same load again (a copy of the data) with no readback, watched by a 10 ms heartbeat
  let last = performance.now(), longest = 0;
  const beat = setInterval(() => { const t = performance.now(); longest = Math.max(longest, t - last); last = t; }, 10);
  const draws1 = Number(root.dataset.draws);
  model.set("coords", new DataView(pos.slice().buffer));
  while (Number(root.dataset.draws) === draws1) await new Promise((ok) => requestAnimationFrame(ok));
  await new Promise((ok) => setTimeout(ok, 300));
  clearInterval(beat);
  const overlay = root.querySelector(".nnviz-scatter-overlay");
  const r = overlay.getBoundingClientRect();
  const at = (x, y) => ({clientX: r.left + x, clientY: r.top + y, button: 0, pointerId: 1, bubbles: true});
  // draw: synchronous draw, then a 1-pixel readback (gl.finish alone returns before ANGLE/SwiftShader has drawn)
  const draw = [];
  overlay.dispatchEvent(new PointerEvent("pointerdown", at(400, 300)));
  for (let k = 0; k < 30; k++) {
    overlay.dispatchEvent(new PointerEvent("pointermove", at(400 + 3 * (k + 1), 300 + (k % 5))));
    const s = performance.now(); root.nnvizScatter.drawNow(); sync(); draw.push(performance.now() - s);
  }
  overlay.dispatchEvent(new PointerEvent("pointerup", at(490, 300)));
  // frame: the camera moves every animation frame (drag, then wheel zoom), measure frame intervals
  const frames = [];
  let moving = "";
  overlay.dispatchEvent(new PointerEvent("pointerdown", at(400, 300)));
  let prev = performance.now();
  for (let k = 0; k < 40; k++) {
    if (k < 20) overlay.dispatchEvent(new PointerEvent("pointermove", at(400 - 3 * (k + 1), 300)));
    else overlay.dispatchEvent(new WheelEvent("wheel", {...at(400, 300), deltaY: k % 2 ? -40 : 40, cancelable: true}));
    if (k === 19) overlay.dispatchEvent(new PointerEvent("pointerup", at(340, 300)));
    await new Promise((ok) => requestAnimationFrame(ok));
    const t = performance.now(); frames.push(t - prev); prev = t;
    if (k === 10) moving = `${root.dataset.drawnPoints ?? "?"} ${root.dataset.drawMode ?? "points"}`;
  }
  return {renderer: root.dataset.renderer, name: root.dataset.rendererName, load, longest, draw, frames, moving,
    points: Number(root.dataset.points)};
};
window.bare = async () => {  // the floor: animation frames of this page with nothing drawn
  document.getElementById("host").replaceChildren();
  const frames = [];
  let prev = performance.now();
  for (let k = 0; k < 40; k++) {
    await new Promise((ok) => requestAnimationFrame(ok));
    const t = performance.now(); frames.push(t - prev); prev = t;
  }
  return frames;
};
window.floor = async () => {  // the floor of any WebGL view: an 800x600 canvas only cleared, every frame
  const host = document.getElementById("host");
  const c = document.createElement("canvas"); c.width = 800; c.height = 600; host.replaceChildren(c);
  const gl = c.getContext("webgl", {antialias: false, preserveDrawingBuffer: true});
  const frames = [];
  let prev = performance.now();
  for (let k = 0; k < 40; k++) {
    gl.clearColor(1, 1, (k % 2) * 0.5, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    await new Promise((ok) => requestAnimationFrame(ok));
    const t = performance.now(); frames.push(t - prev); prev = t;
  }
  host.replaceChildren();
  return frames;
};
window.ready = true;
</script></body></html>"""


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def p95(xs):
    return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)] if xs else float("nan")


def _serve(text: str):
    return lambda route: route.fulfill(body=text, content_type="text/javascript")


def bench_browser(sizes=(100_000, 1_000_000), bundles=(("current", BUNDLE),)) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--headless", "--no-sandbox", "--enable-unsafe-swiftshader",
                                           "--use-angle=swiftshader", "--ignore-gpu-blocklist"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.route("http://bench.local/*/", lambda r: r.fulfill(body=PAGE, content_type="text/html"))
        for k, (_, path) in enumerate(bundles):  # bundle k is served at /k/scatter.js
            page.route(f"http://bench.local/{k}/scatter.js", _serve(pathlib.Path(path).read_text()))
        page.goto("http://bench.local/0/")
        page.wait_for_function("window.ready === true")
        bare = page.evaluate("() => window.bare()")
        print(f"  bare page (nothing drawn): frame p50 {median(bare):.1f} ms, p95 {p95(bare):.1f} ms", flush=True)
        floor = page.evaluate("() => window.floor()")
        print(f"  an 800x600 WebGL canvas only cleared: frame p50 {median(floor):.1f} ms, p95 {p95(floor):.1f} ms")
        for n in sizes:
            for dims in (2, 3):
                for k, (label, _) in enumerate(bundles):  # alternate: old and new see the same machine load
                    page.goto(f"http://bench.local/{k}/")
                    page.wait_for_function("window.ready === true")
                    res = page.evaluate("([n, d]) => window.bench(n, d)", [n, dims])
                    rows.append({"bundle": label, "points": n, "dims": dims, **res})
                    print(
                        f"  {label:>8} {n:>9,} pts {dims}-D  {res['renderer']}: load {res['load']:.0f} ms, "
                        f"draw p50 {median(res['draw']):.1f} ms, frame p50 {median(res['frames']):.1f} ms",
                        flush=True,
                    )
        browser.close()
    return rows


def upsampled_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n x 784: scikit-learn's 1,797 8x8 digits upscaled to 28x28, drawn with replacement, each copy noised a little
    (no shift): at n=20,000 about 11 near-copies of each image, which matters to UMAP (see the README)."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    d = load_digits()
    big = np.stack([zoom(img, 3.5, order=1) for img in d.images]).reshape(len(d.images), -1) / 16.0
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(big), n)
    X = big[pick] + rng.normal(0, 0.08, size=(n, big.shape[1]))
    return X.astype(np.float32), d.target[pick]


def classification_784(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n x 784, a second kind of data: scikit-learn's ``make_classification``, 10 classes of 3 Gaussian clusters
    each on the vertices of a 20-dimensional hypercube, 40 redundant features (linear mixes of those) and 724 noise
    features, then standardised: no near-copies, and most of each distance is noise."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n, 784, n_informative=20, n_redundant=40, n_classes=10, n_clusters_per_class=3,
                               class_sep=2.0, random_state=seed)  # fmt: skip
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), y


DATA = {"digits": upsampled_digits, "classification": classification_784}


def trust(X, Y, k=10, m=5000, seed=0) -> float:
    """Trustworthiness on a random subsample of m rows (the full 20k x 20k distance matrices do not fit)."""
    from sklearn.manifold import trustworthiness

    idx = np.random.default_rng(seed).choice(len(X), min(m, len(X)), replace=False)
    return float(trustworthiness(X[idx], Y[idx], n_neighbors=k))


TSNE_METHODS = {
    "ours": "nnv.embed(X, 'tsne'): our default path",
    "ours-x1": "nnv.embed(X, 'tsne', exaggeration=1): the same without the >= 10,000-point exaggeration",
    "opentsne": "openTSNE.TSNE(n_jobs=-1) defaults, raw 784 features",
    "sklearn": "sklearn TSNE(init='pca', n_jobs=-1), raw 784 features",
}


def bench_tsne(
    n: int, data: str = "digits", seeds=(0, 1), methods=tuple(TSNE_METHODS), umap=False, options=None
) -> list[dict]:
    """Each method in turn, one seed at a time (so every method sees the same machine load), one row per run;
    t-SNE's trustworthiness moves by ~0.0005 from seed to seed. scikit-learn's PCA-initialised result does not
    depend on the seed: it runs on the first seed only."""
    X, _ = DATA[data](n)
    rows = []

    def timed(what, seed, fn):
        t = time.perf_counter()
        Y = fn(seed)
        rows.append({"what": what, "seed": seed, "s": time.perf_counter() - t, "trust": trust(X, Y)})
        print(f"  {rows[-1]}", flush=True)

    def run(method, seed):
        import nnviz_widgets as nnv

        if method == "ours":  # --option: our path with other settings (exaggeration=1.5, pca_dims=0, ...)
            return nnv.embed(X, "tsne", seed=seed, cache=False, **(options or {}))
        if method == "ours-x1":
            return nnv.embed(X, "tsne", seed=seed, cache=False, exaggeration=1)
        if method == "opentsne":
            import openTSNE

            return np.asarray(openTSNE.TSNE(n_jobs=-1, random_state=seed).fit(X))
        from sklearn.manifold import TSNE

        return TSNE(2, random_state=seed, init="pca", n_jobs=-1).fit_transform(X)

    for k, seed in enumerate(seeds):
        for method in methods:
            if method != "sklearn" or k == 0:
                timed(method, seed, lambda s, m=method: run(m, s))
    if umap:
        import nnviz_widgets as nnv

        timed("umap", 0, lambda seed: nnv.embed(X, "umap", seed=seed, cache=False))
    return rows


def print_tsne(rows: list[dict], n: int, data: str) -> None:
    print(f"\n| method ({n:,} x 784, {data}) | runs | wall s (each) | trustworthiness (each) |\n|---|---:|---:|---:|")
    by = {}
    for r in rows:
        by.setdefault(r["what"], []).append(r)
    for what, rs in by.items():
        label = TSNE_METHODS.get(what, "nnv.embed(X, 'umap')")
        times = " / ".join(f"{r['s']:.0f}" for r in rs)
        trusts = " / ".join(f"{r['trust']:.4f}" for r in rs)
        print(f"| {label} | {len(rs)} | {times} | {trusts} |")
    if "ours" in by:
        ours = median([r["s"] for r in by["ours"]])
        for other in ("sklearn", "opentsne"):
            if other in by:
                print(
                    f"\nours vs {TSNE_METHODS[other]}: {median([r['s'] for r in by[other]]) / ours:.1f}x faster "
                    f"(median wall times); median trustworthiness {median([r['trust'] for r in by['ours']]):.4f} "
                    f"vs {median([r['trust'] for r in by[other]]):.4f}"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("all", "browser", "tsne"), default="all")
    ap.add_argument("--n", type=int, default=20_000, help="rows for the t-SNE part (784 features)")
    ap.add_argument("--data", choices=tuple(DATA), default="digits", help="t-SNE part: which generated data")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="t-SNE part: seeds (one run each)")
    ap.add_argument("--methods", nargs="+", choices=tuple(TSNE_METHODS), default=list(TSNE_METHODS),
                    help="t-SNE part: which to run")  # fmt: skip
    ap.add_argument("--option", action="append", default=[], metavar="NAME=NUMBER",
                    help="t-SNE part: an nnv.embed option for 'ours', e.g. --option exaggeration=1.5")  # fmt: skip
    ap.add_argument("--umap", action="store_true", help="t-SNE part: add UMAP (numba compiles first: minutes)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="points, browser part")
    ap.add_argument("--bundle", action="append", default=[], metavar="JS",
                    help="another built scatter.js (a copy of the old one), measured beside the current")  # fmt: skip
    args = ap.parse_args()
    if args.part in ("all", "browser"):
        print("scatter in headless Chromium (800x600 px):", flush=True)
        bundles = [("current", BUNDLE)] + [(pathlib.Path(b).parent.name or b, b) for b in args.bundle]
        rows = bench_browser(args.sizes, bundles)
        print(
            "\n| bundle | points | dims | load ms | longest block ms | draw p50 / p95 ms | frame p50 / p95 ms "
            "| drawn while moving |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for r in rows:
            print(
                f"| {r['bundle']} | {r['points']:,} | {r['dims']} | {r['load']:.0f} | {r['longest']:.0f} | "
                f"{median(r['draw']):.1f} / {p95(r['draw']):.1f} | {median(r['frames']):.1f} / {p95(r['frames']):.1f} "
                f"| {r['moving']} |"
            )
        print(f"\nWebGL renderer: {rows[0]['name']}")
    if args.part in ("all", "tsne"):
        import os

        load = os.getloadavg()[0]
        print(
            f"\nt-SNE on {args.n:,} x 784 ({args.data}), trustworthiness k=10 on 5,000 rows; every method uses all "
            f"{os.cpu_count()} cores (n_jobs=-1); load average {load:.1f} at the start",
            flush=True,
        )
        options = {k: float(v) if "." in v else int(v) for k, v in (o.split("=", 1) for o in args.option)}
        if options:
            print(f"'ours' runs with {options}", flush=True)
        rows = bench_tsne(args.n, args.data, args.seeds, args.methods, umap=args.umap, options=options)
        print_tsne(rows, args.n, args.data)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
