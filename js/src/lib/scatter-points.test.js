import { describe, expect, it } from "vitest";
import { ALPHA, PREVIEW_3D } from "./scatter.js";
import { createPointLayer } from "./scatter-points.js";

function stubRenderer(kind = "webgl") {
  return {
    kind, uploads: 0, colors: null, subset: null,
    setPositions() { this.uploads += 1; },
    setColors(rgba) { this.colors = rgba; },
    setSubset(indices) { this.subset = indices; return true; },
  };
}
const positions = Float32Array.from([0, 0, 1, 1, 2, 2, NaN, 0]);
const labels = Uint8Array.from([0, 1, 1, 0]);
const alphas = (rgba) => Array.from({ length: rgba.length / 4 }, (_, i) => rgba[4 * i + 3]);

describe("point layer", () => {
  it("uploads new data and colours each point by class; a row without a position is not drawn", () => {
    const r = stubRenderer();
    const layer = createPointLayer(r);
    expect(layer.count).toBe(0);
    layer.set(positions, 2, "a", labels);
    expect(layer.count).toBe(4);
    layer.recolor({ colors: ["#ff0000", "#0000ff"] });
    expect(Array.from(r.colors.slice(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(r.colors.slice(4, 7))).toEqual([0, 0, 255]);
    expect(alphas(r.colors)).toEqual([ALPHA.normal, ALPHA.normal, ALPHA.normal, ALPHA.hidden]);
  });

  it("recolours only when something it shows changed", () => {
    const r = stubRenderer();
    const layer = createPointLayer(r);
    layer.set(positions, 2, "a", labels);
    const colors = ["#ff0000", "#0000ff"];
    layer.recolor({ colors });
    const first = r.colors;
    layer.recolor({ colors });
    expect(r.colors).toBe(first);
    layer.recolor({ colors, selection: [1], selectionVersion: 1 });
    expect(alphas(r.colors).slice(0, 3)).toEqual([ALPHA.dimmed, ALPHA.selected, ALPHA.dimmed]);
    layer.recolor({ colors, hidden: [1] });
    expect(alphas(r.colors).slice(0, 3)).toEqual([ALPHA.normal, ALPHA.hidden, ALPHA.hidden]);
  });

  it("projects to the screen once per camera, hiding hidden classes from picking", () => {
    const layer = createPointLayer(stubRenderer());
    layer.set(positions, 2, "a", labels);
    const m = [0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const s = layer.screen(m, 100, 100, [], 1);
    expect(layer.screen(m, 100, 100, [], 1)).toBe(s);
    expect([s[2], s[3]]).toEqual([75, 25]);
    const hid = layer.screen(m, 100, 100, [1], 1);
    expect(Number.isNaN(hid[2])).toBe(true);
    expect(hid[0]).toBe(50);
  });

  it("3-D data above the preview size gets its moving-camera subset once, on WebGL only", () => {
    const n = PREVIEW_3D + 5;
    const big = new Float32Array(3 * n);
    const gl = stubRenderer("webgl");
    const layer = createPointLayer(gl);
    layer.set(big, 3, "a", null);
    expect(layer.subsetReady).toBe(true);
    expect(gl.subset.length).toBe(PREVIEW_3D);
    const canvas = createPointLayer(stubRenderer("canvas2d"));
    canvas.set(big, 3, "a", null);
    expect(canvas.subsetReady).toBe(false);
  });

  it("keeps contours until data, mode or hidden classes change; none in 3-D or when off", () => {
    const layer = createPointLayer(stubRenderer());
    const pos = Float32Array.from({ length: 400 }, (_, i) => Math.sin(i * 1.7) * (i % 7));
    layer.set(pos, 2, "a", new Uint8Array(200));
    const a = layer.contours("over", [], 1);
    expect(a.lines.length).toBeGreaterThan(0);
    expect(layer.contours("over", [], 1)).toBe(a);
    expect(layer.contours("only", [], 1)).not.toBe(a);
    expect(layer.contours("off", [], 1).lines).toEqual([]);
    layer.invalidate();
    expect(layer.key).toBe(null);
  });
});
