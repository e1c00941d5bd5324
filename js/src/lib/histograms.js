// Weight/gradient histogram helpers: one value range per layer for the whole run, frames re-binned onto it,
// a sequential colour per count, and the flags that make dead and exploding layers stand out.
// What each frame carries is written down in nnviz_widgets/record/histograms.py: `hist/<kind>/<layer>` holds
// `bins` counts in equal bins over [lo, hi], `stats/<kind>/<layer>` the ten numbers of STATS.

import { parseColour, relativeLuminance } from "./colormap.js";

export const STATS = ["lo", "hi", "min", "max", "mean", "std", "norm", "nonfinite", "zeros", "change"];
export const STAT = Object.fromEntries(STATS.map((name, i) => [name, i]));
export const LUT_SIZE = 256;
// A layer whose weights move less than this (relative, per capture) for DEAD_FRAMES captures in a row has
// stopped learning; float32 weights cannot resolve much less than 1e-7 anyway.
export const DEAD_CHANGE = 1e-7;
export const DEAD_FRAMES = 3;
// A layer whose norm grows past this many times its first recorded norm is blowing up.
export const EXPLODE_RATIO = 10;

// White (no values) to dark blue (the most), after ColorBrewer's Blues: readable on a light canvas.
/** @type {Array<[number, number[]]>} */
const STOPS = [[0, [255, 255, 255]], [0.25, [198, 219, 239]], [0.5, [107, 174, 214]], [0.75, [33, 113, 181]], [1, [8, 48, 107]]];

/** LUT_SIZE colours from no count to the peak, flat [r, g, b, ...]. */
export const SEQUENTIAL = (() => {
  const out = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = i / (LUT_SIZE - 1);
    let k = 1;
    while (k < STOPS.length - 1 && x > STOPS[k][0]) k++;
    const [x0, c0] = STOPS[k - 1], [x1, c1] = STOPS[k];
    const f = (x - x0) / (x1 - x0);
    out.set(c0.map((c, j) => Math.round(c + f * (c1[j] - c))), 3 * i);
  }
  return out;
})();

/** LUT index of a count: the square root of its share of the layer's peak, so thin tails stay visible. */
export function heatIndex(count, peak) {
  if (!(peak > 0) || !(count > 0)) return 0;
  return Math.round(Math.sqrt(Math.min(1, count / peak)) * (LUT_SIZE - 1));
}

/**
 * Counts of equal bins over [lo, hi] moved onto the bins `edges`, each bin's count spread evenly over its
 * width (the cumulative count is piecewise linear). Twin of record/histograms.py's rebin().
 */
export function rebin(counts, lo, hi, edges) {
  const n = counts.length;
  const cum = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) cum[i + 1] = cum[i] + counts[i];
  const width = (hi - lo) / n;
  const at = (v) => {
    if (v <= lo) return 0;
    if (v >= hi) return cum[n];
    const x = (v - lo) / width;
    const i = Math.min(n - 1, Math.floor(x));
    return cum[i] + (x - i) * (cum[i + 1] - cum[i]);
  };
  const out = new Float64Array(edges.length - 1);
  let prev = at(edges[0]);
  for (let j = 1; j < edges.length; j++) {
    const next = at(edges[j]);
    out[j - 1] = next - prev;
    prev = next;
  }
  return out;
}

/** `n + 1` equal edges from lo to hi. */
export function linspace(lo, hi, n) {
  const out = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) out[i] = lo + ((hi - lo) * i) / n;
  return out;
}

/** Layer names of one kind ("weights" or "grads") present in the frames, in first-seen order. */
export function layersOf(frames, kind) {
  const head = `hist/${kind}/`;
  const names = [];
  for (const frame of frames) {
    for (const key of Object.keys(frame?.arrays ?? {})) {
      if (key.startsWith(head) && !names.includes(key.slice(head.length))) names.push(key.slice(head.length));
    }
  }
  return names;
}

/**
 * One layer over the run: its value range (the widest [lo, hi] of every frame that has it), each frame's counts
 * re-binned onto `bins` equal bins over that range, the peak count, and the stats rows in frame order.
 * `frames` are [index, frame] pairs in index order.
 */
export function layerStrip(frames, kind, name) {
  const histKey = `hist/${kind}/${name}`, statsKey = `stats/${kind}/${name}`;
  let lo = Infinity, hi = -Infinity, bins = 0;
  const rows = [];
  for (const [index, frame] of frames) {
    const hist = frame?.arrays?.[histKey], stats = frame?.arrays?.[statsKey];
    if (!hist || !stats) continue;
    const s = stats.codes;
    rows.push({ index, counts: hist.codes, stats: s });
    bins = Math.max(bins, hist.codes.length);
    if (s[STAT.hi] > s[STAT.lo] && !Number.isNaN(s[STAT.min])) { // NaN min: the frame had no finite value
      lo = Math.min(lo, s[STAT.lo]);
      hi = Math.max(hi, s[STAT.hi]);
    }
  }
  if (!(hi > lo)) [lo, hi] = [-1, 1];
  const edges = linspace(lo, hi, Math.max(1, bins));
  let peak = 0;
  const columns = new Map();
  for (const row of rows) {
    const col = rebin(row.counts, row.stats[STAT.lo], row.stats[STAT.hi], edges);
    for (const c of col) if (c > peak) peak = c;
    columns.set(row.index, col);
  }
  return { lo, hi, bins, edges, peak, columns, rows };
}

/**
 * What stands out about a layer up to (and including) frame `upTo`: "exploding" (non-finite values, or a norm
 * EXPLODE_RATIO times its first), "dead" (all zero, or weights that stopped moving for DEAD_FRAMES captures;
 * for gradients: all zero), else "". `rows` are layerStrip()'s rows.
 */
export function health(rows, kind, upTo = Infinity) {
  const seen = rows.filter((r) => r.index <= upTo);
  if (!seen.length) return "";
  const last = seen[seen.length - 1].stats;
  const firstNorm = seen[0].stats[STAT.norm];
  const norm = last[STAT.norm];
  if (last[STAT.nonfinite] > 0 || !Number.isFinite(norm)) return "exploding";
  if (firstNorm > 0 && norm > EXPLODE_RATIO * firstNorm) return "exploding";
  if (norm === 0) return "dead";
  if (kind === "weights") {
    const changes = seen.map((r) => r.stats[STAT.change]).filter((c) => !Number.isNaN(c));
    const recent = changes.slice(-DEAD_FRAMES);
    if (recent.length === DEAD_FRAMES && recent.every((c) => c < DEAD_CHANGE)) return "dead";
  }
  return "";
}

/**
 * The colours of a flagged layer's header for text of colour `ink` (a CSS `rgb()`/`#rrggbb` string): each flag's
 * colour and the text written on its badge. A light ink means a dark page, where the light-page reds and greys
 * fall under 4.5:1 (WCAG AA), so both flags get lighter shades there and the badge's text turns black.
 */
export function flagColours(ink) {
  const [r, g, b] = parseColour(ink) ?? [0, 0, 0];
  const darkPage = relativeLuminance(r, g, b) > 0.4;
  return darkPage
    ? { dead: "#a6a6a6", exploding: "#ff7070", badgeText: "#000" }
    : { dead: "#666666", exploding: "#d62728", badgeText: "#fff" };
}

/**
 * RGBA pixels of a layer's strip: `total` columns (frame i in column i; a frame missing from the store shows the
 * nearest earlier one) by `bins` rows, value increasing upwards (row 0 of the image is the top bin).
 */
export function stripRGBA(strip, total) {
  const { bins, columns, peak } = strip;
  const out = new Uint8ClampedArray(Math.max(1, total) * Math.max(1, bins) * 4);
  const held = [...columns.keys()].sort((a, b) => a - b);
  let k = 0;
  for (let x = 0; x < total; x++) {
    while (k + 1 < held.length && held[k + 1] <= x) k++;
    const col = held.length && held[k] <= x ? columns.get(held[k]) : null;
    for (let b = 0; b < bins; b++) {
      const i = 3 * heatIndex(col ? col[b] : 0, peak);
      const p = 4 * ((bins - 1 - b) * total + x);
      out[p] = SEQUENTIAL[i];
      out[p + 1] = SEQUENTIAL[i + 1];
      out[p + 2] = SEQUENTIAL[i + 2];
      out[p + 3] = col ? 255 : 0;
    }
  }
  return out;
}
