// The EmbeddingScatter's canvas 2D renderer, used where WebGL is missing or fails; same interface as
// lib/scatter-gl.js's createGLRenderer.
import { project } from "./scatter.js";

/** Canvas 2D fallback: the same picture, slower (one fillRect per point). */
export function create2DRenderer(canvas) {
  let positions = new Float32Array(0), dims = 2, rgba = new Uint8Array(0);
  return {
    kind: "canvas2d",
    name: "canvas 2D",
    setPositions(p, d) { positions = p; dims = d; },
    setColors(c) { rgba = c; },
    draw({ matrix, size, width, height, dpr }) {
      const ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, width, height);
      const screen = project(positions, dims, matrix, width, height);
      for (let i = 0, n = rgba.length / 4; i < n; i++) {
        const a = rgba[4 * i + 3], x = screen[2 * i], y = screen[2 * i + 1];
        if (!a || Number.isNaN(x)) continue;
        ctx.fillStyle = `rgba(${rgba[4 * i]},${rgba[4 * i + 1]},${rgba[4 * i + 2]},${a === 255 ? 0.9 : a / 255})`;
        const s = a === 255 ? size * 1.4 : size;
        ctx.fillRect(x - s / 2, y - s / 2, s, s);
      }
    },
    finish() {},
    dispose() {},
  };
}
