import { describe, expect, it } from "vitest";
import {
  ALPHA, bounds, cameraMatrix, classCodes, densityGrid, fitCamera, massLevels, nearest, NOT_DRAWN, orbit, pan2d,
  pointColors, pointInPolygon, PREVIEW_3D, previewStride, previewSubset, project, selectBox, selectLasso, visibleMask,
  zoom2d, textureMap, densityWeights3d,
} from "./scatter.js";

const square = Float32Array.from([0, 0, 10, 0, 10, 10, 0, 10, NaN, 5]);

describe("bounds and cameras", () => {
  it("ignores non-finite rows", () => {
    const b = bounds(square, 2);
    expect(b.min).toEqual([0, 0]);
    expect(b.max).toEqual([10, 10]);
    expect(b.center).toEqual([5, 5]);
  });

  it("a fitted 2-D camera puts the data inside the view, centre at the middle", () => {
    const cam = fitCamera(bounds(square, 2), 2);
    const s = project(square, 2, cameraMatrix(cam, 2, 1), 200, 200);
    for (let i = 0; i < 4; i++) {
      expect(s[2 * i]).toBeGreaterThan(0);
      expect(s[2 * i]).toBeLessThan(200);
    }
    expect(Number.isNaN(s[8])).toBe(true);
    const c = project(Float32Array.from([5, 5]), 2, cameraMatrix(cam, 2, 1), 200, 200);
    expect(c[0]).toBeCloseTo(100);
    expect(c[1]).toBeCloseTo(100);
    // y grows upwards in data, downwards on screen
    expect(s[1]).toBeGreaterThan(s[5]);
  });

  it("zooming about a point keeps that point still; panning moves by the pixels dragged", () => {
    const cam = fitCamera(bounds(square, 2), 2);
    const m0 = cameraMatrix(cam, 2, 1.5);
    const under = [3, 7];
    const [px, py] = project(Float32Array.from(under), 2, m0, 300, 200);
    const z = zoom2d(cam, 2, px, py, 300, 200);
    const [qx, qy] = project(Float32Array.from(under), 2, cameraMatrix(z, 2, 1.5), 300, 200);
    expect(qx).toBeCloseTo(px, 3);
    expect(qy).toBeCloseTo(py, 3);
    const p = pan2d(cam, 15, -8, 300, 200);
    const [rx, ry] = project(Float32Array.from(under), 2, cameraMatrix(p, 2, 1.5), 300, 200);
    expect(rx - px).toBeCloseTo(15, 3);
    expect(ry - py).toBeCloseTo(-8, 3);
  });

  it("3-D: the target projects to the centre whatever the orbit; points behind the camera are dropped", () => {
    const cube = Float32Array.from([-1, -1, -1, 1, 1, 1, 0, 0, 0]);
    let cam = fitCamera(bounds(cube, 3), 3);
    for (let k = 0; k < 4; k++) {
      const s = project(cube, 3, cameraMatrix(cam, 3, 1), 100, 100);
      expect(s[4]).toBeCloseTo(50, 3);
      expect(s[5]).toBeCloseTo(50, 3);
      cam = orbit(cam, 40, 25);
    }
    const behind = { ...cam, distance: 0.1 };
    const eye = project(Float32Array.from([50, 50, 50]), 3, cameraMatrix(behind, 3, 1), 100, 100);
    expect(eye.length).toBe(2);
  });
});

describe("picking and selection", () => {
  const screen = Float32Array.from([10, 10, 50, 50, 52, 51, NaN, NaN, 90, 10]);

  it("nearest finds the closest point within the radius, skips NaN, else -1", () => {
    expect(nearest(screen, 51, 51, 5)).toBe(2);
    expect(nearest(screen, 49, 49, 5)).toBe(1);
    expect(nearest(screen, 30, 30, 5)).toBe(-1);
  });

  it("point in polygon, even-odd", () => {
    const tri = [[0, 0], [10, 0], [0, 10]];
    expect(pointInPolygon(2, 2, tri)).toBe(true);
    expect(pointInPolygon(8, 8, tri)).toBe(false);
  });

  it("lasso and box return ascending indices of the points inside", () => {
    expect(selectLasso(screen, [[40, 40], [60, 40], [60, 60], [40, 60]])).toEqual([1, 2]);
    expect(selectLasso(screen, [[0, 0], [5, 5]])).toEqual([]);
    expect(selectBox(screen, 100, 0, 0, 20)).toEqual([0, 4]);
  });

  it("visibility follows hidden classes", () => {
    expect([...visibleMask(Uint8Array.from([0, 1, 2, 1]), [1], 4)]).toEqual([1, 0, 1, 0]);
  });
});

describe("colours", () => {
  it("codes mark non-finite rows as not drawn", () => {
    expect([...classCodes(square, 2, Uint8Array.from([1, 2, 3, 255, 4]))]).toEqual([1, 2, 3, 0, NOT_DRAWN]);
  });

  it("alpha carries hidden, selected and dimmed", () => {
    const rgba = pointColors(Uint8Array.from([0, 1, NOT_DRAWN, 1]), [[255, 0, 0], [0, 0, 255]],
      { hidden: [0], selected: Uint8Array.from([0, 1, 0, 0]) });
    expect([...rgba.slice(0, 4)]).toEqual([255, 0, 0, ALPHA.hidden]);
    expect([...rgba.slice(4, 8)]).toEqual([0, 0, 255, ALPHA.selected]);
    expect(rgba[11]).toBe(ALPHA.hidden);
    expect(rgba[15]).toBe(ALPHA.dimmed);
    expect(pointColors(Uint8Array.from([1]), [[1, 2, 3], [4, 5, 6]])[3]).toBe(ALPHA.normal);
  });
});

describe("density", () => {
  it("sums to one and peaks where the class's points are", () => {
    const pos = Float32Array.from([1, 1, 1.1, 0.9, 0.9, 1.05, 8, 8]);
    const grid = densityGrid(pos, 2, Uint8Array.from([0, 0, 0, 1]), 0, [0, 10, 0, 10], 32, 1.5);
    expect(grid.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    let best = 0;
    for (let i = 0; i < grid.length; i++) if (grid[i] > grid[best]) best = i;
    const [gx, gy] = [best % 32, Math.floor(best / 32)];
    expect(Math.abs(gx - 3)).toBeLessThanOrEqual(1);
    expect(Math.abs(gy - 3)).toBeLessThanOrEqual(1);
    expect(grid[Math.round(0.8 * 31) * 32 + Math.round(0.8 * 31)]).toBeLessThan(1e-6); // the other class
  });

  it("mass levels decrease as the enclosed mass grows", () => {
    const grid = Float32Array.from([0.4, 0.3, 0.2, 0.1]);
    expect(massLevels(grid, [0.3, 0.6, 0.95])).toEqual([0.4, 0.3, 0.1].map((v) => Math.fround(v)));
  });

  it("an empty class gives an all-zero grid", () => {
    expect(densityGrid(Float32Array.from([1, 1]), 2, Uint8Array.from([0]), 3, [0, 2, 0, 2], 8).every((v) => v === 0)).toBe(true);
  });
});

describe("preview while moving", () => {
  it("strides only past PREVIEW_3D, within WebGL's 255-byte stride", () => {
    expect(previewStride(PREVIEW_3D)).toBe(1);
    expect(previewStride(4 * PREVIEW_3D)).toBe(4);
    expect(12 * previewStride(1e9)).toBeLessThanOrEqual(255);
  });
});

describe("frame rate at scale: texture map, preview subset", () => {
  it("a texture drawn under one 2-D camera, moved by textureMap, lands where the new camera puts each point", () => {
    const cam = fitCamera(bounds(square, 2), 2);
    const moved = zoom2d(pan2d(cam, 37, -12, 300, 200), 2.5, 80, 50, 300, 200);
    const m0 = cameraMatrix(cam, 2, 1.5), m1 = cameraMatrix(moved, 2, 1.5);
    const [kx, ky, ox, oy] = textureMap(m0, m1);
    for (const [x, y] of [[0, 0], [10, 3], [-4, 7]]) {
      const c0 = [m0[0] * x + m0[12], m0[5] * y + m0[13]];
      const c1 = [m1[0] * x + m1[12], m1[5] * y + m1[13]];
      expect(kx * c0[0] + ox).toBeCloseTo(c1[0], 5);
      expect(ky * c0[1] + oy).toBeCloseTo(c1[1], 5);
    }
    expect(textureMap(m0, m0)).toEqual([1, 1, 0, 0]);
  });

  it("the preview subset is m distinct indices, sorted, spread over the whole range, the same each time", () => {
    const s = previewSubset(1_000_000, 20_000);
    expect(s.length).toBe(20_000);
    expect(new Set(s).size).toBe(20_000);
    expect(s.every((v, i) => i === 0 || v > s[i - 1])).toBe(true);
    expect(s[s.length - 1]).toBeLessThan(1_000_000);
    // random, not a stride: about a tenth in each tenth of the range, and not evenly spaced
    const tenths = new Array(10).fill(0);
    for (const i of s) tenths[Math.floor(i / 100_000)] += 1;
    for (const t of tenths) expect(Math.abs(t - 2000)).toBeLessThan(200);
    expect(new Set(Array.from(s.slice(1, 200), (v, i) => v - s[i])).size).toBeGreaterThan(20);
    expect(previewSubset(1_000_000, 20_000)).toEqual(s);
    expect(Array.from(previewSubset(5, 10))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("3-D density", () => {
  // class 0: a tight cluster of 400 points at the origin plus 20 stragglers far out; class 1: a cluster at (10, 10, 10)
  function clouds() {
    let s = 7;
    const rnd = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647 - 0.5;
    };
    const pos = [], lab = [];
    for (let i = 0; i < 400; i++) { pos.push(rnd(), rnd(), rnd()); lab.push(0); }
    for (let i = 0; i < 20; i++) { pos.push(4 + 6 * rnd(), -4 + 6 * rnd(), 4 + 6 * rnd()); lab.push(0); }
    for (let i = 0; i < 300; i++) { pos.push(10 + rnd(), 10 + rnd(), 10 + rnd()); lab.push(1); }
    pos.push(NaN, 0, 0); lab.push(1);
    return { pos: Float32Array.from(pos), lab: Uint8Array.from(lab) };
  }

  it("weights a class's dense core near 1 and its stragglers near 0; non-finite rows 0", () => {
    const { pos, lab } = clouds();
    const w = densityWeights3d(pos, lab);
    const core = Array.from(w.slice(0, 400)), far = Array.from(w.slice(400, 420));
    const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(Math.max(...core)).toBeCloseTo(1, 5);
    expect(Math.max(...Array.from(w.slice(420, 720)))).toBeCloseTo(1, 5); // each class scaled to its own peak
    expect(mean(core)).toBeGreaterThan(0.5);
    expect(mean(far)).toBeLessThan(0.1);
    for (const v of far) expect(v).toBeGreaterThan(0); // "over" keeps every point, faint
    expect(w[720]).toBe(0);
  });

  it("with keep, only the core holding that mass fraction stays", () => {
    const { pos, lab } = clouds();
    const w = densityWeights3d(pos, lab, { keep: 0.6 });
    const kept = (a, b) => Array.from(w.slice(a, b)).filter((v) => v > 0).length;
    expect(kept(400, 420)).toBe(0); // stragglers are outside class 0's core
    expect(kept(0, 400)).toBeGreaterThan(0.4 * 400);
    expect(kept(420, 720)).toBeGreaterThan(0.4 * 300);
  });

  it("weights become alpha between ALPHA.faint and ALPHA.normal, weight 0 hides", () => {
    const rgba = pointColors(Uint8Array.from([0, 0, 0]), [[10, 20, 30]], { weight: Float32Array.from([1, 0.5, 0]) });
    expect([rgba[3], rgba[7], rgba[11]]).toEqual([ALPHA.normal, Math.round((ALPHA.faint + ALPHA.normal) / 2), 0]);
  });
});
