// EmbeddingScatter view: points in 2-D or 3-D drawn with WebGL (canvas 2D when WebGL is missing), coloured by
// class. 2-D: drag pans, wheel zooms, box and lasso select; 3-D: drag orbits, wheel zooms. Hover shows the
// label (and a thumbnail); the legend toggles classes; density contours over or instead of the points.
// Static data arrives once in the `coords` trait; a recorder's epochs arrive as frames (shared session).
// This module wires the parts: renderers in lib/scatter-gl.js and lib/scatter-2d.js, the points and what is
// derived from them in lib/scatter-points.js, gestures in lib/pointer.js and lib/scatter-input.js, the overlay
// in lib/scatter-overlay.js, elements, legend and tooltip in lib/scatter-dom.js.
import { toFloat32 } from "./lib/codec.js";
import { createControls, PLAYER_TRAITS, renderTitle, styleElement } from "./lib/controls.js";
import { drawOncePerFrame, fitWidth, save } from "./lib/dom.js";
import { bindPointer } from "./lib/pointer.js";
import { autoPointSize, bounds, cameraMatrix, fitCamera, nearest, PREVIEW_3D, previewStride, TEXTURE_FROM } from "./lib/scatter.js";
import { bytesOf, floatsOf, unionBounds } from "./lib/scatter-data.js";
import { renderLegend, scatterElements, scatterNote, scatterStyle, showThumbnail, sizeCanvases } from "./lib/scatter-dom.js";
import { createRenderer } from "./lib/scatter-gl.js";
import { dragCamera, dragKind, dragSelection, mergeSelection, toggleHidden, wheelCamera } from "./lib/scatter-input.js";
import { paintOverlay, thumbnailRGBA } from "./lib/scatter-overlay.js";
import { createPointLayer } from "./lib/scatter-points.js";
import { getSession, initSession } from "./lib/session.js";

const SETTLE_MS = 200; // the camera has rested this long: draw every point
const CORE_MASS = 0.6; // 3-D density "only": each class's densest region holding this fraction of its points
const TRAITS = [...PLAYER_TRAITS, "controls", "dims", "coords", "labels", "classes",
  "colors", "hidden", "selection", "images", "image_shape", "density", "fit", "point_size", "axis_labels", "width",
  "height", "title"];

function initialize({ model }) {
  return initSession(model);
}

function render({ model, el }) {
  const session = getSession(model);
  const store = session.store;
  const { root, title, tools, reset, clear, densityPick, fixed, fixedLabel, count, stage, glCanvas, overlay, tooltip,
    tipLabel, tipImage, legend, note, bar } = scatterElements();
  const controls = createControls(model, session);
  root.append(styleElement(), scatterStyle(), title, bar, stage, legend, controls.el, note);
  el.append(root);

  const { renderer, fallbackReason } = createRenderer(glCanvas);
  let tool = "pan";
  const points = createPointLayer(renderer, { coreMass: CORE_MASS });
  let lastMove = -Infinity, settleTimer = null, every = 1, drawMode = "all";
  let camera = null, userCamera = false, cameraVersion = 0;
  const frameBounds = new WeakMap(); // frame array -> its bounds
  let selectionVersion = 0, overlayKey = "", lastUiKey = "";
  let hover = -1, draws = 0, lastDrawMs = 0;

  const fit = fitWidth(el, () => schedule());
  // as wide as asked, or as the page has room for (the height shrinks with it)
  const size = () => {
    const wantW = Number(model.get("width")) || 520, wantH = Number(model.get("height")) || 420;
    const width = fit.width(wantW + 2) - 2; // the stage's 1 px border on each side
    return { width, height: Math.round((wantH * width) / wantW) };
  };
  const dims = () => (Number(model.get("dims")) === 3 ? 3 : 2);
  const matrix = () => cameraMatrix(camera, dims(), size().width / size().height);
  const hidden = () => model.get("hidden") ?? [];
  const screenPositions = () => points.screen(matrix(), size().width, size().height, hidden(), cameraVersion);

  /** The positions to draw now: static coords, or the current frame's embedding. */
  function currentPositions() {
    if (model.get("source_kind") === "frames") {
      const { index, frame, loading } = session.current();
      const arr = frame?.arrays.embedding;
      return { positions: arr ? toFloat32(arr) : null, key: arr ?? null, frame, index, loading };
    }
    const view = bytesOf(model.get("coords"));
    return { positions: view ? floatsOf(view) : null, key: view, frame: null, index: null, loading: false };
  }

  /** Bounds of the data shown; with fit="all", of every frame held (one scale for the whole training). */
  function dataBounds(positions, d) {
    if (model.get("source_kind") !== "frames" || model.get("fit") !== "all") return bounds(positions, d);
    const held = [];
    for (const i of store.indices()) {
      const arr = store.get(i)?.arrays.embedding;
      if (!arr) continue;
      if (!frameBounds.has(arr)) frameBounds.set(arr, bounds(toFloat32(arr), d));
      held.push(frameBounds.get(arr));
    }
    return unionBounds(held, d) ?? bounds(positions, d);
  }

  /** The overlay is repainted only when what it shows changes (a canvas 2D repaint costs a few ms a frame in
   * software GL, so plain panning leaves it alone). */
  function drawOverlay() {
    const { width, height } = size();
    const dpr = window.devicePixelRatio || 1;
    const density = points.contours(model.get("density"), hidden(), (model.get("classes") ?? []).length);
    const lines = density.lines;
    const drag = pointer.drag();
    const selecting = drag && (drag.kind === "box" || drag.kind === "lasso");
    const key = JSON.stringify([width, height, dpr, dims(), model.get("axis_labels"), lines.length ? cameraVersion : 0,
      density.key, model.get("colors"), selecting ? drag.path.length : -1]);
    if (key === overlayKey) return;
    overlayKey = key;
    paintOverlay(overlay.getContext("2d"), { width, height, dpr, matrix: lines.length ? matrix() : null, lines,
      hexes: model.get("colors") ?? [], dims: dims(), axes: model.get("axis_labels") ?? [], drag });
  }


  /** Points to the screen. While the camera moves: 2-D redraws a texture of every point (moved, scaled); 3-D
   * draws a random subset (without index buffers, every k-th point). All of them once it rests SETTLE_MS. */
  function drawPoints(n, d) {
    points.recolor({ colors: model.get("colors") ?? [], hidden: hidden(), density: model.get("density"),
      selection: model.get("selection") ?? [], selectionVersion });
    const { width, height } = size();
    const dpr = window.devicePixelRatio || 1;
    const moving = pointer.drag() !== null || performance.now() - lastMove < SETTLE_MS;
    const size_ = Number(model.get("point_size")) || autoPointSize(n);
    const weighted = d === 3 && model.get("density") !== "off";
    const p = { matrix: matrix(), size: size_, width, height, dpr, weighted, key: `${width}x${height}@${dpr}|${size_}|${d}` };
    const gl = renderer.kind === "webgl";
    every = 1;
    drawMode = "all";
    if (gl && d === 2 && n >= TEXTURE_FROM && moving) {
      if (!renderer.blit(p)) renderer.snapshot(p); // the first frame of a motion renders the texture
      drawMode = "texture";
    } else if (gl && d === 2 && n >= TEXTURE_FROM) {
      renderer.draw(p); // at rest: every point straight to the screen (no texture's extra cost on loading)
      renderer.forget(); // and the next motion starts from a texture of this view
    } else if (gl && d === 3 && moving && n > PREVIEW_3D) {
      if (!points.subsetReady) every = previewStride(n);
      drawMode = points.subsetReady ? "subset" : "stride";
      renderer.draw({ ...p, subset: points.subsetReady, every });
    } else renderer.draw(p);
    if (drawMode !== "all") {
      clearTimeout(settleTimer);
      settleTimer = setTimeout(schedule, SETTLE_MS);
    }
  }

  /** The bar, title, controls and note: rebuilt only when something they show changed, not per camera frame. */
  function renderBar(current, n, d, selection) {
    const framesMode = model.get("source_kind") === "frames";
    const uiKey = JSON.stringify([tool, d, n, model.get("density"), model.get("fit"), selection.length, framesMode,
      model.get("title"),
      framesMode ? [current.index, current.loading, current.frame?.epoch, store.total, store.size] : 0,
      [...PLAYER_TRAITS, "controls"].map((k) => model.get(k)), renderer.kind]);
    if (uiKey === lastUiKey) return;
    lastUiKey = uiKey;
    for (const [name, button] of Object.entries(tools)) button.setAttribute("aria-pressed", String(tool === name));
    tools.pan.textContent = d === 3 ? "Orbit" : "Pan";
    densityPick.value = model.get("density");
    fixedLabel.style.display = framesMode ? "" : "none";
    fixed.checked = model.get("fit") === "all";
    count.textContent = selection.length ? `${selection.length} selected` : "";
    renderTitle(title, { prefix: model.get("title") || `${n} points`, frame: framesMode ? current.frame : null,
      loading: current.loading, brief: framesMode && !model.get("controls") });
    if (!framesMode && title.textContent.endsWith("waiting for frames")) title.textContent = model.get("title") || `${n} points`;
    controls.el.style.display = framesMode && model.get("controls") ? "" : "none";
    controls.update();
    note.textContent = scatterNote({ dims: d, density: model.get("density"), renderer: renderer.kind, fallbackReason,
      coreMass: CORE_MASS });
  }

  function draw() {
    const started = performance.now();
    const { width, height } = size();
    stage.style.width = `${width}px`;
    stage.style.height = `${height}px`;
    sizeCanvases([glCanvas, overlay], width, height, window.devicePixelRatio || 1);
    const d = dims();
    const current = currentPositions();
    if (current.positions && (current.key !== points.key || d !== points.dims)) {
      const view = bytesOf(model.get("labels"));
      points.set(current.positions, d, current.key, view && new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      // Fit the view until the person moves it: each frame, or (fit="all") every frame held so far.
      if (!camera || camera.dims !== d || !userCamera) {
        camera = { ...fitCamera(dataBounds(current.positions, d), d), dims: d };
        cameraVersion += 1;
      }
    }
    const n = points.count;
    const selection = model.get("selection") ?? [];
    if (camera) drawPoints(n, d);
    drawOverlay();
    renderLegend(legend, model.get("classes") ?? [], model.get("colors") ?? [], model.get("hidden") ?? []);
    renderBar(current, n, d, selection);
    draws += 1;
    lastDrawMs = performance.now() - started;
    Object.assign(root.dataset, {
      points: String(n), dims: String(d), renderer: renderer.kind, rendererName: renderer.name,
      frames: String(store.size), total: String(store.total), epoch: String(current.index ?? -1),
      selected: String(selection.length), hover: String(hover), draws: String(draws),
      drawMs: lastDrawMs.toFixed(3), density: String(model.get("density")), tool,
      drawnPoints: String(drawMode === "subset" ? Math.min(n, PREVIEW_3D) : Math.ceil(n / every)), drawMode,
    });
  }

  // -- interaction ------------------------------------------------------------------------------------
  const moveCamera = (next) => {
    userCamera = true;
    lastMove = performance.now();
    camera = { ...next, dims: camera.dims };
    cameraVersion += 1;
    schedule();
  };

  function showTooltip(i, x, y) {
    hover = i;
    root.dataset.hover = String(i);
    if (i < 0) {
      tooltip.style.display = "none";
      root.dataset.hoverLabel = "";
      return;
    }
    const name = (model.get("classes") ?? [])[points.labels[i]] ?? "";
    tipLabel.textContent = `${name} · #${i}`; // text, never HTML
    root.dataset.hoverLabel = name;
    showThumbnail(tipImage, thumbnailRGBA(bytesOf(model.get("images")), model.get("image_shape"), i));
    tooltip.style.display = "block";
    tooltip.style.left = `${Math.min(x + 12, size().width - 90)}px`;
    tooltip.style.top = `${y + 12}px`;
  }

  const pointer = bindPointer(overlay, {
    start(_x, _y, event) {
      if (!camera) return null;
      showTooltip(-1, 0, 0);
      return dragKind(tool, dims(), event.shiftKey);
    },
    move(drag, dx, dy) {
      const { width, height } = size();
      const next = dragCamera(camera, drag.kind, dims(), dx, dy, width, height);
      if (next) moveCamera(next);
      else schedule();
    },
    end(drag, event) {
      if (drag.kind === "box" || drag.kind === "lasso") {
        const picked = dragSelection(drag, screenPositions());
        save(model, { selection: mergeSelection(model.get("selection") ?? [], picked, event.shiftKey) });
      }
      schedule();
    },
    hover(x, y) {
      const i = nearest(screenPositions(), x, y, Math.max(6, (Number(model.get("point_size")) || 4) + 2));
      if (i >= 0 || i !== hover) showTooltip(i, x, y);
    },
    leave: () => showTooltip(-1, 0, 0),
    wheel(factor, x, y) {
      if (!camera) return;
      const { width, height } = size();
      moveCamera(wheelCamera(camera, dims(), factor, x, y, width, height));
    },
    reset: () => onReset(),
  });
  const onReset = () => {
    if (!points.positions) return;
    moveCamera(fitCamera(dataBounds(points.positions, points.dims), points.dims));
    userCamera = false;
  };
  const onLegend = (event) => {
    const item = event.target.closest?.(".nnviz-legend-item");
    if (item) save(model, { hidden: toggleHidden(model.get("hidden") ?? [], Number(item.dataset.cls)) });
  };
  const handlers = [[reset, "click", onReset], [clear, "click", () => save(model, { selection: [] })],
    [legend, "click", onLegend], [densityPick, "change", () => save(model, { density: densityPick.value })],
    [fixed, "change", () => save(model, { fit: fixed.checked ? "all" : "frame" })],
    ...Object.entries(tools).map(([name, button]) => [button, "click", () => { tool = name; schedule(); }])];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn);

  const { schedule, dispose: stopDrawing } = drawOncePerFrame(root, draw, { onDrawn: (ms) => store.painted(ms) });
  const onSelection = () => {
    selectionVersion += 1;
    schedule();
  };
  const onData = () => {
    points.invalidate(); // coords, labels or dims changed: upload again
    schedule();
  };
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  model.on("change:selection", onSelection);
  for (const name of ["coords", "labels", "dims"]) model.on(`change:${name}`, onData);
  model.on("change:fit", onReset); // the other scale: fit the view to it
  const unsubscribe = store.subscribe(schedule);
  // For tests and benchmarks: where point i is on screen (CSS px from the plot's top-left), and the camera.
  const hooks = {
    screenOf: (i) => {
      const s = screenPositions();
      return [s[2 * i], s[2 * i + 1]];
    },
    drawNow: () => {
      draw();
      renderer.finish();
      return lastDrawMs;
    },
  };
  Object.assign(root, { nnvizScatter: hooks });
  schedule();

  return () => {
    stopDrawing();
    fit.dispose();
    clearTimeout(settleTimer);
    pointer.dispose();
    for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    model.off("change:selection", onSelection);
    for (const name of ["coords", "labels", "dims"]) model.off(`change:${name}`, onData);
    model.off("change:fit", onReset);
    unsubscribe();
    controls.dispose();
    renderer.dispose();
    root.remove();
  };
}

export default { initialize, render };
