// What the EmbeddingScatter draws over its points on a canvas 2D layer: per-class density contours, the axis
// names and the box or lasso being dragged; and the hover tooltip's thumbnail image.
import { contourSegments } from "./contour.js";
import { bounds, densityGrid, massLevels, project } from "./scatter.js";

export const DENSITY_SIZE = 72; // grid cells per side of the 2-D density contours
const LEVELS = [0.3, 0.6, 0.9]; // contours enclosing these fractions of each class's mass, boldest first

/**
 * Density contours of every shown class of 2-D `positions`, in data coordinates:
 * [{cls, width (px), segs: [[x0, y0, x1, y1]...]}...].
 */
export function classContours(positions, labels, nClasses, hidden = [], size = DENSITY_SIZE) {
  const b = bounds(positions, 2);
  const pad = [(b.max[0] - b.min[0]) * 0.08 || 1, (b.max[1] - b.min[1]) * 0.08 || 1];
  const extent = [b.min[0] - pad[0], b.max[0] + pad[0], b.min[1] - pad[1], b.max[1] + pad[1]];
  const sx = (extent[1] - extent[0]) / (size - 1), sy = (extent[3] - extent[2]) / (size - 1);
  const skip = new Set(hidden);
  const lines = [];
  for (let c = 0; c < Math.max(1, nClasses); c++) {
    if (skip.has(c)) continue;
    const grid = densityGrid(positions, 2, labels?.length ? labels : null, c, extent, size, 2);
    for (const [j, level] of massLevels(grid, LEVELS).entries()) {
      if (!(level > 0)) continue;
      const segs = contourSegments(grid, size, size, level).map(([x0, y0, x1, y1]) =>
        [extent[0] + x0 * sx, extent[2] + y0 * sy, extent[0] + x1 * sx, extent[2] + y1 * sy]);
      lines.push({ cls: c, width: 2.2 - 0.6 * j, segs });
    }
  }
  return lines;
}

/**
 * Paints the overlay (CSS px; the context is reset to `dpr`): contour `lines` projected with `matrix`, in the
 * class colours `hexes`; with 2-D `axes` names, "x →" bottom right and "← y" down the left; the `drag` outline
 * when it is a box or lasso.
 */
export function paintOverlay(ctx, { width, height, dpr, matrix, lines = [], hexes = [], dims = 2, axes = [], drag = null }) {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  for (const { cls, width: lw, segs } of lines) {
    ctx.strokeStyle = hexes[cls % Math.max(1, hexes.length)] ?? "#333";
    ctx.lineWidth = lw;
    ctx.beginPath();
    const pts = project(Float32Array.from(segs.flat()), 2, matrix, width, height);
    for (let s = 0; s < segs.length; s++) {
      ctx.moveTo(pts[4 * s], pts[4 * s + 1]);
      ctx.lineTo(pts[4 * s + 2], pts[4 * s + 3]);
    }
    ctx.stroke();
  }
  ctx.fillStyle = "#666";
  ctx.font = "11px sans-serif";
  if (dims === 2 && axes.length >= 2) {
    ctx.textAlign = "right";
    ctx.fillText(`${axes[0]} →`, width - 6, height - 6);
    ctx.save();
    ctx.translate(12, 6);
    ctx.rotate(Math.PI / 2);
    ctx.textAlign = "left";
    ctx.fillText(`← ${axes[1]}`, 0, 0);
    ctx.restore();
  }
  if (drag && (drag.kind === "box" || drag.kind === "lasso") && drag.path.length) {
    ctx.strokeStyle = "#333";
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1;
    ctx.fillStyle = "rgba(80,120,200,0.08)";
    ctx.beginPath();
    if (drag.kind === "box") {
      const [x1, y1] = drag.path[drag.path.length - 1];
      ctx.rect(drag.x, drag.y, x1 - drag.x, y1 - drag.y);
    } else {
      ctx.moveTo(drag.path[0][0], drag.path[0][1]);
      for (const [x, y] of drag.path.slice(1)) ctx.lineTo(x, y);
      ctx.closePath();
    }
    ctx.fill();
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

/**
 * Image i of `bytes` (a DataView over uint8 images of `shape` (h, w) or (h, w, channels)) as RGBA pixels for
 * ImageData: {pixels, width, height}; null when there is no such image. Grey images repeat their one channel.
 */
export function thumbnailRGBA(bytes, shape, i) {
  if (!bytes || !shape || shape.length < 2) return null;
  const [h, w, c = 1] = shape;
  const base = i * h * w * c;
  if (i < 0 || base + h * w * c > bytes.byteLength) return null;
  const src = new Uint8Array(bytes.buffer, bytes.byteOffset + base, h * w * c);
  const pixels = new Uint8ClampedArray(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    pixels[4 * p] = src[p * c];
    pixels[4 * p + 1] = src[p * c + (c === 3 ? 1 : 0)];
    pixels[4 * p + 2] = src[p * c + (c === 3 ? 2 : 0)];
    pixels[4 * p + 3] = 255;
  }
  return { pixels, width: w, height: h };
}
