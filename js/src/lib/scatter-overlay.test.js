import { describe, expect, it } from "vitest";
import { callNames, fakeContext2D } from "./fake-canvas.js";
import { classContours, paintOverlay, thumbnailRGBA } from "./scatter-overlay.js";

// Two round clusters: class 0 around (0, 0), class 1 around (10, 10).
function clusters(n = 300) {
  const pos = new Float32Array(4 * n), labels = new Uint8Array(2 * n);
  for (let i = 0; i < 2 * n; i++) {
    const c = i % 2, a = i * 2.399, r = Math.sqrt((i % n) / n);
    pos[2 * i] = 10 * c + r * Math.cos(a);
    pos[2 * i + 1] = 10 * c + r * Math.sin(a);
    labels[i] = c;
  }
  return { pos, labels };
}

describe("density contours", () => {
  it("each class's contours surround its own cluster, the outer ones thinner", () => {
    const { pos, labels } = clusters();
    const lines = classContours(pos, labels, 2);
    expect(new Set(lines.map((l) => l.cls))).toEqual(new Set([0, 1]));
    for (const { cls, segs } of lines) {
      expect(segs.length).toBeGreaterThan(4);
      for (const [x0, y0] of segs) expect(Math.hypot(x0 - 10 * cls, y0 - 10 * cls)).toBeLessThan(3);
    }
    const widths = lines.filter((l) => l.cls === 0).map((l) => l.width);
    expect(widths).toEqual([...widths].sort((a, b) => b - a));
  });

  it("hidden classes get no contours", () => {
    const { pos, labels } = clusters();
    expect(classContours(pos, labels, 2, [0]).every((l) => l.cls === 1)).toBe(true);
  });
});

describe("overlay painting", () => {
  const base = { width: 200, height: 100, dpr: 2, matrix: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] };

  it("names the axes in 2-D only", () => {
    const ctx = fakeContext2D();
    paintOverlay(ctx, { ...base, axes: ["petal length", "petal width"] });
    const texts = ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1]);
    expect(texts).toEqual(["petal length →", "← petal width"]);
    const ctx3 = fakeContext2D();
    paintOverlay(ctx3, { ...base, dims: 3, axes: ["a", "b"] });
    expect(callNames(ctx3)).not.toContain("fillText");
  });

  it("outlines a lasso as a closed dashed path through every point dragged; a pan drag draws nothing", () => {
    const ctx = fakeContext2D();
    paintOverlay(ctx, { ...base, drag: { kind: "lasso", x: 1, y: 1, path: [[1, 1], [50, 2], [30, 40]] } });
    const names = callNames(ctx);
    expect(names.filter((n) => n === "lineTo")).toHaveLength(2);
    expect(names.indexOf("closePath")).toBeLessThan(names.indexOf("stroke"));
    expect(ctx.calls.find((c) => c[0] === "setLineDash")[1]).toEqual([4, 3]);
    const pan = fakeContext2D();
    paintOverlay(pan, { ...base, drag: { kind: "pan", x: 1, y: 1, path: [[1, 1], [5, 5]] } });
    expect(callNames(pan)).not.toContain("setLineDash");
  });

  it("strokes each contour in its class colour, projected to the screen", () => {
    const ctx = fakeContext2D();
    const lines = [{ cls: 1, width: 2, segs: [[0, 0, 1, 1]] }];
    paintOverlay(ctx, { ...base, lines, hexes: ["#111111", "#ff0000"] });
    expect(ctx.props.strokeStyle).toBe("#ff0000");
    const move = ctx.calls.find((c) => c[0] === "moveTo"), line = ctx.calls.find((c) => c[0] === "lineTo");
    expect(move.slice(1)).toEqual([100, 50]); // data (0, 0) is the middle of the clip square
    expect(line.slice(1)).toEqual([200, 0]);
  });
});

describe("tooltip thumbnails", () => {
  it("repeats a grey channel into RGB, opaque", () => {
    const bytes = new DataView(Uint8Array.from([0, 0, 0, 0, 10, 20, 30, 40]).buffer);
    const img = thumbnailRGBA(bytes, [2, 2], 1);
    expect(img.width).toBe(2);
    expect(Array.from(img.pixels.slice(0, 8))).toEqual([10, 10, 10, 255, 20, 20, 20, 255]);
  });

  it("reads RGB images pixel by pixel; no image past the end or without a shape", () => {
    const bytes = new DataView(Uint8Array.from([1, 2, 3, 4, 5, 6]).buffer);
    expect(Array.from(thumbnailRGBA(bytes, [1, 2, 3], 0).pixels)).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
    expect(thumbnailRGBA(bytes, [1, 2, 3], 1)).toBe(null);
    expect(thumbnailRGBA(bytes, [], 0)).toBe(null);
    expect(thumbnailRGBA(null, [1, 2, 3], 0)).toBe(null);
  });
});
