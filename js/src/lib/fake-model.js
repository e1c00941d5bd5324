// A stand-in for anywidget's model in unit tests: traits, change events, sent messages.
export function fakeModel(traits = {}) {
  const state = { ...traits };
  const handlers = new Map();
  const emit = (name, ...args) => {
    for (const fn of [...(handlers.get(name) ?? [])]) fn(...args);
  };
  return {
    sent: [],
    saves: 0,
    get: (name) => state[name],
    set(name, value) {
      if (state[name] === value) return;
      state[name] = value;
      emit(`change:${name}`);
    },
    save_changes() {
      this.saves += 1;
    },
    send(content) {
      this.sent.push(content);
    },
    on(name, fn) {
      if (!handlers.has(name)) handlers.set(name, new Set());
      handlers.get(name).add(fn);
    },
    off(name, fn) {
      handlers.get(name)?.delete(fn);
    },
    /** Deliver a custom message as the kernel would. */
    receive: (content, buffers = []) => emit("msg:custom", content, buffers),
    listeners: (name) => handlers.get(name)?.size ?? 0,
  };
}

/** A "frames" message for a player (no arrays) holding the given frame indices. */
export function framesMessage(seq, total, indices, extra = {}) {
  return {
    type: "frames", seq, total,
    frames: indices.map((index) => ({ index, epoch: index + 1, metrics: { loss: 1 / (index + 1) }, diverged: false, arrays: {}, ...extra })),
  };
}
