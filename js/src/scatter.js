// EmbeddingScatter view: points in 2-D or 3-D drawn with WebGL (canvas 2D when WebGL is missing), coloured by
// class. 2-D: drag pans, wheel zooms, box and lasso select; 3-D: drag orbits, wheel zooms. Hover shows the
// label (and a thumbnail); the legend toggles classes; density contours over or instead of the points.
// Static data arrives once in the `coords` trait; a recorder's epochs arrive as frames (shared session).
import { asDataView, toFloat32 } from "./lib/codec.js";
import { hexToRgb } from "./lib/colormap.js";
import { contourSegments } from "./lib/contour.js";
import { createControls, renderTitle, styleElement } from "./lib/controls.js";
import {
  autoPointSize, bounds, previewStride, cameraMatrix, classCodes, pointColors, densityGrid, densityWeights3d, fitCamera,
  massLevels, nearest, orbit, pan2d, PREVIEW_3D, previewSubset, project, selectBox, selectLasso, TEXTURE_FROM,
  TEXTURE_MARGIN, textureMap, visibleMask, zoom2d, zoom3d,
} from "./lib/scatter.js";
import { getSession, initSession } from "./lib/session.js";
import { make } from "./lib/dom.js";

const DENSITY_SIZE = 72;
const SETTLE_MS = 200; // the camera has rested this long: draw every point
const CORE_MASS = 0.6; // 3-D density "only": each class's densest region holding this fraction of its points
const TRAITS = ["epoch", "playing", "speed", "loop", "follow", "controls", "dims", "coords", "labels", "classes",
  "colors", "hidden", "selection", "images", "image_shape", "density", "point_size", "axis_labels", "width",
  "height", "title"];

function initialize({ model }) {
  return initSession(model);
}

function scatterStyle() {
  const style = make("style");
  style.textContent = `
.nnviz-scatter { font: 13px sans-serif; color: var(--jp-ui-font-color1, #222); display: inline-block; }
.nnviz-scatter-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-bottom: 4px; }
.nnviz-scatter-bar button[aria-pressed="true"] { background: #dde8f6; border-color: #5b8fd0; }
.nnviz-scatter-stage { position: relative; border: 1px solid #ddd; background: #fff; }
.nnviz-scatter-stage canvas { position: absolute; left: 0; top: 0; display: block; }
.nnviz-scatter-overlay { cursor: grab; touch-action: none; }
.nnviz-tooltip { position: absolute; pointer-events: none; background: rgba(255,255,255,0.95); border: 1px solid #aaa;
  border-radius: 3px; padding: 3px 5px; font-size: 12px; display: none; z-index: 2; }
.nnviz-tooltip canvas { position: static; display: block; margin-top: 3px; image-rendering: pixelated; }
.nnviz-legend-item { cursor: pointer; user-select: none; }
.nnviz-legend-item[data-hidden="true"] { opacity: 0.35; text-decoration: line-through; }
.nnviz-scatter-note { font-size: 12px; color: #555; margin-top: 2px; }`;
  return style;
}

// Colours are baked per point (RGBA bytes): the alpha byte carries the state, 255 selected, 216 normal,
// 30 dimmed (a selection exists elsewhere), 0 hidden (3-D density: 40-216 by density). A uniform-array lookup
// per vertex cost ~1.5 µs a point in SwiftShader; a plain attribute does not.
const VERTEX = `
attribute vec3 a_pos;
attribute vec4 a_color;
uniform mat4 u_mvp;
uniform float u_size;
uniform float u_weighted;
varying vec4 v_color;
void main() {
  bool hidden = a_color.a < 0.01;
  gl_Position = hidden ? vec4(2.0, 2.0, 2.0, 1.0) : u_mvp * vec4(a_pos, 1.0);
  float grow = u_weighted > 0.5 ? 0.6 + 0.8 * a_color.a : 1.0; // 3-D density: dense cores bigger
  gl_PointSize = hidden ? 0.0 : u_size * grow * (a_color.a > 0.99 ? 1.4 : 1.0);
  v_color = vec4(a_color.rgb, a_color.a > 0.99 ? 0.9 : a_color.a);
}`;
// Round sprites only where a circle is visible (3 px and up): the discard costs per fragment in software GL.
const FRAGMENT = `
precision mediump float;
uniform float u_round;
varying vec4 v_color;
void main() {
  vec2 d = gl_PointCoord - 0.5;
  if (u_round > 0.5 && dot(d, d) > 0.25) discard;
  gl_FragColor = vec4(v_color.rgb * v_color.a, v_color.a);
}`;
// The 2-D texture path: the points rendered once into a texture, redrawn moved and scaled while panning.
const QUAD_VERTEX = `
attribute vec2 a_corner;
uniform vec4 u_map;
uniform float u_extent;
varying vec2 v_uv;
void main() {
  gl_Position = vec4(a_corner * u_extent * u_map.xy + u_map.zw, 0.0, 1.0);
  v_uv = a_corner * 0.5 + 0.5;
}`;
const QUAD_FRAGMENT = `
precision mediump float;
uniform sampler2D u_tex;
varying vec2 v_uv;
void main() { gl_FragColor = texture2D(u_tex, v_uv); }`;

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

function link(gl, vertex, fragment) {
  const program = gl.createProgram();
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vertex));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragment));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`program: ${gl.getProgramInfoLog(program)}`);
  const attr = {}, uni = {};
  for (let i = 0, k = gl.getProgramParameter(program, gl.ACTIVE_ATTRIBUTES); i < k; i++) {
    const { name } = gl.getActiveAttrib(program, i);
    attr[name] = gl.getAttribLocation(program, name);
  }
  for (let i = 0, k = gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS); i < k; i++) {
    const { name } = gl.getActiveUniform(program, i);
    uni[name] = gl.getUniformLocation(program, name);
  }
  return { program, attr, uni };
}

/**
 * WebGL points renderer; null when WebGL is not available. Per frame it only sets uniforms and issues one draw:
 * buffers are uploaded when the data or colours change, never while the camera moves.
 *   draw(p)      every point (or, with p.subset, the preview subset; p.every > 1, every k-th point)
 *   snapshot(p)  every point into a texture TEXTURE_MARGIN larger than the view, then that texture on screen
 *   blit(p)      the last snapshot moved and scaled to p.matrix (2-D); false when there is none for p.key
 *   forget()     drop the snapshot (the camera rested: the next motion starts from a fresh one)
 */
function createGLRenderer(canvas) {
  const gl = canvas.getContext("webgl", { antialias: false, premultipliedAlpha: true, preserveDrawingBuffer: true });
  if (!gl) return null;
  const points = link(gl, VERTEX, FRAGMENT);
  const quad = link(gl, QUAD_VERTEX, QUAD_FRAGMENT);
  const buffers = { pos: gl.createBuffer(), color: gl.createBuffer(), subset: gl.createBuffer(),
    corners: gl.createBuffer() };
  gl.bindBuffer(gl.ARRAY_BUFFER, buffers.corners);
  gl.bufferData(gl.ARRAY_BUFFER, Float32Array.from([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const uint32 = gl.getExtension("OES_element_index_uint"); // indices past 65,535 (WebGL 1)
  const maxTexture = Math.min(gl.getParameter(gl.MAX_TEXTURE_SIZE), gl.getParameter(gl.MAX_RENDERBUFFER_SIZE));
  let count = 0, dims = 2, subsetCount = 0;
  let target = null; // {texture, framebuffer, w, h}
  let cache = null; // what the texture holds: {key, matrix, extent}
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const rendererName = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);

  function drawPoints({ matrix, size, dpr, every = 1, subset = false, weighted = false }) {
    if (!count) return;
    gl.useProgram(points.program);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    const step = subset ? 1 : every;
    const attrs = [["a_pos", buffers.pos, dims, gl.FLOAT, false], ["a_color", buffers.color, 4, gl.UNSIGNED_BYTE, true]];
    for (const [name, buf, n, type, normalized] of attrs) {
      const l = points.attr[name];
      gl.bindBuffer(gl.ARRAY_BUFFER, buf);
      gl.enableVertexAttribArray(l);
      // every k-th point only (fallback preview without index buffers): a byte stride, no second buffer
      const bytes = n * (type === gl.FLOAT ? 4 : 1);
      gl.vertexAttribPointer(l, n, type, normalized, step > 1 ? step * bytes : 0, 0);
    }
    gl.uniformMatrix4fv(points.uni.u_mvp, false, new Float32Array(matrix));
    gl.uniform1f(points.uni.u_size, size * dpr);
    gl.uniform1f(points.uni.u_round, size * dpr >= 3 ? 1 : 0);
    gl.uniform1f(points.uni.u_weighted, weighted ? 1 : 0);
    if (subset && subsetCount) {
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, buffers.subset);
      gl.drawElements(gl.POINTS, subsetCount, gl.UNSIGNED_INT, 0);
    } else gl.drawArrays(gl.POINTS, 0, Math.ceil(count / step));
  }

  function clear(w, h) {
    gl.viewport(0, 0, w, h);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
  }

  function drawQuad(map, extent) {
    gl.useProgram(quad.program);
    gl.disable(gl.BLEND);
    for (const name of ["a_pos", "a_color"]) gl.disableVertexAttribArray(points.attr[name]);
    gl.bindBuffer(gl.ARRAY_BUFFER, buffers.corners);
    gl.enableVertexAttribArray(quad.attr.a_corner);
    gl.vertexAttribPointer(quad.attr.a_corner, 2, gl.FLOAT, false, 0, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, target.texture);
    gl.uniform1i(quad.uni.u_tex, 0);
    gl.uniform4fv(quad.uni.u_map, map);
    gl.uniform1f(quad.uni.u_extent, extent);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  function ensureTarget(w, h) {
    if (target && target.w === w && target.h === h) return;
    if (target) {
      gl.deleteTexture(target.texture);
      gl.deleteFramebuffer(target.framebuffer);
    }
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
      [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(gl.TEXTURE_2D, k, v);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    target = { texture, framebuffer, w, h };
  }

  return {
    kind: "webgl",
    name: String(rendererName),
    setPositions(positions, d) {
      dims = d;
      count = positions.length / d;
      cache = null;
      gl.bindBuffer(gl.ARRAY_BUFFER, buffers.pos);
      gl.bufferData(gl.ARRAY_BUFFER, positions, gl.DYNAMIC_DRAW);
    },
    setColors(rgba) {
      cache = null;
      gl.bindBuffer(gl.ARRAY_BUFFER, buffers.color);
      gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.DYNAMIC_DRAW);
    },
    /** Indices of the points drawn while the 3-D camera moves; false when index buffers are not available. */
    setSubset(indices) {
      if (!uint32) return false;
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, buffers.subset);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, indices, gl.STATIC_DRAW);
      subsetCount = indices.length;
      return true;
    },
    draw(p) {
      clear(Math.round(p.width * p.dpr), Math.round(p.height * p.dpr));
      drawPoints(p);
    },
    snapshot(p) {
      const w = Math.round(p.width * p.dpr), h = Math.round(p.height * p.dpr);
      const extent = Math.max(1, Math.min(1 + 2 * TEXTURE_MARGIN, maxTexture / w, maxTexture / h));
      ensureTarget(Math.round(w * extent), Math.round(h * extent));
      gl.bindFramebuffer(gl.FRAMEBUFFER, target.framebuffer);
      clear(target.w, target.h);
      const m = p.matrix.slice();
      for (const i of [0, 4, 8, 12]) m[i] /= extent; // the view's clip square is the middle of the texture
      for (const i of [1, 5, 9, 13]) m[i] /= extent;
      drawPoints({ ...p, matrix: m });
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      cache = { key: p.key, matrix: p.matrix, extent };
      clear(w, h);
      drawQuad([1, 1, 0, 0], extent);
    },
    forget() {
      cache = null;
    },
    blit(p) {
      if (!cache || cache.key !== p.key) return false;
      clear(Math.round(p.width * p.dpr), Math.round(p.height * p.dpr));
      drawQuad(textureMap(cache.matrix, p.matrix), cache.extent);
      return true;
    },
    finish: () => gl.finish(),
    dispose() {
      for (const b of Object.values(buffers)) gl.deleteBuffer(b);
      if (target) {
        gl.deleteTexture(target.texture);
        gl.deleteFramebuffer(target.framebuffer);
      }
      gl.deleteProgram(points.program);
      gl.deleteProgram(quad.program);
      gl.getExtension("WEBGL_lose_context")?.loseContext();
    },
  };
}

/** Canvas 2D fallback: the same picture, slower (one fillRect per point). */
function create2DRenderer(canvas) {
  let positions = new Float32Array(0), dims = 2, rgba = new Uint8Array(0);
  return {
    kind: "canvas2d",
    name: "canvas 2D",
    setPositions(p, d) { positions = p; dims = d; },
    setColors(c) { rgba = c; },
    draw({ matrix, size, width, height, dpr }) {
      const ctx = canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, width, height);
      const screen = project(positions, dims, matrix, width, height);
      for (let i = 0, n = rgba.length / 4; i < n; i++) {
        const a = rgba[4 * i + 3], x = screen[2 * i], y = screen[2 * i + 1];
        if (!a || Number.isNaN(x)) continue;
        ctx.fillStyle = `rgba(${rgba[4 * i]},${rgba[4 * i + 1]},${rgba[4 * i + 2]},${a === 255 ? 0.9 : a / 255})`;
        const s = a === 255 ? size * 1.4 : size;
        ctx.fillRect(x - s / 2, y - s / 2, s, s);
      }
    },
    finish() {},
    dispose() {},
  };
}

function bytesOf(value) {
  if (!value) return null;
  const view = asDataView(value);
  return view.byteLength ? view : null;
}

/** Float32Array over a DataView of float32 little-endian values (copied when misaligned). */
function floatsOf(view) {
  if (view.byteOffset % 4 === 0) return new Float32Array(view.buffer, view.byteOffset, view.byteLength / 4);
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

function render({ model, el }) {
  const session = getSession(model);
  const store = session.store;
  const root = make("div", "nnviz-scatter");
  const title = make("div", "nnviz-title");
  const bar = make("div", "nnviz-scatter-bar");
  const tools = {};
  for (const [name, label] of [["pan", "Pan"], ["box", "Box select"], ["lasso", "Lasso select"]]) {
    tools[name] = make("button", `nnviz-tool nnviz-tool-${name}`, { type: "button", textContent: label });
  }
  const reset = make("button", "nnviz-reset", { type: "button", textContent: "Reset view", title: "Or double-click" });
  const clear = make("button", "nnviz-clear", { type: "button", textContent: "Clear selection" });
  const densityPick = make("select", "nnviz-density", { title: "Density contours per class" });
  for (const [v, t] of [["off", "points"], ["over", "points + density"], ["only", "density only"]]) {
    densityPick.append(make("option", "", { value: v, textContent: t }));
  }
  const count = make("span", "nnviz-selection-count");
  bar.append(tools.pan, tools.box, tools.lasso, reset, clear, densityPick, count);
  const stage = make("div", "nnviz-scatter-stage");
  const glCanvas = make("canvas", "nnviz-plot");
  const overlay = make("canvas", "nnviz-scatter-overlay");
  const tooltip = make("div", "nnviz-tooltip");
  const tipLabel = make("div", "nnviz-tooltip-label");
  const tipImage = make("canvas", "nnviz-tooltip-image");
  tooltip.append(tipLabel, tipImage);
  stage.append(glCanvas, overlay, tooltip);
  const legend = make("div", "nnviz-legend");
  const note = make("div", "nnviz-scatter-note");
  const controls = createControls(model, session);
  root.append(styleElement(), scatterStyle(), title, bar, stage, legend, controls.el, note);
  el.append(root);

  let renderer = null, fallbackReason = "";
  try {
    renderer = createGLRenderer(glCanvas);
    if (!renderer) fallbackReason = "WebGL is not available in this browser";
  } catch (err) {
    fallbackReason = `WebGL failed (${err.message})`;
  }
  if (!renderer) renderer = create2DRenderer(glCanvas);

  let tool = "pan";
  let lastMove = -Infinity, settleTimer = null, every = 1, drawMode = "all", subsetReady = false;
  let camera = null, userCamera = false;
  const frameBounds = new WeakMap(); // frame array -> its bounds
  let data = { positions: null, dims: 2, key: null }; // what the renderer holds
  let labels = new Uint8Array(0);
  let codes = new Uint8Array(0), colorKey = "", selectionVersion = 0;
  let screen = null, screenKey = ""; // projected positions for picking, recomputed lazily
  let cameraVersion = 0;
  let drag = null; // {kind, x, y, path: [[x, y]...]}
  let hover = -1;
  let draws = 0, raf = null, lastDrawMs = 0;
  let density = { key: "", lines: [] };

  const save = (changes) => {
    for (const [k, v] of Object.entries(changes)) model.set(k, v);
    model.save_changes();
  };
  const size = () => ({ width: Number(model.get("width")) || 520, height: Number(model.get("height")) || 420 });
  const dims = () => (Number(model.get("dims")) === 3 ? 3 : 2);

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

  /** Bounds of the static data, or of every frame held (so the view holds the whole training still). */
  function dataBounds(positions, d) {
    if (model.get("source_kind") !== "frames") return bounds(positions, d);
    const min = Array(d).fill(Infinity), max = Array(d).fill(-Infinity);
    for (const i of store.indices()) {
      const arr = store.get(i)?.arrays.embedding;
      if (!arr) continue;
      if (!frameBounds.has(arr)) frameBounds.set(arr, bounds(toFloat32(arr), d));
      const b = frameBounds.get(arr);
      for (let k = 0; k < d; k++) {
        min[k] = Math.min(min[k], b.min[k]);
        max[k] = Math.max(max[k], b.max[k]);
      }
    }
    if (!(min[0] <= max[0])) return bounds(positions, d);
    const center = min.map((m, k) => (m + max[k]) / 2);
    const radius = Math.max(...min.map((m, k) => (max[k] - m) / 2)) || 1;
    return { min, max, center, radius };
  }

  function refreshLabels() {
    const view = bytesOf(model.get("labels"));
    labels = view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : new Uint8Array(0);
  }

  function upload(positions, d) {
    codes = classCodes(positions, d, labels);
    renderer.setPositions(positions, d);
    const n = positions.length / d;
    // 3-D: the random subset drawn while the camera moves (made once per data, not per frame)
    subsetReady = d === 3 && n > PREVIEW_3D && renderer.kind === "webgl" && renderer.setSubset(previewSubset(n, PREVIEW_3D));
    colorKey = "";
    recolor();
  }

  let weights = { key: "", weight: null };
  /** 3-D density view: each point's density within its class (0-1), 0 outside the class core for "only". */
  function densityWeight() {
    const mode = model.get("density");
    if (mode === "off" || dims() !== 3 || !data.positions) return null;
    const key = `${data.version}|${mode}`;
    if (weights.key !== key) {
      weights = { key, weight: densityWeights3d(data.positions, labels.length ? labels : null,
        { keep: mode === "only" ? CORE_MASS : null }) };
    }
    return weights.weight;
  }

  /** Per-point colours again when classes, colours, hidden classes, selection or density mode change. */
  function recolor() {
    const selection = model.get("selection") ?? [];
    const key = JSON.stringify([model.get("colors"), model.get("hidden"), model.get("density"), dims(), selection.length,
      selection.length ? selectionVersion : 0, data.version]);
    if (key === colorKey) return;
    colorKey = key;
    let flags = null;
    if (selection.length) {
      flags = new Uint8Array(codes.length);
      for (const i of selection) if (i >= 0 && i < codes.length) flags[i] = 1;
    }
    const palette = (model.get("colors") ?? []).map(hexToRgb);
    const off = model.get("density") === "only" && dims() === 2;
    renderer.setColors(pointColors(codes, palette, { hidden: model.get("hidden") ?? [], selected: flags, off,
      weight: densityWeight() }));
  }

  function matrix() {
    const { width, height } = size();
    return cameraMatrix(camera, dims(), width / height);
  }

  function screenPositions() {
    const key = `${cameraVersion}|${(model.get("hidden") ?? []).join()}`;
    if (!data.positions) return new Float32Array(0);
    if (screen && screenKey === key) return screen;
    const { width, height } = size();
    const n = data.positions.length / data.dims;
    screen = project(data.positions, data.dims, matrix(), width, height, visibleMask(labels, model.get("hidden"), n), screen);
    screenKey = key;
    return screen;
  }

  function densityLines() {
    const mode = model.get("density");
    if (mode === "off" || dims() !== 2 || !data.positions) return [];
    const key = [data.version, mode, (model.get("hidden") ?? []).join()].join("|");
    if (density.key === key) return density.lines;
    const b = bounds(data.positions, 2);
    const pad = [(b.max[0] - b.min[0]) * 0.08 || 1, (b.max[1] - b.min[1]) * 0.08 || 1];
    const extent = [b.min[0] - pad[0], b.max[0] + pad[0], b.min[1] - pad[1], b.max[1] + pad[1]];
    const hidden = new Set(model.get("hidden") ?? []);
    const lines = [];
    const classes = model.get("classes") ?? [];
    for (let c = 0; c < Math.max(1, classes.length); c++) {
      if (hidden.has(c)) continue;
      const grid = densityGrid(data.positions, 2, labels.length ? labels : null, c, extent, DENSITY_SIZE, 2);
      for (const [j, level] of massLevels(grid, [0.3, 0.6, 0.9]).entries()) {
        if (!(level > 0)) continue;
        const segs = contourSegments(grid, DENSITY_SIZE, DENSITY_SIZE, level).map(([x0, y0, x1, y1]) => {
          const sx = (extent[1] - extent[0]) / (DENSITY_SIZE - 1), sy = (extent[3] - extent[2]) / (DENSITY_SIZE - 1);
          return [extent[0] + x0 * sx, extent[2] + y0 * sy, extent[0] + x1 * sx, extent[2] + y1 * sy];
        });
        lines.push({ cls: c, width: 2.2 - 0.6 * j, segs });
      }
    }
    density = { key, lines };
    return lines;
  }

  let overlayKey = "", lastUiKey = "";
  /** Density contours, axis names and the selection outline; redrawn only when one of them changes (a canvas
   * 2D repaint costs a few ms a frame in software GL, so plain panning leaves it alone). */
  function drawOverlay() {
    const { width, height } = size();
    const dpr = window.devicePixelRatio || 1;
    const lines = densityLines();
    const key = JSON.stringify([width, height, dpr, dims(), model.get("axis_labels"), lines.length ? cameraVersion : 0,
      density.key, model.get("colors"), drag && drag.kind !== "pan" && drag.kind !== "orbit" ? drag.path.length : -1]);
    if (key === overlayKey) return;
    overlayKey = key;
    const ctx = overlay.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (lines.length) {
      const m = matrix();
      const hexes = model.get("colors") ?? [];
      for (const { cls, width: lw, segs } of lines) {
        ctx.strokeStyle = hexes[cls % Math.max(1, hexes.length)] ?? "#333";
        ctx.lineWidth = lw;
        ctx.beginPath();
        const pts = project(Float32Array.from(segs.flat()), 2, m, width, height);
        for (let s = 0; s < segs.length; s++) {
          ctx.moveTo(pts[4 * s], pts[4 * s + 1]);
          ctx.lineTo(pts[4 * s + 2], pts[4 * s + 3]);
        }
        ctx.stroke();
      }
    }
    const axes = model.get("axis_labels") ?? [];
    ctx.fillStyle = "#666";
    ctx.font = "11px sans-serif";
    if (dims() === 2 && axes.length >= 2) {
      ctx.textAlign = "right";
      ctx.fillText(`${axes[0]} →`, width - 6, height - 6);
      ctx.save();
      ctx.translate(12, 6);
      ctx.rotate(Math.PI / 2);
      ctx.textAlign = "left";
      ctx.fillText(`← ${axes[1]}`, 0, 0);
      ctx.restore();
    }
    if (drag && (drag.kind === "box" || drag.kind === "lasso") && drag.path.length) {
      ctx.strokeStyle = "#333";
      ctx.setLineDash([4, 3]);
      ctx.lineWidth = 1;
      ctx.fillStyle = "rgba(80,120,200,0.08)";
      ctx.beginPath();
      if (drag.kind === "box") {
        const [x1, y1] = drag.path[drag.path.length - 1];
        ctx.rect(drag.x, drag.y, x1 - drag.x, y1 - drag.y);
      } else {
        drag.path.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.closePath();
      }
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function resizeCanvases() {
    const { width, height } = size();
    const dpr = window.devicePixelRatio || 1;
    stage.style.width = `${width}px`;
    stage.style.height = `${height}px`;
    for (const c of [glCanvas, overlay]) {
      if (c.width !== Math.round(width * dpr) || c.height !== Math.round(height * dpr)) {
        c.width = Math.round(width * dpr);
        c.height = Math.round(height * dpr);
        c.style.width = `${width}px`;
        c.style.height = `${height}px`;
      }
    }
  }

  function renderLegend() {
    const classes = model.get("classes") ?? [];
    const hexes = model.get("colors") ?? [];
    const hidden = new Set(model.get("hidden") ?? []);
    const key = JSON.stringify([classes, hexes, [...hidden]]);
    if (legend.dataset.key === key) return;
    legend.dataset.key = key;
    legend.replaceChildren(...classes.map((name, k) => {
      const item = make("span", "nnviz-legend-item", { title: "Click to hide or show this class" });
      const swatch = make("span", "nnviz-swatch");
      swatch.style.background = hexes[k % Math.max(1, hexes.length)];
      item.append(swatch, document.createTextNode(name)); // text, never HTML
      item.dataset.cls = String(k);
      item.dataset.hidden = String(hidden.has(k));
      return item;
    }));
  }

  function draw() {
    raf = null;
    const started = performance.now();
    resizeCanvases();
    refreshLabels();
    const d = dims();
    const current = currentPositions();
    if (current.positions && (current.key !== data.key || d !== data.dims)) {
      data = { positions: current.positions, dims: d, key: current.key, version: (data.version ?? 0) + 1 };
      upload(current.positions, d);
      screen = null;
      // Fit the view until the person moves it; over epochs, fit every frame held so far (activations grow).
      if (!camera || camera.dims !== d || !userCamera) {
        camera = { ...fitCamera(dataBounds(current.positions, d), d), dims: d };
        cameraVersion += 1;
      }
    }
    const { width, height } = size();
    const dpr = window.devicePixelRatio || 1;
    const n = data.positions ? data.positions.length / data.dims : 0;
    const selection = model.get("selection") ?? [];
    if (camera) {
      recolor();
      // While the camera moves: 2-D redraws a texture of every point (moved, scaled); 3-D draws a random subset
      // (without index buffers, every k-th point). Everything is drawn once the camera rests SETTLE_MS.
      const moving = drag !== null || performance.now() - lastMove < SETTLE_MS;
      const size = Number(model.get("point_size")) || autoPointSize(n);
      const weighted = d === 3 && model.get("density") !== "off";
      const p = { matrix: matrix(), size, width, height, dpr, weighted, key: `${width}x${height}@${dpr}|${size}|${d}` };
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
        if (!subsetReady) every = previewStride(n);
        drawMode = subsetReady ? "subset" : "stride";
        renderer.draw({ ...p, subset: subsetReady, every });
      } else renderer.draw(p);
      if (drawMode !== "all") {
        clearTimeout(settleTimer);
        settleTimer = setTimeout(schedule, SETTLE_MS);
      }
    }
    drawOverlay();
    renderLegend();
    // the bar, title, controls and note: rebuilt only when something they show changed, not per camera frame
    const framesMode = model.get("source_kind") === "frames";
    const uiKey = JSON.stringify([tool, d, n, model.get("density"), selection.length, framesMode, model.get("title"),
      framesMode ? [current.index, current.loading, current.frame?.epoch, store.total, store.size] : 0,
      ["epoch", "playing", "speed", "loop", "follow", "controls"].map((k) => model.get(k)), renderer.kind]);
    if (uiKey !== lastUiKey) {
      lastUiKey = uiKey;
      for (const [name, button] of Object.entries(tools)) button.setAttribute("aria-pressed", String(tool === name));
      tools.pan.textContent = d === 3 ? "Orbit" : "Pan";
      densityPick.value = model.get("density");
      count.textContent = selection.length ? `${selection.length} selected` : "";
      renderTitle(title, { prefix: model.get("title") || `${n} points`, frame: framesMode ? current.frame : null,
        loading: current.loading });
      if (!framesMode && title.textContent.endsWith("waiting for frames")) title.textContent = model.get("title") || `${n} points`;
      controls.el.style.display = framesMode && model.get("controls") ? "" : "none";
      controls.update();
      const notes = [];
      if (renderer.kind !== "webgl") notes.push(`${fallbackReason}: drawn with canvas 2D (slower).`);
      if (d === 3 && model.get("density") === "over") notes.push("Density: denser places in each class drawn bolder.");
      if (d === 3 && model.get("density") === "only") {
        notes.push(`Density: each class's core only (the densest region holding ${CORE_MASS * 100} % of its points).`);
      }
      notes.push(d === 3 ? "Drag to orbit, wheel to zoom, double-click to reset." :
        "Drag to pan, wheel to zoom, double-click to reset; Box/Lasso select (shift adds).");
      note.textContent = notes.join(" ");
    }
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
  const local = (event) => {
    const rect = overlay.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  };
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
    const classes = model.get("classes") ?? [];
    const name = classes[labels[i]] ?? "";
    tipLabel.textContent = `${name} · #${i}`; // text, never HTML
    root.dataset.hoverLabel = name;
    const shape = model.get("image_shape") ?? [];
    const bytes = bytesOf(model.get("images"));
    if (bytes && shape.length >= 2) {
      const [h, w, c = 1] = shape;
      const pixels = new Uint8ClampedArray(h * w * 4);
      const base = bytes.byteOffset + i * h * w * c;
      const src = new Uint8Array(bytes.buffer, base, h * w * c);
      for (let p = 0; p < h * w; p++) {
        pixels[4 * p] = src[p * c];
        pixels[4 * p + 1] = src[p * c + (c === 3 ? 1 : 0)];
        pixels[4 * p + 2] = src[p * c + (c === 3 ? 2 : 0)];
        pixels[4 * p + 3] = 255;
      }
      const scale = Math.max(1, Math.floor(72 / Math.max(h, w)));
      tipImage.width = w;
      tipImage.height = h;
      tipImage.style.width = `${w * scale}px`;
      tipImage.style.height = `${h * scale}px`;
      tipImage.getContext("2d").putImageData(new ImageData(pixels, w, h), 0, 0);
      tipImage.style.display = "";
    } else tipImage.style.display = "none";
    tooltip.style.display = "block";
    const { width } = size();
    tooltip.style.left = `${Math.min(x + 12, width - 90)}px`;
    tooltip.style.top = `${y + 12}px`;
  }

  function finishSelection(event) {
    const s = screenPositions();
    let picked = [];
    if (drag.kind === "box") {
      const [x1, y1] = drag.path[drag.path.length - 1] ?? [drag.x, drag.y];
      picked = selectBox(s, drag.x, drag.y, x1, y1);
    } else picked = selectLasso(s, drag.path);
    const base = event.shiftKey ? model.get("selection") ?? [] : [];
    save({ selection: [...new Set([...base, ...picked])].sort((a, b) => a - b) });
  }

  const onDown = (event) => {
    if (!camera || event.button !== 0) return;
    const [x, y] = local(event);
    const kind = tool === "pan" ? (dims() === 3 && !event.shiftKey ? "orbit" : "pan") : tool;
    drag = { kind, x, y, lastX: x, lastY: y, path: [[x, y]] };
    overlay.setPointerCapture?.(event.pointerId);
    showTooltip(-1, 0, 0);
  };
  const onMove = (event) => {
    const [x, y] = local(event);
    if (!drag) {
      const i = nearest(screenPositions(), x, y, Math.max(6, (Number(model.get("point_size")) || 4) + 2));
      if (i !== hover) showTooltip(i, x, y);
      else if (i >= 0) showTooltip(i, x, y);
      return;
    }
    const dx = x - drag.lastX, dy = y - drag.lastY;
    drag.lastX = x;
    drag.lastY = y;
    const { width, height } = size();
    if (drag.kind === "pan" && dims() === 2) moveCamera(pan2d(camera, dx, dy, width, height));
    else if (drag.kind === "pan") {
      const k = camera.distance / height; // 3-D shift-drag: move the target in the view plane (approximately)
      moveCamera({ ...camera, target: [camera.target[0] - dx * k * Math.cos(camera.yaw), camera.target[1] + dy * k,
        camera.target[2] + dx * k * Math.sin(camera.yaw)] });
    } else if (drag.kind === "orbit") moveCamera(orbit(camera, dx, dy));
    else {
      drag.path.push([x, y]);
      schedule();
    }
  };
  const onUp = (event) => {
    if (!drag) return;
    if (drag.kind === "box" || drag.kind === "lasso") finishSelection(event);
    drag = null;
    schedule();
  };
  const onWheel = (event) => {
    if (!camera) return;
    event.preventDefault();
    const factor = Math.exp(-event.deltaY * 0.0015);
    const [x, y] = local(event);
    const { width, height } = size();
    moveCamera(dims() === 2 ? zoom2d(camera, factor, x, y, width, height) : zoom3d(camera, factor));
  };
  const onLeave = () => showTooltip(-1, 0, 0);
  const onReset = () => {
    if (!data.positions) return;
    moveCamera(fitCamera(dataBounds(data.positions, data.dims), data.dims));
    userCamera = false;
  };
  const onLegend = (event) => {
    const item = event.target.closest?.(".nnviz-legend-item");
    if (!item) return;
    const k = Number(item.dataset.cls);
    const hidden = new Set(model.get("hidden") ?? []);
    if (hidden.has(k)) hidden.delete(k);
    else hidden.add(k);
    save({ hidden: [...hidden].sort((a, b) => a - b) });
  };
  const handlers = [[overlay, "pointerdown", onDown], [overlay, "pointermove", onMove], [overlay, "pointerup", onUp],
    [overlay, "pointerleave", onLeave], [overlay, "wheel", onWheel], [overlay, "dblclick", onReset],
    [reset, "click", onReset], [clear, "click", () => save({ selection: [] })], [legend, "click", onLegend],
    [densityPick, "change", () => save({ density: densityPick.value })],
    ...Object.entries(tools).map(([name, button]) => [button, "click", () => { tool = name; schedule(); }])];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn, type === "wheel" ? { passive: false } : undefined);

  const schedule = () => {
    if (raf === null) raf = requestAnimationFrame(draw);
  };
  const onSelection = () => {
    selectionVersion += 1;
    schedule();
  };
  const onData = () => {
    data.key = null; // coords, labels or dims changed: upload again
    schedule();
  };
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  model.on("change:selection", onSelection);
  for (const name of ["coords", "labels", "dims"]) model.on(`change:${name}`, onData);
  const unsubscribe = store.subscribe(schedule);
  // For tests and benchmarks: where point i is on screen (CSS px from the plot's top-left), and the camera.
  root.nnvizScatter = {
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
  schedule();

  return () => {
    if (raf !== null) cancelAnimationFrame(raf);
    clearTimeout(settleTimer);
    for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    model.off("change:selection", onSelection);
    for (const name of ["coords", "labels", "dims"]) model.off(`change:${name}`, onData);
    unsubscribe();
    controls.dispose();
    renderer.dispose();
    root.remove();
  };
}

export default { initialize, render };
