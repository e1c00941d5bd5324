// Player view: one controls bar that moves `epoch`; jslink carries it to the other views.
import { createControls, renderTitle, styleElement } from "./lib/controls.js";
import { getSession, initSession } from "./lib/session.js";

const TRAITS = ["epoch", "playing", "speed", "loop", "follow"];

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

  let raf = null;
  function draw() {
    raf = null;
    const { index, frame, loading } = session.current();
    renderTitle(title, { prefix: "", frame, loading });
    controls.update();
    Object.assign(root.dataset, {
      frames: String(session.store.size), total: String(session.store.total), epoch: String(index ?? -1),
    });
  }
  const schedule = () => {
    if (raf === null) raf = requestAnimationFrame(draw);
  };
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  const unsubscribe = session.store.subscribe(schedule);
  schedule();

  return () => {
    if (raf !== null) cancelAnimationFrame(raf);
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    unsubscribe();
    controls.dispose();
    root.remove();
  };
}

export default { initialize, render };
