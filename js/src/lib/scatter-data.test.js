import { describe, expect, it } from "vitest";
import { bytesOf, floatsOf, unionBounds } from "./scatter-data.js";

describe("scatter data", () => {
  it("reads float32 bytes in place when aligned and copies them when not", () => {
    const buffer = new ArrayBuffer(13);
    new Float32Array(buffer, 0, 3).set([1.5, -2, 3]);
    const aligned = floatsOf(new DataView(buffer, 0, 12));
    expect(Array.from(aligned)).toEqual([1.5, -2, 3]);
    expect(aligned.buffer).toBe(buffer);
    const shifted = new Uint8Array(13);
    shifted.set(new Uint8Array(buffer, 0, 12), 1);
    const copy = floatsOf(new DataView(shifted.buffer, 1, 12));
    expect(Array.from(copy)).toEqual([1.5, -2, 3]);
  });

  it("has no bytes for an unset or empty trait", () => {
    expect(bytesOf(null)).toBe(null);
    expect(bytesOf(new DataView(new ArrayBuffer(0)))).toBe(null);
    expect(bytesOf(new DataView(new ArrayBuffer(8))).byteLength).toBe(8);
  });

  it("bounds every frame: the union of their boxes, radius half the widest side", () => {
    const b = unionBounds([{ min: [0, 0], max: [2, 1] }, { min: [-2, 0.5], max: [1, 5] }], 2);
    expect(b.min).toEqual([-2, 0]);
    expect(b.max).toEqual([2, 5]);
    expect(b.center).toEqual([0, 2.5]);
    expect(b.radius).toBe(2.5);
    expect(unionBounds([], 2)).toBe(null);
  });
});
