"""A recorded run as one self-contained, offline HTML page: our JS bundles and the encoded frames inlined.

Each view on the page is the same front-end module the notebook uses, rendered on a small stand-in for its
widget model (the view's own synced state, read from the real widget) and handed the same ``frames`` message
(docs/wire-format.md). One player drives every view's ``epoch`` in the page. Nothing is fetched from a network:
the frame bytes are deflated and base64-encoded in the page and inflated by the browser's ``DecompressionStream``.

:func:`to_html` writes the plain page; :func:`report` the page a person would publish (``nnviz report``): a
summary of the run and one line per view saying what to look for, readable in light and dark.
"""

from __future__ import annotations

import base64
import html
import json
import os
import zlib
from pathlib import Path

import traitlets as t

from .._check import text
from .._files import atomic_path
from ..run import Run
from ..widgets._base import FrameView, bundle, source_run
from ..widgets._stream import frames_message
from ..widgets.boundary import DecisionBoundary
from ..widgets.histograms import WeightHistograms
from ..widgets.mosaic import WeightMosaic
from ..widgets.player import Player
from ..widgets.scatter import EmbeddingScatter

VIEWS = ("boundary", "mosaic", "embedding", "histograms", "curves")
HINTS = {
    "boundary": "Colour is the class the network predicts there, lighter where it is unsure; the black line is "
    "the decision boundary. Watch it bend around the data, and the ringed (misclassified) points disappear.",
    "mosaic": "One tile per neuron: its incoming weights (blue negative, red positive) or its output over the "
    "plane. Tiles that stay pale never learned anything; tiles that sharpen are features forming.",
    "embedding": "The recorded layer's activations, projected to 2-D or 3-D, one dot per data point coloured by "
    "its class. The classes pull apart as the layer learns to separate them.",
    "histograms": "Each layer's weights over epochs, darker where more of them lie. A band that widens is a "
    "layer growing; a flagged layer died (stopped changing) or exploded.",
    "curves": "Loss and accuracy against epoch; the dashed line is the frame shown. A gap between train and "
    "validation is overfitting.",
}
NAMES = {
    "boundary": "Decision boundary",
    "mosaic": "Weights",
    "embedding": "Embedding",
    "histograms": "Weight histograms",
    "curves": "Metrics",
}
_STREAM = {"transport": "messages", "keep_state": 0}  # the page carries every frame itself: no history in state
_BASE_TRAITS = {"layout", "tabbable", "tooltip"}  # ipywidgets' own, nothing our modules read

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<style>
:root {{ --fg: #222; --muted: #555; --bg: #fff; --card: #f6f7f9; --line: #d0d4da; }}
@media (prefers-color-scheme: dark) {{
  :root {{ --fg: #e8e8e8; --muted: #b8bcc4; --bg: #16181c; --card: #22252b; --line: #3a3f47; }}
}}
body {{ font-family: system-ui, sans-serif; margin: 24px; color: var(--fg); background: var(--bg); }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 16px; margin: 0 0 2px; }}
p.sub, p.hint {{ color: var(--muted); margin: 0 0 12px; max-width: 60em; }}
.nnviz-boundary, .nnviz-player, .nnviz-histograms, .nnviz-chart, .nnviz-mosaic, .nnviz-scatter {{
  color: var(--fg) !important; }}
canvas {{ outline: 1px solid var(--line); }}
.nnviz-check:has(.nnviz-follow) {{ display: none !important; }}
.summary {{ border-collapse: collapse; margin: 0 0 16px; }}
.summary th {{ text-align: left; padding: 2px 16px 2px 0; color: var(--muted); font-weight: 500; }}
.summary td {{ padding: 2px 16px 2px 0; }}
#player {{ position: sticky; top: 0; z-index: 2; background: var(--bg); padding: 6px 0;
  border-bottom: 1px solid var(--line); }}
.views {{ display: flex; flex-wrap: wrap; gap: 20px; margin-top: 12px; }}
section.view {{ background: var(--card); padding: 10px 12px; border-radius: 6px; max-width: 100%; overflow-x: auto; }}
section.view .hint {{ max-width: {hint_width}px; font-size: 13px; }}
</style></head>
<body><h1>{title}</h1><p class="sub">{subtitle}</p>{summary}<div id="player"{player_hidden}></div>
<div class="views">{sections}</div>
<script type="module">
const BUNDLES = {bundles};
const VIEWS = {views};
const DATA = "{data}";

function fromBase64(text) {{
  const raw = atob(text), out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}}
async function inflate(bytes) {{
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}}
// A stand-in for the widget model: the front-end only needs get / set / on / off / send / save_changes.
function staticModel(state) {{
  const handlers = new Map();
  const emit = (name, ...args) => (handlers.get(name) || []).forEach((cb) => cb(...args));
  return {{
    get: (key) => state[key],
    set: (key, value) => {{ if (state[key] === value) return; state[key] = value; emit("change:" + key, value); }},
    on: (name, cb) => handlers.set(name, [...(handlers.get(name) || []), cb]),
    off: (name, cb) => handlers.set(name, cb ? (handlers.get(name) || []).filter((h) => h !== cb) : []),
    send: () => {{}},
    save_changes: () => {{}},
    emit,
  }};
}}
const modules = {{}};
for (const [name, source] of Object.entries(BUNDLES)) {{
  const url = URL.createObjectURL(new Blob([source], {{ type: "text/javascript" }}));
  modules[name] = (await import(url)).default;
}}
const models = [];
for (const view of VIEWS) {{
  const state = {{ ...view.state }};
  for (const [key, text] of Object.entries(view.bytes)) {{
    const b = fromBase64(text);
    state[key] = new DataView(b.buffer);
  }}
  const model = staticModel(state);
  const widget = modules[view.bundle];
  if (widget.initialize) await widget.initialize({{ model }});
  widget.render({{ model, el: document.getElementById(view.el) }});
  models.push(model);
}}
// one player: its epoch moves every view, as jslink does in a notebook
const [player, ...others] = models;
player.on("change:epoch", () => others.forEach((m, k) => {{
  const i = player.get("epoch"), align = VIEWS[k + 1].align;
  m.set("epoch", align ? align[Math.min(i, align.length - 1)] : i);
}}));
// in a function: the inflated bytes are garbage once the stores have copied each frame out of them
async function deliver() {{
  const all = await inflate(fromBase64(DATA));
  VIEWS.forEach((view, k) => {{
    const buffers = [];
    let at = view.offset;
    for (const size of view.sizes) {{ buffers.push(new DataView(all.buffer, at, size)); at += size; }}
    models[k].emit("msg:custom", view.message, buffers);
  }});
}}
await deliver();
document.body.dataset.ready = "true";
</script></body></html>
"""


class _Curves(FrameView):
    """Metric curves drawn from the frames on a canvas (``js/src/chart.js``): the page's ``curves`` view, which
    needs no bqplot."""

    _bundle = "chart.js"
    width = t.Int(360).tag(sync=True)
    height = t.Int(220).tag(sync=True)
    title = t.Unicode("").tag(sync=True)


def _js(value) -> str:
    """JSON that is safe inside a <script>: no '<' can close the tag or open a comment."""
    return json.dumps(value).replace("<", "\\u003c")


def page_views(source, views=None, *, width: int = 420, height: int = 360) -> tuple[Run, dict[str, FrameView]]:
    """The run and the views (name -> widget) a page of ``source`` shows: a Run or Recorder (``views`` default:
    every view the run can show), a Dashboard (its views), or one view widget. The caller closes the widgets."""
    from ..widgets.dashboard import Dashboard, _check_views, _make

    if isinstance(source, FrameView):
        if views is not None:
            raise TypeError("views: a page of one view shows that view; pass a run or recorder to choose views")
        return source.run, {_view_key(source): source}
    if isinstance(source, Dashboard):
        run = source.run
        names = list(source.views) if views is None else _check_views(views)
        explicit = True
    else:
        run = source_run(source)
        names = _check_views(views)
        explicit = views is not None
    made: dict[str, FrameView] = {}
    try:
        for name in names:
            if name == "curves":
                made[name] = _Curves(run, width=width, height=height * 2 // 3, **_STREAM)
                continue
            origin = run if isinstance(source, Dashboard) else source
            view = _make(name, origin, run, width, height, _STREAM, explicit=explicit)
            if isinstance(view, FrameView):
                made[name] = view
    except Exception:
        for view in made.values():
            view.close()
        raise
    return run, made


def _view_key(view: FrameView) -> str:
    """The page's name for a view widget (a key of ``NAMES``), so a page of one view is headed like a dashboard's."""
    kinds = ((DecisionBoundary, "boundary"), (WeightMosaic, "mosaic"), (EmbeddingScatter, "embedding"),
             (WeightHistograms, "histograms"), (_Curves, "curves"))  # fmt: skip
    return next((key for cls, key in kinds if isinstance(view, cls)), type(view).__name__)


def _spec(widget: FrameView, el: str, bundles: dict, blob: list[bytes], offset: int, **overrides) -> tuple[dict, int]:
    """One view's entry in the page: its module, state (bytes apart, base64), frames message and byte sizes."""
    state = widget.get_state()
    state = {k: v for k, v in state.items() if k == "_uid" or not (k.startswith("_") or k in _BASE_TRAITS)}
    state.update(overrides)
    byte_traits = {
        k: base64.b64encode(bytes(v)).decode() for k, v in state.items() if isinstance(v, (bytes, memoryview))
    }
    plain = {k: v for k, v in state.items() if k not in byte_traits}
    if isinstance(widget, EmbeddingScatter):  # its frames are projected on a thread
        widget.wait_sent(timeout=300)
    run = widget._state.run  # what the view streams: the run, or a view of it (a mosaic's pages, projections)
    message, buffers = frames_message(run, list(range(len(run))), widget._arrays, seq=1)
    if widget._bundle not in bundles:
        bundles[widget._bundle] = bundle(widget._bundle).read_text()
    blob.extend(buffers)
    sizes = [len(b) for b in buffers]
    return {"bundle": widget._bundle, "el": el, "state": plain, "bytes": byte_traits, "message": message,
            "sizes": sizes, "offset": offset}, offset + sum(sizes)  # fmt: skip


def write_page(
    source,
    path: str | Path,
    *,
    views=None,
    title: str | None = None,
    subtitle: str | None = None,
    summary: list[tuple[str, str]] | None = None,
    hints: bool = False,
    width: int = 420,
    height: int = 360,
) -> Path:
    """The page behind :func:`to_html` and :func:`report`; see there."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}")
    if title is not None:
        title = text("title", title)
    if subtitle is not None:
        subtitle = text("subtitle", subtitle)
    run = source.run if isinstance(source, FrameView) else source_run(source)
    still = isinstance(source, FrameView) and getattr(source, "source_kind", "") == "data"  # a scatter of data X
    if not len(run) and not still:
        raise ValueError("the run has no frames yet: capture at least one before exporting")
    if still and not len(run):  # nothing to play: the page names the data instead of the final epoch
        title = title or source.title or type(source).__name__
        subtitle = subtitle if subtitle is not None else f"nnviz_widgets · {source.n_points} points"
    run, shown = page_views(source, views, width=width, height=height)
    entries = [(name, NAMES.get(name, name), widget, None) for name, widget in shown.items()]
    try:
        sections, bundles, specs, blob = _views_page(run, entries, hints=hints)
    finally:
        if not isinstance(source, FrameView):
            for widget in shown.values():
                widget.close()
    return _write(run, path, title, subtitle, summary, sections, bundles, specs, blob, width)


def _views_page(run: Run, entries, *, hints: bool = False):
    """``(sections, bundles, specs, blob)`` of a page: a player over ``run`` and each ``(key, label, widget,
    align)`` entry; ``align`` maps the player's frame index to the view's (None: the same index)."""
    player = Player(run, **_STREAM)
    try:
        bundles: dict[str, str] = {}
        blob: list[bytes] = []
        last = len(run) - 1
        spec, offset = _spec(player, "player", bundles, blob, 0, epoch=last, follow=False, playing=False)
        specs, sections = [spec], []
        for k, (key, label, widget, align) in enumerate(entries):
            el = f"view-{k}"
            overrides = {"epoch": last if align is None else align[last], "follow": False, "playing": False}
            if "controls" in widget.trait_names():
                overrides["controls"] = False
            if str(getattr(widget, "title", "")).strip().lower() == label.strip().lower():
                overrides["title"] = ""  # the section's heading names it already: the view's caption shows the epoch
            spec, offset = _spec(widget, el, bundles, blob, offset, **overrides)
            spec["align"] = align
            specs.append(spec)
            hint = f'<p class="hint">{html.escape(HINTS[key])}</p>' if hints and key in HINTS else ""
            sections.append(f'<section class="view" data-view="{html.escape(key)}"><h2>{html.escape(label)}</h2>'
                            f'{hint}<div id="{el}"></div></section>')  # fmt: skip
    finally:
        player.close()
    return sections, bundles, specs, blob


def _write(run, path, title, subtitle, summary, sections, bundles, specs, blob, width) -> Path:
    final = run[-1] if len(run) else None
    metrics = " · ".join(f"{k} {v:.3g}" for k, v in final.metrics.items()) if final else ""
    title = title or f"{len(run)} epochs, {len(run.classes)} classes"
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary or [])
    page = _PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(
            subtitle if subtitle is not None else f"nnviz_widgets · final epoch {final.epoch}: {metrics}"
        ),
        summary=f'<table class="summary">{rows}</table>' if rows else "",
        player_hidden="" if len(run) else " hidden",  # fixed data: nothing to play
        sections="".join(sections),
        hint_width=max(300, width),
        bundles=_js(bundles),
        views=_js(specs),
        data=base64.b64encode(zlib.compress(b"".join(blob), 6)).decode(),
    )
    with atomic_path(path, "the HTML page") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)


def write_compare(cmp, path: str | Path, *, title: str | None = None) -> Path:
    """A :class:`~nnviz_widgets.widgets.compare.Compare` as one offline page: each run's view, named, and one
    player over the run with the most frames; the others show their frame of the same epoch."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}")
    ref = cmp.runs[cmp.reference]
    ref_epochs = [f.epoch for f in ref]
    made = []
    try:
        for k, run in enumerate(cmp.runs):
            if cmp.view == "curves":
                made.append(_Curves(run, title=cmp.names[k], **_STREAM))
            else:
                made.append(type(cmp.views[k])(run, **_copy_options(cmp.views[k]), **_STREAM))
        entries = [(cmp.view, cmp.names[k], w, [cmp.frame_for(k, e) for e in ref_epochs]) for k, w in enumerate(made)]
        sections, bundles, specs, blob = _views_page(ref, entries)
    finally:
        for w in made:
            w.close()
    names = " vs ".join(cmp.names)
    return _write(ref, path, title or names, f"nnviz_widgets · {names}, aligned by epoch", None, sections, bundles,
                  specs, blob, 360)  # fmt: skip


def _copy_options(view) -> dict:
    """The options a Compare view was made with, to make the same view for the page."""
    keep = ("width", "height", "title", "layer", "show") if hasattr(view, "layer") else ("width", "height", "title")
    return {k: getattr(view, k) for k in keep if k in view.trait_names()}


def to_html(source, path: str | Path, *, views=None, title: str | None = None) -> Path:
    """Write one self-contained offline HTML page that plays ``source``: a Run, a Recorder, a Dashboard or one
    view. ``views`` picks from ``"boundary"``, ``"mosaic"``, ``"embedding"``, ``"histograms"``, ``"curves"``
    (default: every view the run can show, or the Dashboard's); one player moves them all. Returns the path.

    >>> nnv.export.to_html(rec, "moons.html", views=["boundary", "curves"])   # doctest: +SKIP
    """
    return write_page(source, path, views=views, title=title)


def report(source, path: str | Path, *, views=None, title: str | None = None) -> Path:
    """Write the page a person would publish about a run: a title, the run's summary (model, data, epochs, final
    metrics), every view it can show (or ``views``) with one line saying what to look for, and one player.
    Readable in light and dark (it follows the reader's colour scheme). ``nnviz report RUN -o report.html``.

    >>> nnv.export.report(rec, "report.html", title="Wide vs deep on moons")   # doctest: +SKIP
    """
    run = source.run if isinstance(source, FrameView) else source_run(source)
    if not len(run):
        raise ValueError("the run has no frames yet: capture at least one before writing a report")
    first, last = run[0], run[-1]
    rows = [("model", _model_summary(source, run))]
    rows.append(("data", f"{len(run.points):,} points, {len(run.classes)} classes ({', '.join(run.classes[:10])}); "
                         f"drawn on {' / '.join(run.axis_labels)}"))  # fmt: skip
    rows.append(("epochs", f"{first.epoch} to {last.epoch} ({len(run)} frames)"))
    finals = ", ".join(f"{k} {v:.4g}" for k, v in last.metrics.items()) or "none recorded"
    rows.append(("final", finals + (" (diverged)" if last.diverged else "")))
    best = [f.metrics["accuracy"] for f in run if "accuracy" in f.metrics]
    if best:
        at = max(range(len(best)), key=best.__getitem__)
        rows.append(("best accuracy", f"{best[at]:.4g}"))
    subtitle = "Press play, or drag the slider: every view below moves to the same epoch."
    return write_page(source, path, views=views, title=title or "What the network learned", subtitle=subtitle,
                      summary=rows, hints=True)  # fmt: skip


def _model_summary(source, run: Run) -> str:
    """ "Sequential: Linear 2→16, ReLU, ... (306 parameters)" from the recorder's model, else the recorded layers."""
    model = getattr(source, "model", None)
    if model is not None and hasattr(model, "named_modules"):
        leaves = [m for _, m in model.named_modules() if not list(m.children())]
        parts = []
        for m in leaves[:12]:
            shape = getattr(getattr(m, "weight", None), "shape", None)
            parts.append(f"{type(m).__name__} {shape[1]}→{shape[0]}" if shape is not None and len(shape) == 2
                         else type(m).__name__)  # fmt: skip
        more = f", … ({len(leaves) - 12} more)" if len(leaves) > 12 else ""
        params = sum(p.numel() for p in model.parameters())
        return f"{type(model).__name__}: {', '.join(parts)}{more} ({params:,} parameters)"
    layers = [f"{info['type']} {info['shape'][1]}→{info['shape'][0]}" for info in run.layers.values()]
    return ", ".join(layers) if layers else "not recorded"
