import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeModel, framesMessage } from "./fake-model.js";
import { createStore } from "./store.js";

describe("frame store", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("keeps frames arriving out of order, sorted, as ranges", () => {
    const model = fakeModel();
    const store = createStore(model);
    for (const [seq, i] of [[1, 5], [2, 1], [3, 3], [4, 2]]) model.receive(framesMessage(seq, 10, [i]));
    expect(store.indices()).toEqual([1, 2, 3, 5]);
    expect(store.have()).toEqual([[1, 4], [5, 6]]);
    expect(store.size).toBe(4);
    expect(store.total).toBe(10);
    expect(store.newest()).toBe(5);
    expect(store.get(3)).toMatchObject({ index: 3, epoch: 4, metrics: { loss: 0.25 } });
    store.dispose();
  });

  it("takes total from the newest message and never below the held frames", () => {
    const model = fakeModel();
    const store = createStore(model);
    model.receive(framesMessage(5, 20, [3]));
    model.receive(framesMessage(4, 12, [2])); // older message arriving late
    expect([store.total, store.seenSeq]).toEqual([20, 5]);
    model.receive(framesMessage(6, 2, [8]));
    expect(store.total).toBe(9);
    store.dispose();
  });

  it("replaces a frame sent twice and ignores other messages", () => {
    const model = fakeModel();
    const store = createStore(model);
    model.receive(framesMessage(1, 1, [0]));
    model.receive(framesMessage(2, 1, [0], { diverged: true }));
    model.receive({ type: "something-else", seq: 99 });
    expect([store.size, store.get(0).diverged, store.seenSeq]).toEqual([1, true, 2]);
    store.dispose();
  });

  it("sends the first sync after 300 ms, with nothing held", () => {
    const model = fakeModel();
    const store = createStore(model);
    vi.advanceTimersByTime(299);
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(model.sent).toEqual([{ type: "sync", have: [], seen_seq: null }]);
    store.dispose();
  });

  it("counts frames that arrive before the first sync", () => {
    const model = fakeModel();
    const store = createStore(model);
    vi.advanceTimersByTime(100);
    model.receive(framesMessage(7, 3, [0, 1]));
    vi.advanceTimersByTime(200);
    expect(model.sent).toEqual([{ type: "sync", have: [[0, 2]], seen_seq: 7 }]);
    vi.advanceTimersByTime(2000); // and no second, identical sync for the same frames
    expect(model.sent).toHaveLength(1);
    store.dispose();
  });

  it("syncs once, 500 ms after a burst of frames ends", () => {
    const model = fakeModel();
    const store = createStore(model);
    vi.advanceTimersByTime(1000);
    model.sent.length = 0;
    model.receive(framesMessage(1, 10, [9]));
    vi.advanceTimersByTime(400);
    model.receive(framesMessage(2, 10, [0, 1, 2]));
    vi.advanceTimersByTime(499);
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(model.sent).toEqual([{ type: "sync", have: [[0, 3], [9, 10]], seen_seq: 2 }]);
    store.dispose();
  });

  it("notifies subscribers once per burst", () => {
    const model = fakeModel();
    const store = createStore(model);
    const fn = vi.fn();
    const unsubscribe = store.subscribe(fn);
    model.receive(framesMessage(1, 3, [0]));
    model.receive(framesMessage(2, 3, [1]));
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
    unsubscribe();
    model.receive(framesMessage(3, 3, [2]));
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
    store.dispose();
  });

  it("dispose stops listening and cancels pending syncs", () => {
    const model = fakeModel();
    const store = createStore(model);
    model.receive(framesMessage(1, 3, [0]));
    store.dispose();
    vi.advanceTimersByTime(5000);
    expect(model.sent).toEqual([]);
    expect(model.listeners("msg:custom")).toBe(0);
  });
});
