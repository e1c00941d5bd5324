// DecisionBoundary view: class probabilities as colour, the boundary as lines, the data on top.
import { niceTicks } from "./lib/axes.js";
import { asDataView, valueAt } from "./lib/codec.js";
import { classColors, renderGridRGBA } from "./lib/colormap.js";
import { boundarySegments } from "./lib/contour.js";
import { createControls, PLAYER_TRAITS, renderTitle, styleElement } from "./lib/controls.js";
import { getSession, initSession } from "./lib/session.js";
import { drawOncePerFrame, fitWidth } from "./lib/dom.js";

const MARGIN = { left: 54, right: 12, top: 8, bottom: 42 };
// Traits that change the picture (grid_shape is not one: each frame's array carries its own shape).
const TRAITS = [...PLAYER_TRAITS, "controls", "show_points", "extent",
  "classes", "colors", "points", "labels", "axis_labels", "width", "height", "title"];

function initialize({ model }) {
  return initSession(model);
}

function validExtent(extent) {
  const [x0, x1, y0, y1] = (extent ?? []).map(Number);
  return x1 > x0 && y1 > y0 ? [x0, x1, y0, y1] : [0, 1, 0, 1];
}

function drawAxes(ctx, plot, extent, [xlabel, ylabel] = []) {
  const [xmin, xmax, ymin, ymax] = extent;
  const { left, top, width, height } = plot;
  ctx.strokeStyle = "#444";
  ctx.fillStyle = "#333";
  ctx.lineWidth = 1;
  ctx.font = "11px sans-serif";
  ctx.strokeRect(left + 0.5, top + 0.5, width, height);
  const xt = niceTicks(xmin, xmax, Math.max(2, Math.round(width / 80)));
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of xt.ticks) {
    const x = Math.round(left + ((t - xmin) / (xmax - xmin)) * width) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, top + height);
    ctx.lineTo(x, top + height + 4);
    ctx.stroke();
    ctx.fillText(t.toFixed(xt.decimals), x, top + height + 6);
  }
  const yt = niceTicks(ymin, ymax, Math.max(2, Math.round(height / 60)));
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of yt.ticks) {
    const y = Math.round(top + ((ymax - t) / (ymax - ymin)) * height) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left - 4, y);
    ctx.lineTo(left, y);
    ctx.stroke();
    ctx.fillText(t.toFixed(yt.decimals), left - 6, y);
  }
  ctx.font = "12px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  if (xlabel) ctx.fillText(String(xlabel), left + width / 2, top + height + MARGIN.bottom - 2);
  if (ylabel) {
    ctx.save();
    ctx.translate(12, top + height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(String(ylabel), 0, 0);
    ctx.restore();
  }
}

function drawPoints(ctx, model, colors, predictions, sx, sy) {
  const pts = model.get("points"), lab = model.get("labels");
  if (!pts || !lab) return;
  const points = asDataView(pts), labels = asDataView(lab);
  const n = Math.min(Math.floor(points.byteLength / 8), labels.byteLength);
  const wrong = [];
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#fff";
  for (let i = 0; i < n; i++) {
    const x = sx(points.getFloat32(8 * i, true)), y = sy(points.getFloat32(8 * i + 4, true));
    const label = labels.getUint8(i);
    ctx.beginPath();
    ctx.arc(x, y, 3, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${colors[label % colors.length]})`;
    ctx.fill();
    ctx.stroke();
    // A NaN prediction (diverged model) is never equal to the label: it counts as wrong.
    if (predictions && i < predictions.codes.length && valueAt(predictions, i) !== label) wrong.push([x, y]);
  }
  // Rings last, so no correct point hides a mistake.
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 1.5;
  for (const [x, y] of wrong) {
    ctx.beginPath();
    ctx.arc(x, y, 5.5, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

function render({ model, el }) {
  const session = getSession(model);
  const store = session.store;
  const root = document.createElement("div");
  root.className = "nnviz-boundary";
  const title = document.createElement("div");
  title.className = "nnviz-title";
  const canvas = document.createElement("canvas");
  canvas.className = "nnviz-plot";
  const legend = document.createElement("div");
  legend.className = "nnviz-legend";
  const controls = createControls(model, session);
  root.append(styleElement(), title, canvas, legend, controls.el);
  el.append(root);

  const offscreen = document.createElement("canvas");
  const cache = { frame: null, colorsKey: "", segments: [] }; // the last frame's image and lines
  let legendKey = "";
  let draws = 0;
  const fit = fitWidth(el, () => schedule());

  function draw() {
    const started = performance.now();
    // as wide as asked, or as the page has room for (the height shrinks with it, keeping the plot's shape)
    const wantW = Number(model.get("width")) || 480, wantH = Number(model.get("height")) || 400;
    const cssW = fit.width(wantW), cssH = Math.round((wantH * cssW) / wantW);
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      canvas.style.width = `${cssW}px`;
      canvas.style.height = `${cssH}px`;
      root.style.width = `${cssW}px`; // the legend and controls wrap to the plot's width
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, cssW, cssH);

    const plot = { left: MARGIN.left, top: MARGIN.top,
      width: Math.max(10, cssW - MARGIN.left - MARGIN.right), height: Math.max(10, cssH - MARGIN.top - MARGIN.bottom) };
    const extent = validExtent(model.get("extent"));
    const [xmin, xmax, ymin, ymax] = extent;
    const sx = (x) => plot.left + ((x - xmin) / (xmax - xmin)) * plot.width;
    const sy = (y) => plot.top + ((ymax - y) / (ymax - ymin)) * plot.height;

    const { index, frame, loading } = session.current();
    const boundary = frame?.arrays.boundary;
    const classes = model.get("classes") ?? [];
    const colors = classColors(model.get("colors"), Math.max(boundary?.shape[2] ?? 0, classes.length, 2));

    if (boundary) {
      const [H, W] = boundary.shape;
      const colorsKey = colors.join(";");
      if (cache.frame !== frame || cache.colorsKey !== colorsKey) {
        offscreen.width = W;
        offscreen.height = H;
        offscreen.getContext("2d").putImageData(new ImageData(renderGridRGBA(boundary, colors), W, H), 0, 0);
        if (cache.frame !== frame) cache.segments = boundarySegments(boundary);
        Object.assign(cache, { frame, colorsKey });
      }
      // Grid samples sit on linspace(min, max, n): each pixel is centred on its sample, so the
      // image reaches half a cell past the extent (clipped to the plot).
      const dx = (xmax - xmin) / Math.max(1, W - 1), dy = (ymax - ymin) / Math.max(1, H - 1);
      ctx.save();
      ctx.beginPath();
      ctx.rect(plot.left, plot.top, plot.width, plot.height);
      ctx.clip();
      ctx.imageSmoothingEnabled = true;
      const x0 = sx(xmin - dx / 2), y0 = sy(ymax + dy / 2);
      ctx.drawImage(offscreen, x0, y0, sx(xmax + dx / 2) - x0, sy(ymin - dy / 2) - y0);
      ctx.beginPath();
      for (const [c0, r0, c1, r1] of cache.segments) {
        ctx.moveTo(sx(xmin + c0 * dx), sy(ymin + r0 * dy));
        ctx.lineTo(sx(xmin + c1 * dx), sy(ymin + r1 * dy));
      }
      ctx.strokeStyle = "#222";
      ctx.lineWidth = 1.5;
      ctx.lineCap = "round";
      ctx.stroke();
      ctx.restore();
    }
    if (model.get("show_points")) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(plot.left, plot.top, plot.width, plot.height);
      ctx.clip();
      drawPoints(ctx, model, colors, frame?.arrays.predictions, sx, sy);
      ctx.restore();
    }
    drawAxes(ctx, plot, extent, model.get("axis_labels") ?? []);

    const names = colors.map((_, k) => String(classes[k] ?? `class ${k}`));
    const key = JSON.stringify([names, colors]);
    if (key !== legendKey) {
      legendKey = key;
      legend.replaceChildren(...names.map((name, k) => {
        const item = document.createElement("span");
        const swatch = document.createElement("span");
        swatch.className = "nnviz-swatch";
        swatch.style.background = `rgb(${colors[k]})`;
        item.append(swatch, document.createTextNode(name)); // text, never HTML
        return item;
      }));
    }
    renderTitle(title, { prefix: model.get("title"), frame, loading, brief: !model.get("controls") });
    controls.el.style.display = model.get("controls") ? "" : "none";
    controls.update();

    draws += 1;
    Object.assign(root.dataset, {
      frames: String(store.size), total: String(store.total), epoch: String(index ?? -1),
      bytes: String(store.bytes), stride: String(store.stride),
      drawnEpochNumber: frame ? String(frame.epoch) : "", diverged: String(Boolean(frame?.diverged)),
      draws: String(draws), plotLeft: String(plot.left), plotTop: String(plot.top),
      plotWidth: String(plot.width), plotHeight: String(plot.height),
      drawMs: (performance.now() - started).toFixed(3),
    });
  }

  const { schedule, dispose: stopDrawing } = drawOncePerFrame(root, draw, { onDrawn: (ms) => store.painted(ms) });
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  const unsubscribe = store.subscribe(schedule);
  schedule();

  return () => {
    stopDrawing();
    fit.dispose();
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    unsubscribe();
    controls.dispose();
    root.remove();
  };
}

export default { initialize, render };
