// WebGL 1 program helpers: compile and link shaders, and look up every attribute and uniform once.

/**
 * A compiled shader; throws with the driver's log when the source does not compile.
 * @param {WebGLRenderingContext} gl
 * @param {number} type  gl.VERTEX_SHADER or gl.FRAGMENT_SHADER
 * @param {string} source
 * @returns {WebGLShader}
 */
export function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(`shader: ${gl.getShaderInfoLog(shader)}`);
  return shader;
}

/**
 * A linked program with its attribute and uniform locations by name: {program, attr, uni}.
 * @param {WebGLRenderingContext} gl
 * @param {string} vertex
 * @param {string} fragment
 * @returns {{program: WebGLProgram, attr: Record<string, number>, uni: Record<string, WebGLUniformLocation | null>}}
 */
export function link(gl, vertex, fragment) {
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

