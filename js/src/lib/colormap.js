// Probability → colour. The hue says which class wins; the strength says how sure, in LEVELS steps: fine enough
// that the ramp reads as continuous (a step is about 1 % of opacity), so low-confidence regions shade smoothly
// instead of showing a staircase of bands along the grid's cells.

export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

export const DIVERGED_GREY = [187, 187, 187];

export const LEVELS = 64;

export function hexToRgb(hex) {
  let h = String(hex).trim().replace(/^#/, "");
  if (h.length === 3) h = h.replace(/./g, "$&$&");
  if (!/^[0-9a-f]{6}([0-9a-f]{2})?$/i.test(h)) throw new Error(`not a hex colour: ${JSON.stringify(hex)}`);
  const n = Number.parseInt(h.slice(0, 6), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** `[r, g, b]` (0-255) of a CSS colour as getComputedStyle returns it (`rgb(...)`, `rgba(...)`) or a hex
 * colour, or null for anything else (`inherit`, a name). */
export function parseColour(css) {
  const text = String(css ?? "").trim();
  const rgb = text.match(/^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i);
  if (rgb) return rgb.slice(1, 4).map(Number);
  try {
    return hexToRgb(text);
  } catch {
    return null;
  }
}

/** WCAG relative luminance of an sRGB colour (0-255 channels). */
export function relativeLuminance(r, g, b) {
  const lin = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The trait's colours (hex) for K classes, falling back to the palette where missing. */
export function classColors(hexes, K) {
  const out = [];
  for (let k = 0; k < K; k++) out.push(hexToRgb(hexes?.[k] || PALETTE[k % PALETTE.length]));
  return out;
}

// Confidence above chance, rescaled so 1/K → 0 and 1 → 1, cut into bands.
function band(p, K, levels) {
  const c = K > 1 ? (p - 1 / K) / (1 - 1 / K) : 1;
  const clamped = Math.min(1, Math.max(0, c));
  return Math.min(levels - 1, Math.floor(clamped * levels));
}

function blend(rgb, b, levels) {
  const alpha = 0.15 + (0.65 * b) / Math.max(1, levels - 1);
  return rgb.map((ch) => Math.round(255 * (1 - alpha) + ch * alpha));
}

/** Colour of one grid cell from its K class probabilities. */
export function fillColor(probs, colors, levels = LEVELS) {
  let k = 0;
  for (let j = 0; j < probs.length; j++) {
    if (Number.isNaN(probs[j])) return DIVERGED_GREY.slice();
    if (probs[j] > probs[k]) k = j;
  }
  return blend(colors[k], band(probs[k], probs.length, levels), levels);
}

/**
 * RGBA pixels of an (H, W, K) probability grid. Image row 0 is the top of the plot, grid row 0
 * the bottom, so rows are flipped. Integer codes go through lookup tables (code → band, class ×
 * band → colour) instead of decoding every value: the codec's scale is positive, so the largest
 * code is the largest probability.
 */
export function renderGridRGBA(boundary, colors, levels = LEVELS) {
  const [H, W, K] = boundary.shape;
  const out = new Uint8ClampedArray(H * W * 4);
  const { codes, nan, scale, offset } = boundary;
  const lut = colors.slice(0, K).flatMap((rgb) => Array.from({ length: levels }, (_, b) => blend(rgb, b, levels)));
  const useCodes = boundary.dtype !== "float32" && scale > 0;
  const bandOfCode = useCodes ? new Uint8Array(boundary.dtype === "uint8" ? 256 : 65536) : null;
  if (useCodes) for (let c = 0; c < bandOfCode.length; c++) bandOfCode[c] = band(c * scale + offset, K, levels);

  for (let i = 0; i < H; i++) {
    const rowOut = (H - 1 - i) * W * 4;
    for (let j = 0; j < W; j++) {
      const base = (i * W + j) * K;
      let k = 0;
      let best = codes[base];
      let grey = false;
      for (let q = 0; q < K; q++) {
        const v = codes[base + q];
        if ((useCodes && v === nan) || Number.isNaN(v)) { grey = true; break; }
        if (v > best) { best = v; k = q; }
      }
      const rgb = grey ? DIVERGED_GREY : lut[k * levels + (useCodes ? bandOfCode[best] : band(best, K, levels))];
      const o = rowOut + j * 4;
      out[o] = rgb[0];
      out[o + 1] = rgb[1];
      out[o + 2] = rgb[2];
      out[o + 3] = 255;
    }
  }
  return out;
}
