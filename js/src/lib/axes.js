// "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten, about `count` of them.

export function niceTicks(min, max, count = 5) {
  if (!(Number.isFinite(min) && Number.isFinite(max)) || max <= min) return { ticks: [], decimals: 0 };
  const rough = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const ticks = [];
  for (let i = Math.ceil(min / step - 1e-9); i * step <= max + step * 1e-9; i++) {
    ticks.push(Number((i * step).toFixed(decimals)));
  }
  return { ticks, decimals };
}

/** A metric with 3 significant digits, without trailing zeros: 0.9500 → "0.95". */
export function formatMetric(value) {
  if (value === null) return "NaN"; // JSON has no NaN: Python sends a non-finite metric as null
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}

/**
 * `text` cut to fit `maxWidth` (as `measure` reports widths, e.g. a canvas context's measureText), ending with
 * an ellipsis when cut; "" when not even the ellipsis fits.
 * @param {string} text
 * @param {number} maxWidth
 * @param {(s: string) => number} measure
 * @returns {string}
 */
export function fitText(text, maxWidth, measure) {
  if (measure(text) <= maxWidth) return text;
  let lo = 0, hi = text.length; // the longest prefix that fits with the ellipsis: binary search
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(`${text.slice(0, mid).trimEnd()}…`) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0) return measure("…") <= maxWidth ? "…" : "";
  return `${text.slice(0, lo).trimEnd()}…`;
}
