import { describe, expect, it } from "vitest";
import { GAP, heldBefore, mosaicNote, tileAt, tileGrid } from "./mosaic.js";

describe("tile grid", () => {
  it("fits the tiles into the width when no tile size is set, between 8 and 96 px", () => {
    const g = tileGrid({ cols: 4, h: 2, w: 2 }, 8, { width: 300, tileSize: 0, dpr: 1 });
    expect(g.twD).toBe(Math.floor((300 - 3 * GAP) / 4));
    expect(g.W).toBe(4 * g.twD + 3 * GAP);
    expect(g.rows).toBe(2);
    expect(tileGrid({ cols: 100, h: 1, w: 1 }, 100, { width: 100, tileSize: 0, dpr: 1 }).twD).toBe(8);
    expect(tileGrid({ cols: 2, h: 1, w: 1 }, 2, { width: 1000, tileSize: 0, dpr: 1 }).twD).toBe(96);
  });

  it("keeps a tile's aspect and rounds device pixels once, so every tile is the same size", () => {
    const g = tileGrid({ cols: 3, h: 28, w: 14 }, 5, { width: 0, tileSize: 28, dpr: 1.5 });
    expect(g.thD).toBe(42);
    expect(g.twD).toBe(21);
    expect(g.gapD).toBe(3);
    expect(g.H).toBe(2 * 42 + 3);
  });
});

describe("hit testing", () => {
  const geometry = { first: 20, count: 5, cols: 3, tw: 30, th: 20, gap: 2, h: 4, w: 3 };

  it("finds the tile and the value's row and column under the pointer", () => {
    expect(tileAt(geometry, 0, 0)).toEqual({ tile: 20, row: 0, col: 0 });
    expect(tileAt(geometry, 32 + 29, 22 + 19)).toEqual({ tile: 24, row: 3, col: 2 });
    expect(tileAt(geometry, 64 + 15, 0)).toEqual({ tile: 22, row: 0, col: 1 });
  });

  it("is nothing over a gap, past the last tile, outside, or before the first draw", () => {
    expect(tileAt(geometry, 31, 5)).toBe(null); // the gap after the first column
    expect(tileAt(geometry, 70, 30)).toBe(null); // row 2 col 3 would be tile 25: past the page
    expect(tileAt(geometry, -1, 5)).toBe(null);
    expect(tileAt(null, 1, 1)).toBe(null);
  });
});

describe("mosaic helpers", () => {
  it("finds the frame held before an index", () => {
    expect(heldBefore([0, 3, 7, 9], 7)).toBe(3);
    expect(heldBefore([0, 3, 7, 9], 8)).toBe(7);
    expect(heldBefore([0, 3, 7, 9], 0)).toBe(null);
    expect(heldBefore([], 5)).toBe(null);
  });

  it("says what the tiles show, and counts dead and diverged ones only when there are some", () => {
    const weights = mosaicNote({ tiles: 16, outputs: false, h: 28, w: 28, perNeuron: false, dead: 0, diverged: 0 });
    expect(weights).toBe("16 neurons, incoming weights, 28×28. One scale for the layer: max |value| over the frames so far. ");
    const outputs = mosaicNote({ tiles: 8, outputs: true, activation: "ReLU", h: 1, w: 1, perNeuron: true, dead: 2, diverged: 1 });
    expect(outputs).toContain("outputs over the data plane after ReLU");
    expect(outputs).toContain("2 dead");
    expect(outputs).toContain("1 diverged");
    expect(mosaicNote({ tiles: 8, outputs: true, activation: null, h: 1, w: 1 })).toContain("pre-activation");
  });
});
