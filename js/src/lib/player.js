// Playback logic with no DOM: which frame comes next, which held frame to show, and a timer.

export function nextIndex(i, total, loop = false) {
  if (total <= 0) return null;
  if (i + 1 < total) return Math.max(0, i + 1);
  return loop ? 0 : null;
}

export function prevIndex(i, total, loop = false) {
  if (total <= 0) return null;
  if (i > 0) return Math.min(total - 1, i - 1);
  return loop ? total - 1 : null;
}

export function clampIndex(i, total) {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(total - 1, Math.trunc(Number(i) || 0)));
}

/** Largest held index ≤ index, else the smallest held one; null when nothing is held. */
export function nearestAvailable(index, held) {
  const sorted = held instanceof Set ? [...held].sort((a, b) => a - b) : held;
  if (sorted.length === 0) return null;
  let lo = 0, hi = sorted.length; // first position whose value > index
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? sorted[lo - 1] : sorted[0];
}

/** Sorted distinct indices → half-open ranges [[a, b), ...]. */
export function toRanges(sorted) {
  const ranges = [];
  for (const i of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else ranges.push([i, i + 1]);
  }
  return ranges;
}

/**
 * A timer that advances the index at getFps() frames per second. Reads everything through
 * callbacks each tick, so a speed or loop change takes effect at the next frame.
 */
export function createPlayer({ getTotal, getIndex, setIndex, getFps, getLoop, onEnd }) {
  let timer = null;
  let running = false; // separate from timer: setIndex or onEnd may call stop() inside a tick
  const delay = () => 1000 / Math.min(60, Math.max(0.1, Number(getFps()) || 1));
  const tick = () => {
    timer = null;
    const next = nextIndex(getIndex(), getTotal(), getLoop());
    if (next === null) {
      running = false;
      onEnd?.();
      return;
    }
    setIndex(next);
    if (running) timer = setTimeout(tick, delay());
  };
  return {
    start() {
      if (running) return;
      running = true;
      timer = setTimeout(tick, delay());
    },
    stop() {
      running = false;
      clearTimeout(timer);
      timer = null;
    },
    get running() {
      return running;
    },
  };
}
