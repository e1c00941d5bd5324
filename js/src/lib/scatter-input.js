// What the EmbeddingScatter's gestures do, as pure functions of the camera and the pointer (lib/pointer.js
// delivers the events): which drag a tool starts, how a drag moves the camera, what a box or lasso selects.
import { orbit, pan2d, selectBox, selectLasso, zoom2d, zoom3d } from "./scatter.js";

/**
 * @typedef {{cx: number, cy: number, scale: number}} Camera2D
 * @typedef {{target: number[], yaw: number, pitch: number, distance: number, radius: number}} Camera3D
 * @typedef {Camera2D | Camera3D} Camera  lib/scatter.js's fitCamera() makes one
 * @typedef {import("./pointer.js").Drag} Drag
 */

/**
 * The drag a primary-button press starts: "pan" (3-D: "orbit", shift: "pan"), "box" or "lasso".
 * @param {string} tool  "pan", "box" or "lasso"
 * @param {number} dims
 * @param {boolean} shiftKey
 * @returns {string}
 */
export function dragKind(tool, dims, shiftKey) {
  if (tool !== "pan") return tool;
  return dims === 3 && !shiftKey ? "orbit" : "pan";
}

/**
 * The camera after a pan or orbit drag moved (dx, dy) CSS px; null for selection drags.
 * @param {any} camera  a Camera of `dims` dimensions
 * @param {string} kind
 * @param {number} dims
 * @param {number} dx
 * @param {number} dy
 * @param {number} width
 * @param {number} height
 * @returns {Camera | null}
 */
export function dragCamera(camera, kind, dims, dx, dy, width, height) {
  if (kind === "pan" && dims === 2) return pan2d(camera, dx, dy, width, height);
  if (kind === "pan") {
    // 3-D shift-drag: move the target in the view plane (approximately)
    const k = camera.distance / height;
    const [tx, ty, tz] = camera.target;
    return { ...camera, target: [tx - dx * k * Math.cos(camera.yaw), ty + dy * k, tz + dx * k * Math.sin(camera.yaw)] };
  }
  if (kind === "orbit") return orbit(camera, dx, dy);
  return null;
}

/**
 * The camera after a wheel step of `factor` at (x, y): 2-D zooms around the pointer, 3-D moves closer.
 * @param {any} camera  a Camera of `dims` dimensions
 * @param {number} dims
 * @param {number} factor
 * @param {number} x
 * @param {number} y
 * @param {number} width
 * @param {number} height
 * @returns {Camera}
 */
export function wheelCamera(camera, dims, factor, x, y, width, height) {
  return dims === 2 ? zoom2d(camera, factor, x, y, width, height) : zoom3d(camera, factor);
}

/**
 * Indices a finished box or lasso drag encloses, given every point's screen position.
 * @param {Drag} drag
 * @param {Float32Array} screen  x, y of point i at 2i, 2i + 1 (NaN: not shown)
 * @returns {number[]}
 */
export function dragSelection(drag, screen) {
  if (drag.kind === "box") {
    const [x1, y1] = drag.path[drag.path.length - 1] ?? [drag.x, drag.y];
    return selectBox(screen, drag.x, drag.y, x1, y1);
  }
  return selectLasso(screen, drag.path);
}

/**
 * The new selection: `picked`, added to `base` when extending (shift), sorted, without repeats.
 * @param {number[]} base
 * @param {number[]} picked
 * @param {boolean} extend
 * @returns {number[]}
 */
export function mergeSelection(base, picked, extend) {
  return [...new Set([...(extend ? base : []), ...picked])].sort((a, b) => a - b);
}

/**
 * Hidden classes after a click on class k's legend entry: shown if hidden, hidden if shown.
 * @param {number[]} hidden
 * @param {number} k
 * @returns {number[]}
 */
export function toggleHidden(hidden, k) {
  const set = new Set(hidden);
  if (set.has(k)) set.delete(k);
  else set.add(k);
  return [...set].sort((a, b) => a - b);
}
