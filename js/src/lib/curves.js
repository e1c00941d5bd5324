// The metric-curve cursor's logic (js/src/curves.js), kept free of the DOM and of bqplot so vitest can drive it:
// which bqplot marks are the cursors, and where they go when the player's epoch (a frame index) changes.
import { cursorX } from "./cursor.js";

/** Widget model ids from a synced list of widget references ("IPY_MODEL_<id>" or bare ids). */
export function modelIds(refs) {
  return (refs || []).map((ref) => String(ref).replace(/^IPY_MODEL_/, ""));
}

/**
 * Keep the cursor marks listed in `model.get("cursors")` at x = cursorX(xs, epoch), in the browser.
 *
 * `getModel(id)` resolves a widget model (anywidget: `model.widget_manager.get_model`). The marks are looked up
 * again whenever the list changes; a lookup that resolves after a newer one started is dropped, and one that
 * fails (a figure closed meanwhile) keeps the marks already held. Returns `{ loaded, dispose }`: `loaded()` is the
 * promise of the latest lookup (for tests), `dispose()` stops listening.
 *
 *   const sync = syncCursors(model, (id) => model.widget_manager.get_model(id));
 */
export function syncCursors(model, getModel) {
  let cursors = [];
  let generation = 0;
  let pending = Promise.resolve();
  const move = () => {
    const x = cursorX(model.get("xs"), model.get("epoch"));
    if (x === null) return;
    for (const mark of cursors) mark.set("x", new Float64Array([x, x])); // browser-only: Python never reads it
  };
  const load = () => {
    const mine = ++generation;
    pending = Promise.all(modelIds(model.get("cursors")).map((id) => getModel(id))).then(
      (marks) => {
        if (mine !== generation) return; // a newer list arrived while these resolved
        cursors = marks;
        move();
      },
      (err) => {
        if (mine === generation) console.warn("nnviz_widgets: a curve cursor could not be found", err);
      },
    );
    return pending;
  };
  model.on("change:cursors", load);
  model.on("change:epoch", move);
  model.on("change:xs", move);
  load();
  return {
    loaded: () => pending,
    dispose() {
      generation += 1;
      model.off("change:cursors", load);
      model.off("change:epoch", move);
      model.off("change:xs", move);
    },
  };
}
