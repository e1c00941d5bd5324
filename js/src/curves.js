// Metric-curve cursor: moves the bqplot cursor marks of a MetricCurves to frame `epoch`, in the browser,
// so a Player jslinked to `epoch` moves the cursor with no kernel round trip. `xs[i]` is frame i's x position.
import { cursorX } from "./lib/cursor.js";

function initialize({ model }) {
  let cursors = [];
  let generation = 0;
  const move = () => {
    const x = cursorX(model.get("xs"), model.get("epoch"));
    if (x === null) return;
    for (const mark of cursors) mark.set("x", new Float64Array([x, x])); // browser-only: Python never reads it
  };
  const load = async () => {
    const mine = ++generation;
    const refs = model.get("cursors") || [];
    const ids = refs.map((ref) => String(ref).replace(/^IPY_MODEL_/, ""));
    const marks = await Promise.all(ids.map((id) => model.widget_manager.get_model(id)));
    if (mine !== generation) return; // a newer list arrived while these resolved
    cursors = marks;
    move();
  };
  model.on("change:cursors", load);
  model.on("change:epoch", move);
  model.on("change:xs", move);
  load();
  return () => {
    generation += 1;
    model.off("change:cursors", load);
    model.off("change:epoch", move);
    model.off("change:xs", move);
  };
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
