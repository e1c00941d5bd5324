// Metric curves from the frames themselves (no bqplot): what a static page draws for "curves", one panel per
// metric family, one colour per series; the shown frame is marked by a dashed cursor.

/** Families of metric names, in the order MetricCurves uses: loss with val_loss, accuracy with val_accuracy, then the rest. */
export function metricFamilies(names) {
  const family = (n) => n.replace(/^(val|train|test)_/, "");
  const out = new Map();
  for (const n of names) {
    const f = family(n);
    if (!out.has(f)) out.set(f, []);
    out.get(f).push(n);
  }
  const order = ["loss", "accuracy"];
  return [...out.entries()].sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
}

/** [{x: epoch, y}] of metric `name` over the frames (skipping frames without a finite value). */
export function series(frames, name) {
  const out = [];
  for (const f of frames) {
    const y = f?.metrics?.[name];
    if (typeof y === "number" && Number.isFinite(y)) out.push({ index: f.index, x: f.epoch, y });
  }
  return out;
}

/** [min, max] over the given series' y values, padded so a flat line is still drawn inside the panel. */
export function yRange(all) {
  let lo = Infinity, hi = -Infinity;
  for (const s of all) for (const p of s) {
    lo = Math.min(lo, p.y);
    hi = Math.max(hi, p.y);
  }
  if (!(hi >= lo)) return [0, 1];
  const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(hi) * 0.05 || 0.5;
  return [lo - pad, hi + pad];
}
