import { describe, expect, it } from "vitest";
import { cursorX } from "./cursor.js";

describe("cursorX", () => {
  it("is the x of the frame shown", () => {
    expect(cursorX([1, 2, 4, 8], 2)).toBe(4);
  });
  it("clamps to the frames held and is null without frames", () => {
    expect(cursorX([1, 2], 9)).toBe(2);
    expect(cursorX([1, 2], -3)).toBe(1);
    expect(cursorX([], 0)).toBeNull();
    expect(cursorX(undefined, 0)).toBeNull();
  });
});
