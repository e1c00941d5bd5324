import { afterEach, describe, expect, it, vi } from "vitest";
import { drawOncePerFrame } from "./dom.js";

describe("drawOncePerFrame", () => {
  afterEach(() => vi.unstubAllGlobals());

  function fakeFrames() {
    const pending = new Map();
    let next = 1;
    vi.stubGlobal("requestAnimationFrame", (fn) => (pending.set(next, fn), next++));
    vi.stubGlobal("cancelAnimationFrame", (id) => pending.delete(id));
    return () => { const fns = [...pending.values()]; pending.clear(); fns.forEach((fn) => fn()); };
  }

  it("collapses many changes into one draw per animation frame", () => {
    const tick = fakeFrames();
    const draw = vi.fn();
    const { schedule } = drawOncePerFrame({}, draw);
    schedule(); schedule(); schedule();
    tick();
    expect(draw).toHaveBeenCalledTimes(1);
    schedule();
    tick();
    expect(draw).toHaveBeenCalledTimes(2);
  });

  it("draws nothing while scrolled out of sight, and draws on coming back", () => {
    const tick = fakeFrames();
    let report;
    vi.stubGlobal("IntersectionObserver", class { constructor(cb) { report = cb; } observe() {} disconnect() {} });
    const draw = vi.fn();
    const { schedule } = drawOncePerFrame({}, draw);
    report([{ isIntersecting: false }]);
    schedule();
    tick();
    expect(draw).not.toHaveBeenCalled();
    report([{ isIntersecting: true }]);
    tick();
    expect(draw).toHaveBeenCalledTimes(1);
  });

  it("dispose cancels a pending draw", () => {
    const tick = fakeFrames();
    const draw = vi.fn();
    const { schedule, dispose } = drawOncePerFrame({}, draw);
    schedule();
    dispose();
    tick();
    expect(draw).not.toHaveBeenCalled();
  });
});
