import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeArray, decodeFramesMessage, toFloat32, valueAt } from "./codec.js";

// Shared with the Python codec tests (tests/test_codec.py checks them against the encoder); written by
// nnviz_widgets.run.codec.write_fixtures("tests/fixtures/codec").
const DIR = fileURLToPath(new URL("../../../tests/fixtures/codec/", import.meta.url));
const names = readdirSync(DIR)
  .filter((f) => f.endsWith(".json") && !f.endsWith(".expected.json"))
  .map((f) => f.slice(0, -".json".length));

// Python decodes in float32 arithmetic, JS in double: allow float32 rounding.
const close = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

function load(name) {
  const header = JSON.parse(readFileSync(`${DIR}${name}.json`, "utf8"));
  const bytes = readFileSync(`${DIR}${name}.bin`);
  const expected = JSON.parse(readFileSync(`${DIR}${name}.expected.json`, "utf8"));
  return { header, bytes, expected };
}

// Put the bytes at `shift` inside a larger buffer, as a DataView, to test byteOffset handling.
function viewAt(bytes, shift) {
  const backing = new Uint8Array(bytes.length + shift + 3).fill(0xab);
  backing.set(bytes, shift);
  return new DataView(backing.buffer, shift, bytes.length);
}

describe("codec fixtures", () => {
  it("finds the shared fixtures", () => {
    expect(names.length).toBeGreaterThan(0);
  });

  for (const name of names) {
    for (const shift of [0, 1, 4]) {
      it(`${name} decodes at byteOffset ${shift}`, () => {
        const { header, bytes, expected } = load(name);
        const arr = decodeArray(header, viewAt(bytes, shift));
        expect(arr.shape).toEqual(expected.shape);
        expect(arr.codes.length).toBe(expected.values.length);
        const floats = toFloat32(arr);
        expected.values.forEach((want, i) => {
          if (want === null) {
            expect(valueAt(arr, i)).toBeNaN();
            expect(floats[i]).toBeNaN();
          } else {
            expect(close(valueAt(arr, i), want), `${name}[${i}]: ${valueAt(arr, i)} vs ${want}`).toBe(true);
            expect(close(floats[i], want)).toBe(true);
          }
        });
      });
    }
  }
});

describe("decodeArray", () => {
  it("rejects a buffer shorter than the shape needs", () => {
    expect(() => decodeArray({ dtype: "uint16", shape: [3], scale: 1, offset: 0, nan: null }, new DataView(new ArrayBuffer(4))))
      .toThrow(/needs 6/);
  });

  it("rejects an unknown dtype", () => {
    expect(() => decodeArray({ dtype: "int64", shape: [1] }, new DataView(new ArrayBuffer(8)))).toThrow(/dtype/);
  });

  it("views aligned data without copying and copies misaligned data", () => {
    const backing = new ArrayBuffer(16);
    new DataView(backing).setUint16(2, 513, true);
    const aligned = decodeArray({ dtype: "uint16", shape: [1], scale: 1, offset: 0, nan: null }, new DataView(backing, 2, 2));
    expect(aligned.codes.buffer).toBe(backing);
    expect(aligned.codes[0]).toBe(513);
    new DataView(backing).setUint16(3, 258, true);
    const odd = decodeArray({ dtype: "uint16", shape: [1], scale: 1, offset: 0, nan: null }, new DataView(backing, 3, 2));
    expect(odd.codes.buffer).not.toBe(backing);
    expect(odd.codes[0]).toBe(258);
  });
});

describe("decodeFramesMessage", () => {
  it("decodes each frame's arrays from the buffers they name", () => {
    const probs = new Uint8Array([0, 254, 127, 127, 255, 255]);
    const preds = new Uint8Array([1, 0, 255]);
    const content = {
      type: "frames", seq: 3, total: 10,
      frames: [{
        index: 4, epoch: 40, metrics: { loss: 0.5 }, diverged: false,
        arrays: {
          boundary: { dtype: "uint8", shape: [1, 3, 2], scale: 1 / 254, offset: 0, nan: 255, buffer: 1 },
          predictions: { dtype: "uint8", shape: [3], scale: 1, offset: 0, nan: 255, buffer: 0 },
        },
      }],
    };
    const [frame] = decodeFramesMessage(content, [new DataView(preds.buffer), new DataView(probs.buffer)]);
    expect(frame).toMatchObject({ index: 4, epoch: 40, metrics: { loss: 0.5 }, diverged: false });
    expect(frame.arrays.boundary.shape).toEqual([1, 3, 2]);
    expect(valueAt(frame.arrays.boundary, 1)).toBeCloseTo(1, 12);
    expect(valueAt(frame.arrays.boundary, 4)).toBeNaN();
    expect([0, 1, 2].map((i) => valueAt(frame.arrays.predictions, i))).toEqual([1, 0, NaN]);
  });

  it("accepts a player's frames with no arrays", () => {
    const frames = decodeFramesMessage({ frames: [{ index: 0, epoch: 1, metrics: {}, diverged: true, arrays: {} }] }, []);
    expect(frames).toEqual([{ index: 0, epoch: 1, metrics: {}, diverged: true, arrays: {} }]);
  });
});
