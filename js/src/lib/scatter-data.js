// Where the EmbeddingScatter's points come from: the static `coords` bytes, or the embedding array of each frame.

import { asDataView } from "./codec.js";

/**
 * A DataView over a bytes trait; null when the trait is unset or empty.
 * @param {DataView | ArrayBuffer | Uint8Array | null | undefined} value
 * @returns {DataView | null}
 */
export function bytesOf(value) {
  if (!value) return null;
  const view = asDataView(value);
  return view.byteLength ? view : null;
}

/**
 * Float32Array over a DataView of float32 little-endian values (copied when misaligned).
 * @param {DataView} view
 * @returns {Float32Array}
 */
export function floatsOf(view) {
  if (view.byteOffset % 4 === 0) return new Float32Array(view.buffer, view.byteOffset, view.byteLength / 4);
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

/**
 * @typedef {{min: number[], max: number[], center: number[], radius: number}} Bounds
 */

/**
 * Bounds (as lib/scatter.js's bounds()) that hold every one of `list`; null when the list is empty.
 * @param {Array<{min: number[], max: number[]}>} list
 * @param {number} dims
 * @returns {Bounds | null}
 */
export function unionBounds(list, dims) {
  const min = Array(dims).fill(Infinity), max = Array(dims).fill(-Infinity);
  for (const b of list) {
    for (let k = 0; k < dims; k++) {
      min[k] = Math.min(min[k], b.min[k]);
      max[k] = Math.max(max[k], b.max[k]);
    }
  }
  if (!(min[0] <= max[0])) return null;
  const center = min.map((m, k) => (m + max[k]) / 2);
  const radius = Math.max(...min.map((m, k) => (max[k] - m) / 2)) || 1;
  return { min, max, center, radius };
}
