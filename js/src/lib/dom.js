// Small DOM helpers shared by the views.

/**
 * An element with a class name and properties: make("button", "nnviz-play", { type: "button" }).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {Partial<HTMLElementTagNameMap[K]> & Record<string, unknown>} [props]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function make(tag, className, props = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return Object.assign(node, props);
}

/**
 * @typedef {object} Model  anywidget's model: traits, change events, messages
 * @property {(name: string) => any} get
 * @property {(name: string, value: any) => void} set
 * @property {() => void} save_changes
 * @property {(event: string, fn: (...args: any[]) => void) => void} on
 * @property {(event: string, fn: (...args: any[]) => void) => void} off
 */

/**
 * Set several traits and send them to the kernel in one message.
 * @param {Model} model
 * @param {Record<string, unknown>} changes
 */
export function save(model, changes) {
  for (const [k, v] of Object.entries(changes)) model.set(k, v);
  model.save_changes();
}

/**
 * Where a mouse or pointer event is, in CSS px from the element's top-left corner.
 * @param {{clientX: number, clientY: number}} event
 * @param {{getBoundingClientRect(): {left: number, top: number}}} element
 * @returns {[number, number]}
 */
export function localPoint(event, element) {
  const rect = element.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

/**
 * Many changes (a message, a timer tick, trait updates) collapse into one draw per animation frame, and a view
 * scrolled out of sight does not draw at all until it comes back; a change of the host's theme draws again.
 * `onDrawn(ms)`, when given, hears how long each draw took from being asked for until the page was painted
 * (see afterPaint): the wait for the animation frame, the draw, and the page's style, layout and paint.
 * Returns { schedule, dispose }.
 */
/**
 * @param {Element} root
 * @param {() => void} draw
 * @param {{onDrawn?: (ms: number) => void}} [options]
 * @returns {{schedule: () => void, dispose: () => void}}
 */
export function drawOncePerFrame(root, draw, { onDrawn } = {}) {
  let raf = null;
  let visible = true;
  let asked = 0; // when the pending draw was asked for
  const run = () => {
    raf = null;
    draw();
    if (onDrawn) {
      const start = asked;
      afterPaint(() => onDrawn(performance.now() - start));
    }
  };
  const schedule = () => {
    if (raf === null && visible) {
      asked = performance.now();
      raf = requestAnimationFrame(run);
    }
  };
  const observer = typeof IntersectionObserver === "undefined" ? null : new IntersectionObserver((entries) => {
    visible = entries.some((e) => e.isIntersecting);
    schedule();
  });
  observer?.observe(root);
  // A theme switch (JupyterLab sets data-jp-theme-* on <body>, VS Code its class) changes colours read at draw time.
  const theme = typeof MutationObserver === "undefined" ? null : new MutationObserver(schedule);
  theme?.observe(document.body, { attributes: true, attributeFilter: ["class", "data-jp-theme-name", "data-jp-theme-light"] });
  return {
    schedule,
    dispose() {
      if (raf !== null) cancelAnimationFrame(raf);
      raf = null;
      observer?.disconnect();
      theme?.disconnect();
    },
  };
}

/**
 * Calls `fn` once the page has been painted: called from an animation-frame callback, a zero timeout runs after
 * the frame's style, layout and paint (browsers run them right after the animation-frame callbacks), so the time
 * until then is what drawing cost the page's main thread, all views drawn in that frame together.
 * @param {() => void} fn
 */
export function afterPaint(fn) {
  setTimeout(fn, 0);
}

/**
 * Keeps a view inside the page: `el` (the element the host gave the view) may shrink below the width the view
 * asks for, never past its container, and `onResize()` runs when the room it has changes. In a flex row (a
 * Dashboard's grid) the element's basis is the asked width, so it wraps to a new line first and shrinks only
 * when alone on one. Returns { width(wanted) -> the CSS px to draw at, dispose }.
 */
/**
 * @param {HTMLElement} el
 * @param {() => void} onResize
 * @param {{min?: number}} [options]
 * @returns {{width: (wanted: number) => number, dispose: () => void}}
 */
export function fitWidth(el, onResize, { min = 160 } = {}) {
  let room = Infinity;
  const measure = () => {
    const w = el.clientWidth;
    if (w > 0 && w !== room) {
      room = w;
      onResize();
    }
  };
  const observer = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(measure);
  observer?.observe(el);
  return {
    width(wanted) {
      if (el.style) Object.assign(el.style, { flex: `0 1 ${wanted}px`, minWidth: "0", maxWidth: "100%" });
      return Math.max(Math.min(min, wanted), Math.min(wanted, room));
    },
    dispose: () => observer?.disconnect(),
  };
}
