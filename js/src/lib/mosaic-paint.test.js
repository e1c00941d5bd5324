import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeContext2D } from "./fake-canvas.js";
import { paintColorbar, paintFlags, paintLabels } from "./mosaic-paint.js";

// Path2D is a browser class: record the rectangles and line ends each path collects.
class FakePath {
  constructor() { this.ops = []; }
  rect(...a) { this.ops.push(["rect", ...a]); }
  moveTo(...a) { this.ops.push(["moveTo", ...a]); }
  lineTo(...a) { this.ops.push(["lineTo", ...a]); }
  closePath() { this.ops.push(["closePath"]); }
}
const grid = { cols: 2, twD: 40, thD: 30, gapD: 2, dpr: 1, W: 82, H: 62 };

describe("mosaic painting", () => {
  beforeEach(() => vi.stubGlobal("Path2D", FakePath));
  afterEach(() => vi.unstubAllGlobals());

  it("frames dead tiles where they are and writes NaN on diverged ones", () => {
    const ctx = fakeContext2D();
    paintFlags(ctx, Uint8Array.from([0, 0, 1]), Uint8Array.from([0, 1, 0]), grid);
    const frame = ctx.calls.find((c) => c[0] === "stroke")[1];
    expect(frame.ops).toEqual([["rect", 1, 33, 38, 28]]); // tile 2: second row, first column
    expect(ctx.calls.find((c) => c[0] === "fillText").slice(1)).toEqual(["NaN", 42 + 20, 15 - 4]);
  });

  it("no NaN text on tiles too small to read it", () => {
    const ctx = fakeContext2D();
    paintFlags(ctx, Uint8Array.from([0]), Uint8Array.from([1]), { ...grid, twD: 12 });
    expect(ctx.calls.some((c) => c[0] === "fillText")).toBe(false);
  });

  it("numbers tiles from `first`, as filter.channel for per-channel tiles", () => {
    const ctx = fakeContext2D();
    paintLabels(ctx, { channels: 3 }, 4, 3, grid);
    const texts = ctx.calls.filter((c) => c[0] === "fillText").map((c) => c.slice(1));
    expect(texts).toEqual([["1.1", 1, 1], ["1.2", 43, 1], ["2.0", 1, 33]]);
  });

  it("labels the colour bar with the shared scale, or ±max when each tile has its own", () => {
    const ctx = fakeContext2D();
    paintColorbar(ctx, 0.5, 100, 2);
    const texts = ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1]);
    expect(texts[1]).toBe("0");
    expect(Number(texts[2])).toBe(0.5);
    expect(Number(texts[0].replace("−", "-"))).toBe(-0.5);
    const own = fakeContext2D();
    paintColorbar(own, null, 100, 1);
    expect(own.calls.filter((c) => c[0] === "fillText").map((c) => c[1])).toEqual(["−max", "0", "+max"]);
    expect(ctx.calls.filter((c) => c[0] === "fillRect")).toHaveLength(100); // one column per px of the ramp
  });
});
