import { afterEach, describe, expect, it, vi } from "vitest";
import { callNames, fakeContext2D, fakeWebGL } from "./fake-canvas.js";
import { ALPHA } from "./scatter.js";
import { create2DRenderer } from "./scatter-2d.js";
import { createGLRenderer, createRenderer } from "./scatter-gl.js";

const NAMES = ["a_pos", "a_color", "u_mvp", "u_size", "u_round", "u_weighted", "a_corner", "u_map", "u_extent", "u_tex"];
const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const view = { matrix: identity, size: 4, width: 100, height: 50, dpr: 1, key: "k" };

function glCanvas(gl) {
  return { getContext: (kind) => (kind === "webgl" ? gl : null) };
}
const draws = (gl) => gl.calls.filter((c) => c[0] === "drawArrays" || c[0] === "drawElements");

describe("WebGL points renderer", () => {
  it("draws every point in one call, every k-th point with a stride, the subset with indices", () => {
    const gl = fakeWebGL({ names: NAMES });
    const r = createGLRenderer(glCanvas(gl));
    expect(r.kind).toBe("webgl");
    r.setPositions(new Float32Array(2 * 10), 2);
    r.draw(view);
    expect(draws(gl).at(-1)).toEqual(["drawArrays", gl.POINTS, 0, 10]);
    r.draw({ ...view, every: 3 });
    expect(draws(gl).at(-1)).toEqual(["drawArrays", gl.POINTS, 0, 4]);
    const strided = gl.calls.filter((c) => c[0] === "vertexAttribPointer").at(-2); // a_pos: 3 points x 2 floats
    expect(strided[5]).toBe(3 * 2 * 4);
    expect(r.setSubset(Uint32Array.from([1, 5]))).toBe(true);
    r.draw({ ...view, subset: true });
    expect(draws(gl).at(-1)).toEqual(["drawElements", gl.POINTS, 2, gl.UNSIGNED_INT, 0]);
  });

  it("has no subset without 32-bit indices; draws nothing before data", () => {
    const gl = fakeWebGL({ names: NAMES, extensions: [] });
    const r = createGLRenderer(glCanvas(gl));
    expect(r.setSubset(Uint32Array.from([1]))).toBe(false);
    r.draw(view);
    expect(draws(gl)).toEqual([]);
  });

  it("blits a snapshot only for the view it was taken of, and not after new data or forget()", () => {
    const gl = fakeWebGL({ names: NAMES });
    const r = createGLRenderer(glCanvas(gl));
    r.setPositions(new Float32Array(4), 2);
    expect(r.blit(view)).toBe(false);
    r.snapshot(view);
    expect(r.blit(view)).toBe(true);
    expect(r.blit({ ...view, key: "resized" })).toBe(false);
    r.setColors(new Uint8Array(8));
    expect(r.blit(view)).toBe(false);
    r.snapshot(view);
    r.forget();
    expect(r.blit(view)).toBe(false);
  });

  it("is null without WebGL; createRenderer then falls back to canvas 2D and says why", () => {
    expect(createGLRenderer(glCanvas(null))).toBe(null);
    const canvas = { getContext: () => null };
    const none = createRenderer(canvas);
    expect(none.renderer.kind).toBe("canvas2d");
    expect(none.fallbackReason).toMatch(/not available/);
    const broken = createRenderer({ getContext: () => { throw new Error("lost"); } });
    expect(broken.fallbackReason).toBe("WebGL failed (lost)");
    expect(createRenderer(glCanvas(fakeWebGL({ names: NAMES }))).fallbackReason).toBe("");
  });
});

describe("canvas 2D points renderer", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("skips hidden points and draws selected ones bigger, at their projected place", () => {
    const ctx = fakeContext2D();
    const r = create2DRenderer({ getContext: () => ctx });
    r.setPositions(Float32Array.from([0, 0, 0.5, 0.5, -0.5, -0.5]), 2);
    r.setColors(Uint8Array.from([255, 0, 0, ALPHA.normal, 0, 255, 0, ALPHA.selected, 0, 0, 255, ALPHA.hidden]));
    r.draw(view);
    const rects = ctx.calls.filter((c) => c[0] === "fillRect");
    expect(rects).toHaveLength(3); // the background and two points
    expect(rects[1]).toEqual(["fillRect", 48, 23, 4, 4]);
    const big = rects[2];
    expect(big[3]).toBeCloseTo(4 * 1.4);
    expect(big[1] + big[3] / 2).toBeCloseTo(75);
    expect(callNames(ctx)[0]).toBe("setTransform");
  });
});
