// The EmbeddingScatter's points as the renderer holds them, and what is derived from them, each remade only
// when its inputs change: class codes, per-point colours, the 3-D preview subset, screen positions for picking,
// 2-D density contours and 3-D density weights.
import { hexToRgb } from "./colormap.js";
import { classCodes, densityWeights3d, PREVIEW_3D, pointColors, previewSubset, project, visibleMask } from "./scatter.js";
import { classContours } from "./scatter-overlay.js";

/**
 * Points held by `renderer` (lib/scatter-gl.js or lib/scatter-2d.js). `coreMass`: in 3-D density "only", the
 * fraction of each class's points its drawn core holds.
 */
export function createPointLayer(renderer, { coreMass = 0.6 } = {}) {
  let positions = null, dims = 2, version = 0, key = null;
  let labels = new Uint8Array(0), codes = new Uint8Array(0), subsetReady = false;
  let colorKey = "", screen = null, screenKey = "";
  let contours = { key: "", lines: [] }, weights = { key: "", weight: null };

  return {
    get positions() { return positions; },
    get dims() { return dims; },
    get key() { return key; },
    get labels() { return labels; },
    /** Rows held (0 before any data). */
    get count() { return positions ? positions.length / dims : 0; },
    /** Whether the renderer holds the 3-D preview subset (else it previews every k-th point). */
    get subsetReady() { return subsetReady; },
    /** New data: (n, d) positions, the source object they came from (`source`: compared to skip re-uploads),
     * and n uint8 class labels (or none). */
    set(nextPositions, d, source, nextLabels) {
      positions = nextPositions;
      dims = d;
      key = source;
      version += 1;
      labels = nextLabels ?? new Uint8Array(0);
      codes = classCodes(positions, d, labels);
      renderer.setPositions(positions, d);
      const n = positions.length / d;
      // 3-D: the random subset drawn while the camera moves (made once per data, not per frame)
      subsetReady = d === 3 && n > PREVIEW_3D && renderer.kind === "webgl" && renderer.setSubset(previewSubset(n, PREVIEW_3D));
      colorKey = "";
      screen = null;
    },
    /** Data must be sent again on the next set() even when it is the same object (labels or dims changed). */
    invalidate() { key = null; },
    /** Per-point colours to the renderer when colours, hidden classes, the selection or the density mode changed.
     * `selectionVersion` changes whenever the selection does (the list itself is not compared). */
    recolor({ colors = [], hidden = [], density = "off", selection = [], selectionVersion = 0 }) {
      const next = JSON.stringify([colors, hidden, density, dims, selection.length,
        selection.length ? selectionVersion : 0, version]);
      if (next === colorKey || !positions) return;
      colorKey = next;
      let flags = null;
      if (selection.length) {
        flags = new Uint8Array(codes.length);
        for (const i of selection) if (i >= 0 && i < codes.length) flags[i] = 1;
      }
      renderer.setColors(pointColors(codes, colors.map(hexToRgb), { hidden, selected: flags,
        off: density === "only" && dims === 2, weight: this.densityWeight(density) }));
    },
    /** 3-D density view: each point's density within its class (0-1), 0 outside the class core for "only". */
    densityWeight(density) {
      if (density === "off" || dims !== 3 || !positions) return null;
      const next = `${version}|${density}`;
      if (weights.key !== next) {
        weights = { key: next, weight: densityWeights3d(positions, labels.length ? labels : null,
          { keep: density === "only" ? coreMass : null }) };
      }
      return weights.weight;
    },
    /** Screen positions (CSS px) of every shown point, NaN for hidden ones; `cameraVersion` changes with the camera. */
    screen(matrix, width, height, hidden, cameraVersion) {
      if (!positions) return new Float32Array(0);
      const next = `${cameraVersion}|${hidden.join()}|${version}|${width}x${height}`;
      if (screen && screenKey === next) return screen;
      screen = project(positions, dims, matrix, width, height, visibleMask(labels, hidden, this.count), screen);
      screenKey = next;
      return screen;
    },
    /** 2-D density contours of the shown classes (lib/scatter-overlay.js's classContours), kept until data,
     * mode or hidden classes change; [] when off or in 3-D. Returns {key, lines}. */
    contours(density, hidden, nClasses) {
      if (density === "off" || dims !== 2 || !positions) return { key: "", lines: [] };
      const next = [version, density, hidden.join()].join("|");
      if (contours.key !== next) contours = { key: next, lines: classContours(positions, labels, nClasses, hidden) };
      return contours;
    },
  };
}
