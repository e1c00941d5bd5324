// Small DOM helpers shared by the views.

/** An element with a class name and properties: make("button", "nnviz-play", { type: "button" }). */
export function make(tag, className, props = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return Object.assign(node, props);
}

/** Set several traits and send them to the kernel in one message. */
export function save(model, changes) {
  for (const [k, v] of Object.entries(changes)) model.set(k, v);
  model.save_changes();
}

/** Where a mouse or pointer event is, in CSS px from the element's top-left corner. */
export function localPoint(event, element) {
  const rect = element.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

/**
 * Many changes (a message, a timer tick, trait updates) collapse into one draw per animation frame, and a view
 * scrolled out of sight does not draw at all until it comes back. Returns { schedule, dispose }.
 */
export function drawOncePerFrame(root, draw) {
  let raf = null;
  let visible = true;
  const run = () => {
    raf = null;
    draw();
  };
  const schedule = () => {
    if (raf === null && visible) raf = requestAnimationFrame(run);
  };
  const observer = typeof IntersectionObserver === "undefined" ? null : new IntersectionObserver((entries) => {
    visible = entries.some((e) => e.isIntersecting);
    schedule();
  });
  observer?.observe(root);
  return {
    schedule,
    dispose() {
      if (raf !== null) cancelAnimationFrame(raf);
      raf = null;
      observer?.disconnect();
    },
  };
}
