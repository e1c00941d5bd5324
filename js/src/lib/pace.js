// What drawing new frames costs this page, told to Python, which spaces live frames by it (_stream.LiveClock in
// nnviz_widgets/widgets/_stream.py). A moving average, sent in a "drawn" message (docs/wire-format.md) only when
// it moves by more than a quarter or DRAWN_EVERY_MS has passed: a kernel running a cell queues every message
// until the cell ends, so they must be few.
export const DRAWN_EVERY_MS = 10_000;
export const MAX_DRAW_MS = 2_000; // longer: the page was hidden or suspended (no animation frames), not drawing
export const TICK_GAP_MS = 250; // a tick's messages come together: a live frame this long after the last one starts a new tick
const TICK_KEY = "__nnvizLiveTick"; // one tick record per page, shared by every view's bundle

/**
 * The span of a live tick on this page, shared by every view: from the first live frame handled since the last
 * paint until the paint that shows it. It holds what a view's own draw time does not: decoding each view's message,
 * the host's work per message (JupyterLab's routing, bqplot's redraws of the curves sent on the same tick), and
 * every view's draw. `arrived()` when a live frame comes (before it is decoded); `painted(ms)` when a view's draw
 * of it is painted returns the larger of its own `ms` and the tick's span so far. Frames that no view drew (all out
 * of sight) do not stretch the next tick: a frame TICK_GAP_MS after the one before starts a new span.
 * @param {() => number} [now]
 * @param {Record<string, any>} [scope] where the page's one tick record lives (globalThis)
 */
export function liveTick(now = () => performance.now(), scope = globalThis) {
  if (!scope[TICK_KEY]) scope[TICK_KEY] = { start: null, last: -Infinity, paintedAt: -Infinity };
  const tick = scope[TICK_KEY];
  return {
    arrived() {
      const t = now();
      if (tick.start === null || tick.paintedAt >= tick.start || t - tick.last > TICK_GAP_MS) tick.start = t;
      tick.last = t;
    },
    /** @param {number} ms */
    painted(ms) {
      const t = now();
      tick.paintedAt = t;
      if (tick.start === null) return ms;
      const span = t - tick.start;
      return span <= MAX_DRAW_MS ? Math.max(ms, span) : ms;
    },
  };
}

/**
 * `arrived()` when a live frame comes (the page's live tick starts, see liveTick); `report(ms)` when a view's draw
 * of new frames is painted, `ms` after it was asked for: the cost counted is the tick's span when that is longer.
 * @param {{send: (content: object) => void}} model
 * @param {() => number} [now]
 * @param {Record<string, any>} [scope] where the page's one live-tick record lives (globalThis)
 * @returns {{arrived: () => void, report: (ms: number) => void, readonly cost: number | null}}
 */
export function drawCostReporter(model, now = () => performance.now(), scope = globalThis) {
  const tick = liveTick(now, scope);
  let cost = null;
  let reported = null;
  let reportedAt = -Infinity;
  return {
    get cost() {
      return cost;
    },
    arrived() {
      tick.arrived();
    },
    report(drawn) {
      const ms = tick.painted(drawn);
      if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DRAW_MS) return;
      cost = cost === null ? ms : 0.5 * (cost + ms);
      const t = now();
      if (reported !== null && Math.abs(cost - reported) <= 0.25 * reported && t - reportedAt < DRAWN_EVERY_MS) return;
      reported = cost;
      reportedAt = t;
      model.send({ type: "drawn", ms: Math.round(cost * 10) / 10 });
    },
  };
}
