import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clampIndex, createPlayer, nearestAvailable, nextIndex, prevIndex, toRanges } from "./player.js";

describe("index arithmetic", () => {
  it("steps, wraps with loop and stops without", () => {
    expect(nextIndex(3, 10)).toBe(4);
    expect(nextIndex(9, 10)).toBeNull();
    expect(nextIndex(9, 10, true)).toBe(0);
    expect(nextIndex(0, 0, true)).toBeNull();
    expect(prevIndex(3, 10)).toBe(2);
    expect(prevIndex(0, 10)).toBeNull();
    expect(prevIndex(0, 10, true)).toBe(9);
    expect(prevIndex(15, 10)).toBe(9);
  });

  it("clamps", () => {
    expect([clampIndex(-3, 10), clampIndex(4.7, 10), clampIndex(12, 10), clampIndex(5, 0)]).toEqual([0, 4, 9, 0]);
  });

  it("finds the nearest held frame: largest ≤ index, else the smallest", () => {
    const held = [2, 5, 6, 9];
    expect([0, 2, 3, 6, 8, 20].map((i) => nearestAvailable(i, held))).toEqual([2, 2, 2, 6, 6, 9]);
    expect(nearestAvailable(7, new Set([9, 5]))).toBe(5);
    expect(nearestAvailable(3, [])).toBeNull();
  });

  it("turns indices into half-open ranges", () => {
    expect(toRanges([0, 1, 2, 5, 7, 8])).toEqual([[0, 3], [5, 6], [7, 9]]);
    expect(toRanges([])).toEqual([]);
  });
});

describe("createPlayer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup({ total = 5, fps = 10, loop = false } = {}) {
    const s = { index: 0, total, fps, loop, ended: 0 };
    const player = createPlayer({
      getTotal: () => s.total, getIndex: () => s.index, setIndex: (i) => (s.index = i),
      getFps: () => s.fps, getLoop: () => s.loop, onEnd: () => (s.ended += 1),
    });
    return { s, player };
  }

  it("advances one frame per 1/fps seconds and pauses", () => {
    const { s, player } = setup();
    player.start();
    vi.advanceTimersByTime(250);
    expect(s.index).toBe(2);
    player.stop();
    vi.advanceTimersByTime(1000);
    expect(s.index).toBe(2);
    expect(player.running).toBe(false);
  });

  it("follows a speed change at the next frame", () => {
    const { s, player } = setup({ total: 100 });
    player.start();
    vi.advanceTimersByTime(100);
    s.fps = 20;
    vi.advanceTimersByTime(100); // the pending tick at 10 fps, then one at 20 fps
    expect(s.index).toBe(2);
    vi.advanceTimersByTime(100);
    expect(s.index).toBe(4);
  });

  it("stops at the end without loop, wraps with it", () => {
    const { s, player } = setup({ total: 3 });
    player.start();
    vi.advanceTimersByTime(1000);
    expect(s.index).toBe(2);
    expect(s.ended).toBe(1);
    expect(player.running).toBe(false);

    s.loop = true;
    player.start();
    vi.advanceTimersByTime(200);
    expect(s.index).toBe(1);
    player.stop();
  });
});
