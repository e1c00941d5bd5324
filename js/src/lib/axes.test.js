import { describe, expect, it } from "vitest";
import { fitText, formatMetric, niceTicks } from "./axes.js";

describe("niceTicks", () => {
  it("uses 1, 2 or 5 times a power of ten inside the range", () => {
    expect(niceTicks(0, 10, 5)).toEqual({ ticks: [0, 2, 4, 6, 8, 10], decimals: 0 });
    expect(niceTicks(-1.3, 2.2, 7)).toEqual({ ticks: [-1, -0.5, 0, 0.5, 1, 1.5, 2], decimals: 1 });
    expect(niceTicks(0.001, 0.0042, 3)).toEqual({ ticks: [0.002, 0.004], decimals: 3 });
  });

  it("gives no ticks for an empty or invalid range", () => {
    expect(niceTicks(1, 1).ticks).toEqual([]);
    expect(niceTicks(NaN, 1).ticks).toEqual([]);
  });
});

describe("formatMetric", () => {
  it("keeps 3 significant digits without trailing zeros", () => {
    expect([0.12345, 0.95, 0.9500001, 12345, 2].map(formatMetric)).toEqual(["0.123", "0.95", "0.95", "12300", "2"]);
    expect([NaN, null, "n/a"].map(formatMetric)).toEqual(["NaN", "NaN", "n/a"]);
  });
});

describe("fitText", () => {
  const width = (s) => s.length * 6; // 6 px per character

  it("keeps text that fits and cuts the rest with an ellipsis", () => {
    expect(fitText("layer 0 · norm 3.1", 200, width)).toBe("layer 0 · norm 3.1");
    expect(fitText("layer 0 · norm 3.1", 60, width)).toBe("layer 0 ·…"); // 10 characters: 60 px
    expect(width(fitText("a long header line that runs on", 100, width))).toBeLessThanOrEqual(100);
  });

  it("gives an ellipsis or nothing when there is no room", () => {
    expect(fitText("abc", 6, width)).toBe("…");
    expect(fitText("abc", 3, width)).toBe("");
  });
});
