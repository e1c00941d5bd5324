import { describe, expect, it } from "vitest";
import { valueAt } from "./codec.js";
import { PALETTE, classColors, fillColor, hexToRgb, parseColour, renderGridRGBA } from "./colormap.js";

const COLORS = PALETTE.slice(0, 3).map(hexToRgb);

describe("hexToRgb", () => {
  it("parses long and short hex", () => {
    expect(hexToRgb("#1f77b4")).toEqual([31, 119, 180]);
    expect(hexToRgb("#fff")).toEqual([255, 255, 255]);
    expect(() => hexToRgb("red")).toThrow(/hex/);
  });

  it("falls back to the palette for missing colours", () => {
    expect(classColors([], 2)).toEqual([[31, 119, 180], [255, 127, 14]]);
    expect(classColors(["#000000"], 2)).toEqual([[0, 0, 0], [255, 127, 14]]);
  });
});

describe("fillColor", () => {
  // Worked by hand: step b = floor(64 c) of confidence c, alpha = 0.15 + 0.65 b / 63, blended over white.
  it.each([
    [[1, 0], [76, 146, 195]], // certain class 0: top step, alpha 0.8
    [[0.5, 0.5], [221, 235, 244]], // tie: first class, chance level, alpha 0.15
    [[0.2, 0.8], [255, 186, 124]], // c = 0.6 → step 38, alpha 0.542
    [[0.2, 0.3, 0.5], [189, 225, 189]], // K = 3: c = 0.25 → step 16, alpha 0.315
    [[NaN, 1], [187, 187, 187]], // diverged grey
  ])("%j → %j", (probs, rgb) => {
    expect(fillColor(probs, COLORS)).toEqual(rgb);
  });

  it("shades confidence in steps of about 1 % opacity, so the ramp reads as continuous", () => {
    const greens = Array.from({ length: 101 }, (_, i) => fillColor([1 - (0.5 + i / 200), 0.5 + i / 200], COLORS)[1]);
    const jumps = greens.slice(1).map((g, i) => Math.abs(g - greens[i]));
    expect(Math.max(...jumps)).toBeLessThanOrEqual(3); // 10 bands jumped by 9 levels of green at once
    expect(new Set(greens).size).toBeGreaterThan(40);
  });

  it("uses fewer bands when asked", () => {
    expect(fillColor([0, 1], COLORS, 2)).toEqual(fillColor([0, 1], COLORS, 10));
    expect(fillColor([0.6, 0.4], COLORS, 2)).toEqual(fillColor([0.5, 0.5], COLORS, 10));
  });
});

function grid(dtype, codes, shape, scale, offset, nan) {
  return { dtype, shape, scale, offset, nan, codes };
}

// The scalar path, pixel by pixel, with the row flip written out.
function expectMatchesScalar(g) {
  const [H, W, K] = g.shape;
  const rgba = renderGridRGBA(g, COLORS);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      const probs = Array.from({ length: K }, (_, k) => valueAt(g, (i * W + j) * K + k));
      const o = ((H - 1 - i) * W + j) * 4;
      expect([...rgba.slice(o, o + 4)]).toEqual([...fillColor(probs, COLORS), 255]);
    }
  }
}

describe("renderGridRGBA", () => {
  const H = 6, W = 7, K = 3;
  const random = (n, max, seed = 1) => Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 7) % max);

  it("uint8 lookup tables equal the scalar path, NaN cells grey", () => {
    const codes = Uint8Array.from(random(H * W * K, 255));
    codes[5] = 255;
    codes[K * 10 + 2] = 255;
    expectMatchesScalar(grid("uint8", codes, [H, W, K], 1 / 254, 0, 255));
  });

  it("uint16 lookup tables equal the scalar path", () => {
    const codes = Uint16Array.from(random(H * W * 2, 65535, 7));
    expectMatchesScalar(grid("uint16", codes, [H, W, 2], 1 / 65534, 0, null));
  });

  it("float32 values equal the scalar path", () => {
    const codes = Float32Array.from(random(H * W * K, 1000, 3), (v) => v / 1000);
    codes[4] = NaN;
    expectMatchesScalar(grid("float32", codes, [H, W, K], 1, 0, null));
  });

  it("puts grid row 0 (bottom) on the last image row", () => {
    const codes = new Uint8Array([254, 0, 254, 0, 0, 254, 0, 254]); // rows: class 0, then class 1
    const rgba = renderGridRGBA(grid("uint8", codes, [2, 2, 2], 1 / 254, 0, 255), COLORS);
    expect([...rgba.slice(0, 3)]).toEqual(fillColor([0, 1], COLORS)); // top-left: grid row 1
    expect([...rgba.slice(8, 11)]).toEqual(fillColor([1, 0], COLORS)); // bottom-left: grid row 0
  });
});

describe("parseColour", () => {
  it("parses the colours getComputedStyle returns, and hex through hexToRgb", () => {
    expect(parseColour("rgb(1, 2, 3)")).toEqual([1, 2, 3]);
    expect(parseColour("rgba(255, 255, 255, 0.5)")).toEqual([255, 255, 255]);
    expect(parseColour("#0f0")).toEqual([0, 255, 0]);
    expect(parseColour("inherit")).toBeNull();
  });
});
