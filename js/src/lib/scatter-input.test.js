import { describe, expect, it } from "vitest";
import { bounds, cameraMatrix, fitCamera, project } from "./scatter.js";
import { dragCamera, dragKind, dragSelection, mergeSelection, toggleHidden, wheelCamera } from "./scatter-input.js";

const pts = Float32Array.from([0, 0, 10, 0, 10, 10, 0, 10, 5, 5]);
const screenOf = (cam, w = 200, h = 200) => project(pts, 2, cameraMatrix(cam, 2, w / h), w, h);

describe("scatter gestures", () => {
  it("the pan tool orbits in 3-D unless shift is held; selection tools stay themselves", () => {
    expect(dragKind("pan", 2, false)).toBe("pan");
    expect(dragKind("pan", 3, false)).toBe("orbit");
    expect(dragKind("pan", 3, true)).toBe("pan");
    expect(dragKind("lasso", 3, false)).toBe("lasso");
    expect(dragKind("box", 2, true)).toBe("box");
  });

  it("a 2-D pan drag moves every point by the pixels dragged", () => {
    const cam = fitCamera(bounds(pts, 2), 2);
    const before = screenOf(cam);
    const after = screenOf(dragCamera(cam, "pan", 2, 15, -7, 200, 200));
    for (let i = 0; i < 5; i++) {
      expect(after[2 * i] - before[2 * i]).toBeCloseTo(15, 3);
      expect(after[2 * i + 1] - before[2 * i + 1]).toBeCloseTo(-7, 3);
    }
    expect(dragCamera(cam, "box", 2, 15, -7, 200, 200)).toBe(null);
  });

  it("3-D: orbit turns the camera, shift-pan moves its target, the wheel moves closer", () => {
    const cam = fitCamera(bounds(Float32Array.from([0, 0, 0, 1, 1, 1]), 3), 3);
    const turned = dragCamera(cam, "orbit", 3, 20, 0, 200, 200);
    expect(turned.yaw).not.toBeCloseTo(cam.yaw);
    expect(turned.target).toEqual(cam.target);
    const moved = dragCamera(cam, "pan", 3, 0, 10, 200, 200);
    expect(moved.target[1]).toBeGreaterThan(cam.target[1]);
    expect(moved.yaw).toBe(cam.yaw);
    expect(wheelCamera(cam, 3, 2, 0, 0, 200, 200).distance).toBeLessThan(cam.distance);
  });

  it("the wheel in 2-D zooms around the pointer: the point under it stays put", () => {
    const cam = fitCamera(bounds(pts, 2), 2);
    const [x, y] = screenOf(cam).slice(0, 2);
    const [x2, y2] = screenOf(wheelCamera(cam, 2, 1.5, x, y, 200, 200)).slice(0, 2);
    expect(x2).toBeCloseTo(x, 3);
    expect(y2).toBeCloseTo(y, 3);
  });

  it("a box or lasso selects the points it encloses, in any drag direction", () => {
    const screen = Float32Array.from([10, 10, 50, 50, 90, 90]);
    expect(dragSelection({ kind: "box", x: 60, y: 60, path: [[60, 60], [0, 0]] }, screen)).toEqual([0, 1]);
    const tri = [[0, 0], [100, 0], [100, 100]];
    expect(dragSelection({ kind: "lasso", x: 0, y: 0, path: tri }, Float32Array.from([80, 10, 10, 80]))).toEqual([0]);
  });

  it("shift adds to the selection, otherwise it replaces it; legend clicks toggle a class", () => {
    expect(mergeSelection([5, 1], [3, 1], true)).toEqual([1, 3, 5]);
    expect(mergeSelection([5, 1], [3], false)).toEqual([3]);
    expect(toggleHidden([2], 0)).toEqual([0, 2]);
    expect(toggleHidden([0, 2], 2)).toEqual([0]);
  });
});
