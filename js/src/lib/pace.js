// What drawing new frames costs this page, told to Python, which spaces live frames by it (_stream.LiveClock in
// nnviz_widgets/widgets/_stream.py). A moving average, sent in a "drawn" message (docs/wire-format.md) only when
// it moves by more than a quarter or DRAWN_EVERY_MS has passed: a kernel running a cell queues every message
// until the cell ends, so they must be few.
export const DRAWN_EVERY_MS = 10_000;
export const MAX_DRAW_MS = 2_000; // longer: the page was hidden or suspended (no animation frames), not drawing

/**
 * @param {{send: (content: object) => void}} model
 * @param {() => number} [now]
 * @returns {{report: (ms: number) => void, readonly cost: number | null}}
 */
export function drawCostReporter(model, now = () => performance.now()) {
  let cost = null;
  let reported = null;
  let reportedAt = -Infinity;
  return {
    get cost() {
      return cost;
    },
    report(ms) {
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
