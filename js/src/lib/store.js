// Every frame the browser has received for one model, shared by all its views, and the "sync"
// messages that tell Python which frames are held so lost ones are sent again.
import { decodeFramesMessage } from "./codec.js";
import { toRanges } from "./player.js";

export const FIRST_SYNC_MS = 300;
export const SYNC_DEBOUNCE_MS = 500;

export function createStore(model) {
  const frames = new Map();
  const sorted = []; // held indices, ascending
  let total = 0;
  let seenSeq = null;
  const listeners = new Set();
  let notifyTimer = null;
  let syncTimer = null;

  const sendSync = () => {
    model.send({ type: "sync", have: toRanges(sorted), seen_seq: seenSeq });
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
    indices: () => sorted,
    get: (index) => frames.get(index),
    newest: () => (sorted.length ? sorted[sorted.length - 1] : null),
    have: () => toRanges(sorted),

    ingest(content, buffers) {
      if (content?.type !== "frames") return;
      const decoded = decodeFramesMessage(content, buffers); // first, so a bad message changes nothing
      const isNewest = seenSeq === null || content.seq >= seenSeq;
      if (typeof content.seq === "number") seenSeq = seenSeq === null ? content.seq : Math.max(seenSeq, content.seq);
      if (isNewest && typeof content.total === "number") total = content.total;
      for (const frame of decoded) {
        if (!frames.has(frame.index)) insertSorted(frame.index);
        frames.set(frame.index, frame);
      }
      total = Math.max(total, sorted.length ? sorted[sorted.length - 1] + 1 : 0);
      scheduleNotify();
      if (firstTimer !== null) return; // the pending first sync will report these frames
      clearTimeout(syncTimer);
      syncTimer = setTimeout(() => {
        syncTimer = null;
        sendSync();
      }, SYNC_DEBOUNCE_MS);
    },

    /** fn() is called once per burst of arrivals, not once per message. Returns an unsubscribe. */
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },

    dispose() {
      model.off("msg:custom", onMessage);
      for (const t of [firstTimer, syncTimer, notifyTimer]) clearTimeout(t);
      listeners.clear();
    },
  };

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
  return store;
}
