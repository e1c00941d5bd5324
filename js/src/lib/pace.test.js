import { describe, expect, it } from "vitest";
import { fakeModel } from "./fake-model.js";
import { DRAWN_EVERY_MS, MAX_DRAW_MS, drawCostReporter } from "./pace.js";

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
