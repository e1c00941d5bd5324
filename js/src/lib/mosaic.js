// Weight mosaic helpers: a diverging colour map centred on zero, tile pixels, colour scales, dead neurons.
// The tile layout itself is decided in Python (nnviz_widgets/widgets/mosaic.py, the `tiling` trait): tile t
// shows flat values [t * values, (t + 1) * values) row-major into h x w (past `values`: padding); with `rgb`
// those values are three channel planes of h * w.
import { DIVERGED_GREY } from "./colormap.js";

// Blue (negative) – white (zero) – red (positive), after ColorBrewer's RdBu.
/** @type {Array<[number, number[]]>} */
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

// The LUT as RGBA words, so a pixel is one 32-bit store (byte order R, G, B, A: little-endian, as codec.js checks).
const word = (r, g, b) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
const DIVERGING32 = Uint32Array.from({ length: LUT_SIZE }, (_, i) => word(...DIVERGING.subarray(3 * i, 3 * i + 3)));
const PADDING32 = word(...PADDING_RGB);
const GREY32 = word(...DIVERGED_GREY);
const HALF = (LUT_SIZE - 1) / 2;

/** The tile's colours, one word per value of its h x w image; false when it holds a non-finite value. */
function tileColours(out, arr, layout, t, m) {
  if (Number.isNaN(m)) return false;
  if (layout.rgb) return rgbColours(out, arr, layout, t, m);
  const { h, w, values } = layout;
  const { codes, scale, offset } = arr;
  const nan = arr.nan ?? -1;
  const shown = Math.min(values, h * w), base = t * values;
  // LUT index = round((v / m + 1) * HALF), v = code * scale + offset, clamped to the LUT
  const k = m > 0 ? HALF / m : 0;
  for (let p = 0; p < shown; p++) {
    const code = codes[base + p];
    // biome-ignore lint/suspicious/noSelfCompare: the NaN test of the per-pixel loop, without a call
    if (code === nan || code !== code) return false;
    const i = Math.round((code * scale + offset) * k + HALF);
    out[p] = DIVERGING32[Math.max(0, Math.min(LUT_SIZE - 1, i))];
  }
  out.fill(PADDING32, shown);
  return true;
}

/** Colour filters: each channel from black (most negative) to full (most positive). */
function rgbColours(out, arr, layout, t, m) {
  const plane = layout.h * layout.w, base = t * layout.values;
  const k = 255 / (2 * (m || 1));
  for (let p = 0; p < plane; p++) {
    const c = [0, 1, 2].map((ch) => value(arr, base + ch * plane + p));
    if (c.some(Number.isNaN)) return false;
    const [r, g, b] = c.map((v) => Math.max(0, Math.min(255, Math.round(127.5 + v * k))));
    out[p] = word(r, g, b);
  }
  return true;
}

/**
 * Paints tiles [first, first + count) of `arr` into `pixels` (RGBA bytes of an image `width` px wide), `cols` per
 * row, each tile tw x th px (nearest neighbour) with `gap` px between tiles. `scales` is one number for every tile
 * (scale="layer") or one per tile drawn. Diverged tiles (NaN) are grey. Returns a Uint8Array of count: 1 = diverged.
 * One pass, one 32-bit store per pixel: a page of 256 tiles of 28x28 takes about a millisecond.
 */
export function paintTiles(pixels, width, arr, layout, first, count, cols, scales, tw = layout.w, th = layout.h, gap = 0) {
  const { h, w, flip } = layout;
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength >> 2);
  const xmap = Int32Array.from({ length: tw }, (_, x) => Math.min(w - 1, Math.floor(((x + 0.5) * w) / tw)));
  const ymap = Int32Array.from({ length: th }, (_, y) => {
    const r = Math.min(h - 1, Math.floor(((y + 0.5) * h) / th));
    return (flip ? h - 1 - r : r) * w; // output maps: row 0 is the bottom of the plane
  });
  const tile = new Uint32Array(h * w);
  const diverged = new Uint8Array(count);
  const perTile = typeof scales !== "number";
  for (let k = 0; k < count; k++) {
    if (!tileColours(tile, arr, layout, first + k, perTile ? scales[k] : scales)) {
      diverged[k] = 1;
      tile.fill(GREY32);
    }
    const x0 = (k % cols) * (tw + gap), y0 = Math.floor(k / cols) * (th + gap);
    for (let y = 0; y < th; y++) {
      const src = ymap[y];
      const o = (y0 + y) * width + x0;
      for (let x = 0; x < tw; x++) words[o + x] = tile[src + xmap[x]];
    }
  }
  return diverged;
}

/**
 * RGBA pixels of tiles [first, first + count) packed side by side at one pixel per value, `cols` per row, no gaps:
 * an image of (rows * h) x (cols * w). Returns {pixels, width, height, diverged: Uint8Array per tile}.
 */
export function renderTilesRGBA(arr, layout, first, count, cols, scales) {
  const width = cols * layout.w, height = Math.ceil(count / cols) * layout.h;
  const pixels = new Uint8ClampedArray(width * height * 4);
  const diverged = paintTiles(pixels, width, arr, layout, first, count, cols, scales);
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
  const [a, b] = [cur, prev].map((arr) =>
    arr.nan === null ? arr.codes : Float64Array.from(arr.codes, (c) => (c === arr.nan ? NaN : c)));
  const shift = cur.offset - prev.offset;
  for (let k = 0; k < n; k++) {
    let d = 0;
    for (let i = (first + k) * layout.values, end = i + layout.values; i < end; i++) {
      const diff = Math.abs(a[i] * cur.scale - b[i] * prev.scale + shift);
      // biome-ignore lint/suspicious/noSelfCompare: NaN test in the per-value loop
      if (diff > d || diff !== diff) d = diff; // NaN sticks: a diverged tile never counts as dead
    }
    change[k] = d;
  }
  const finite = Array.from(change).filter(Number.isFinite).sort((a, b) => a - b);
  if (!finite.length) return dead;
  const median = finite[Math.floor(finite.length / 2)];
  if (!(median > 2 * step)) return dead;
  const limit = Math.max(0.01 * median, step);
  for (let t = 0; t < n; t++) dead[t] = change[t] <= limit ? 1 : 0;
  return dead;
}

/**
 * Which tiles page `page` shows and the name of the array that carries them: a layer with more tiles than one page
 * travels one page at a time, as "<show>/<layer>[first:stop]" (nnviz_widgets/widgets/mosaic.py cuts it);
 * `base` is the tile the array starts at.
 */
export function pageOf(layout, name, page) {
  const tiles = layout.tiles ?? 0;
  const size = Math.max(1, layout.page_size ?? tiles);
  const pages = Math.max(1, Math.ceil(tiles / size));
  const p = Math.min(Math.max(0, Math.floor(Number(page)) || 0), pages - 1);
  const first = p * size, count = Math.max(0, Math.min(size, tiles - first));
  const paged = tiles > size;
  return { page: p, pages, first, count, array: paged ? `${name}[${first}:${first + count}]` : name, base: paged ? first : 0 };
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

export const GAP = 2; // CSS px between tiles

/**
 * Where the tiles of a page go, in device pixels (tiles and gaps rounded once, so every tile has the same size):
 * `count` tiles of layout.h × layout.w values in `cols` columns, `tileSize` CSS px per side (0: fit `width`).
 * Returns {cols, rows, twD, thD, gapD, W, H} (W × H: the canvas in device px).
 */
export function tileGrid(layout, count, { width, tileSize, dpr }) {
  const cols = Math.max(1, layout.cols ?? 1), rows = Math.ceil(count / cols);
  const h = layout.h ?? 1, w = layout.w ?? 1;
  const tilePx = tileSize || Math.max(8, Math.min(96, Math.floor((width - GAP * (cols - 1)) / cols)));
  const px = tilePx / Math.max(h, w); // screen px per value
  const tw = Math.max(1, Math.round(w * px)), th = Math.max(1, Math.round(h * px));
  const twD = Math.max(1, Math.round(tw * dpr)), thD = Math.max(1, Math.round(th * dpr)), gapD = Math.round(GAP * dpr);
  const W = Math.max(1, cols * (twD + gapD) - gapD), H = Math.max(1, rows * (thD + gapD) - gapD);
  return { cols, rows, twD, thD, gapD, W, H };
}

/**
 * The tile under (x, y) CSS px from the mosaic's top-left, with the value's row and column inside it:
 * {tile, row, col}; null over a gap or past the last tile. `geometry`: {first, count, cols, tw, th, gap, h, w}
 * in CSS px.
 */
export function tileAt(geometry, x, y) {
  if (!geometry) return null;
  const { first, count, cols, tw, th, gap, h, w } = geometry;
  const c = Math.floor(x / (tw + gap)), r = Math.floor(y / (th + gap));
  const k = r * cols + c;
  const inX = x - c * (tw + gap), inY = y - r * (th + gap);
  if (c < 0 || c >= cols || r < 0 || k >= count || inX >= tw || inY >= th) return null;
  return { tile: first + k, row: Math.min(h - 1, Math.floor((inY / th) * h)), col: Math.min(w - 1, Math.floor((inX / tw) * w)) };
}

/** The largest of the sorted frame `indices` below `index` (the frame before it that is held); null if none. */
export function heldBefore(indices, index) {
  let lo = 0, hi = indices.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (indices[mid] < index) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? indices[lo - 1] : null;
}

/** The note under the mosaic: what the tiles show, their scale, and how many are dead or diverged. */
export function mosaicNote({ tiles, outputs, activation, h, w, perNeuron, dead, diverged }) {
  const what = !outputs ? "incoming weights"
    : activation === null ? "neuron outputs over the data plane, pre-activation (no activation module follows the layer)"
      : `neuron outputs over the data plane${activation ? ` after ${activation}` : ""}`;
  return `${tiles} neurons, ${what}${h > 1 || w > 1 ? `, ${h}×${w}` : ""}. ` +
    (perNeuron ? "Each tile on its own scale. " : "One scale for the layer: max |value| over the frames so far. ") +
    (dead ? `${dead} dead on this page (■ corner: stopped changing). ` : "") +
    (diverged ? `${diverged} diverged (NaN). ` : "");
}

/** `cur - ref` of two decoded arrays of one shape, as a float32 array (NaN where either is NaN): a weight's change. */
export function changeArray(cur, ref) {
  const n = cur.codes.length;
  const codes = new Float32Array(n);
  for (let i = 0; i < n; i++) codes[i] = value(cur, i) - value(ref, i);
  return { dtype: "float32", shape: cur.shape, scale: 1, offset: 0, nan: null, codes };
}

/**
 * The symmetric scale of a change view: the largest |change| of array `name` over `frames` (in index order),
 * measured from the first frame (`since` "first") or from each frame's predecessor ("previous").
 */
export function changeScale(frames, name, since) {
  let m = 0, prev = null;
  const first = frames.find((f) => f?.arrays?.[name])?.arrays[name];
  for (const frame of frames) {
    const arr = frame?.arrays?.[name];
    if (!arr) continue;
    const ref = since === "previous" ? prev : first;
    if (ref && ref.codes.length === arr.codes.length) {
      for (let i = 0; i < arr.codes.length; i++) {
        const d = Math.abs(value(arr, i) - value(ref, i));
        if (d > m) m = d;
      }
    }
    prev = arr;
  }
  return m;
}
