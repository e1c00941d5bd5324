import { describe, expect, it } from "vitest";
import { boundarySegments, contourSegments } from "./contour.js";

function field(W, H, f) {
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = f(x, y);
  return out;
}

const length = (segments) => segments.reduce((s, [a, b, c, d]) => s + Math.hypot(c - a, d - b), 0);

describe("contourSegments", () => {
  it("finds the diagonal of x − y", () => {
    const segments = contourSegments(field(5, 5, (x, y) => x - y), 5, 5, 0);
    expect(segments.length).toBeGreaterThan(0);
    for (const [x0, y0, x1, y1] of segments) {
      expect(x0).toBeCloseTo(y0, 9);
      expect(x1).toBeCloseTo(y1, 9);
    }
    expect(length(segments)).toBeCloseTo(4 * Math.SQRT2, 6); // corner to corner, once
  });

  it("interpolates linearly between samples", () => {
    const segments = contourSegments(field(3, 2, (x) => x - 0.25), 3, 2, 0);
    expect(segments).toHaveLength(1);
    const [x0, , x1] = segments[0];
    expect([x0, x1]).toEqual([0.25, 0.25]);
  });

  it("honours the level", () => {
    const segments = contourSegments(field(4, 3, (x) => x), 4, 3, 2.5);
    expect(segments.every(([x0, , x1]) => x0 === 2.5 && x1 === 2.5)).toBe(true);
    expect(length(segments)).toBeCloseTo(2, 9);
  });

  it("skips cells touching NaN", () => {
    const f = field(5, 5, (x, y) => x - y + 0.5);
    f[2 * 5 + 2] = NaN;
    const segments = contourSegments(f, 5, 5, 0);
    const touches = ([x0, y0, x1, y1]) => [[x0, y0], [x1, y1]].some(([x, y]) => Math.abs(x - 2) < 1 && Math.abs(y - 2) < 1);
    expect(segments.some(touches)).toBe(false);
    expect(segments.length).toBeGreaterThan(0);
  });

  it("splits a saddle into two segments", () => {
    expect(contourSegments(new Float32Array([1, -1, -1, 1]), 2, 2, 0)).toHaveLength(2);
  });
});

// (H, W, K) probabilities from a function of the cell, as a float32 "decoded" array.
function probs(W, H, K, f) {
  const codes = new Float32Array(H * W * K);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) codes.set(f(x, y), (y * W + x) * K);
  return { dtype: "float32", shape: [H, W, K], scale: 1, offset: 0, nan: null, codes };
}

describe("boundarySegments", () => {
  it("K = 2 is the single contour of p1 − p0", () => {
    const b = probs(6, 4, 2, (x) => (x < 2.5 ? [0.9, 0.1] : [0.2, 0.8]));
    const segments = boundarySegments(b);
    expect(length(segments)).toBeCloseTo(3, 9); // one vertical line over 3 rows, not two
    expect(segments.every(([x0, , x1]) => x0 > 2 && x0 < 3 && x1 > 2 && x1 < 3)).toBe(true);
  });

  it("K = 3 draws each boundary once and meets at the junction", () => {
    // Class 0 left, class 1 right-bottom, class 2 right-top.
    const W = 9, H = 9;
    const b = probs(W, H, 3, (x, y) => (x < 4.5 ? [0.8, 0.1, 0.1] : y < 4.5 ? [0.1, 0.8, 0.1] : [0.1, 0.1, 0.8]));
    const segments = boundarySegments(b);
    const vertical = segments.filter(([x0, , x1]) => x0 === 4.5 && x1 === 4.5);
    const horizontal = segments.filter(([, y0, , y1]) => y0 === 4.5 && y1 === 4.5);
    expect(length(vertical)).toBeCloseTo(8, 9); // the 0|1 and 0|2 boundaries, full height, once
    expect(length(horizontal)).toBeCloseTo(3, 9); // the 1|2 boundary, right of the junction cell
    const keys = segments.map((s) => s.join());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("gives no boundary for a diverged (NaN) grid", () => {
    const b = probs(4, 4, 3, () => [NaN, NaN, NaN]);
    expect(boundarySegments(b)).toEqual([]);
  });
});
