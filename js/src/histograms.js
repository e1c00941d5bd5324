// WeightHistograms view: one heat strip per layer, epochs across, values up, darker where more weights lie;
// the player's frame is marked, and beside it that frame's histogram as bars. Layers that died or blew up are
// flagged in their header. The numbers behind each pixel come from lib/histograms.js.
import { fitText, formatMetric, niceTicks } from "./lib/axes.js";
import { createControls, PLAYER_TRAITS, renderTitle, styleElement } from "./lib/controls.js";
import { drawOncePerFrame, make } from "./lib/dom.js";
import { STAT, flagColours, health, layerStrip, layersOf, stripRGBA } from "./lib/histograms.js";
import { getSession, initSession } from "./lib/session.js";

const MARGIN = { left: 56, right: 84, top: 4, bottom: 30 };
const HEADER = 18; // px above each strip for the layer's name, numbers and flag
const GAP = 8;
const TRAITS = [...PLAYER_TRAITS, "controls", "show", "layer_labels", "width",
  "row_height", "title"];

function initialize({ model }) {
  return initSession(model);
}

function sizeCanvas(canvas, cssW, cssH) {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.width = `${cssW}px`;
    canvas.style.height = `${cssH}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function percent(x) {
  if (!Number.isFinite(x)) return "–";
  return x >= 0.001 ? `${(100 * x).toPrecision(2)}%` : x === 0 ? "0" : x.toExponential(0);
}

function render({ model, el }) {
  const session = getSession(model);
  const store = session.store;
  const root = make("div", "nnviz-histograms");
  const title = make("div", "nnviz-title");
  const canvas = make("canvas", "nnviz-plot");
  const note = make("div", "nnviz-note");
  const controls = createControls(model, session);
  root.append(styleElement(), title, canvas, note, controls.el);
  el.append(root);
  const offscreen = document.createElement("canvas");
  let cache = { key: "", strips: new Map() };
  let draws = 0;

  function strips(kind) {
    const held = store.indices();
    const key = `${kind}:${held.length}:${held[held.length - 1]}:${store.total}`;
    if (cache.key !== key) {
      const frames = held.map((i) => [i, store.get(i)]);
      const names = layersOf(frames.map(([, f]) => f), kind);
      cache = { key, strips: new Map(names.map((name) => [name, layerStrip(frames, kind, name)])) };
    }
    return cache.strips;
  }

  function draw() {
    const kind = model.get("show") === "gradients" ? "grads" : "weights";
    const layers = strips(kind);
    const rowH = Math.max(24, Number(model.get("row_height")) || 64);
    const cssW = Number(model.get("width")) || 480;
    const cssH = MARGIN.top + Math.max(1, layers.size) * (HEADER + rowH + GAP) + MARGIN.bottom;
    root.style.width = `${cssW}px`;
    const ctx = sizeCanvas(canvas, cssW, cssH);
    // The names, numbers and axes sit on the page, in the theme's text colours; only the strips are light
    // pictures, each in a frame of the theme's border colour.
    const style = getComputedStyle(root);
    const ink = style.color;
    const muted = style.getPropertyValue("--nnviz-fg-muted").trim() || ink;
    const border = style.getPropertyValue("--nnviz-border").trim() || "#444";
    const flagInk = flagColours(ink);
    ctx.clearRect(0, 0, cssW, cssH);
    const left = MARGIN.left, plotW = Math.max(10, cssW - MARGIN.left - MARGIN.right);
    const total = Math.max(1, store.total);
    const { index, frame, loading } = session.current();
    const colW = plotW / total;
    const labels = model.get("layer_labels") ?? {};
    const rows = [];
    ctx.font = "11px sans-serif";
    let top = MARGIN.top;
    for (const [name, strip] of layers) {
      const y0 = top + HEADER;
      // the strip: one column per frame, one row per bin, crisp cells
      offscreen.width = total;
      offscreen.height = Math.max(1, strip.bins);
      offscreen.getContext("2d").putImageData(new ImageData(stripRGBA(strip, total), total, Math.max(1, strip.bins)), 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(offscreen, left, y0, plotW, rowH);
      ctx.strokeStyle = border;
      ctx.lineWidth = 1;
      ctx.strokeRect(left + 0.5, y0 + 0.5, plotW, rowH);
      // value ticks
      const sy = (v) => y0 + ((strip.hi - v) / (strip.hi - strip.lo)) * rowH;
      const ticks = niceTicks(strip.lo, strip.hi, Math.max(2, Math.round(rowH / 28)));
      ctx.fillStyle = ink;
      ctx.strokeStyle = muted;
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      for (const t of ticks.ticks) {
        const y = Math.round(sy(t)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(left - 4, y);
        ctx.lineTo(left, y);
        ctx.stroke();
        ctx.fillText(t.toFixed(ticks.decimals), left - 6, y);
      }
      // the player's frame: a marker column and, to the right, its histogram as bars on the same value axis
      const col = index === null ? null : strip.columns.get(index);
      const flag = health(strip.rows, kind, index ?? Infinity);
      if (index !== null) {
        const x = left + (index + 0.5) * colW;
        ctx.strokeStyle = "#d95f02";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x, y0);
        ctx.lineTo(x, y0 + rowH);
        ctx.stroke();
      }
      const barsX = left + plotW + 6, barsW = MARGIN.right - 12;
      if (col && strip.peak > 0) {
        ctx.fillStyle = "#6baed6";
        const binH = rowH / strip.bins;
        for (let b = 0; b < strip.bins; b++) {
          const w = (col[b] / strip.peak) * barsW;
          if (w > 0) ctx.fillRect(barsX, y0 + rowH - (b + 1) * binH, Math.max(0.5, w), binH);
        }
      }
      ctx.strokeStyle = border;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(barsX + 0.5, y0);
      ctx.lineTo(barsX + 0.5, y0 + rowH);
      ctx.stroke();
      // header: name (and type), the marked frame's norm and change, the flag
      const stats = strip.rows.find((r) => r.index === index)?.stats;
      const parts = [labels[name] ? `${name} · ${labels[name]}` : name];
      if (stats) {
        parts.push(`norm ${formatMetric(stats[STAT.norm])}`);
        if (kind === "weights") parts.push(`change ${percent(stats[STAT.change])}`);
        else parts.push(`mean ${formatMetric(stats[STAT.mean])}`);
      }
      ctx.textAlign = "left";
      ctx.textBaseline = "alphabetic";
      ctx.font = "600 11px sans-serif";
      ctx.fillStyle = flag ? flagInk[flag] : ink;
      // the header starts over the strip and ends at the canvas's edge, cut with an ellipsis (never clipped
      // mid-letter), leaving room for the flag
      const label = flag ? flag.toUpperCase() : "";
      const w = flag ? ctx.measureText(label).width + 8 : 0;
      const text = fitText(parts.join(" · "), cssW - left - 4 - (flag ? w + 8 : 0), (t) => ctx.measureText(t).width);
      ctx.fillText(text, left, y0 - 5);
      if (flag) {
        const x = left + ctx.measureText(text).width + 8;
        ctx.fillStyle = flagInk[flag];
        ctx.fillRect(x, y0 - 15, w, 13);
        ctx.fillStyle = flagInk.badgeText;
        ctx.fillText(label, x + 4, y0 - 5);
        ctx.strokeStyle = flagInk[flag];
        ctx.lineWidth = 2;
        ctx.strokeRect(left - 1, y0 - 1, plotW + 2, rowH + 2);
      }
      ctx.font = "11px sans-serif";
      rows.push({ name, header: text, top: y0, height: rowH, lo: strip.lo, hi: strip.hi, bins: strip.bins, peak: strip.peak, flag });
      top = y0 + rowH + GAP;
    }
    // epochs along the bottom, at the frames' centres
    const held = store.indices();
    if (held.length) {
      const epochOf = (i) => store.get(i)?.epoch ?? i;
      const ticks = niceTicks(0, total - 1, Math.max(2, Math.round(plotW / 80)));
      ctx.fillStyle = ink;
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (const t of ticks.ticks) {
        const i = Math.round(t);
        if (i < 0 || i >= total || !store.get(i)) continue;
        ctx.fillText(String(epochOf(i)), left + (i + 0.5) * colW, top);
      }
      ctx.fillText("epoch", left + plotW / 2, top + 13);
    }
    if (!layers.size) {
      ctx.fillStyle = muted;
      ctx.textAlign = "left";
      ctx.fillText(held.length ? `no ${kind === "grads" ? "gradient" : "weight"} histograms in these frames` : "waiting for frames", left, MARGIN.top + 20);
    }
    note.textContent = `${kind === "grads" ? "gradients" : "weights"}: darker = more values in that bin (square root of the share of the layer's peak); each layer on one value range for the run`;
    renderTitle(title, { prefix: model.get("title"), frame, loading, brief: !model.get("controls") });
    controls.el.style.display = model.get("controls") ? "" : "none";
    controls.update();
    draws += 1;
    Object.assign(root.dataset, {
      frames: String(store.size), total: String(store.total), epoch: String(index ?? -1),
      drawnEpochNumber: frame ? String(frame.epoch) : "", draws: String(draws),
      plotLeft: String(left), plotWidth: String(plotW), layers: JSON.stringify(rows),
    });
  }

  const { schedule, dispose: stopDrawing } = drawOncePerFrame(root, draw, { onDrawn: (ms) => store.painted(ms) });
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  const unsubscribe = store.subscribe(schedule);
  schedule();

  return () => {
    stopDrawing();
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    unsubscribe();
    controls.dispose();
    root.remove();
  };
}

export default { initialize, render };
