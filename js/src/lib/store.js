// Every frame the browser has received for one model, shared by all its views, and the "sync"
// messages that tell Python which frames are held so lost ones are sent again.
//
// Memory is bounded: each frame's arrays are copied out of the message they came in (so a message's
// buffer is freed with its last frame), and once the held bytes pass `maxBytes` the store thins itself
// the way the recorder thins a run: it keeps every `stride`-th frame (stride 2, then 4, ...), the first
// and the newest. Thinned frames still count as held in sync messages, so Python does not send them
// again; playback steps over them (the nearest held frame is shown).
//
// Frames also come in synced state (docs/wire-format.md, "Frames in state"): the `_history` trait (a
// thinned history, what a saved notebook or a static page keeps) and the `_live` trait (the newest frame,
// when custom messages are off). They are "frames" messages with their buffers inside, ingested alike.
import { decodeFramesMessage } from "./codec.js";
import { drawCostReporter } from "./pace.js";
import { toRanges } from "./player.js";

export const FIRST_SYNC_MS = 300;
export const SYNC_DEBOUNCE_MS = 500;
export const MAX_BYTES = 256 * 1024 * 1024; // per widget; 3,000 frames of a 200x200 two-class boundary
export const STATE_TRAITS = ["_history", "_live"];

/** Bytes a decoded frame holds (its arrays' codes). */
export function frameBytes(frame) {
  let n = 0;
  for (const arr of Object.values(frame.arrays ?? {})) n += arr.codes.byteLength;
  return n;
}

export function createStore(model, { maxBytes = MAX_BYTES } = {}) {
  const frames = new Map();
  const sorted = []; // held indices, ascending
  const thinned = new Set(); // indices dropped to stay under maxBytes (reported as held)
  let stride = 1;
  let bytes = 0;
  let total = 0;
  let seenSeq = null;
  const listeners = new Set();
  let notifyTimer = null;
  let syncTimer = null;
  let fresh = false; // frames came that no view has drawn yet: the next draw's cost is reported (lib/pace.js)
  const costs = drawCostReporter(model);

  const held = () => (thinned.size ? [...sorted, ...thinned].sort((a, b) => a - b) : sorted);
  const sendSync = () => {
    model.send({ type: "sync", have: toRanges(held()), seen_seq: seenSeq });
  };
  // The first sync waits a little so frames already on their way are counted in seen_seq;
  // it is not postponed by arriving frames (a reloaded page must announce itself even mid-run).
  let firstTimer = setTimeout(() => {
    firstTimer = null;
    sendSync();
  }, FIRST_SYNC_MS);

  const store = {
    get total() {
      return total;
    },
    get seenSeq() {
      return seenSeq;
    },
    get size() {
      return frames.size;
    },
    /** Bytes held by the frames' arrays, and the thinning state (stride 1: nothing thinned). */
    get bytes() {
      return bytes;
    },
    get stride() {
      return stride;
    },
    get thinned() {
      return thinned.size;
    },
    indices: () => sorted,
    get: (index) => frames.get(index),
    newest: () => (sorted.length ? sorted[sorted.length - 1] : null),
    have: () => toRanges(held()),

    ingest(content, buffers) {
      if (content?.type !== "frames") return;
      // one frame in a message: a live tick's (a backfill sends batches, a history many); its decoding is the
      // tick's cost too
      if (content.frames?.length === 1) costs.arrived();
      const decoded = decodeFramesMessage(content, buffers); // first, so a bad message changes nothing
      const fromState = typeof content.seq !== "number"; // a trait's value: no place in the message order
      const isNewest = !fromState && (seenSeq === null || content.seq >= seenSeq);
      if (!fromState) seenSeq = seenSeq === null ? content.seq : Math.max(seenSeq, content.seq);
      if (typeof content.total === "number") {
        if (isNewest) total = content.total;
        else if (fromState) total = Math.max(total, content.total);
      }
      for (const frame of decoded) {
        // a history resent whole: the frames already held (same arrays) need no copy
        if (fromState && sameFrame(frames.get(frame.index), frame)) continue;
        keep(own(frame));
      }
      thin();
      total = Math.max(total, sorted.length ? sorted[sorted.length - 1] + 1 : 0);
      if (decoded.length) fresh = true;
      scheduleNotify();
      if (firstTimer !== null) return; // the pending first sync will report these frames
      clearTimeout(syncTimer);
      syncTimer = setTimeout(() => {
        syncTimer = null;
        sendSync();
      }, SYNC_DEBOUNCE_MS);
    },

    /**
     * A view drew in `ms` until the page was painted: the first draw after new frames came goes into the cost a
     * "drawn" message reports (docs/wire-format.md), so live frames come no faster than the page draws them cheaply;
     * the cost is the page's whole live tick when that is longer (lib/pace.js).
     */
    painted(ms) {
      if (!fresh) return;
      fresh = false;
      costs.report(ms);
    },

    /** fn() is called once per burst of arrivals, not once per message. Returns an unsubscribe. */
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },

    dispose() {
      model.off("msg:custom", onMessage);
      for (const [name, fn] of stateListeners) model.off(`change:${name}`, fn);
      for (const t of [firstTimer, syncTimer, notifyTimer]) clearTimeout(t);
      listeners.clear();
    },
  };

  function sameFrame(held, frame) {
    if (!held || held.epoch !== frame.epoch) return false;
    const a = Object.keys(held.arrays), b = Object.keys(frame.arrays);
    return a.length === b.length && a.every((name) => name in frame.arrays);
  }

  /** The frame with its arrays copied out of the message's shared buffer. */
  function own(frame) {
    for (const arr of Object.values(frame.arrays)) arr.codes = arr.codes.slice();
    return frame;
  }

  function keep(frame) {
    const i = frame.index;
    const newest = sorted.length ? sorted[sorted.length - 1] : -1;
    if (i % stride !== 0 && i !== 0 && i < newest) {
      thinned.add(i); // arrived after its stride was thinned away: held in name only
      return;
    }
    if (frames.has(i)) bytes -= frameBytes(frames.get(i));
    else insertSorted(i);
    thinned.delete(i);
    frames.set(i, frame);
    bytes += frameBytes(frame);
  }

  /** Double the stride until the held bytes fit, dropping the frames off it (never the first or newest). */
  function thin() {
    while (bytes > maxBytes && sorted.length > 2) {
      stride *= 2;
      const newest = sorted[sorted.length - 1];
      const kept = [];
      for (const i of sorted) {
        if (i % stride === 0 || i === newest || i === 0) kept.push(i);
        else drop(i);
      }
      sorted.splice(0, sorted.length, ...kept);
    }
    // a newest frame kept off-stride gives way to the next one
    for (let k = sorted.length - 2; stride > 1 && k > 0; k--) {
      const i = sorted[k];
      if (i % stride === 0) break;
      drop(i);
      sorted.splice(k, 1);
    }
  }

  /** Forget frame i's arrays; it stays held in name (sync messages), so Python does not send it again. */
  function drop(i) {
    bytes -= frameBytes(frames.get(i));
    frames.delete(i);
    thinned.add(i);
  }

  function insertSorted(index) {
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < index) lo = mid + 1;
      else hi = mid;
    }
    sorted.splice(lo, 0, index);
  }

  function scheduleNotify() {
    if (notifyTimer !== null) return;
    notifyTimer = setTimeout(() => {
      notifyTimer = null;
      for (const fn of [...listeners]) fn();
    }, 0);
  }

  function onMessage(content, buffers) {
    store.ingest(content, buffers);
  }
  model.on("msg:custom", onMessage);

  /** A state trait's frames (its buffers travel inside the value); a damaged value is reported, not thrown. */
  function ingestTrait(name) {
    const value = model.get(name);
    if (value?.type !== "frames") return;
    try {
      store.ingest({ ...value, seq: null }, value.buffers ?? []);
    } catch (err) {
      console.error(`nnviz: could not read the frames in ${name}`, err);
    }
  }
  const stateListeners = STATE_TRAITS.map((name) => [name, () => ingestTrait(name)]);
  for (const [name, fn] of stateListeners) model.on(`change:${name}`, fn);
  for (const name of STATE_TRAITS) ingestTrait(name);
  return store;
}
