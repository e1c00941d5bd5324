// Stand-ins for canvas contexts in unit tests: every call is recorded, so a test can check what was painted.

/** A canvas 2D context that records calls ([name, ...args]) in `calls` and property writes in `props`. */
export function fakeContext2D() {
  const calls = [];
  const props = {};
  const target = { calls, props, measureText: (text) => ({ width: 6 * String(text).length }) };
  return new Proxy(target, {
    get(t, name) {
      if (name in t) return t[name];
      if (name in props) return props[name];
      return (...args) => {
        calls.push([name, ...args]);
      };
    },
    set(_t, name, value) {
      props[name] = value;
      calls.push([`=${String(name)}`, value]);
      return true;
    },
  });
}

/** The names of the recorded calls, in order: for checks such as "drew a dashed outline after the points". */
export const callNames = (ctx) => ctx.calls.map((c) => c[0]);

/**
 * A WebGL 1 context that records calls; constants are distinct numbers, programs report one attribute and one
 * uniform per name in `names`, and `extensions` lists the extensions it has.
 */
export function fakeWebGL({ extensions = ["OES_element_index_uint"], names = [] } = {}) {
  const calls = [];
  const constants = new Map();
  let next = 1;
  const target = {
    calls,
    getExtension: (name) => (extensions.includes(name) ? {} : null),
    getParameter: (p) => (p === constants.get("MAX_TEXTURE_SIZE") || p === constants.get("MAX_RENDERBUFFER_SIZE") ? 4096 : "fake"),
    getShaderParameter: () => true,
    getProgramParameter: (_p, what) => (what === constants.get("LINK_STATUS") ? true : names.length),
    getActiveAttrib: (_p, i) => ({ name: names[i] }),
    getActiveUniform: (_p, i) => ({ name: names[i] }),
    getAttribLocation: (_p, name) => names.indexOf(name),
    getUniformLocation: (_p, name) => ({ name }),
  };
  return new Proxy(target, {
    get(t, name) {
      if (name in t) return t[name];
      if (typeof name === "string" && /^[A-Z0-9_]+$/.test(name)) {
        if (!constants.has(name)) constants.set(name, next++);
        return constants.get(name);
      }
      return (...args) => {
        calls.push([name, ...args]);
        return {};
      };
    },
  });
}
