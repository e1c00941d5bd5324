import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeModel, framesMessage } from "./fake-model.js";
import { getSession, initSession } from "./session.js";

describe("session on a model", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const traits = () => ({ epoch: 0, playing: false, speed: 10, loop: false, follow: false });

  it("plays from the playing trait and turns it off at the end", () => {
    const model = fakeModel(traits());
    const cleanup = initSession(model);
    model.receive(framesMessage(1, 4, [0, 1, 2, 3]));
    model.set("playing", true);
    vi.advanceTimersByTime(150);
    expect(model.get("epoch")).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(model.get("epoch")).toBe(3);
    expect(model.get("playing")).toBe(false);
    cleanup();
  });

  it("views get anywidget's per-view proxies: one session per widget, found by _uid", () => {
    const model = fakeModel({ ...traits(), _uid: "w1" });
    const proxy = () => Object.create(model); // what anywidget hands initialize() and each render()
    const cleanup = initSession(proxy());
    const a = getSession(proxy()), b = getSession(proxy());
    expect(a).toBe(b);
    model.receive(framesMessage(1, 4, [0, 1, 2, 3]));
    model.set("playing", true);
    vi.advanceTimersByTime(150);
    expect(model.get("epoch")).toBe(1); // one timer steps the epoch, not one per view
    expect(getSession(fakeModel({ ...traits(), _uid: "w2" }))).not.toBe(a);
    cleanup();
  });

  it("follow jumps to the newest frame as frames arrive; stepping turns it off", async () => {
    const model = fakeModel({ ...traits(), follow: true });
    const cleanup = initSession(model);
    model.receive(framesMessage(1, 3, [0, 1, 2]));
    await vi.advanceTimersByTimeAsync(1);
    expect(model.get("epoch")).toBe(2);
    model.receive(framesMessage(2, 8, [7]));
    model.receive(framesMessage(3, 8, [4])); // a backfilled older frame does not pull back
    await vi.advanceTimersByTimeAsync(1);
    expect(model.get("epoch")).toBe(7);
    expect(model.saves).toBeGreaterThan(0);
    cleanup();
  });

  it("play at the last frame restarts from 0; step and scrub stop following", async () => {
    const model = fakeModel({ ...traits(), follow: true });
    initSession(model);
    const s = getSession(model);
    model.receive(framesMessage(1, 5, [0, 1, 2, 3, 4]));
    await vi.advanceTimersByTimeAsync(1);
    expect(model.get("epoch")).toBe(4);
    s.togglePlay();
    expect([model.get("epoch"), model.get("playing"), model.get("follow")]).toEqual([0, true, false]);
    s.step(1);
    expect([model.get("epoch"), model.get("playing")]).toEqual([1, false]);
    s.setFollow(true);
    expect(model.get("epoch")).toBe(4);
    s.scrub(99);
    expect([model.get("epoch"), model.get("follow")]).toEqual([4, false]);
    s.step(-1);
    expect(model.get("epoch")).toBe(3);
    model.set("epoch", 6); // beyond what is held: show the nearest, flagged as loading
    expect(s.current()).toMatchObject({ index: 4, loading: true });
  });
});

describe("session cleanup", () => {
  it("removes every listener and stops playing", () => {
    vi.useFakeTimers();
    const model = fakeModel({ epoch: 0, playing: true, speed: 10, loop: true, follow: false });
    const cleanup = initSession(model);
    model.receive(framesMessage(1, 3, [0, 1, 2]));
    cleanup();
    const epoch = model.get("epoch");
    vi.advanceTimersByTime(5000);
    expect(model.get("epoch")).toBe(epoch);
    expect(["msg:custom", "change:playing", "change:follow"].map(model.listeners)).toEqual([0, 0, 0]);
    vi.useRealTimers();
  });
});
