import { describe, expect, it } from "vitest";
import { DIVERGED_GREY } from "./colormap.js";
import {
  deadTiles, divergingColor, layerScale, lutIndex, maxAbs, PADDING_RGB, pageOf, paintTiles, renderTilesRGBA, tileLabel,
  tileMaxAbs, valueUnder,
} from "./mosaic.js";

// An encoded array as codec.js returns it, symmetric about zero like the weight probe's uint16 codes.
function encoded(values, shape, m = Math.max(...values.map(Math.abs))) {
  const top = 65535;
  const scale = (2 * m) / (top - 1);
  const codes = new Uint16Array(values.map((v) => (Number.isNaN(v) ? top : Math.round((v + m) / scale))));
  return { shape, dtype: "uint16", scale, offset: -m, nan: values.some(Number.isNaN) ? top : null, codes };
}

const pixel = (img, x, y) => Array.from(img.pixels.slice((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));

describe("diverging colours", () => {
  it("is white at zero, blue below, red above, saturated at the scale's ends", () => {
    const white = divergingColor(0, 1);
    expect(Math.min(...white)).toBeGreaterThan(240);
    const [r1, , b1] = divergingColor(-0.5, 1);
    const [r2, , b2] = divergingColor(0.5, 1);
    expect(b1).toBeGreaterThan(r1);
    expect(r2).toBeGreaterThan(b2);
    expect(divergingColor(-5, 1)).toEqual(divergingColor(-1, 1)); // clamped
    expect(divergingColor(NaN, 1)).toEqual(DIVERGED_GREY);
  });

  it("moves away from white as |value| grows, on both sides", () => {
    const dist = (rgb) => Math.hypot(...rgb.map((c) => 247 - c));
    for (const s of [-1, 1]) {
      expect(dist(divergingColor(0.8 * s, 1))).toBeGreaterThan(dist(divergingColor(0.4 * s, 1)));
      expect(dist(divergingColor(0.4 * s, 1))).toBeGreaterThan(dist(divergingColor(0.1 * s, 1)));
    }
  });

  it("maps the scale symmetrically onto the LUT", () => {
    expect(lutIndex(-1, 2)).toBe(64);
    expect(lutIndex(1, 2)).toBe(191);
    expect(lutIndex(3, 0)).toBe(128); // no scale: everything is the middle
  });
});

describe("scales", () => {
  it("reads max |w| of a frame from its symmetric codes, and the layer's over frames", () => {
    const a = encoded([-0.5, 0.25, 0.1, 0], [2, 2]);
    const b = encoded([2, -1, 0, 0], [2, 2]);
    expect(maxAbs(a)).toBeCloseTo(0.5, 6);
    expect(layerScale([{ arrays: { w: a } }, { arrays: { w: b } }, { arrays: {} }], "w")).toBeCloseTo(2, 6);
  });

  it("gives each tile its own max, NaN for a tile that diverged", () => {
    const arr = encoded([1, -3, 0.5, NaN], [2, 2], 3);
    const layout = { tiles: 2, values: 2, h: 1, w: 2 };
    expect(tileMaxAbs(arr, layout, 0)).toBeCloseTo(3, 4);
    expect(tileMaxAbs(arr, layout, 1)).toBeNaN();
  });
});

describe("renderTilesRGBA", () => {
  it("cuts tiles row-major, pads past the fan-in, and greys a diverged tile", () => {
    // 3 neurons of 3 weights drawn as 2x2 tiles: the 4th pixel of each is padding.
    const arr = encoded([1, -1, 0, 0.5, 0.5, 0.5, NaN, 0, 0], [3, 3], 1);
    const layout = { tiles: 3, values: 3, h: 2, w: 2, rgb: false, flip: false };
    const img = renderTilesRGBA(arr, layout, 0, 3, 2, 1);
    expect([img.width, img.height]).toEqual([4, 4]);
    expect(pixel(img, 0, 0)).toEqual(divergingColor(1, 1)); // tile 0, weight 0
    expect(pixel(img, 1, 0)).toEqual(divergingColor(-1, 1)); // tile 0, weight 1
    expect(pixel(img, 0, 1)).toEqual(divergingColor(0, 1)); // tile 0, weight 2 (second row)
    expect(pixel(img, 1, 1)).toEqual(PADDING_RGB);
    expect(pixel(img, 2, 0)).toEqual(divergingColor(0.5, 1)); // tile 1 sits right of tile 0
    expect(pixel(img, 0, 2)).toEqual(DIVERGED_GREY); // tile 2 (second row of tiles) holds a NaN
    expect(Array.from(img.diverged)).toEqual([0, 0, 1]);
  });

  it("draws a page of tiles starting at `first`, per-tile scales, and flips output maps", () => {
    const arr = encoded([0, 1, 0, 2, 0, 4], [3, 2], 4);
    const layout = { tiles: 3, values: 2, h: 2, w: 1, rgb: false, flip: true };
    const img = renderTilesRGBA(arr, layout, 1, 2, 2, [2, 4]);
    // tile 1 = [0, 2] with its own max 2: flipped, the last value is the top pixel
    expect(pixel(img, 0, 0)).toEqual(divergingColor(1, 1));
    expect(pixel(img, 0, 1)).toEqual(divergingColor(0, 1));
    expect(pixel(img, 1, 0)).toEqual(divergingColor(1, 1)); // tile 2 = [0, 4] on scale 4
  });

  it("draws colour filters from three channel planes", () => {
    const arr = encoded([1, -1, 0, 1, 0, 0], [1, 3, 1, 2], 1);
    const layout = { tiles: 1, values: 6, h: 1, w: 2, rgb: true, flip: false };
    const img = renderTilesRGBA(arr, layout, 0, 1, 1, 1);
    expect(pixel(img, 0, 0)).toEqual([255, 128, 128]);
    expect(pixel(img, 1, 0)).toEqual([0, 255, 128]);
  });
});

describe("paintTiles", () => {
  it("paints a page at screen size in one image: tiles scaled (nearest), gaps left as they were", () => {
    // 2 tiles of 1x2 values, drawn 4x4 px each, 2 px apart, side by side: a 10x4 image
    const arr = encoded([1, -1, 0.5, NaN], [2, 2], 1);
    const layout = { tiles: 2, values: 2, h: 1, w: 2, rgb: false, flip: false };
    const width = 10, pixels = new Uint8ClampedArray(width * 4 * 4).fill(7);
    const diverged = paintTiles(pixels, width, arr, layout, 0, 2, 2, 1, 4, 4, 2);
    const img = { pixels, width };
    for (const y of [0, 3]) {
      expect(pixel(img, 0, y)).toEqual(divergingColor(1, 1)); // value 0 covers px 0-1 of tile 0
      expect(pixel(img, 1, y)).toEqual(divergingColor(1, 1));
      expect(pixel(img, 2, y)).toEqual(divergingColor(-1, 1)); // value 1: px 2-3
      expect(pixel(img, 4, y)).toEqual([7, 7, 7]); // the gap is untouched
      expect(pixel(img, 6, y)).toEqual(DIVERGED_GREY); // tile 1 holds a NaN
    }
    expect(Array.from(diverged)).toEqual([0, 1]);
  });

  it("agrees with the colour of every value (same LUT as divergingColor)", () => {
    const values = Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * 3);
    const arr = encoded(values, [1, 64], 3);
    const img = renderTilesRGBA(arr, { tiles: 1, values: 64, h: 8, w: 8, rgb: false, flip: false }, 0, 1, 1, 3);
    for (let p = 0; p < 64; p++) expect(pixel(img, p % 8, Math.floor(p / 8))).toEqual(divergingColor(valueUnder(arr, { h: 8, w: 8, values: 64 }, 0, Math.floor(p / 8), p % 8), 3));
  });
});

describe("pageOf", () => {
  const layout = { tiles: 600, page_size: 256 };
  it("names the page's array when the layer spans pages, the layer's when it fits one", () => {
    expect(pageOf(layout, "weights/1", 0)).toEqual({ page: 0, pages: 3, first: 0, count: 256, array: "weights/1[0:256]", base: 0 });
    expect(pageOf(layout, "weights/1", 2)).toMatchObject({ first: 512, count: 88, array: "weights/1[512:600]", base: 512 });
    expect(pageOf(layout, "weights/1", 9).page).toBe(2); // clamped
    expect(pageOf({ tiles: 100, page_size: 256 }, "weights/1", 0)).toMatchObject({ array: "weights/1", base: 0, pages: 1 });
  });
});

describe("deadTiles", () => {
  const layout = { tiles: 4, values: 2 };
  it("flags tiles that stopped changing while the rest of the layer moves", () => {
    const prev = encoded([0.1, 0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -1], [4, 2], 1);
    const cur = encoded([0.15, 0.25, 0.3, 0.4, -0.45, 0.5, 0.75, -0.9], [4, 2], 1);
    expect(Array.from(deadTiles(cur, prev, layout))).toEqual([0, 1, 0, 0]);
    expect(Array.from(deadTiles(cur, prev, layout, 1, 2))).toEqual([1, 0]); // one page
  });

  it("flags nothing without a previous frame or when nothing moves", () => {
    const a = encoded([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1], [4, 2], 1);
    expect(Array.from(deadTiles(a, null, layout))).toEqual([0, 0, 0, 0]);
    expect(Array.from(deadTiles(a, a, layout))).toEqual([0, 0, 0, 0]);
  });
});

describe("labels and readout", () => {
  it("numbers neurons, and filter.channel for per-channel convolution tiles", () => {
    expect(tileLabel({ channels: 1 }, 7)).toBe("7");
    expect(tileLabel({ channels: 4 }, 9)).toBe("2.1");
  });

  it("reads the value under a tile pixel, undefined on padding", () => {
    const arr = encoded([1, -1, 0.5], [1, 3], 1);
    const layout = { tiles: 1, values: 3, h: 2, w: 2, rgb: false, flip: false };
    expect(valueUnder(arr, layout, 0, 0, 1)).toBeCloseTo(-1, 4);
    expect(valueUnder(arr, layout, 0, 1, 0)).toBeCloseTo(0.5, 4);
    expect(valueUnder(arr, layout, 0, 1, 1)).toBeUndefined();
  });
});

describe("change since a frame", () => {
  const f32 = (values) => ({ dtype: "float32", shape: [values.length], scale: 1, offset: 0, nan: null, codes: Float32Array.from(values) });
  it("subtracts the reference and finds the largest change since the first or the previous frame", async () => {
    const { changeArray, changeScale } = await import("./mosaic.js");
    expect([...changeArray(f32([1, 2, 3]), f32([1, 0, 4])).codes]).toEqual([0, 2, -1]);
    const frames = [[0, 0], [1, 0], [1, 3]].map((v) => ({ arrays: { "weights/0": f32(v) } }));
    expect(changeScale(frames, "weights/0", "first")).toBe(3);
    expect(changeScale(frames, "weights/0", "previous")).toBe(3);
    const drift = [[0], [1], [2], [3]].map((v) => ({ arrays: { "weights/0": f32(v) } }));
    expect(changeScale(drift, "weights/0", "first")).toBe(3);
    expect(changeScale(drift, "weights/0", "previous")).toBe(1);
  });
});
