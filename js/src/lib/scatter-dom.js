// The EmbeddingScatter's page furniture: its elements and style, the class legend, the tooltip's thumbnail and
// the note under the plot. Drawing the points is lib/scatter-gl.js's; the overlay, lib/scatter-overlay.js's.
import { make } from "./dom.js";

export function scatterStyle() {
  const style = make("style");
  style.textContent = `
.nnviz-scatter { display: inline-block; }
.nnviz-scatter-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-bottom: 4px; }
.nnviz-scatter-stage { position: relative; border: 1px solid var(--nnviz-border); background: #fff; }
.nnviz-scatter-stage canvas { position: absolute; left: 0; top: 0; display: block; }
.nnviz-scatter-overlay { cursor: grab; touch-action: none; }
.nnviz-tooltip { position: absolute; pointer-events: none; background: rgba(255,255,255,0.95); border: 1px solid #aaa;
  color: #222; /* on its own light box, whatever the theme */
  border-radius: 3px; padding: 3px 5px; font-size: 12px; display: none; z-index: 2; }
.nnviz-tooltip canvas { position: static; display: block; margin-top: 3px; image-rendering: pixelated; }
.nnviz-legend-item { cursor: pointer; user-select: none; }
.nnviz-legend-item[data-hidden="true"] { opacity: 0.35; text-decoration: line-through; }
.nnviz-scatter-note { font-size: 12px; color: var(--nnviz-fg-muted); margin-top: 2px; }`;
  return style;
}

/** The view's elements, unattached: {root, title, bar, tools: {pan, box, lasso}, reset, clear, densityPick, fixed
 * (the "fixed scale" box) and its label, count, stage, glCanvas, overlay, tooltip, tipLabel, tipImage, legend, note}. */
export function scatterElements() {
  const root = make("div", "nnviz-scatter");
  const title = make("div", "nnviz-title");
  const bar = make("div", "nnviz-scatter-bar");
  const tools = {};
  for (const [name, label] of [["pan", "Pan"], ["box", "Box select"], ["lasso", "Lasso select"]]) {
    tools[name] = make("button", `nnviz-tool nnviz-tool-${name}`, { type: "button", textContent: label });
  }
  const reset = make("button", "nnviz-reset", { type: "button", textContent: "Reset view", title: "Or double-click" });
  const clear = make("button", "nnviz-clear", { type: "button", textContent: "Clear selection" });
  const densityPick = make("select", "nnviz-density", { title: "Density contours per class" });
  for (const [v, t] of [["off", "points"], ["over", "points + density"], ["only", "density only"]]) {
    densityPick.append(make("option", "", { value: v, textContent: t }));
  }
  const fixed = make("input", "nnviz-fixed-scale", { type: "checkbox", title: "One scale for every frame (else each frame fills the view)" });
  const fixedLabel = make("label", "nnviz-fixed-scale-label");
  fixedLabel.append(fixed, document.createTextNode(" fixed scale"));
  const count = make("span", "nnviz-selection-count");
  bar.append(tools.pan, tools.box, tools.lasso, reset, clear, densityPick, fixedLabel, count);
  const stage = make("div", "nnviz-scatter-stage");
  const glCanvas = make("canvas", "nnviz-plot");
  const overlay = make("canvas", "nnviz-scatter-overlay");
  const tooltip = make("div", "nnviz-tooltip");
  const tipLabel = make("div", "nnviz-tooltip-label");
  const tipImage = make("canvas", "nnviz-tooltip-image");
  tooltip.append(tipLabel, tipImage);
  stage.append(glCanvas, overlay, tooltip);
  const legend = make("div", "nnviz-legend");
  const note = make("div", "nnviz-scatter-note");
  return { root, title, bar, tools, reset, clear, densityPick, fixed, fixedLabel, count, stage, glCanvas, overlay,
    tooltip, tipLabel, tipImage, legend, note };
}

/** Class names with their colours; a click on one toggles it (data-cls); hidden ones crossed out. Rebuilt only
 * when the classes, colours or hidden set change. */
export function renderLegend(legend, classes, hexes, hiddenList) {
  const hidden = new Set(hiddenList);
  const key = JSON.stringify([classes, hexes, [...hidden]]);
  if (legend.dataset.key === key) return;
  legend.dataset.key = key;
  legend.replaceChildren(...classes.map((name, k) => {
    const item = make("span", "nnviz-legend-item", { title: "Click to hide or show this class" });
    const swatch = make("span", "nnviz-swatch");
    swatch.style.background = hexes[k % Math.max(1, hexes.length)];
    item.append(swatch, document.createTextNode(name)); // text, never HTML
    item.dataset.cls = String(k);
    item.dataset.hidden = String(hidden.has(k));
    return item;
  }));
}

/** Sizes canvases to width × height CSS px at `dpr` device pixels per px (untouched when already that size). */
export function sizeCanvases(canvases, width, height, dpr) {
  for (const c of canvases) {
    if (c.width !== Math.round(width * dpr) || c.height !== Math.round(height * dpr)) {
      c.width = Math.round(width * dpr);
      c.height = Math.round(height * dpr);
      c.style.width = `${width}px`;
      c.style.height = `${height}px`;
    }
  }
}

/** Paints an image from thumbnailRGBA() into `canvas`, scaled by whole pixels to about 72 px; null hides it. */
export function showThumbnail(canvas, img) {
  if (!img) {
    canvas.style.display = "none";
    return;
  }
  const scale = Math.max(1, Math.floor(72 / Math.max(img.height, img.width)));
  Object.assign(canvas, { width: img.width, height: img.height });
  canvas.style.width = `${img.width * scale}px`;
  canvas.style.height = `${img.height * scale}px`;
  canvas.getContext("2d").putImageData(new ImageData(img.pixels, img.width, img.height), 0, 0);
  canvas.style.display = "";
}

/** The note under the plot: why it is slower (no WebGL), what the density mode shows, and how to move. */
export function scatterNote({ dims, density, renderer, fallbackReason, coreMass }) {
  const notes = [];
  if (renderer !== "webgl") notes.push(`${fallbackReason}: drawn with canvas 2D (slower).`);
  if (dims === 3 && density === "over") notes.push("Density: denser places in each class drawn bolder.");
  if (dims === 3 && density === "only") {
    notes.push(`Density: each class's core only (the densest region holding ${coreMass * 100} % of its points).`);
  }
  notes.push(dims === 3 ? "Drag to orbit, wheel to zoom, double-click to reset." :
    "Drag to pan, wheel to zoom, double-click to reset; Box/Lasso select (shift adds).");
  return notes.join(" ");
}
