// Metric-curve cursor: moves the bqplot cursor marks of a MetricCurves to frame `epoch`, in the browser,
// so a Player jslinked to `epoch` moves the cursor with no kernel round trip. `xs[i]` is frame i's x position.
// The logic lives in lib/curves.js (tested with vitest); this module wires it to anywidget.
import { cursorX } from "./lib/cursor.js";
import { syncCursors } from "./lib/curves.js";

function initialize({ model }) {
  const sync = syncCursors(model, (id) => model.widget_manager.get_model(id));
  return () => sync.dispose();
}

function render({ model, el }) {
  // Nothing to see: the cursor lives in the figures. The element states the epoch for tests and tools.
  const node = document.createElement("div");
  node.className = "nnviz-curves-cursor";
  node.style.display = "none";
  const update = () => {
    node.dataset.epoch = String(model.get("epoch"));
    node.dataset.x = String(cursorX(model.get("xs"), model.get("epoch")));
  };
  model.on("change:epoch", update);
  model.on("change:xs", update);
  update();
  el.append(node);
  return () => {
    model.off("change:epoch", update);
    model.off("change:xs", update);
    node.remove();
  };
}

export default { initialize, render };
