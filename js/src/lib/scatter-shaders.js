// GLSL (WebGL 1) of the EmbeddingScatter renderer: points with per-point colours, and the textured quad that
// redraws a snapshot of the points moved and scaled while a 2-D view pans.

// Colours are baked per point (RGBA bytes): the alpha byte carries the state, 255 selected, 216 normal,
// 30 dimmed (a selection exists elsewhere), 0 hidden (3-D density: 40-216 by density). A plain attribute, not
// a uniform-array lookup per vertex, which software GL (SwiftShader) makes slow per point: draw times are in
// benchmarks/bench_embed.py's browser part.
export const VERTEX = `
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
export const FRAGMENT = `
precision mediump float;
uniform float u_round;
varying vec4 v_color;
void main() {
  vec2 d = gl_PointCoord - 0.5;
  if (u_round > 0.5 && dot(d, d) > 0.25) discard;
  gl_FragColor = vec4(v_color.rgb * v_color.a, v_color.a);
}`;
// The 2-D texture path: the points rendered once into a texture, redrawn moved and scaled while panning.
export const QUAD_VERTEX = `
attribute vec2 a_corner;
uniform vec4 u_map;
uniform float u_extent;
varying vec2 v_uv;
void main() {
  gl_Position = vec4(a_corner * u_extent * u_map.xy + u_map.zw, 0.0, 1.0);
  v_uv = a_corner * 0.5 + 0.5;
}`;
export const QUAD_FRAGMENT = `
precision mediump float;
uniform sampler2D u_tex;
varying vec2 v_uv;
void main() { gl_FragColor = texture2D(u_tex, v_uv); }`;
