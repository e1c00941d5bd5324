import { describe, expect, it } from "vitest";
import {
  DEAD_FRAMES,
  SEQUENTIAL,
  STAT,
  flagColours,
  health,
  heatIndex,
  layerStrip,
  layersOf,
  linspace,
  rebin,
  stripRGBA,
} from "./histograms.js";
import { parseColour, relativeLuminance } from "./colormap.js";

function stats({ lo, hi, norm = 1, nonfinite = 0, change = NaN }) {
  const s = new Float32Array(10);
  Object.assign(s, { [STAT.lo]: lo, [STAT.hi]: hi, [STAT.min]: lo, [STAT.max]: hi, [STAT.norm]: norm });
  s[STAT.nonfinite] = nonfinite;
  s[STAT.change] = change;
  return s;
}
const arr = (codes) => ({ dtype: "float32", shape: [codes.length], codes: Float32Array.from(codes) });
function frame(counts, s, kind = "weights", name = "fc1") {
  return { arrays: { [`hist/${kind}/${name}`]: arr(counts), [`stats/${kind}/${name}`]: { ...arr([]), codes: s } } };
}

describe("rebin", () => {
  it("is the identity on the same edges and keeps the total on wider ones", () => {
    expect([...rebin([3, 0, 5, 2], -1, 1, linspace(-1, 1, 4))]).toEqual([3, 0, 5, 2]);
    const wide = rebin([3, 0, 5, 2], -1, 1, linspace(-4, 4, 8));
    expect(wide.reduce((a, b) => a + b, 0)).toBeCloseTo(10);
    expect(wide[3]).toBeCloseTo(3);
    expect(wide[4]).toBeCloseTo(7);
  });
  it("spreads a bin evenly over a finer grid (as Python's rebin does)", () => {
    expect([...rebin([2, 4], 0, 2, [0, 0.5, 2])]).toEqual([1, 5]);
  });
});

describe("layerStrip", () => {
  it("puts every frame on the run's widest range and finds the peak", () => {
    const frames = [[0, frame([4, 0], stats({ lo: 0, hi: 1 }))], [2, frame([1, 3], stats({ lo: -1, hi: 1 }))]];
    const strip = layerStrip(frames, "weights", "fc1");
    expect([strip.lo, strip.hi, strip.bins]).toEqual([-1, 1, 2]);
    expect([...strip.columns.get(0)]).toEqual([0, 4]); // all of frame 0 lies in [0, 1]: the upper bin
    expect([...strip.columns.get(2)]).toEqual([1, 3]);
    expect(strip.peak).toBe(4);
    expect(layersOf(frames.map(([, f]) => f), "weights")).toEqual(["fc1"]);
    expect(layersOf(frames.map(([, f]) => f), "grads")).toEqual([]);
  });
  it("draws value upwards and fills a thinned-away frame with the one before it", () => {
    const strip = layerStrip([[0, frame([4, 0], stats({ lo: 0, hi: 1 }))], [2, frame([0, 4], stats({ lo: 0, hi: 1 }))]], "weights", "fc1");
    const px = stripRGBA(strip, 3);
    const at = (x, row) => [...px.slice(4 * (row * 3 + x), 4 * (row * 3 + x) + 3)];
    const dark = [...SEQUENTIAL.slice(3 * 255, 3 * 255 + 3)];
    expect(at(0, 1)).toEqual(dark); // frame 0's counts sit in the lower bin: the bottom image row
    expect(at(0, 0)).toEqual([255, 255, 255]);
    expect(at(1, 1)).toEqual(dark); // frame 1 missing: frame 0 shown
    expect(at(2, 0)).toEqual(dark);
  });
});

describe("health", () => {
  const rows = (list) => list.map((s, index) => ({ index, stats: stats(s) }));
  it("flags non-finite values and a norm grown tenfold as exploding", () => {
    expect(health(rows([{ lo: 0, hi: 1 }, { lo: 0, hi: 1, nonfinite: 2 }]), "weights")).toBe("exploding");
    expect(health(rows([{ lo: 0, hi: 1, norm: 1 }, { lo: 0, hi: 1, norm: 11 }]), "weights")).toBe("exploding");
    expect(health(rows([{ lo: 0, hi: 1, norm: 1 }, { lo: 0, hi: 1, norm: 11 }]), "weights", 0)).toBe("");
  });
  it("flags weights that stopped moving, but not one quiet capture", () => {
    const still = Array.from({ length: DEAD_FRAMES + 1 }, (_, i) => ({ lo: 0, hi: 1, change: i ? 0 : NaN }));
    expect(health(rows(still), "weights")).toBe("dead");
    expect(health(rows([{ lo: 0, hi: 1 }, { lo: 0, hi: 1, change: 0 }]), "weights")).toBe("");
    expect(health(rows([{ lo: 0, hi: 1, norm: 0 }]), "grads")).toBe("dead");
  });
  it("maps counts to the colour scale by the square root of their share of the peak", () => {
    expect([heatIndex(0, 10), heatIndex(10, 10), heatIndex(2.5, 10), heatIndex(1, 0)]).toEqual([0, 255, 128, 0]);
  });
});

describe("flagColours", () => {
  const contrast = (a, b) => {
    const [la, lb] = [a, b].map((c) => relativeLuminance(...parseColour(c)) + 0.05);
    return Math.max(la, lb) / Math.min(la, lb);
  };
  // page backgrounds with the text colour each theme gives: JupyterLab light/dark, VS Code light/dark
  const pages = [
    ["#ffffff", "rgba(0, 0, 0, 0.87)"],
    ["#111111", "rgba(255, 255, 255, 1)"],
    ["#ffffff", "rgb(59, 59, 59)"],
    ["#1f1f1f", "rgb(204, 204, 204)"],
  ];
  it.each(pages)("keeps flags and badge text at WCAG AA on %s", (page, ink) => {
    const c = flagColours(ink);
    for (const flag of ["dead", "exploding"]) {
      expect(contrast(c[flag], page)).toBeGreaterThanOrEqual(4.5); // the header written in the flag's colour
      expect(contrast(c.badgeText, c[flag])).toBeGreaterThanOrEqual(4.5); // the badge's label
    }
  });
});
