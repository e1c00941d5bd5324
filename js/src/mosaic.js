// WeightMosaic view: every neuron of one layer as a tile (its weights, or its output over the data plane),
// blue–white–red around zero, with a colour bar, a layer picker, paging, hover-to-zoom and click-to-pin.
import { formatMetric } from "./lib/axes.js";
import { createControls, renderTitle, styleElement } from "./lib/controls.js";
import {
  deadTiles, DIVERGING, LUT_SIZE, layerScale, renderTilesRGBA, tileLabel, tileMaxAbs, valueUnder,
} from "./lib/mosaic.js";
import { getSession, initSession } from "./lib/session.js";

const GAP = 2; // px between tiles
const ZOOM = 168; // px, the enlarged tile
const TRAITS = ["epoch", "playing", "speed", "loop", "follow", "controls", "layer", "layer_names", "show", "scale",
  "tiling", "tile_size", "labels", "page", "page_size", "pinned", "width", "title"];

function initialize({ model }) {
  return initSession(model);
}

function make(tag, className, props = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return Object.assign(node, props);
}

function mosaicStyle() {
  const style = make("style");
  style.textContent = `
.nnviz-mosaic { font: 13px sans-serif; color: var(--jp-ui-font-color1, #222); display: inline-block; }
.nnviz-mosaic-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 4px; }
.nnviz-mosaic-body { display: flex; gap: 12px; align-items: flex-start; }
.nnviz-mosaic-side { display: flex; flex-direction: column; gap: 6px; width: ${ZOOM}px; }
.nnviz-mosaic-readout { font-variant-numeric: tabular-nums; min-height: 3.4em; font-size: 12px; }
.nnviz-mosaic-note { font-size: 12px; color: #555; }
.nnviz-mosaic canvas { display: block; }`;
  return style;
}

function render({ model, el }) {
  const session = getSession(model);
  const store = session.store;
  const root = make("div", "nnviz-mosaic");
  const title = make("div", "nnviz-title");
  const bar = make("div", "nnviz-mosaic-bar");
  const layerLabel = make("label", "", { textContent: "layer " });
  const picker = make("select", "nnviz-layer", { title: "Layer" });
  layerLabel.append(picker);
  const prevPage = make("button", "nnviz-page-prev", { type: "button", textContent: "‹", title: "Previous page" });
  const nextPage = make("button", "nnviz-page-next", { type: "button", textContent: "›", title: "Next page" });
  const pageLabel = make("span", "nnviz-page-label");
  const pager = make("span", "nnviz-pager");
  pager.append(prevPage, pageLabel, nextPage);
  bar.append(layerLabel, pager);
  const body = make("div", "nnviz-mosaic-body");
  const canvas = make("canvas", "nnviz-plot");
  const side = make("div", "nnviz-mosaic-side");
  const zoom = make("canvas", "nnviz-zoom");
  const readout = make("div", "nnviz-mosaic-readout");
  const colorbar = make("canvas", "nnviz-colorbar");
  const note = make("div", "nnviz-mosaic-note");
  side.append(zoom, readout, colorbar, note);
  body.append(canvas, side);
  const controls = createControls(model, session);
  root.append(styleElement(), mosaicStyle(), title, bar, body, controls.el);
  el.append(root);

  const offscreen = make("canvas");
  const zoomSource = make("canvas");
  const cache = { arr: null, prev: null, key: "", dead: new Uint8Array(0), diverged: new Uint8Array(0) };
  let geometry = null; // where the tiles of the last draw are
  let hover = null; // {tile, row, col} under the pointer
  let draws = 0;
  let raf = null;

  const save = (changes) => {
    for (const [k, v] of Object.entries(changes)) model.set(k, v);
    model.save_changes();
  };

  function previousFrame(index) {
    const held = store.indices();
    let lo = 0, hi = held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (held[mid] < index) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? store.get(held[lo - 1]) : null;
  }

  function draw() {
    raf = null;
    const started = performance.now();
    const layout = model.get("tiling") ?? {};
    const name = `${model.get("show")}/${model.get("layer")}`;
    const { index, frame, loading } = session.current();
    const arr = frame?.arrays[name];
    const tiles = layout.tiles ?? 0;
    const pageSize = Math.max(1, layout.page_size ?? tiles);
    const pages = Math.max(1, Math.ceil(tiles / pageSize));
    const page = Math.min(Math.max(0, Number(model.get("page")) || 0), pages - 1);
    const first = page * pageSize, count = Math.max(0, Math.min(pageSize, tiles - first));
    const cols = Math.max(1, layout.cols ?? 1), rows = Math.ceil(count / cols);
    const h = layout.h ?? 1, w = layout.w ?? 1;
    const width = Number(model.get("width")) || 480;
    const tilePx = Number(model.get("tile_size")) ||
      Math.max(8, Math.min(96, Math.floor((width - GAP * (cols - 1)) / cols)));
    const px = tilePx / Math.max(h, w); // screen px per weight
    const tw = Math.round(w * px), th = Math.round(h * px);
    const cssW = Math.max(1, cols * (tw + GAP) - GAP), cssH = Math.max(1, rows * (th + GAP) - GAP);
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      canvas.style.width = `${cssW}px`;
      canvas.style.height = `${cssH}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, cssW, cssH);

    // The layer's scale: max |value| over every frame held so far (comparable across neurons and epochs).
    const frames = store.indices().map((i) => store.get(i));
    const perNeuron = model.get("scale") === "neuron";
    const shared = layerScale(frames, name);
    let dead = new Uint8Array(0), diverged = new Uint8Array(0);
    if (arr && count) {
      // Tile pixels and flags are redrawn only when the frame, page or scale changes (not on hover).
      const prev = model.get("show") === "weights" ? previousFrame(index)?.arrays[name] : undefined;
      const key = [first, count, cols, perNeuron, shared, layout.values, layout.h, layout.w, layout.flip].join();
      if (cache.arr !== arr || cache.prev !== prev || cache.key !== key) {
        const scales = perNeuron
          ? Float64Array.from({ length: count }, (_, k) => tileMaxAbs(arr, layout, first + k)) : shared;
        const img = renderTilesRGBA(arr, layout, first, count, cols, scales);
        offscreen.width = img.width;
        offscreen.height = img.height;
        offscreen.getContext("2d").putImageData(new ImageData(img.pixels, img.width, img.height), 0, 0);
        Object.assign(cache, { arr, prev, key, diverged: img.diverged, dead: deadTiles(arr, prev, layout, first, count) });
      }
      ({ dead, diverged } = cache);
      ctx.imageSmoothingEnabled = false;
      ctx.font = "9px sans-serif";
      ctx.textBaseline = "top";
      for (let k = 0; k < count; k++) {
        const x = (k % cols) * (tw + GAP), y = Math.floor(k / cols) * (th + GAP);
        ctx.drawImage(offscreen, (k % cols) * w, Math.floor(k / cols) * h, w, h, x, y, tw, th);
        if (dead[k]) {
          ctx.strokeStyle = "#000";
          ctx.lineWidth = 2;
          ctx.strokeRect(x + 1, y + 1, tw - 2, th - 2);
          ctx.beginPath(); // a corner mark: dead at a glance, most of the tile still visible
          ctx.moveTo(x + tw, y);
          ctx.lineTo(x + tw - Math.min(10, tw / 3), y);
          ctx.lineTo(x + tw, y + Math.min(10, th / 3));
          ctx.fillStyle = "#000";
          ctx.fill();
        }
        if (diverged[k] && tw >= 20) {
          ctx.fillStyle = "#444";
          ctx.textAlign = "center";
          ctx.fillText("NaN", x + tw / 2, y + th / 2 - 4);
        }
        if (model.get("labels") && tw >= 20) {
          const label = tileLabel(layout, first + k);
          ctx.textAlign = "left";
          ctx.fillStyle = "rgba(255,255,255,0.75)";
          ctx.fillRect(x, y, ctx.measureText(label).width + 3, 10);
          ctx.fillStyle = "#333";
          ctx.fillText(label, x + 1, y + 1);
        }
      }
    }
    geometry = { first, count, cols, tw, th, h, w };

    // Picker, pager.
    const names = model.get("layer_names") ?? [];
    if (picker.options.length !== names.length || [...picker.options].some((o, i) => o.value !== names[i])) {
      picker.replaceChildren(...names.map((n) => make("option", "", { value: n, textContent: n })));
    }
    picker.value = model.get("layer");
    pager.style.display = pages > 1 ? "" : "none";
    pageLabel.textContent = ` page ${page + 1} / ${pages} (tiles ${first}–${first + count - 1} of ${tiles}) `;
    prevPage.disabled = page <= 0;
    nextPage.disabled = page >= pages - 1;

    drawZoom(arr, layout, perNeuron ? null : shared);
    drawColorbar(perNeuron ? null : shared);
    const nDead = dead.reduce((a, b) => a + b, 0), nDiverged = diverged.reduce((a, b) => a + b, 0);
    const what = model.get("show") === "outputs" ? "neuron outputs over the data plane" : "incoming weights";
    note.textContent = `${tiles} neurons, ${what}${h > 1 || w > 1 ? `, ${h}×${w}` : ""}. ` +
      (perNeuron ? "Each tile on its own scale. " : "One scale for the layer: max |value| over the frames so far. ") +
      (nDead ? `${nDead} dead on this page (■ corner: stopped changing). ` : "") +
      (nDiverged ? `${nDiverged} diverged (NaN). ` : "");

    renderTitle(title, { prefix: model.get("title") || `layer ${model.get("layer")}`, frame: arr ? frame : null,
      loading: loading || (frame && !arr) });
    controls.el.style.display = model.get("controls") ? "" : "none";
    controls.update();

    draws += 1;
    Object.assign(root.dataset, {
      frames: String(store.size), total: String(store.total), epoch: String(index ?? -1),
      drawnEpochNumber: arr ? String(frame.epoch) : "", layer: String(model.get("layer")),
      tiles: String(tiles), page: String(page), pages: String(pages), first: String(first), count: String(count),
      cols: String(cols), tilePx: String(tw), tileHeight: String(th), gap: String(GAP),
      scaleMax: String(shared), dead: String(nDead), diverged: String(nDiverged), draws: String(draws),
      drawMs: (performance.now() - started).toFixed(3),
    });
  }

  function focusTile() {
    if (hover) return hover.tile;
    const pinned = Number(model.get("pinned"));
    return pinned >= 0 ? pinned : null;
  }

  function drawZoom(arr, layout, shared) {
    const t = focusTile();
    const dpr = window.devicePixelRatio || 1;
    const { h = 1, w = 1 } = layout;
    const s = ZOOM / Math.max(h, w);
    const zw = Math.round(w * s), zh = Math.round(h * s);
    if (zoom.width !== Math.round(zw * dpr) || zoom.height !== Math.round(zh * dpr)) {
      zoom.width = Math.round(zw * dpr);
      zoom.height = Math.round(zh * dpr);
      zoom.style.width = `${zw}px`;
      zoom.style.height = `${zh}px`;
    }
    const ctx = zoom.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#f4f4f4";
    ctx.fillRect(0, 0, zw, zh);
    if (t === null || !arr || t >= layout.tiles) {
      readout.textContent = "Hover a tile to enlarge it; click to pin it.";
      return;
    }
    const m = shared ?? tileMaxAbs(arr, layout, t);
    const img = renderTilesRGBA(arr, layout, t, 1, 1, m);
    zoomSource.width = img.width;
    zoomSource.height = img.height;
    zoomSource.getContext("2d").putImageData(new ImageData(img.pixels, img.width, img.height), 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(zoomSource, 0, 0, zw, zh);
    const pinned = Number(model.get("pinned")) === t;
    let text = `neuron ${tileLabel(layout, t)}${pinned ? " (pinned)" : ""}`;
    if (hover && hover.tile === t) {
      const v = valueUnder(arr, layout, t, hover.row, hover.col);
      const shown = Array.isArray(v) ? v.map((x) => formatMetric(x)).join(", ") : v === undefined ? "padding" : formatMetric(v);
      text += `\nrow ${hover.row}, col ${hover.col}: ${shown}`;
    }
    readout.textContent = text;
    readout.style.whiteSpace = "pre-line";
  }

  function drawColorbar(shared) {
    const cw = ZOOM, ch = 34;
    const dpr = window.devicePixelRatio || 1;
    if (colorbar.width !== cw * dpr) {
      colorbar.width = cw * dpr;
      colorbar.height = ch * dpr;
      colorbar.style.width = `${cw}px`;
      colorbar.style.height = `${ch}px`;
    }
    const ctx = colorbar.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    for (let x = 0; x < cw; x++) {
      const i = 3 * Math.round((x / (cw - 1)) * (LUT_SIZE - 1));
      ctx.fillStyle = `rgb(${DIVERGING[i]},${DIVERGING[i + 1]},${DIVERGING[i + 2]})`;
      ctx.fillRect(x, 0, 1, 14);
    }
    ctx.fillStyle = "#333";
    ctx.font = "11px sans-serif";
    ctx.textBaseline = "top";
    const lo = shared === null ? "−max" : formatMetric(-shared), hi = shared === null ? "+max" : formatMetric(shared);
    ctx.textAlign = "left";
    ctx.fillText(lo, 0, 17);
    ctx.textAlign = "center";
    ctx.fillText("0", cw / 2, 17);
    ctx.textAlign = "right";
    ctx.fillText(hi, cw, 17);
  }

  function tileAt(event) {
    if (!geometry) return null;
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left, y = event.clientY - rect.top;
    const { first, count, cols, tw, th, h, w } = geometry;
    const c = Math.floor(x / (tw + GAP)), r = Math.floor(y / (th + GAP));
    const k = r * cols + c;
    const inX = x - c * (tw + GAP), inY = y - r * (th + GAP);
    if (c < 0 || c >= cols || r < 0 || k >= count || inX >= tw || inY >= th) return null;
    return { tile: first + k, row: Math.min(h - 1, Math.floor((inY / th) * h)), col: Math.min(w - 1, Math.floor((inX / tw) * w)) };
  }

  const onMove = (event) => {
    hover = tileAt(event);
    schedule();
  };
  const onLeave = () => {
    hover = null;
    schedule();
  };
  const onClick = (event) => {
    const hit = tileAt(event);
    if (hit) save({ pinned: Number(model.get("pinned")) === hit.tile ? -1 : hit.tile });
  };
  const onPick = () => save({ layer: picker.value });
  const onPrev = () => save({ page: Math.max(0, (Number(model.get("page")) || 0) - 1) });
  const onNext = () => save({ page: (Number(model.get("page")) || 0) + 1 });
  const handlers = [[canvas, "mousemove", onMove], [canvas, "mouseleave", onLeave], [canvas, "click", onClick],
    [picker, "change", onPick], [prevPage, "click", onPrev], [nextPage, "click", onNext]];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn);

  let visible = true;
  const schedule = () => {
    if (raf === null && visible) raf = requestAnimationFrame(draw);
  };
  const observer = typeof IntersectionObserver === "undefined" ? null : new IntersectionObserver((entries) => {
    visible = entries.some((e) => e.isIntersecting);
    schedule();
  });
  observer?.observe(root);
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  const unsubscribe = store.subscribe(schedule);
  schedule();

  return () => {
    if (raf !== null) cancelAnimationFrame(raf);
    observer?.disconnect();
    for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    unsubscribe();
    controls.dispose();
    root.remove();
  };
}

export default { initialize, render };
