import { describe, expect, it } from "vitest";
import { fakeModel } from "./fake-model.js";
import { DRAWN_EVERY_MS, MAX_DRAW_MS, TICK_GAP_MS, drawCostReporter, liveTick } from "./pace.js";

describe("drawCostReporter", () => {
  it("reports the first cost, then only a moving average that moved by more than a quarter", () => {
    const model = fakeModel();
    const costs = drawCostReporter(model, () => 0);
    costs.report(40);
    expect(model.sent).toEqual([{ type: "drawn", ms: 40 }]);
    costs.report(44); // average 42: within a quarter of 40
    costs.report(38); // 40
    expect(model.sent).toHaveLength(1);
    costs.report(100); // 70: moved by 75 %
    expect(model.sent.at(-1)).toEqual({ type: "drawn", ms: 70 });
    expect(costs.cost).toBe(70);
  });

  it("reports an unchanged cost again after DRAWN_EVERY_MS, and ignores what is not a duration", () => {
    const model = fakeModel();
    let t = 0;
    const costs = drawCostReporter(model, () => t);
    costs.report(20);
    t = DRAWN_EVERY_MS - 1;
    costs.report(20);
    expect(model.sent).toHaveLength(1);
    t = DRAWN_EVERY_MS;
    costs.report(20);
    expect(model.sent).toHaveLength(2);
    for (const bad of [Number.NaN, -1, Infinity, MAX_DRAW_MS + 1]) costs.report(bad); // the last: a hidden tab
    expect(model.sent).toHaveLength(2);
    expect(costs.cost).toBe(20);
  });
});

describe("drawCostReporter with the page's live tick", () => {
  it("counts the tick's span from arrived() when it is longer than the view's own draw", () => {
    const model = fakeModel();
    let t = 0;
    const costs = drawCostReporter(model, () => t, {});
    costs.arrived();
    t = 80;
    costs.report(10); // its own draw: 10 ms; the page was busy with the tick for 80
    expect(model.sent).toEqual([{ type: "drawn", ms: 80 }]);
  });
});

describe("liveTick", () => {
  it("spans from the first live frame since the last paint to each view's paint of it, shared across views", () => {
    let t = 0;
    const scope = {};
    const a = liveTick(() => t, scope), b = liveTick(() => t, scope); // two views' bundles, one page
    a.arrived(); // t=0: the tick's first frame
    t = 30;
    b.arrived(); // the same tick: the span still starts at 0
    t = 120;
    expect(a.painted(15)).toBe(120); // its own draw took 15 ms; the page was busy with the tick for 120
    t = 121;
    expect(b.painted(10)).toBe(121); // painted in the same frame: the same tick
    t = 500;
    b.arrived(); // after a paint: a new tick
    t = 540;
    expect(a.painted(60)).toBe(60); // its own draw is the longer
  });

  it("keeps a view's own time without a live frame, after a gap, or when the span is too long to be drawing", () => {
    let t = 0;
    const tick = liveTick(() => t, {});
    expect(tick.painted(25)).toBe(25); // no live frame yet (a draw after a scrub or a resize)
    tick.arrived();
    t = TICK_GAP_MS + 1;
    tick.arrived(); // frames no view drew (out of sight), then this one a gap later: the span restarts here
    t += 50;
    expect(tick.painted(5)).toBe(50);
    t += 10;
    tick.arrived();
    t += 100;
    tick.arrived(); // within the gap and no paint since: the same tick
    t += MAX_DRAW_MS; // a hidden tab: not a cost of drawing
    expect(tick.painted(5)).toBe(5);
  });
});
