// Where a metric-curve cursor goes: the x of frame `epoch` (clamped to the frames held), or null when none.
export function cursorX(xs, epoch) {
  if (!xs?.length) return null;
  const i = Math.min(Math.max(0, Math.trunc(Number(epoch) || 0)), xs.length - 1);
  return Number(xs[i]);
}
