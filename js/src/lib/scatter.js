// Pure pieces of the EmbeddingScatter view: cameras (2-D pan/zoom, 3-D orbit), projection to the screen,
// picking, box and lasso selection, and per-class density grids. No DOM, no WebGL: tested in scatter.test.js.

/** Bounds of finite rows of an (n, dims) Float32Array: {min: [..], max: [..], center, radius}. */
export function bounds(positions, dims) {
  const min = Array(dims).fill(Infinity), max = Array(dims).fill(-Infinity);
  const n = positions.length / dims;
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let d = 0; d < dims; d++) if (!Number.isFinite(positions[i * dims + d])) ok = false;
    if (!ok) continue;
    for (let d = 0; d < dims; d++) {
      const v = positions[i * dims + d];
      if (v < min[d]) min[d] = v;
      if (v > max[d]) max[d] = v;
    }
  }
  if (!(min[0] <= max[0])) return { min: Array(dims).fill(-1), max: Array(dims).fill(1), center: Array(dims).fill(0), radius: 1 };
  const center = min.map((m, d) => (m + max[d]) / 2);
  let radius = 0;
  for (let d = 0; d < dims; d++) radius = Math.max(radius, (max[d] - min[d]) / 2);
  return { min, max, center, radius: radius || 1 };
}

/** The camera that shows `b` (from bounds) whole: 2-D {cx, cy, scale}; 3-D {target, yaw, pitch, distance}. */
export function fitCamera(b, dims) {
  if (dims === 2) return { cx: b.center[0], cy: b.center[1], scale: 1 / (b.radius * 1.08) };
  return { target: b.center.slice(), yaw: 0.6, pitch: 0.35, distance: b.radius * 3.2, radius: b.radius };
}

/** Column-major 4×4 clip-space matrix of the camera for a viewport of aspect = width / height. */
export function cameraMatrix(cam, dims, aspect) {
  if (dims === 2) {
    // x' = (x - cx) * scale / max(aspect, 1) ... keep square pixels: the shorter side spans the scale
    const sx = cam.scale / Math.max(aspect, 1), sy = cam.scale * Math.min(aspect, 1);
    return [sx, 0, 0, 0, 0, sy, 0, 0, 0, 0, 1, 0, -cam.cx * sx, -cam.cy * sy, 0, 1];
  }
  const view = orbitView(cam);
  const near = Math.max(cam.distance * 0.01, 1e-6), far = cam.distance + cam.radius * 4 + 1;
  return multiply(perspective(Math.PI / 4, aspect, near, far), view);
}

export function perspective(fovy, aspect, near, far) {
  const f = 1 / Math.tan(fovy / 2), nf = 1 / (near - far);
  return [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1, 0, 0, 2 * far * near * nf, 0];
}

/** View matrix of a camera orbiting `target` at yaw (around y) and pitch, `distance` away. */
export function orbitView({ target, yaw, pitch, distance }) {
  const cp = Math.cos(pitch), sp = Math.sin(pitch), cy = Math.cos(yaw), sy = Math.sin(yaw);
  const eye = [target[0] + distance * cp * sy, target[1] + distance * sp, target[2] + distance * cp * cy];
  const z = normalize([eye[0] - target[0], eye[1] - target[1], eye[2] - target[2]]);
  const x = normalize(cross([0, 1, 0], z));
  const y = cross(z, x);
  return [x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0,
    -dot(x, eye), -dot(y, eye), -dot(z, eye), 1];
}

export function multiply(a, b) {
  const out = new Array(16).fill(0);
  for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
    out[c * 4 + r] = s;
  }
  return out;
}

const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
function normalize(v) {
  const l = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / l, v[1] / l, v[2] / l];
}

/** Pan (2-D: by screen pixels dx, dy of a width × height view) and zoom about a screen point. */
export function pan2d(cam, dx, dy, width, height) {
  const aspect = width / height;
  const sx = cam.scale / Math.max(aspect, 1), sy = cam.scale * Math.min(aspect, 1);
  return { ...cam, cx: cam.cx - (2 * dx) / width / sx, cy: cam.cy + (2 * dy) / height / sy };
}

export function zoom2d(cam, factor, px, py, width, height) {
  const aspect = width / height;
  const sx = cam.scale / Math.max(aspect, 1), sy = cam.scale * Math.min(aspect, 1);
  const wx = cam.cx + ((2 * px) / width - 1) / sx, wy = cam.cy + (1 - (2 * py) / height) / sy; // data under cursor
  const scale = cam.scale * factor;
  return { cx: wx - (wx - cam.cx) / factor, cy: wy - (wy - cam.cy) / factor, scale };
}

export function orbit(cam, dx, dy) {
  const pitch = Math.max(-1.55, Math.min(1.55, cam.pitch + dy * 0.01));
  return { ...cam, yaw: cam.yaw - dx * 0.01, pitch };
}

export function zoom3d(cam, factor) {
  return { ...cam, distance: cam.distance / factor };
}

/**
 * Screen positions (CSS px) of every point: Float32Array (2n), NaN where the point is not drawn
 * (non-finite, behind the camera, or `visible[i]` false).
 */
export function project(positions, dims, matrix, width, height, visible = null, out = null) {
  const n = positions.length / dims;
  const screen = out && out.length === 2 * n ? out : new Float32Array(2 * n);
  const m = matrix;
  for (let i = 0; i < n; i++) {
    const x = positions[i * dims], y = positions[i * dims + 1], z = dims === 3 ? positions[i * dims + 2] : 0;
    const w = m[3] * x + m[7] * y + m[11] * z + m[15];
    if (!(w > 0) || (visible && !visible[i])) {
      screen[2 * i] = screen[2 * i + 1] = NaN;
      continue;
    }
    screen[2 * i] = (((m[0] * x + m[4] * y + m[8] * z + m[12]) / w + 1) / 2) * width;
    screen[2 * i + 1] = ((1 - (m[1] * x + m[5] * y + m[9] * z + m[13]) / w) / 2) * height;
  }
  return screen;
}

/** Index of the projected point nearest (x, y) within `radius` px, or -1. NaN entries are skipped. */
export function nearest(screen, x, y, radius = 8) {
  let best = -1, bestD = radius * radius;
  for (let i = 0, n = screen.length / 2; i < n; i++) {
    const dx = screen[2 * i] - x, dy = screen[2 * i + 1] - y;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Even-odd rule: is (x, y) inside the polygon [[x, y], ...]? */
export function pointInPolygon(x, y, polygon) {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Indices (ascending) of projected points inside the lasso polygon. */
export function selectLasso(screen, polygon) {
  if (polygon.length < 3) return [];
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of polygon) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const out = [];
  for (let i = 0, n = screen.length / 2; i < n; i++) {
    const x = screen[2 * i], y = screen[2 * i + 1];
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1 && pointInPolygon(x, y, polygon)) out.push(i);
  }
  return out;
}

/** Indices of projected points inside the box with corners (ax, ay) and (bx, by). */
export function selectBox(screen, ax, ay, bx, by) {
  const x0 = Math.min(ax, bx), x1 = Math.max(ax, bx), y0 = Math.min(ay, by), y1 = Math.max(ay, by);
  const out = [];
  for (let i = 0, n = screen.length / 2; i < n; i++) {
    const x = screen[2 * i], y = screen[2 * i + 1];
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
  }
  return out;
}

/** Per-point visibility from class labels and the hidden classes (a Uint8Array of 0/1). */
export function visibleMask(labels, hidden, n) {
  const off = new Set(hidden);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = off.has(labels ? labels[i] : 0) ? 0 : 1;
  return out;
}

/**
 * Density of one class's 2-D points on a size × size grid over extent [x0, x1, y0, y1]: points binned, then a
 * separable Gaussian blur of `sigma` cells; normalised so the grid sums to 1. Row 0 is y0.
 */
export function densityGrid(positions, dims, labels, cls, extent, size = 64, sigma = 2) {
  const [x0, x1, y0, y1] = extent;
  const grid = new Float32Array(size * size);
  const n = positions.length / dims;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (labels && labels[i] !== cls) continue;
    const gx = Math.round(((positions[i * dims] - x0) / (x1 - x0)) * (size - 1));
    const gy = Math.round(((positions[i * dims + 1] - y0) / (y1 - y0)) * (size - 1));
    if (!(gx >= 0 && gx < size && gy >= 0 && gy < size)) continue;
    grid[gy * size + gx] += 1;
    count += 1;
  }
  if (!count) return grid;
  const blurred = blur(grid, size, sigma);
  let total = 0;
  for (const v of blurred) total += v;
  for (let i = 0; i < blurred.length; i++) blurred[i] /= total;
  return blurred;
}

function blur(grid, size, sigma) {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Float32Array.from({ length: 2 * r + 1 }, (_, k) => Math.exp(-((k - r) ** 2) / (2 * sigma * sigma)));
  const tmp = new Float32Array(grid.length), out = new Float32Array(grid.length);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let s = 0;
    for (let k = -r; k <= r; k++) {
      const xx = x + k;
      if (xx >= 0 && xx < size) s += grid[y * size + xx] * kernel[k + r];
    }
    tmp[y * size + x] = s;
  }
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let s = 0;
    for (let k = -r; k <= r; k++) {
      const yy = y + k;
      if (yy >= 0 && yy < size) s += tmp[yy * size + x] * kernel[k + r];
    }
    out[y * size + x] = s;
  }
  return out;
}

/**
 * Contour levels that enclose the given fractions of a density grid's mass (highest-density regions):
 * level(0.5) is the density above which half the mass lies. Returns one level per fraction.
 */
export function massLevels(grid, fractions = [0.25, 0.5, 0.75]) {
  const sorted = Float32Array.from(grid).sort().reverse();
  const total = sorted.reduce((a, b) => a + b, 0);
  return fractions.map((f) => {
    let acc = 0;
    for (const v of sorted) {
      acc += v;
      if (acc >= f * total) return v;
    }
    return 0;
  });
}

/** A default point size (px) from the number of points: big for a few, small for a million. */
export function autoPointSize(n) {
  return Math.max(1.5, Math.min(6, 40 / Math.sqrt(Math.max(1, n) / 100)));
}

export const NOT_DRAWN = 255; // class code of a row with no finite position
export const ALPHA = { selected: 255, normal: 216, dimmed: 30, hidden: 0, faint: 40 };

/** Class code per point: its label (0 when unlabelled), or NOT_DRAWN where a coordinate is not finite. */
export function classCodes(positions, dims, labels) {
  const n = positions.length / dims;
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let ok = true;
    for (let k = 0; k < dims; k++) if (!Number.isFinite(positions[i * dims + k])) ok = false;
    const label = labels && i < labels.length ? labels[i] : 0;
    codes[i] = ok ? (label === NOT_DRAWN ? 0 : label) : NOT_DRAWN;
  }
  return codes;
}

/**
 * RGBA bytes per point (what the shader draws): the class colour (palette: [[r, g, b], ...] 0-255, cycled),
 * alpha carrying the state: hidden classes and undrawn rows 0; with a selection, selected 255 and others dimmed.
 * `weight` (per point, 0-1: the 3-D density view) scales the normal alpha from ALPHA.faint (0+) up to
 * ALPHA.normal (1); a weight of 0 hides the point.
 */
export function pointColors(codes, palette, { hidden = [], selected = null, off = false, weight = null } = {}) {
  const n = codes.length;
  const rgba = new Uint8Array(4 * n);
  const hide = new Set(hidden);
  const any = selected?.some((v) => v) ?? false;
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    const [r, g, b] = palette[c % Math.max(1, palette.length)] ?? [31, 119, 180];
    rgba[4 * i] = r;
    rgba[4 * i + 1] = g;
    rgba[4 * i + 2] = b;
    let a = ALPHA.normal;
    if (off || c === NOT_DRAWN || hide.has(c) || (weight && !(weight[i] > 0))) a = ALPHA.hidden;
    else if (any) a = selected[i] ? ALPHA.selected : ALPHA.dimmed;
    else if (weight) a = Math.round(ALPHA.faint + (ALPHA.normal - ALPHA.faint) * Math.min(1, weight[i]));
    rgba[4 * i + 3] = a;
  }
  return rgba;
}

/** Stride k so that every k-th of n points (about `m`) is drawn while the 3-D camera moves where index buffers
 * are missing (the random subset is the usual path); 1 = all. Capped so the byte stride of a 3-D float
 * position (12 k bytes) stays within WebGL's 255. */
export function previewStride(n, m = PREVIEW_3D) {
  return n <= m ? 1 : Math.min(21, Math.ceil(n / m));
}

// -- interactive frame rates at scale ------------------------------------------------------------------------
// 2-D: above TEXTURE_FROM points, the first frame of a camera motion renders every point once into a texture (with
// a margin around the view) and the following frames only redraw that texture moved and scaled (one quad,
// uniforms only); once the camera rests every point is drawn straight to the screen again. 3-D: while the camera moves, a fixed random subset of
// PREVIEW_3D points is drawn (an index buffer made once per data), everything once it rests.
export const TEXTURE_FROM = 20_000;
export const TEXTURE_MARGIN = 0.5; // of the view's size, on every side
export const PREVIEW_3D = 10_000;

/**
 * How to redraw a texture rendered with the 2-D camera matrix m0 so it matches m1: [kx, ky, ox, oy] such that a
 * point at clip coordinate c under m0 is at k * c + o under m1 (both cameraMatrix(.., 2, ..) matrices).
 */
export function textureMap(m0, m1) {
  const kx = m1[0] / m0[0], ky = m1[5] / m0[5];
  return [kx, ky, m1[12] - kx * m0[12], m1[13] - ky * m0[13]];
}

/** `m` distinct indices drawn at random from 0..n-1 (all of them, in order, when m >= n); seeded, so stable. */
export function previewSubset(n, m, seed = 1) {
  if (m >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const swapped = new Map(); // a partial Fisher-Yates shuffle, sparse: O(m) time and memory
  const out = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    out[i] = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
  }
  return out.sort();
}

/**
 * 3-D density of each point's own class, for the 3-D density view: points binned per class on a size³ grid over
 * their bounds, blurred (Gaussian, `sigma` cells), and each point given its cell's density divided by the largest
 * of its class (so 1 = the class's densest place). With `keep` (a mass fraction, e.g. 0.6), points outside the
 * class's highest-density region holding that fraction of its mass get 0: what is left is the class's core, a
 * point-cloud iso-shell. Non-finite rows and unlabelled classes past `labels` get 0.
 */
export function densityWeights3d(positions, labels, { size = 24, sigma = 1, keep = null } = {}) {
  const n = positions.length / 3;
  const b = bounds(positions, 3);
  const cell = new Int32Array(n).fill(-1);
  const counts = new Map(); // class -> grid
  for (let i = 0; i < n; i++) {
    let idx = 0;
    for (let d = 2; d >= 0; d--) {
      const span = b.max[d] - b.min[d] || 1;
      const g = Math.min(size - 1, Math.floor(((positions[3 * i + d] - b.min[d]) / span) * size));
      if (!(g >= 0)) { idx = -1; break; }
      idx = idx * size + g;
    }
    if (idx < 0) continue;
    cell[i] = idx;
    const c = labels && i < labels.length ? labels[i] : 0;
    if (!counts.has(c)) counts.set(c, new Float32Array(size * size * size));
    counts.get(c)[idx] += 1;
  }
  const scaled = new Map(); // class -> {grid, max, level}
  for (const [c, grid] of counts) {
    const blurred = blur3d(grid, size, sigma);
    let max = 0;
    for (const v of blurred) if (v > max) max = v;
    const level = keep === null ? 0 : massLevels(blurred, [keep])[0];
    scaled.set(c, { grid: blurred, max: max || 1, level });
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (cell[i] < 0) continue;
    const { grid, max, level } = scaled.get(labels && i < labels.length ? labels[i] : 0);
    const v = grid[cell[i]];
    out[i] = keep !== null && v < level ? 0 : v / max;
  }
  return out;
}

function blur3d(grid, size, sigma) {
  const r = Math.max(1, Math.ceil(2 * sigma));
  const kernel = Float32Array.from({ length: 2 * r + 1 }, (_, k) => Math.exp(-((k - r) ** 2) / (2 * sigma * sigma)));
  let src = grid;
  for (const stride of [1, size, size * size]) { // one 1-D pass along each axis
    const dst = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const at = Math.floor(i / stride) % size;
      let s = 0;
      for (let k = -r; k <= r; k++) if (at + k >= 0 && at + k < size) s += src[i + k * stride] * kernel[k + r];
      dst[i] = s;
    }
    src = dst;
  }
  return src;
}
