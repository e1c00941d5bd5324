// The EmbeddingScatter's canvas 2D renderer, used where WebGL is missing or fails; same interface as
// lib/scatter-gl.js's createGLRenderer.
import { project } from "./scatter.js";

/**
 * @typedef {object} View  what one draw shows
 * @property {number[]} matrix  column-major 4x4 clip-space matrix of the camera
 * @property {number} size  point size, CSS px
 * @property {number} width  CSS px
 * @property {number} height
 * @property {number} dpr  device pixels per CSS px
 * @property {string} [key]  what the view's size and point size are: a snapshot is reused only for the same key
 * @property {boolean} [weighted]  3-D density: dense points drawn bigger
 * @property {boolean} [subset]  draw only the preview subset (setSubset)
 * @property {number} [every]  draw every k-th point
 */

/**
 * @typedef {object} Renderer  both renderers' interface
 * @property {"webgl" | "canvas2d"} kind
 * @property {string} name  the GPU's (or "canvas 2D")
 * @property {(positions: Float32Array, dims: number) => void} setPositions
 * @property {(rgba: Uint8Array) => void} setColors  4 bytes a point; the alpha byte is the state (lib/scatter.js ALPHA)
 * @property {(indices: Uint32Array) => boolean} [setSubset]
 * @property {(view: View) => void} draw
 * @property {(view: View) => void} [snapshot]
 * @property {(view: View) => boolean} [blit]
 * @property {() => void} [forget]
 * @property {() => void} finish
 * @property {() => void} dispose
 */

/**
 * Canvas 2D fallback: the same picture, slower (one fillRect per point).
 * @param {{getContext(kind: "2d"): CanvasRenderingContext2D | null}} canvas
 * @returns {Renderer}
 */
export function create2DRenderer(canvas) {
  /** @type {Float32Array} */
  let positions = new Float32Array(0);
  /** @type {Uint8Array} */
  let rgba = new Uint8Array(0);
  let dims = 2;
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
