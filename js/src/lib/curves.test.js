import { describe, expect, it, vi } from "vitest";
import { fakeModel } from "./fake-model.js";
import { modelIds, syncCursors } from "./curves.js";

/** A bqplot Lines model stand-in: records the x it is given. */
function mark() {
  return {
    x: null,
    set(name, value) {
      if (name === "x") this.x = Array.from(value);
    },
  };
}

/** A widget manager whose lookups resolve only when the test says so. */
function manager(marks) {
  const waiting = [];
  return {
    get: (id) =>
      new Promise((resolve, reject) => {
        const settle = () => (id in marks ? resolve(marks[id]) : reject(new Error(`no model ${id}`)));
        waiting.push({ id, resolve: settle });
      }),
    resolveAll: () => {
      for (const w of waiting.splice(0)) w.resolve();
    },
    waiting,
  };
}

describe("modelIds", () => {
  it("strips the widget-reference prefix", () => {
    expect(modelIds(["IPY_MODEL_ab12", "cd34"])).toEqual(["ab12", "cd34"]);
    expect(modelIds(undefined)).toEqual([]);
  });
});

describe("syncCursors", () => {
  it("puts every cursor mark at the x of the shown frame, and follows epoch and xs", async () => {
    const marks = { a: mark(), b: mark() };
    const model = fakeModel({ cursors: ["IPY_MODEL_a", "IPY_MODEL_b"], xs: [0, 5, 10, 15], epoch: 2 });
    const wm = manager(marks);
    const sync = syncCursors(model, wm.get);
    wm.resolveAll();
    await sync.loaded();
    expect(marks.a.x).toEqual([10, 10]);
    expect(marks.b.x).toEqual([10, 10]);
    model.set("epoch", 1); // the player moved
    expect(marks.a.x).toEqual([5, 5]);
    model.set("epoch", 9); // past the frames held: the last one
    expect(marks.b.x).toEqual([15, 15]);
    model.set("xs", [0, 5, 10, 15, 20]); // a new frame arrived while the player shows the newest
    expect(marks.b.x).toEqual([20, 20]);
  });

  it("leaves the marks alone while there are no frames", async () => {
    const marks = { a: mark() };
    const model = fakeModel({ cursors: ["a"], xs: [], epoch: 0 });
    const wm = manager(marks);
    const sync = syncCursors(model, wm.get);
    wm.resolveAll();
    await sync.loaded();
    expect(marks.a.x).toBeNull();
  });

  it("takes up a new figure's cursor and drops a lookup that a newer list overtook", async () => {
    const marks = { a: mark(), b: mark(), c: mark() };
    const model = fakeModel({ cursors: ["a"], xs: [1, 2], epoch: 0 });
    const wm = manager(marks);
    const sync = syncCursors(model, wm.get);
    const [first] = wm.waiting.splice(0); // the first lookup is still on its way ...
    model.set("cursors", ["b", "c"]); // ... when a figure is added
    wm.resolveAll();
    await sync.loaded();
    first.resolve(); // the stale answer arrives last
    await Promise.resolve();
    model.set("epoch", 1);
    expect(marks.a.x).toBeNull();
    expect(marks.b.x).toEqual([2, 2]);
    expect(marks.c.x).toEqual([2, 2]);
  });

  it("keeps its marks when a lookup fails", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const marks = { a: mark() };
    const model = fakeModel({ cursors: ["a"], xs: [3, 4], epoch: 0 });
    const wm = manager(marks);
    const sync = syncCursors(model, wm.get);
    wm.resolveAll();
    await sync.loaded();
    model.set("cursors", ["a", "gone"]);
    wm.resolveAll();
    await sync.loaded();
    expect(warn).toHaveBeenCalledOnce();
    model.set("epoch", 1);
    expect(marks.a.x).toEqual([4, 4]);
    warn.mockRestore();
  });

  it("stops listening when disposed", async () => {
    const marks = { a: mark() };
    const model = fakeModel({ cursors: ["a"], xs: [1, 2], epoch: 0 });
    const wm = manager(marks);
    const sync = syncCursors(model, wm.get);
    sync.dispose();
    wm.resolveAll(); // a lookup resolving after dispose does not touch the marks
    await sync.loaded();
    expect(marks.a.x).toBeNull();
    expect(["cursors", "epoch", "xs"].map((n) => model.listeners(`change:${n}`))).toEqual([0, 0, 0]);
  });
});
