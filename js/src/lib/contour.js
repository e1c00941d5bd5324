// Marching squares: where a scalar field on the grid crosses a level, as straight segments.
import { toFloat32 } from "./codec.js";

function crossing(edge, a, b, level, x, y) {
  const t = (level - a) / (b - a);
  // Edges of a cell, counter-clockwise from (x, y): bottom, right, top, left.
  switch (edge) {
    case 0: return [x + t, y];
    case 1: return [x + 1, y + t];
    case 2: return [x + 1 - t, y + 1];
    default: return [x, y + 1 - t];
  }
}

/**
 * Segments [[x0, y0, x1, y1], ...] in grid coordinates (x = column, y = row) where the row-major
 * H×W field crosses `level`. Cells touching a NaN are skipped (a diverged model has no boundary).
 */
export function contourSegments(field, W, H, level = 0) {
  const segments = [];
  for (let y = 0; y < H - 1; y++) {
    for (let x = 0; x < W - 1; x++) {
      const v = [field[y * W + x], field[y * W + x + 1], field[(y + 1) * W + x + 1], field[(y + 1) * W + x]];
      const above = v.map((value) => value > level);
      const oneSide = above[0] === above[1] && above[1] === above[2] && above[2] === above[3];
      if (oneSide || v.some(Number.isNaN)) continue;
      const points = [];
      for (let e = 0; e < 4; e++) {
        const a = e, b = (e + 1) % 4;
        points.push(above[a] !== above[b] ? crossing(e, v[a], v[b], level, x, y) : null);
      }
      const cut = points.map((p, e) => (p ? e : -1)).filter((e) => e >= 0);
      let pairs;
      if (cut.length === 2) pairs = [cut];
      else if (cut.length === 4) {
        // Saddle: the cell's mean decides whether corners 0 and 2 are joined through the middle.
        const centreAbove = (v[0] + v[1] + v[2] + v[3]) / 4 > level;
        pairs = centreAbove === above[0] ? [[0, 1], [2, 3]] : [[3, 0], [1, 2]];
      } else continue;
      for (const [e0, e1] of pairs) {
        const [x0, y0] = points[e0], [x1, y1] = points[e1];
        // A level hit exactly at a corner gives zero-length pieces in neighbouring cells.
        if (x0 !== x1 || y0 !== y1) segments.push([x0, y0, x1, y1]);
      }
    }
  }
  return segments;
}

/**
 * Decision boundary of an (H, W, K) probability grid: for each class k the zero contour of
 * p_k − max_{j≠k} p_j. Two neighbouring classes share a line (their fields are exact negatives
 * there), so duplicate segments are dropped; for K = 2 that is simply the contour of p1 − p0.
 */
export function boundarySegments(boundary) {
  const [H, W, K] = boundary.shape;
  const p = toFloat32(boundary);
  const n = H * W;
  const field = new Float32Array(n);
  if (K === 2) {
    for (let i = 0; i < n; i++) field[i] = p[i * 2 + 1] - p[i * 2];
    return contourSegments(field, W, H, 0);
  }
  const seen = new Set();
  const out = [];
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < n; i++) {
      let other = -Infinity;
      // Math.max keeps NaN, so a cell with any NaN probability gets no boundary.
      for (let j = 0; j < K; j++) if (j !== k) other = Math.max(other, p[i * K + j]);
      field[i] = p[i * K + k] - other;
    }
    for (const s of contourSegments(field, W, H, 0)) {
      const key = s[0] < s[2] || (s[0] === s[2] && s[1] <= s[3]) ? s.join() : [s[2], s[3], s[0], s[1]].join();
      if (!seen.has(key)) {
        seen.add(key);
        out.push(s);
      }
    }
  }
  return out;
}
