// Decoder for the wire format in docs/wire-format.md (the Python twin is nnviz_widgets/run/codec.py).
// An encoded array is a JSON header plus one binary buffer of little-endian codes.

const TYPES = {
  uint8: { Array: Uint8Array, size: 1, read: (v, o) => v.getUint8(o) },
  uint16: { Array: Uint16Array, size: 2, read: (v, o) => v.getUint16(o, true) },
  float32: { Array: Float32Array, size: 4, read: (v, o) => v.getFloat32(o, true) },
};

// Typed arrays use the platform's byte order; every browser we target is little-endian,
// but check once so a big-endian host reads through the DataView instead of silently garbling.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function asDataView(buffer) {
  if (buffer instanceof DataView) return buffer;
  if (ArrayBuffer.isView(buffer)) return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer instanceof ArrayBuffer) return new DataView(buffer);
  throw new TypeError(`expected a DataView, typed array or ArrayBuffer, got ${typeof buffer}`);
}

/** Decode one array: returns {shape, dtype, scale, offset, nan, codes} with codes a typed array. */
export function decodeArray(header, dataView) {
  const type = TYPES[header.dtype];
  if (!type) throw new Error(`unknown dtype ${JSON.stringify(header.dtype)}: expected uint8, uint16 or float32`);
  const view = asDataView(dataView);
  const shape = header.shape.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = count * type.size;
  if (view.byteLength < bytes) {
    throw new Error(`buffer holds ${view.byteLength} bytes, shape ${JSON.stringify(shape)} ${header.dtype} needs ${bytes}`);
  }
  const start = view.byteOffset;
  let codes;
  if (start % type.size === 0 && LITTLE_ENDIAN) {
    // Zero-copy view: honour byteOffset, the buffer may be a slice of a larger ArrayBuffer.
    codes = new type.Array(view.buffer, start, count);
  } else {
    // Misaligned (or big-endian host): typed arrays cannot view it, so copy element by element.
    codes = new type.Array(count);
    for (let i = 0; i < count; i++) codes[i] = type.read(view, i * type.size);
  }
  const isFloat = header.dtype === "float32";
  return {
    shape,
    dtype: header.dtype,
    scale: isFloat ? 1 : Number(header.scale ?? 1),
    offset: isFloat ? 0 : Number(header.offset ?? 0),
    nan: isFloat || header.nan === undefined ? null : header.nan,
    codes,
  };
}

/** Decoded value of element flatIndex (NaN for the reserved code). */
export function valueAt(arr, flatIndex) {
  const code = arr.codes[flatIndex];
  if (arr.nan !== null && code === arr.nan) return NaN;
  return code * arr.scale + arr.offset;
}

/** All decoded values as a Float32Array (float32 arrays are returned as they are). */
export function toFloat32(arr) {
  if (arr.dtype === "float32") return arr.codes;
  const out = new Float32Array(arr.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = valueAt(arr, i);
  return out;
}

/** Decode a "frames" message into [{index, epoch, metrics, diverged, arrays: {name: decoded}}]. */
export function decodeFramesMessage(content, buffers) {
  return (content.frames ?? []).map((frame) => {
    const arrays = {};
    for (const [name, header] of Object.entries(frame.arrays ?? {})) {
      const buffer = buffers?.[header.buffer];
      if (buffer === undefined) throw new Error(`array ${name} of frame ${frame.index} names missing buffer ${header.buffer}`);
      arrays[name] = decodeArray(header, buffer);
    }
    return {
      index: frame.index,
      epoch: frame.epoch ?? frame.index,
      metrics: frame.metrics ?? {},
      diverged: Boolean(frame.diverged),
      arrays,
    };
  });
}
