// Weight mosaic helpers: a diverging colour map centred on zero, tile pixels, colour scales, dead neurons.
// The tile layout itself is decided in Python (nnviz_widgets/widgets/mosaic.py, the `tiling` trait): tile t
// shows flat values [t * values, (t + 1) * values) row-major into h x w (past `values`: padding); with `rgb`
// those values are three channel planes of h * w.
import { DIVERGED_GREY } from "./colormap.js";

// Blue (negative) – white (zero) – red (positive), after ColorBrewer's RdBu.
const STOPS = [
  [-1, [5, 48, 97]], [-0.6, [33, 102, 172]], [-0.3, [146, 197, 222]], [0, [247, 247, 247]],
  [0.3, [244, 165, 130]], [0.6, [178, 24, 43]], [1, [103, 0, 31]],
];
export const PADDING_RGB = [230, 230, 230];
export const LUT_SIZE = 256;

function interpolate(x) {
  for (let i = 1; i < STOPS.length; i++) {
    const [x1, c1] = STOPS[i];
    if (x <= x1) {
      const [x0, c0] = STOPS[i - 1];
      const f = (x - x0) / (x1 - x0);
      return c0.map((c, k) => Math.round(c + f * (c1[k] - c)));
    }
  }
  return STOPS[STOPS.length - 1][1].slice();
}

/** LUT_SIZE colours from -1 to +1, flat [r, g, b, r, g, b, ...]; the middle entries are white. */
export const DIVERGING = (() => {
  const out = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) out.set(interpolate((2 * i) / (LUT_SIZE - 1) - 1), 3 * i);
  return out;
})();

/** LUT index of value v on the scale [-m, m] (clamped). */
export function lutIndex(v, m) {
  const x = m > 0 ? v / m : 0;
  const i = Math.round(((Math.max(-1, Math.min(1, x)) + 1) / 2) * (LUT_SIZE - 1));
  return i;
}

/** Colour [r, g, b] of value v on the scale [-m, m]; NaN is the diverged grey. */
export function divergingColor(v, m) {
  if (Number.isNaN(v)) return DIVERGED_GREY.slice();
  const i = 3 * lutIndex(v, m);
  return [DIVERGING[i], DIVERGING[i + 1], DIVERGING[i + 2]];
}

/** The largest |value| an encoded array can hold: for the symmetric weight codes exactly max|w| of the frame. */
export function maxAbs(arr) {
  if (arr.dtype === "float32") {
    let m = 0;
    for (const v of arr.codes) if (Math.abs(v) > m) m = Math.abs(v);
    return m;
  }
  const top = (arr.dtype === "uint8" ? 255 : 65535) - 1;
  return Math.max(Math.abs(arr.offset), Math.abs(arr.offset + arr.scale * top));
}

/** The layer's shared scale: max |value| of `name` over the given frames (the run so far). */
export function layerScale(frames, name) {
  let m = 0;
  for (const frame of frames) {
    const arr = frame?.arrays?.[name];
    if (arr) m = Math.max(m, maxAbs(arr));
  }
  return m;
}

function value(arr, i) {
  const code = arr.codes[i];
  if (arr.nan !== null && code === arr.nan) return NaN;
  return code * arr.scale + arr.offset;
}

/** Max |value| of tile t (its own scale with scale="neuron"); NaN when the tile holds a non-finite value. */
export function tileMaxAbs(arr, layout, t) {
  const start = t * layout.values;
  let m = 0;
  for (let i = start; i < start + layout.values; i++) {
    const v = value(arr, i);
    if (Number.isNaN(v)) return NaN;
    if (Math.abs(v) > m) m = Math.abs(v);
  }
  return m;
}

/**
 * RGBA pixels of tiles [first, first + count) packed side by side, `cols` per row, no gaps: an image of
 * (rows * h) x (cols * w). `scales[k]` is the scale of the k-th tile drawn (one number for all with
 * scale="layer"). Returns {pixels, width, height, diverged: Uint8Array per tile}.
 */
export function renderTilesRGBA(arr, layout, first, count, cols, scales) {
  const { h, w, values, rgb, flip } = layout;
  const rows = Math.ceil(count / cols);
  const width = cols * w, height = rows * h;
  const pixels = new Uint8ClampedArray(width * height * 4);
  const diverged = new Uint8Array(count);
  const plane = h * w;
  for (let k = 0; k < count; k++) {
    const t = first + k;
    const m = Array.isArray(scales) || ArrayBuffer.isView(scales) ? scales[k] : scales;
    const base = t * values;
    const x0 = (k % cols) * w, y0 = Math.floor(k / cols) * h;
    if (Number.isNaN(m) || Number.isNaN(tileMaxAbs(arr, layout, t))) diverged[k] = 1;
    for (let p = 0; p < plane; p++) {
      const r = Math.floor(p / w), c = p % w;
      const o = ((y0 + (flip ? h - 1 - r : r)) * width + x0 + c) * 4;
      let rgbOut;
      if (diverged[k]) rgbOut = DIVERGED_GREY;
      else if (rgb) {
        // colour filters: each channel from black (most negative) to full (most positive)
        rgbOut = [0, 1, 2].map((ch) => Math.round(255 * (0.5 + value(arr, base + ch * plane + p) / (2 * (m || 1)))));
      } else if (p >= values) rgbOut = PADDING_RGB;
      else {
        const i = 3 * lutIndex(value(arr, base + p), m);
        pixels[o] = DIVERGING[i];
        pixels[o + 1] = DIVERGING[i + 1];
        pixels[o + 2] = DIVERGING[i + 2];
        pixels[o + 3] = 255;
        continue;
      }
      pixels[o] = rgbOut[0];
      pixels[o + 1] = rgbOut[1];
      pixels[o + 2] = rgbOut[2];
      pixels[o + 3] = 255;
    }
  }
  return { pixels, width, height, diverged };
}

/**
 * Dead neurons: tiles whose values stopped changing between `prev` and `cur` (two frames of the same layer).
 * A tile is dead when its largest change is at most 1 % of the layer's median tile change (and at most one
 * quantisation step counts as no change), and only while the layer as a whole still moves (median > 2 steps).
 * Judged over tiles [first, first + count) (one page); returns a Uint8Array of count (all zero without `prev`).
 */
export function deadTiles(cur, prev, layout, first = 0, count = layout.tiles) {
  const n = count;
  const dead = new Uint8Array(n);
  if (!cur || !prev || cur.codes.length !== prev.codes.length) return dead;
  const step = Math.max(Math.abs(cur.scale), Math.abs(prev.scale));
  const change = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = first + k;
    let d = 0;
    for (let i = t * layout.values; i < (t + 1) * layout.values; i++) {
      const diff = Math.abs(value(cur, i) - value(prev, i));
      if (diff > d) d = diff;
    }
    change[k] = d; // NaN (diverged) never counts as dead
  }
  const finite = Array.from(change).filter(Number.isFinite).sort((a, b) => a - b);
  if (!finite.length) return dead;
  const median = finite[Math.floor(finite.length / 2)];
  if (!(median > 2 * step)) return dead;
  const limit = Math.max(0.01 * median, step);
  for (let t = 0; t < n; t++) dead[t] = change[t] <= limit ? 1 : 0;
  return dead;
}

/** Label of tile t: the neuron number, or "filter.channel" for per-channel convolution tiles. */
export function tileLabel(layout, t) {
  return layout.channels > 1 ? `${Math.floor(t / layout.channels)}.${t % layout.channels}` : String(t);
}

/** Value under (row, col) of tile t, rows counted from the top of the drawn tile; undefined on padding. */
export function valueUnder(arr, layout, t, row, col) {
  const { h, w, values, rgb, flip } = layout;
  const r = flip ? h - 1 - row : row;
  const p = r * w + col;
  if (row < 0 || col < 0 || row >= h || col >= w || (!rgb && p >= values)) return undefined;
  if (rgb) return [0, 1, 2].map((ch) => value(arr, t * values + ch * h * w + p));
  return value(arr, t * values + p);
}
