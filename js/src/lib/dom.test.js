import { afterEach, describe, expect, it, vi } from "vitest";
import { drawOncePerFrame, localPoint, save } from "./dom.js";
import { fakeModel } from "./fake-model.js";

describe("drawOncePerFrame", () => {
  afterEach(() => vi.unstubAllGlobals());

  function fakeFrames() {
    const pending = new Map();
    let next = 1;
    vi.stubGlobal("requestAnimationFrame", (fn) => {
      pending.set(next, fn);
      return next++;
    });
    vi.stubGlobal("cancelAnimationFrame", (id) => pending.delete(id));
    return () => {
      const fns = [...pending.values()];
      pending.clear();
      for (const fn of fns) fn();
    };
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

  it("tells onDrawn how long a draw took from being asked for until the page was painted", () => {
    const tick = fakeFrames();
    vi.useFakeTimers();
    try {
      const got = [];
      const { schedule } = drawOncePerFrame({}, () => vi.advanceTimersByTime(0), { onDrawn: (ms) => got.push(ms) });
      schedule();
      tick(); // the draw, then the page's paint ...
      expect(got).toEqual([]);
      vi.runAllTimers(); // ... after which the zero timeout runs
      expect(got).toHaveLength(1);
      expect(got[0]).toBeGreaterThanOrEqual(0);
    } finally {
      vi.useRealTimers();
    }
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

describe("save and localPoint", () => {
  it("sets every trait and sends them in one save", () => {
    const model = fakeModel({ page: 0 });
    save(model, { page: 2, layer: "fc1" });
    expect([model.get("page"), model.get("layer"), model.saves]).toEqual([2, "fc1", 1]);
  });

  it("measures an event from the element's top-left corner", () => {
    const el = { getBoundingClientRect: () => ({ left: 10, top: 20 }) };
    expect(localPoint({ clientX: 15, clientY: 50 }, el)).toEqual([5, 30]);
  });
});
