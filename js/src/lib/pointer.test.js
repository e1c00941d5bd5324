import { describe, expect, it, vi } from "vitest";
import { bindPointer, wheelFactor } from "./pointer.js";

// An element at (100, 50) on the page; events carry page coordinates like a browser's.
function element() {
  const el = new EventTarget();
  el.getBoundingClientRect = () => ({ left: 100, top: 50 });
  el.setPointerCapture = vi.fn();
  return el;
}
const fire = (el, type, props = {}) => {
  const event = Object.assign(new Event(type, { cancelable: true }), { button: 0, pointerId: 1, ...props });
  el.dispatchEvent(event);
  return event;
};

describe("bindPointer", () => {
  it("drags in element coordinates: start, moves by deltas with the path, end", () => {
    const el = element();
    const moves = [];
    const end = vi.fn();
    const pointer = bindPointer(el, { start: () => "lasso", move: (d, dx, dy) => moves.push([dx, dy, d.path.length]), end });
    fire(el, "pointerdown", { clientX: 110, clientY: 60 });
    expect(pointer.drag()).toMatchObject({ kind: "lasso", x: 10, y: 10 });
    expect(el.setPointerCapture).toHaveBeenCalledWith(1);
    fire(el, "pointermove", { clientX: 115, clientY: 58 });
    fire(el, "pointermove", { clientX: 125, clientY: 58 });
    expect(moves).toEqual([[5, -2, 2], [10, 0, 3]]);
    fire(el, "pointerup", { shiftKey: true });
    expect(pointer.drag()).toBe(null);
    const [drag, event] = end.mock.calls[0];
    expect(drag.path).toEqual([[10, 10], [15, 8], [25, 8]]);
    expect(event.shiftKey).toBe(true);
  });

  it("hovers when no drag runs; ignores other buttons and presses the caller declines", () => {
    const el = element();
    const hover = vi.fn();
    const start = vi.fn(() => null);
    const pointer = bindPointer(el, { start, hover });
    fire(el, "pointerdown", { button: 2, clientX: 100, clientY: 50 });
    expect(start).not.toHaveBeenCalled();
    fire(el, "pointerdown", { clientX: 100, clientY: 50 });
    expect(start).toHaveBeenCalledTimes(1);
    expect(pointer.drag()).toBe(null);
    fire(el, "pointermove", { clientX: 130, clientY: 70 });
    expect(hover).toHaveBeenCalledWith(30, 20);
  });

  it("wheel zooms around the pointer without scrolling the page; double-click resets; dispose stops it all", () => {
    const el = element();
    const wheel = vi.fn();
    const reset = vi.fn();
    const leave = vi.fn();
    const pointer = bindPointer(el, { start: () => "pan", wheel, reset, leave });
    const event = fire(el, "wheel", { deltaY: 100, clientX: 140, clientY: 90 });
    expect(event.defaultPrevented).toBe(true);
    expect(wheel).toHaveBeenCalledWith(wheelFactor(100), 40, 40);
    expect(wheelFactor(100)).toBeLessThan(1); // scrolling down zooms out
    expect(wheelFactor(-100)).toBeCloseTo(1 / wheelFactor(100));
    fire(el, "dblclick");
    fire(el, "pointerleave");
    expect(reset).toHaveBeenCalledTimes(1);
    expect(leave).toHaveBeenCalledTimes(1);
    pointer.dispose();
    fire(el, "wheel", { deltaY: 1, clientX: 0, clientY: 0 });
    fire(el, "dblclick");
    expect(wheel).toHaveBeenCalledTimes(1);
    expect(reset).toHaveBeenCalledTimes(1);
  });
});
