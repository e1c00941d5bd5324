// The EmbeddingScatter's WebGL points renderer (lib/scatter-2d.js draws the same picture without WebGL).
import { TEXTURE_MARGIN, textureMap } from "./scatter.js";
import { FRAGMENT, QUAD_FRAGMENT, QUAD_VERTEX, VERTEX } from "./scatter-shaders.js";
import { link } from "./webgl.js";
import { create2DRenderer } from "./scatter-2d.js";

/**
 * WebGL points renderer; null when WebGL is not available. Per frame it only sets uniforms and issues one draw:
 * buffers are uploaded when the data or colours change, never while the camera moves.
 *   draw(p)      every point (or, with p.subset, the preview subset; p.every > 1, every k-th point)
 *   snapshot(p)  every point into a texture TEXTURE_MARGIN larger than the view, then that texture on screen
 *   blit(p)      the last snapshot moved and scaled to p.matrix (2-D); false when there is none for p.key
 *   forget()     drop the snapshot (the camera rested: the next motion starts from a fresh one)
 */
/**
 * @param {{getContext(kind: "webgl", options?: object): WebGLRenderingContext | null}} canvas
 * @returns {import("./scatter-2d.js").Renderer | null}
 */
export function createGLRenderer(canvas) {
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
    /** @type {Array<[string, WebGLBuffer, number, number, boolean]>} name, buffer, size, type, normalized */
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

/**
 * The best renderer this browser has: WebGL, else canvas 2D with the reason ("" for WebGL) so the view can say
 * why it is slower.
 */
/**
 * @param {any} canvas  an HTMLCanvasElement
 * @returns {{renderer: import("./scatter-2d.js").Renderer, fallbackReason: string}}
 */
export function createRenderer(canvas) {
  let renderer = null, fallbackReason = "";
  try {
    renderer = createGLRenderer(canvas);
    if (!renderer) fallbackReason = "WebGL is not available in this browser";
  } catch (err) {
    fallbackReason = `WebGL failed (${err.message})`;
  }
  return { renderer: renderer ?? create2DRenderer(canvas), fallbackReason };
}
