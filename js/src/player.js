// Player view: one controls bar that moves `epoch`; jslink carries it to the other views.
import { createControls, PLAYER_TRAITS, renderTitle, styleElement } from "./lib/controls.js";
import { drawOncePerFrame } from "./lib/dom.js";
import { getSession, initSession } from "./lib/session.js";

function initialize({ model }) {
  return initSession(model);
}

function render({ model, el }) {
  const session = getSession(model);
  const root = document.createElement("div");
  root.className = "nnviz-player";
  const title = document.createElement("div");
  title.className = "nnviz-title";
  const controls = createControls(model, session);
  root.append(styleElement(), title, controls.el);
  el.append(root);

  function draw() {
    const { index, frame, loading } = session.current();
    renderTitle(title, { prefix: "", frame, loading });
    title.style.display = model.get("status") === false ? "none" : "";
    controls.update();
    Object.assign(root.dataset, {
      frames: String(session.store.size), total: String(session.store.total), epoch: String(index ?? -1),
    });
  }
  const { schedule, dispose: stopDrawing } = drawOncePerFrame(root, draw, { onDrawn: (ms) => session.store.painted(ms) });
  const traits = [...PLAYER_TRAITS, "status"];
  for (const name of traits) model.on(`change:${name}`, schedule);
  const unsubscribe = session.store.subscribe(schedule);
  schedule();

  return () => {
    stopDrawing();
    for (const name of traits) model.off(`change:${name}`, schedule);
    unsubscribe();
    controls.dispose();
    root.remove();
  };
}

export default { initialize, render };
