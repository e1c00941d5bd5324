import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeModel, framesMessage } from "./fake-model.js";
import { createStore, frameBytes, MAX_BYTES } from "./store.js";

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

  it("reports what the first draw after new frames cost, and nothing for draws without new frames", () => {
    const model = fakeModel();
    const store = createStore(model);
    vi.advanceTimersByTime(300); // the first sync
    store.painted(12); // a redraw (a hover, a resize): no new frames since
    expect(model.sent.filter((m) => m.type === "drawn")).toEqual([]);
    model.receive(framesMessage(1, 1, [0]));
    store.painted(30); // the first view to draw the new frame
    store.painted(90); // a second view of the same model, same frame: not counted again
    expect(model.sent.filter((m) => m.type === "drawn")).toEqual([{ type: "drawn", ms: 30 }]);
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

  describe("memory bound", () => {
    // frames of `size` bytes each (one uint8 array), all in one message over one shared buffer, as the comm sends them
    const bytesMessage = (seq, indices, size = 100) => {
      const buffer = new ArrayBuffer(size * indices.length);
      const content = {
        type: "frames", seq, total: Math.max(...indices) + 1,
        frames: indices.map((index, k) => ({
          index, epoch: index, metrics: {}, diverged: false,
          arrays: { boundary: { dtype: "uint8", shape: [size], scale: 1, offset: 0, nan: null, buffer: k } },
        })),
      };
      return [content, indices.map((_, k) => new DataView(buffer, k * size, size))];
    };
    const range = (a, b) => Array.from({ length: b - a }, (_, k) => a + k);

    it("copies each frame out of the message buffer, so the message can be freed", () => {
      const model = fakeModel();
      const store = createStore(model);
      const [content, buffers] = bytesMessage(1, [0, 1, 2]);
      model.receive(content, buffers);
      const codes = store.get(1).arrays.boundary.codes;
      expect(codes.buffer).not.toBe(buffers[1].buffer);
      expect(codes.buffer.byteLength).toBe(100);
      expect([store.bytes, frameBytes(store.get(1))]).toEqual([300, 100]);
      store.dispose();
    });

    it("never holds more than maxBytes (plus the newest frame), however many frames arrive", () => {
      const model = fakeModel();
      const store = createStore(model, { maxBytes: 1000 });
      for (let i = 0; i < 10_000; i++) {
        model.receive(...bytesMessage(i + 1, [i]));
        expect(store.bytes).toBeLessThanOrEqual(1000 + 100);
      }
      expect(store.size).toBeLessThanOrEqual(11);
      expect(store.indices()[0]).toBe(0); // the first frame stays
      expect(store.newest()).toBe(9_999); // the live frame is always there
      expect(store.total).toBe(10_000);
      const held = store.indices().slice(1, -1);
      expect(held.every((i) => i % store.stride === 0)).toBe(true); // evenly spaced: every stride-th frame
      expect(store.stride).toBeGreaterThan(1);
      store.dispose();
    });

    it("reports thinned frames as held, so Python does not send them again", () => {
      const model = fakeModel();
      const store = createStore(model, { maxBytes: 450 });
      model.receive(...bytesMessage(1, range(0, 8)));
      expect(store.stride).toBe(4);
      expect(store.indices()).toEqual([0, 4, 7]);
      expect(store.have()).toEqual([[0, 8]]);
      expect(store.thinned).toBe(5);
      vi.advanceTimersByTime(300);
      expect(model.sent.at(-1)).toEqual({ type: "sync", have: [[0, 8]], seen_seq: 1 });
      model.receive(...bytesMessage(2, [5])); // a resend of a thinned frame is not kept
      expect([store.indices(), store.bytes]).toEqual([[0, 4, 7], 300]);
      model.receive(...bytesMessage(3, [8])); // live frames: the newest stays, the off-stride one before it goes
      expect(store.indices()).toEqual([0, 4, 8]);
      model.receive(...bytesMessage(4, [9]));
      expect([store.indices(), store.have()]).toEqual([[0, 4, 8, 9], [[0, 10]]]);
      store.dispose();
    });

    it("keeps every frame below the bound (the default is large)", () => {
      const model = fakeModel();
      const store = createStore(model);
      model.receive(...bytesMessage(1, range(0, 50), 1000));
      expect([store.size, store.stride, store.thinned]).toEqual([50, 1, 0]);
      expect(MAX_BYTES).toBeGreaterThanOrEqual(200 * 1024 * 1024);
      store.dispose();
    });
  });
});

describe("frames in synced state", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A state trait's value: a frames message (no seq) with one uint8 array per frame, its buffers inside. */
  const stateValue = (total, indices) => ({
    ...framesMessage(undefined, total, []),
    seq: null,
    frames: indices.map((index, k) => ({
      index, epoch: index, metrics: {}, diverged: false,
      arrays: { boundary: { dtype: "uint8", shape: [2], scale: 1, offset: 0, nan: null, buffer: k } },
    })),
    buffers: indices.map((index) => new DataView(new Uint8Array([index, index + 1]).buffer)),
  });

  it("reads the history and newest frame the model starts with, with no message at all", () => {
    const model = fakeModel({ _history: stateValue(10, [0, 4, 8, 9]), _live: stateValue(10, [9]) });
    const store = createStore(model);
    expect(store.indices()).toEqual([0, 4, 8, 9]);
    expect(store.total).toBe(10);
    expect(Array.from(store.get(4).arrays.boundary.codes)).toEqual([4, 5]);
    expect(store.seenSeq).toBe(null); // state has no place in the message order
    store.dispose();
  });

  it("takes each new value of _live and _history as frames arrive in state", () => {
    const model = fakeModel({ _history: {}, _live: {} });
    const store = createStore(model);
    expect(store.size).toBe(0);
    model.set("_live", stateValue(1, [0]));
    model.set("_live", stateValue(3, [2]));
    expect([store.indices(), store.total]).toEqual([[0, 2], 3]);
    model.set("_history", stateValue(3, [0, 1, 2]));
    expect(store.indices()).toEqual([0, 1, 2]);
    store.dispose();
    model.set("_live", stateValue(4, [3])); // disposed: no longer listening
    expect(store.size).toBe(3);
  });

  it("mixes with messages: a message's total wins when newer, state only raises it", () => {
    const model = fakeModel();
    const store = createStore(model);
    model.receive(framesMessage(3, 20, [5]));
    model.set("_history", stateValue(12, [0, 11]));
    expect([store.total, store.seenSeq, store.indices()]).toEqual([20, 3, [0, 5, 11]]);
    store.dispose();
  });

  it("reports a damaged state value and keeps what it holds", () => {
    const model = fakeModel({ _history: stateValue(2, [0, 1]) });
    const store = createStore(model);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    model.set("_live", { ...stateValue(3, [2]), buffers: [] }); // buffer 0 missing
    expect(errors).toHaveBeenCalledOnce();
    expect(store.indices()).toEqual([0, 1]);
    errors.mockRestore();
    store.dispose();
  });
});
