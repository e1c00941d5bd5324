// Per-model state shared by every view of one widget: the frame store, the playback timer and
// "follow live". Created once in the module's initialize(), so frames that arrive before any
// view exists are kept and a model shown in two cells does not play at double speed.
import { save } from "./dom.js";
import { createStore } from "./store.js";
import { clampIndex, createPlayer, nearestAvailable, nextIndex, prevIndex } from "./player.js";

// anywidget hands initialize() and every render() a different proxy of the same model, so the proxy
// cannot be the key: Python gives each widget a synced `_uid`. (Stand-in models without one key by object.)
const sessions = new Map();
const keyOf = (model) => model.get("_uid") || model;

export function getSession(model) {
  if (!sessions.has(keyOf(model))) initSession(model);
  return sessions.get(keyOf(model));
}

/** Creates the model's session; returns the cleanup for anywidget's initialize(). */
export function initSession(model) {
  const store = createStore(model);
  const epoch = () => Number(model.get("epoch")) || 0;

  const player = createPlayer({
    getTotal: () => store.total,
    getIndex: epoch,
    setIndex: (i) => save(model, { epoch: i }),
    getFps: () => model.get("speed"),
    getLoop: () => model.get("loop"),
    onEnd: () => save(model, { playing: false }),
  });
  const onPlaying = () => (model.get("playing") ? player.start() : player.stop());

  const followNewest = () => {
    const newest = store.newest();
    if (model.get("follow") && newest !== null && newest !== epoch()) save(model, { epoch: newest });
  };

  // A person taking the wheel (step, scrub, play) stops following the live run.
  const session = {
    store,
    /** The frame to draw: the one at epoch if held, else the nearest held one (then loading). */
    current() {
      const index = nearestAvailable(epoch(), store.indices());
      return { index, frame: index === null ? null : store.get(index), loading: index !== epoch() };
    },
    togglePlay() {
      if (model.get("playing")) return save(model, { playing: false });
      const atEnd = epoch() >= store.total - 1;
      save(model, { follow: false, ...(atEnd && !model.get("loop") ? { epoch: 0 } : {}), playing: true });
    },
    step(delta) {
      const total = store.total;
      const target = delta > 0 ? nextIndex(epoch(), total) : prevIndex(epoch(), total);
      save(model, { playing: false, follow: false, ...(target === null ? {} : { epoch: target }) });
    },
    scrub(index) {
      save(model, { follow: false, epoch: clampIndex(index, store.total) });
    },
    setSpeed: (fps) => save(model, { speed: fps }),
    setLoop: (loop) => save(model, { loop }),
    setFollow: (follow) => save(model, { follow, ...(follow ? { playing: false } : {}) }),
  };
  sessions.set(keyOf(model), session);

  model.on("change:playing", onPlaying);
  model.on("change:follow", followNewest);
  const unsubscribe = store.subscribe(followNewest);
  onPlaying();

  return () => {
    player.stop();
    unsubscribe();
    model.off("change:playing", onPlaying);
    model.off("change:follow", followNewest);
    store.dispose();
    sessions.delete(keyOf(model));
  };
}
