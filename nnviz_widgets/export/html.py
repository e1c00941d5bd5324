"""A recorded run as one self-contained, offline HTML page: our JS bundle and the encoded frames inlined.

The page renders the same front-end module the notebook uses, on a small stand-in for the widget model, and
hands it the same ``frames`` message (docs/wire-format.md). Nothing is fetched from a network: the frame bytes
are deflated and base64-encoded in the page and inflated by the browser's ``DecompressionStream``.
"""

from __future__ import annotations

import base64
import html
import json
import os
import zlib
from pathlib import Path

from .._check import text
from .._files import atomic_path
from ..run import Run
from ..widgets._base import bundle
from ..widgets._stream import frames_message
from ..widgets.boundary import boundary_state

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#222}} h1{{font-size:20px;margin:0 0 4px}}
p.sub{{color:#666;margin:0 0 16px}}</style></head>
<body><h1>{title}</h1><p class="sub">{subtitle}</p><div id="view"></div>
<script type="module">
const BUNDLE = {bundle};
const STATE = {state};
const BYTES = {byte_traits};
const MESSAGE = {message};
const SIZES = {sizes};
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
    set: (key, value) => {{ state[key] = value; emit("change:" + key, value); }},
    on: (name, cb) => handlers.set(name, [...(handlers.get(name) || []), cb]),
    off: (name, cb) => handlers.set(name, cb ? (handlers.get(name) || []).filter((h) => h !== cb) : []),
    send: () => {{}},
    save_changes: () => {{}},
    emit,
  }};
}}
const state = {{ ...STATE }};
for (const [key, text] of Object.entries(BYTES)) {{ const b = fromBase64(text); state[key] = new DataView(b.buffer); }}
const model = staticModel(state);
const url = URL.createObjectURL(new Blob([BUNDLE], {{ type: "text/javascript" }}));
const widget = (await import(url)).default;
if (widget.initialize) await widget.initialize({{ model }});
widget.render({{ model, el: document.getElementById("view") }});
// in a function: the inflated bytes are garbage once the store has copied each frame out of them (a module's
// top-level block keeps them alive in its async context)
async function deliver() {{
  const all = await inflate(fromBase64(DATA));
  const buffers = [];
  let at = 0;
  for (const size of SIZES) {{ buffers.push(new DataView(all.buffer, at, size)); at += size; }}
  model.emit("msg:custom", MESSAGE, buffers);
}}
await deliver();
</script></body></html>
"""


def _js(value) -> str:
    """JSON that is safe inside a <script>: no '<' can close the tag or open a comment."""
    return json.dumps(value).replace("<", "\\u003c")


def to_html(run: Run, path: str | Path, *, title: str | None = None) -> Path:
    """Write ``run`` as one offline HTML page that plays its decision boundary; returns the path.

    >>> rec.run.to_html("moons.html")  # doctest: +SKIP
    """
    if not isinstance(run, Run):
        raise TypeError(f"run must be a nnviz_widgets Run, got {type(run).__name__}")
    if not len(run):
        raise ValueError("the run has no frames yet: capture at least one before exporting")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}")
    if title is not None:
        title = text("title", title)
    path = Path(path)
    traits = boundary_state(run)
    byte_traits = {k: base64.b64encode(v).decode() for k, v in traits.items() if isinstance(v, bytes)}
    state = {k: v for k, v in traits.items() if not isinstance(v, bytes)}
    title = title or f"{len(run)} epochs, {len(run.classes)} classes"
    last = run[-1]
    metrics = " · ".join(f"{k} {v:.3g}" for k, v in last.metrics.items())
    state.update(
        epoch=len(run) - 1, playing=False, speed=10.0, loop=True, follow=False, controls=True,
        show_points=True, width=560, height=460, title="",
    )  # fmt: skip
    message, buffers = frames_message(run, list(range(len(run))), ("boundary", "predictions"), seq=1)
    page = _PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(f"nnviz_widgets · final epoch {last.epoch}: {metrics}"),
        bundle=_js(bundle("boundary.js").read_text()),
        state=_js(state),
        byte_traits=_js(byte_traits),
        message=_js(message),
        sizes=_js([len(b) for b in buffers]),
        data=base64.b64encode(zlib.compress(b"".join(buffers), 6)).decode(),
    )
    with atomic_path(path, "the HTML page") as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
