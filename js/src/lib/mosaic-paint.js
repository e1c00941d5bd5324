// Canvas painting of the WeightMosaic besides the tiles' pixels (lib/mosaic.js's paintTiles): dead and diverged
// marks, neuron numbers, the enlarged tile and the colour bar.
import { DIVERGING, LUT_SIZE, renderTilesRGBA, tileLabel } from "./mosaic.js";
import { formatMetric } from "./axes.js";

/**
 * @typedef {object} Grid  where tiles go, in device px (lib/mosaic.js's tileGrid(), plus dpr)
 * @property {number} cols
 * @property {number} twD  tile width
 * @property {number} thD  tile height
 * @property {number} gapD
 * @property {number} W  canvas width
 * @property {number} H  canvas height
 * @property {number} dpr
 */

/** @type {(k: number, grid: Grid) => [number, number]} the top-left corner of tile k */
const at = (k, { cols, twD, thD, gapD }) => [(k % cols) * (twD + gapD), Math.floor(k / cols) * (thD + gapD)];

/** Dead tiles (stopped changing): a frame and a corner mark; diverged tiles: "NaN". One path each. `grid`:
 * lib/mosaic.js's tileGrid() in device px, with dpr. */
/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {Uint8Array} dead  1 per dead tile of the page
 * @param {Uint8Array} diverged  1 per tile holding NaN
 * @param {Grid} grid
 */
export function paintFlags(ctx, dead, diverged, grid) {
  const { twD, thD, dpr, W, H } = grid;
  ctx.clearRect(0, 0, W, H);
  const corner = Math.min(10 * dpr, twD / 3, thD / 3);
  const frame = new Path2D(), marks = new Path2D(), nan = [];
  for (let k = 0; k < dead.length; k++) {
    const [x, y] = at(k, grid);
    if (dead[k]) {
      frame.rect(x + dpr, y + dpr, twD - 2 * dpr, thD - 2 * dpr);
      marks.moveTo(x + twD, y);
      marks.lineTo(x + twD - corner, y);
      marks.lineTo(x + twD, y + corner);
      marks.closePath();
    }
    if (diverged[k] && twD >= 20 * dpr) nan.push([x + twD / 2, y + thD / 2 - 4 * dpr]);
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.strokeStyle = ctx.fillStyle = "#000";
  ctx.lineWidth = 2 * dpr;
  ctx.stroke(frame);
  ctx.fill(marks);
  ctx.fillStyle = "#444";
  ctx.font = `${9 * dpr}px sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const [x, y] of nan) ctx.fillText("NaN", x, y);
}

/** Neuron numbers of tiles first … first + count - 1 in their top-left corners, on a light backing. */
/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {{channels?: number}} layout  the `tiling` trait
 * @param {number} first
 * @param {number} count
 * @param {Grid} grid
 */
export function paintLabels(ctx, layout, first, count, grid) {
  const { dpr, W, H } = grid;
  ctx.clearRect(0, 0, W, H);
  ctx.font = `${9 * dpr}px sans-serif`;
  ctx.textBaseline = "top";
  const texts = Array.from({ length: count }, (_, k) => tileLabel(layout, first + k));
  ctx.fillStyle = "rgba(255,255,255,0.75)";
  for (let k = 0; k < count; k++) {
    const [x, y] = at(k, grid);
    ctx.fillRect(x, y, ctx.measureText(texts[k]).width + 3 * dpr, 10 * dpr);
  }
  ctx.fillStyle = "#333";
  for (let k = 0; k < count; k++) {
    const [x, y] = at(k, grid);
    ctx.fillText(texts[k], x + dpr, y + dpr);
  }
}

/** The colour bar, `width` × 34 CSS px: the diverging ramp, and −max, 0, +max under it in `ink` (`shared` null:
 * one scale per tile, labelled "±max"); a `caption` under them says what is measured (say a change since the first
 * frame).
 * @param {CanvasRenderingContext2D} ctx
 * @param {number | null} shared
 * @param {number} width
 * @param {number} dpr
 * @param {string} [caption]
 * @param {string} [ink] the labels' colour: the theme's text colour, since they sit on the page
 */
export function paintColorbar(ctx, shared, width, dpr, caption = "", ink = "#333") {
  const ch = caption ? 48 : 34;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, ch);
  for (let x = 0; x < width; x++) {
    const i = 3 * Math.round((x / (width - 1)) * (LUT_SIZE - 1));
    ctx.fillStyle = `rgb(${DIVERGING[i]},${DIVERGING[i + 1]},${DIVERGING[i + 2]})`;
    ctx.fillRect(x, 0, 1, 14);
  }
  ctx.fillStyle = ink;
  ctx.font = "11px sans-serif";
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(shared === null ? "−max" : formatMetric(-shared), 0, 17);
  ctx.textAlign = "center";
  ctx.fillText("0", width / 2, 17);
  ctx.textAlign = "right";
  ctx.fillText(shared === null ? "+max" : formatMetric(shared), width, 17);
  if (caption) { // what the colours measure, when it is not the values themselves
    ctx.textAlign = "center";
    ctx.fillText(caption, width / 2, 31);
  }
}

/**
 * Tile t of `arr` enlarged to zw × zh CSS px, pixels kept square-edged, through the scratch canvas `scratch`;
 * `scale`: the colour scale's max |value|.
 */
/**
 * @param {CanvasRenderingContext2D} ctx
 * @param {HTMLCanvasElement} scratch
 * @param {object} arr  a decoded frame array (lib/codec.js)
 * @param {object} layout  the `tiling` trait
 * @param {number} t
 * @param {number} scale
 * @param {number} zw
 * @param {number} zh
 */
export function paintZoom(ctx, scratch, arr, layout, t, scale, zw, zh) {
  const img = renderTilesRGBA(arr, layout, t, 1, 1, scale);
  scratch.width = img.width;
  scratch.height = img.height;
  scratch.getContext("2d").putImageData(new ImageData(img.pixels, img.width, img.height), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, zw, zh);
}
