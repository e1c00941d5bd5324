// WeightMosaic view: every neuron of one layer as a tile (its weights, or its output over the data plane),
// blue–white–red around zero, with a colour bar, a layer picker, paging, hover-to-zoom and click-to-pin.
// Pixels, geometry and hit-testing are in lib/mosaic.js; marks, labels, zoom and colour bar in lib/mosaic-paint.js.
import { formatMetric } from "./lib/axes.js";
import { createControls, PLAYER_TRAITS, renderTitle, styleElement } from "./lib/controls.js";
import { drawOncePerFrame, fitWidth, localPoint, make, save } from "./lib/dom.js";
import {
  changeArray, changeScale, deadTiles, heldBefore, layerScale, mosaicNote, pageOf, paintTiles, tileAt, tileGrid, tileLabel, tileMaxAbs, valueUnder,
} from "./lib/mosaic.js";
import { paintColorbar, paintFlags, paintLabels, paintZoom } from "./lib/mosaic-paint.js";
import { getSession, initSession } from "./lib/session.js";

const ZOOM = 168; // px, the enlarged tile
const TILE_SIZES = [0, 8, 12, 16, 24, 32, 48, 64, 96]; // px per tile side; 0: fit the mosaic into `width`
const TRAITS = [...PLAYER_TRAITS, "controls", "layer", "layer_names", "show", "since", "scale",
  "tiling", "tile_size", "labels", "page", "page_size", "pinned", "width", "title"];

function initialize({ model }) {
  return initSession(model);
}

function mosaicStyle() {
  const style = make("style");
  style.textContent = `
.nnviz-mosaic { display: inline-block; }
.nnviz-mosaic-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 4px; }
.nnviz-mosaic-body { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.nnviz-mosaic-side { display: flex; flex-direction: column; gap: 6px; width: ${ZOOM}px; }
.nnviz-mosaic-readout { font-variant-numeric: tabular-nums; font-size: 12px; }
.nnviz-mosaic-note { font-size: 12px; color: var(--nnviz-fg-muted); }
.nnviz-mosaic canvas { display: block; }
.nnviz-mosaic-tiles { position: relative; max-width: 100%; overflow-x: auto; }
.nnviz-mosaic-tiles canvas.nnviz-labels { position: absolute; left: 0; top: 0; pointer-events: none; }
.nnviz-stage { font-size: 12px; padding: 0 4px; border-radius: 3px; background: #fff3cd; color: #6b4e00; }`;
  return style;
}

function render({ model, el }) {
  const session = getSession(model);
  const store = session.store;
  const root = make("div", "nnviz-mosaic");
  const title = make("div", "nnviz-title");
  const bar = make("div", "nnviz-mosaic-bar");
  const layerLabel = make("label", "", { textContent: "layer " });
  const picker = make("select", "nnviz-layer", { title: "Layer" });
  layerLabel.append(picker);
  const prevPage = make("button", "nnviz-page-prev", { type: "button", textContent: "‹", title: "Previous page" });
  const nextPage = make("button", "nnviz-page-next", { type: "button", textContent: "›", title: "Next page" });
  const pageLabel = make("span", "nnviz-page-label");
  const pager = make("span", "nnviz-pager");
  pager.append(prevPage, pageLabel, nextPage);
  const sizeLabel = make("label", "", { textContent: "tile " });
  const sizePicker = make("select", "nnviz-tile-size", { title: "Tile size (px)" });
  sizeLabel.append(sizePicker);
  const stage = make("span", "nnviz-stage"); // what an output map shows: after the activation, or before it
  bar.append(layerLabel, sizeLabel, pager, stage);
  const body = make("div", "nnviz-mosaic-body");
  const tilesBox = make("div", "nnviz-mosaic-tiles");
  const canvas = make("canvas", "nnviz-plot");
  const labelCanvas = make("canvas", "nnviz-labels"); // neuron numbers: redrawn only when the page or size changes
  const flagCanvas = make("canvas", "nnviz-labels nnviz-flags"); // dead / diverged marks, over the pixels
  tilesBox.append(canvas, flagCanvas, labelCanvas);
  const side = make("div", "nnviz-mosaic-side");
  const zoom = make("canvas", "nnviz-zoom");
  const readout = make("div", "nnviz-mosaic-readout");
  const colorbar = make("canvas", "nnviz-colorbar");
  const note = make("div", "nnviz-mosaic-note");
  side.append(zoom, readout, colorbar, note);
  body.append(tilesBox, side);
  const controls = createControls(model, session);
  root.append(styleElement(), mosaicStyle(), title, bar, body, controls.el);
  el.append(root);

  const zoomSource = make("canvas");
  // The page's pixels are painted (one ImageData, one putImageData) only when frame, page, size or scale change.
  const cache = { arr: null, prev: null, key: "", image: null, dead: new Uint8Array(0), diverged: new Uint8Array(0) };
  let labelKey = "", colorbarKey = null;
  const changeCache = { cur: null, ref: null, arr: null };
  const scaleCache = { key: "", value: 0 };

  /** The change view's one scale: the largest |change| over the held frames, recomputed when frames arrive. */
  function changeScaleOf(frames, name, page, since) {
    const key = [store.size, store.newest(), name, page, since].join();
    if (scaleCache.key !== key) {
      scaleCache.key = key;
      scaleCache.value = Math.max(changeScale(frames, name, since), changeScale(frames, page, since));
    }
    return scaleCache.value;
  }
  let geometry = null; // where the tiles of the last draw are
  let hover = null; // {tile, row, col} under the pointer
  let draws = 0;
  const fit = fitWidth(el, () => schedule());

  function previousFrame(index) {
    const before = heldBefore(store.indices(), index);
    return before === null ? null : store.get(before);
  }

  /** The frame's array holding the tiles of the page shown (one page of a large layer, or the whole layer). */
  function pageArray(frame, layout, name) {
    const at = pageOf(layout, name, model.get("page"));
    const arr = frame?.arrays[at.array];
    if (arr || at.array === name) return { at, arr, base: at.base, key: at.array };
    return { at, arr: frame?.arrays[name], base: 0, key: name }; // a frame carrying the whole layer draws as well
  }

  /** show="change": the shown array minus the same array of the first (or the previous) held frame. */
  function changeOf(index, layout, name, shown) {
    const since = model.get("since") === "previous" ? "previous" : "first";
    const held = store.indices();
    const refIndex = since === "previous" ? heldBefore(held, index) ?? index : held[0];
    const ref = pageArray(store.get(refIndex), layout, name);
    if (!shown.arr || !ref.arr || ref.base !== shown.base) return { ...shown, arr: undefined, since };
    if (changeCache.cur !== shown.arr || changeCache.ref !== ref.arr) {
      Object.assign(changeCache, { cur: shown.arr, ref: ref.arr, arr: changeArray(shown.arr, ref.arr) });
    }
    return { ...shown, arr: changeCache.arr, since };
  }

  function draw() {
    const started = performance.now();
    const layout = model.get("tiling") ?? {};
    const change = model.get("show") === "change";
    const name = `${change ? "weights" : model.get("show")}/${model.get("layer")}`;
    const { index, frame, loading } = session.current();
    const shown = pageArray(frame, layout, name);
    const { at, arr, base, key: arrayKey, since } = change ? changeOf(index, layout, name, shown) : shown;
    const tiles = layout.tiles ?? 0;
    const { page, pages, first, count } = at;
    const h = layout.h ?? 1, w = layout.w ?? 1;
    const dpr = window.devicePixelRatio || 1;
    // the tiles fit `width`, or the room the page has (the side panel wraps below them when there is none)
    const wantW = Number(model.get("width")) || 480;
    const grid = { ...tileGrid(layout, count, { width: Math.min(wantW, fit.width(wantW + ZOOM + 12)),
      tileSize: Number(model.get("tile_size")) || 0, dpr }), dpr };
    const { cols, twD, thD, gapD, W, H } = grid;
    for (const c of [canvas, flagCanvas, labelCanvas]) {
      if (c.width !== W || c.height !== H) {
        Object.assign(c, { width: W, height: H });
        c.style.width = `${W / dpr}px`;
        c.style.height = `${H / dpr}px`;
      }
    }
    const ctx = canvas.getContext("2d");

    // The layer's scale: max |value| over every frame held so far (comparable across neurons and epochs).
    const frames = store.indices().map((i) => store.get(i));
    const perNeuron = model.get("scale") === "neuron";
    const shared = change ? changeScaleOf(frames, name, at.array, since)
      : Math.max(layerScale(frames, name), layerScale(frames, at.array));
    let dead = new Uint8Array(0), diverged = new Uint8Array(0);
    if (arr && count) {
      const prevFrame = model.get("show") === "weights" ? previousFrame(index) : null; // a change has no "dead"
      const prev = prevFrame ? pageArray(prevFrame, layout, name) : null;
      const key = [first, count, cols, perNeuron, shared, layout.values, h, w, layout.flip, W, H].join();
      if (cache.arr !== arr || cache.prev !== prev?.arr || cache.key !== key) {
        const scales = perNeuron
          ? Float64Array.from({ length: count }, (_, k) => tileMaxAbs(arr, layout, first - base + k)) : shared;
        const image = cache.image?.width === W && cache.image?.height === H ? cache.image : ctx.createImageData(W, H);
        new Uint32Array(image.data.buffer).fill(0xffffffff); // white gaps
        const painted = paintTiles(image.data, W, arr, layout, first - base, count, cols, scales, twD, thD, gapD);
        const sameTiles = prev?.arr && prev.base === base;
        Object.assign(cache, {
          arr, prev: prev?.arr, key, image, diverged: painted,
          dead: sameTiles ? deadTiles(arr, prev.arr, layout, first - base, count) : new Uint8Array(count),
        });
        ctx.putImageData(image, 0, 0);
        paintFlags(flagCanvas.getContext("2d"), cache.dead, cache.diverged, grid);
      }
      ({ dead, diverged } = cache);
    } else {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, W, H);
      flagCanvas.getContext("2d").clearRect(0, 0, W, H);
      cache.arr = null;
    }
    drawLabels(layout, first, arr ? count : 0, grid);
    geometry = { first, count, cols, tw: twD / dpr, th: thD / dpr, gap: gapD / dpr, h, w }; // css px

    // Picker, pager.
    const names = model.get("layer_names") ?? [];
    if (picker.options.length !== names.length || [...picker.options].some((o, i) => o.value !== names[i])) {
      picker.replaceChildren(...names.map((n) => make("option", "", { value: n, textContent: n })));
    }
    picker.value = model.get("layer");
    const size = Number(model.get("tile_size")) || 0;
    const sizes = TILE_SIZES.includes(size) ? TILE_SIZES : [...TILE_SIZES, size].sort((a, b) => a - b);
    if (sizePicker.options.length !== sizes.length) {
      sizePicker.replaceChildren(...sizes.map((v) => make("option", "", { value: String(v), textContent: v ? `${v} px` : "auto" })));
    }
    sizePicker.value = String(size);
    const outputs = model.get("show") === "outputs";
    const activation = outputs && "activation" in layout ? layout.activation : undefined;
    stage.style.display = activation === undefined ? "none" : "";
    stage.textContent = activation === null ? "pre-activation" : `after ${activation}`;
    stage.title = activation === null
      ? "No activation module follows this layer (say F.relu in forward()): the maps show its raw outputs"
      : "Each map shows the output of the activation module right after this layer";
    pager.style.display = pages > 1 ? "" : "none";
    pageLabel.textContent = ` page ${page + 1} / ${pages} (tiles ${first}–${first + count - 1} of ${tiles}) `;
    prevPage.disabled = page <= 0;
    nextPage.disabled = page >= pages - 1;

    drawZoom(arr, base, layout, perNeuron ? null : shared);
    drawColorbar(perNeuron ? null : shared, change ? `change since the ${since === "previous" ? "previous" : "first"} frame` : "");
    const nDead = dead.reduce((a, b) => a + b, 0), nDiverged = diverged.reduce((a, b) => a + b, 0);
    note.textContent = change
      ? `${tiles} neurons: how much each incoming weight moved since the ${since === "previous" ? "previous" : "first"} frame. ` +
        `One symmetric scale for the layer: the largest change over the frames so far.`
      : mosaicNote({ tiles, outputs, activation, h, w, perNeuron, dead: nDead, diverged: nDiverged });

    renderTitle(title, { prefix: model.get("title") || `layer ${model.get("layer")}`, frame: arr ? frame : null,
      loading: loading || (frame && !arr), brief: !model.get("controls") });
    controls.el.style.display = model.get("controls") ? "" : "none";
    controls.update();

    draws += 1;
    Object.assign(root.dataset, {
      frames: String(store.size), total: String(store.total), epoch: String(index ?? -1),
      drawnEpochNumber: arr ? String(frame.epoch) : "", layer: String(model.get("layer")),
      tiles: String(tiles), page: String(page), pages: String(pages), first: String(first), count: String(count),
      cols: String(cols), tilePx: String(twD / dpr), tileHeight: String(thD / dpr), gap: String(gapD / dpr),
      scaleMax: String(shared), dead: String(nDead), diverged: String(nDiverged), draws: String(draws),
      array: arr ? arrayKey : "", tileSize: String(size),
      stage: activation === undefined ? "" : stage.textContent,
      drawMs: (performance.now() - started).toFixed(3),
    });
  }

  /** Neuron numbers on their own canvas over the tiles: they change with the page, not with the frame. */
  function drawLabels(layout, first, count, grid) {
    const show = model.get("labels") && grid.twD >= 20 * grid.dpr;
    const key = [show, first, count, grid.cols, grid.twD, grid.thD, grid.W, grid.H, layout.channels].join();
    if (key === labelKey) return;
    labelKey = key;
    const ctx = labelCanvas.getContext("2d");
    if (show) paintLabels(ctx, layout, first, count, grid);
    else ctx.clearRect(0, 0, grid.W, grid.H);
  }

  function focusTile() {
    if (hover) return hover.tile;
    const pinned = Number(model.get("pinned"));
    return pinned >= 0 ? pinned : null;
  }

  function drawZoom(arr, base, layout, shared) {
    const focus = focusTile();
    const t = focus === null ? null : focus - base; // index into arr, which may hold one page
    const dpr = window.devicePixelRatio || 1;
    const { h = 1, w = 1 } = layout;
    const s = ZOOM / Math.max(h, w);
    const zw = Math.round(w * s), zh = Math.round(h * s);
    if (zoom.width !== Math.round(zw * dpr) || zoom.height !== Math.round(zh * dpr)) {
      zoom.width = Math.round(zw * dpr);
      zoom.height = Math.round(zh * dpr);
      zoom.style.width = `${zw}px`;
      zoom.style.height = `${zh}px`;
    }
    const ctx = zoom.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#f4f4f4";
    ctx.fillRect(0, 0, zw, zh);
    // the enlarged tile only while one is hovered or pinned: no empty box waiting for a hover
    const shown = !(t === null || !arr || t < 0 || (t + 1) * layout.values > arr.codes.length);
    zoom.style.display = shown ? "" : "none";
    if (!shown) {
      readout.textContent = "Hover a tile to enlarge it; click to pin it.";
      return;
    }
    paintZoom(ctx, zoomSource, arr, layout, t, shared ?? tileMaxAbs(arr, layout, t), zw, zh);
    const pinned = Number(model.get("pinned")) === focus;
    let text = `neuron ${tileLabel(layout, focus)}${pinned ? " (pinned)" : ""}`;
    if (hover && hover.tile === focus) {
      const v = valueUnder(arr, layout, t, hover.row, hover.col);
      const shown = Array.isArray(v) ? v.map((x) => formatMetric(x)).join(", ") : v === undefined ? "padding" : formatMetric(v);
      text += `\nrow ${hover.row}, col ${hover.col}: ${shown}`;
    }
    readout.textContent = text;
    readout.style.whiteSpace = "pre-line";
  }

  function drawColorbar(shared, caption) {
    const ink = getComputedStyle(root).color; // the theme's text colour: the labels sit on the page, not on a canvas fill
    if (colorbarKey === `${shared}:${caption}:${ink}`) return;
    colorbarKey = `${shared}:${caption}:${ink}`;
    const cw = ZOOM, ch = caption ? 48 : 34;
    const dpr = window.devicePixelRatio || 1;
    if (colorbar.width !== cw * dpr || colorbar.height !== ch * dpr) {
      colorbar.width = cw * dpr;
      colorbar.height = ch * dpr;
      colorbar.style.width = `${cw}px`;
      colorbar.style.height = `${ch}px`;
    }
    paintColorbar(colorbar.getContext("2d"), shared, cw, dpr, caption, ink);
  }

  const hitTest = (event) => tileAt(geometry, ...localPoint(event, canvas));
  const onMove = (event) => {
    hover = hitTest(event);
    schedule();
  };
  const onLeave = () => {
    hover = null;
    schedule();
  };
  const onClick = (event) => {
    const hit = hitTest(event);
    if (hit) save(model, { pinned: Number(model.get("pinned")) === hit.tile ? -1 : hit.tile });
  };
  const onPick = () => save(model, { layer: picker.value });
  const onSize = () => save(model, { tile_size: Number(sizePicker.value) });
  const onPrev = () => save(model, { page: Math.max(0, (Number(model.get("page")) || 0) - 1) });
  const onNext = () => save(model, { page: (Number(model.get("page")) || 0) + 1 });
  /** @type {Array<[HTMLElement, string, (event: any) => void]>} */
  const handlers = [[canvas, "mousemove", onMove], [canvas, "mouseleave", onLeave], [canvas, "click", onClick],
    [picker, "change", onPick], [sizePicker, "change", onSize], [prevPage, "click", onPrev], [nextPage, "click", onNext]];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn);

  const { schedule, dispose: stopDrawing } = drawOncePerFrame(root, draw, { onDrawn: (ms) => store.painted(ms) });
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  const unsubscribe = store.subscribe(schedule);
  schedule();

  return () => {
    stopDrawing();
    fit.dispose();
    for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    unsubscribe();
    controls.dispose();
    root.remove();
  };
}

export default { initialize, render };
