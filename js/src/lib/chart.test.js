import { describe, expect, it } from "vitest";
import { metricFamilies, series, yRange } from "./chart.js";

describe("chart", () => {
  it("groups metrics into families, loss first", () => {
    expect(metricFamilies(["accuracy", "lr", "loss", "val_loss"])).toEqual([["loss", ["loss", "val_loss"]], ["accuracy", ["accuracy"]], ["lr", ["lr"]]]);
  });
  it("keeps only finite values and pads a flat range", () => {
    const frames = [{ index: 0, epoch: 1, metrics: { loss: 1 } }, { index: 1, epoch: 2, metrics: { loss: null } }, { index: 2, epoch: 3, metrics: { loss: 1 } }];
    expect(series(frames, "loss").map((p) => p.x)).toEqual([1, 3]);
    expect(yRange([series(frames, "loss")])).toEqual([0.95, 1.05]);
  });
});
