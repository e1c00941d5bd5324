// Metric-curve cursor: moves the bqplot cursor marks of a MetricCurves to frame `epoch`, in the browser,
// so a Player jslinked to `epoch` moves the cursor with no kernel round trip. `xs[i]` is frame i's x position.
// The logic lives in lib/curves.js (tested with vitest); this module wires it to anywidget.
import { cursorX } from "./lib/cursor.js";
import { syncCursors } from "./lib/curves.js";
import { afterPaint } from "./lib/dom.js";
import { drawCostReporter } from "./lib/pace.js";

function initialize({ model }) {
  const sync = syncCursors(model, (id) => model.widget_manager.get_model(id));
  return () => sync.dispose();
}

// bqplot writes each legend label in its line's colour, which a dark theme can leave below 4.5:1 (tab10 blue on
// JupyterLab Dark's #111 is 3.9:1): the label takes the theme's text colour, the swatch keeps the line's.
const LEGEND_CSS = `[class*="nnviz-figure-"] text.legendtext {
  fill: var(--jp-ui-font-color1, var(--vscode-editor-foreground, #222)) !important; }`;

function legendStyle() {
  if (document.getElementById("nnviz-curves-legend")) return;
  const style = document.createElement("style");
  style.id = "nnviz-curves-legend";
  style.textContent = LEGEND_CSS;
  document.head.append(style);
}

function render({ model, el }) {
  legendStyle();
  // Nothing to see: the cursor lives in the figures. The element states the epoch for tests and tools.
  const node = document.createElement("div");
  node.className = "nnviz-curves-cursor";
  node.style.display = "none";
  const update = () => {
    node.dataset.epoch = String(model.get("epoch"));
    node.dataset.x = String(cursorX(model.get("xs"), model.get("epoch")));
  };
  // xs is the last trait a redraw sets (after bqplot's marks): the time from its change until the page is painted
  // is what the redraw cost the page, reported so Python spaces live redraws by it (_stream.LiveClock); or the
  // page's whole live tick when the other views' frames came on the same tick (lib/pace.js liveTick).
  let measuring = false;
  const costs = drawCostReporter(model);
  const redrawn = () => {
    update();
    if (measuring || typeof requestAnimationFrame === "undefined") return;
    measuring = true;
    const start = performance.now();
    requestAnimationFrame(() => afterPaint(() => {
      measuring = false;
      costs.report(performance.now() - start);
    }));
  };
  model.on("change:epoch", update);
  model.on("change:xs", redrawn);
  update();
  el.append(node);
  return () => {
    model.off("change:epoch", update);
    model.off("change:xs", redrawn);
    node.remove();
  };
}

export default { initialize, render };
