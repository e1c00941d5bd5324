// Pointer input on one element: drags (pointer captured until it is released), hover, wheel and double-click,
// all in CSS px from the element's top-left. What a drag does (pan, orbit, box, lasso) is the caller's.
import { localPoint } from "./dom.js";

/**
 * @typedef {object} Drag  a drag in progress, in CSS px from the element's top-left
 * @property {string} kind  what the caller's start() named it ("pan", "orbit", "box", "lasso" ...)
 * @property {number} x  where it started
 * @property {number} y
 * @property {number} lastX  where the pointer was at the last move
 * @property {number} lastY
 * @property {Array<[number, number]>} path  every position, the start first
 */

/**
 * @typedef {object} PointerHandlers
 * @property {(x: number, y: number, event: PointerEvent) => string | null} start
 * @property {(drag: Drag, dx: number, dy: number) => void} [move]
 * @property {(drag: Drag, event: PointerEvent) => void} [end]
 * @property {(x: number, y: number) => void} [hover]
 * @property {() => void} [leave]
 * @property {((factor: number, x: number, y: number) => void) | null} [wheel]
 * @property {(() => void) | null} [reset]
 */

/**
 * Listens on `target` and calls:
 *   start(x, y, event)      a primary button went down; return a drag kind (string) to start a drag, or null
 *   move(drag, dx, dy)      the pointer moved while dragging; drag = {kind, x, y, lastX, lastY, path: [[x, y]...]}
 *   end(drag, event)        the drag ended (button released)
 *   hover(x, y)             the pointer moved with no drag
 *   leave()                 the pointer left the element
 *   wheel(factor, x, y)     zoom by `factor` (> 1 zooms in) around (x, y); the page does not scroll
 *   reset()                 double-click
 * Returns {drag() (the drag in progress or null), dispose()}.
 */
/**
 * @param {EventTarget & {getBoundingClientRect(): {left: number, top: number}, setPointerCapture?: (id: number) => void}} target
 * @param {PointerHandlers} handlers
 * @returns {{drag: () => Drag | null, dispose: () => void}}
 */
export function bindPointer(target, handlers) {
  const { start, move = () => {}, end = () => {}, hover = () => {}, leave = () => {}, wheel = null, reset = null } = handlers;
  /** @type {Drag | null} */
  let drag = null;
  /** @param {PointerEvent} event */
  const onDown = (event) => {
    if (event.button !== 0) return;
    const [x, y] = localPoint(event, target);
    const kind = start(x, y, event);
    if (!kind) return;
    drag = { kind, x, y, lastX: x, lastY: y, path: [[x, y]] };
    target.setPointerCapture?.(event.pointerId);
  };
  /** @param {PointerEvent} event */
  const onMove = (event) => {
    const [x, y] = localPoint(event, target);
    if (!drag) return hover(x, y);
    const dx = x - drag.lastX, dy = y - drag.lastY;
    drag.lastX = x;
    drag.lastY = y;
    drag.path.push([x, y]);
    move(drag, dx, dy);
  };
  /** @param {PointerEvent} event */
  const onUp = (event) => {
    if (!drag) return;
    const done = drag;
    drag = null;
    end(done, event);
  };
  /** @param {WheelEvent} event */
  const onWheel = (event) => {
    if (!wheel) return;
    event.preventDefault();
    const [x, y] = localPoint(event, target);
    wheel(wheelFactor(event.deltaY), x, y);
  };
  /** @type {Array<[string, (event: any) => void]>} */
  const listeners = [["pointerdown", onDown], ["pointermove", onMove], ["pointerup", onUp], ["pointerleave", () => leave()],
    ["wheel", onWheel], ["dblclick", () => reset?.()]];
  for (const [type, fn] of listeners) target.addEventListener(type, fn, type === "wheel" ? { passive: false } : undefined);
  return {
    drag: () => drag,
    dispose() {
      for (const [type, fn] of listeners) target.removeEventListener(type, fn);
    },
  };
}

/**
 * Zoom factor of one wheel event: scrolling down (positive deltaY) zooms out, smoothly for trackpads.
 * @param {number} deltaY
 */
export function wheelFactor(deltaY) {
  return Math.exp(-deltaY * 0.0015);
}
