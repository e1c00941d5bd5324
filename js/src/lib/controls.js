// The controls row every view shares with the Player: play/pause, step, scrub, speed, loop,
// follow, "frame i / n". Inputs call the session's actions; update() redraws from the model.
import { formatMetric } from "./axes.js";
import { make } from "./dom.js";

export const SPEEDS = [1, 2, 5, 10, 20, 30];

/** The player's traits, which every view has (Python: nnviz_widgets/widgets/_base.py's FrameView) and redraws on. */
export const PLAYER_TRAITS = ["epoch", "playing", "speed", "loop", "follow"];

// Icons as SVG paths (24×24 box): media-control glyphs such as ⏮ are missing from many fonts.
const ICONS = {
  play: "M7 4v16l13-8z",
  pause: "M6 4h4v16H6zM14 4h4v16h-4z",
  back: "M5 4h3v16H5zM20 4v16L9 12z",
  forward: "M16 4h3v16h-3zM4 4v16l11-8z",
};

function setIcon(button, name, label) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  button.replaceChildren(svg);
  button.title = label;
  button.setAttribute("aria-label", label);
  button.dataset.icon = name;
}

/** Text whose `wide` part a narrow player hides ("follow live" → "live", "frame 6 / 9" → "6 / 9"). */
function phrase(wide, rest) {
  return [make("span", "nnviz-wide", { textContent: wide }), document.createTextNode(rest)];
}

function checkbox(className, text, wide = "") {
  const box = make("input", className, { type: "checkbox" });
  const label = make("label", "nnviz-check");
  label.append(box, document.createTextNode(" "), ...phrase(wide, text));
  return { box, label };
}

export function createControls(model, session) {
  const el = make("div", "nnviz-controls");
  const play = make("button", "nnviz-play", { type: "button" });
  const back = make("button", "nnviz-step-back", { type: "button" });
  const forward = make("button", "nnviz-step-forward", { type: "button" });
  setIcon(back, "back", "Step back");
  setIcon(forward, "forward", "Step forward");
  const scrub = make("input", "nnviz-scrub", { type: "range", min: "0", max: "0", step: "1", value: "0" });
  scrub.setAttribute("aria-label", "Frame");
  const speed = make("select", "nnviz-speed", { title: "Frames per second" });
  const loop = checkbox("nnviz-loop", "loop");
  const follow = checkbox("nnviz-follow", "live", "follow ");
  const frameLabel = make("span", "nnviz-frame-label");
  el.append(play, back, forward, scrub, speed, loop.label, follow.label, frameLabel);

  const setSpeedOptions = (current) => {
    const values = SPEEDS.includes(current) || !(current > 0) ? SPEEDS : [...SPEEDS, current].sort((a, b) => a - b);
    speed.replaceChildren(...values.map((v) => make("option", "", { value: String(v), textContent: `${v} fps` })));
  };

  /** @type {Array<[HTMLElement, string, () => void]>} */
  const handlers = [
    [play, "click", () => session.togglePlay()],
    [back, "click", () => session.step(-1)],
    [forward, "click", () => session.step(1)],
    [scrub, "input", () => session.scrub(Number(scrub.value))],
    [speed, "change", () => session.setSpeed(Number(speed.value))],
    [loop.box, "change", () => session.setLoop(loop.box.checked)],
    [follow.box, "change", () => session.setFollow(follow.box.checked)],
  ];
  for (const [node, type, fn] of handlers) node.addEventListener(type, fn);

  return {
    el,
    update() {
      const total = session.store.total;
      const epoch = Number(model.get("epoch")) || 0;
      const playing = Boolean(model.get("playing"));
      if (play.dataset.icon !== (playing ? "pause" : "play")) setIcon(play, playing ? "pause" : "play", playing ? "Pause" : "Play");
      scrub.max = String(Math.max(0, total - 1));
      scrub.disabled = total === 0;
      scrub.value = String(epoch);
      const fps = Number(model.get("speed"));
      if (![...speed.options].some((o) => Number(o.value) === fps)) setSpeedOptions(fps);
      speed.value = String(fps);
      loop.box.checked = Boolean(model.get("loop"));
      follow.box.checked = Boolean(model.get("follow"));
      const text = total ? `${epoch + 1} / ${total}` : "no frames yet";
      if (frameLabel.textContent !== (total ? `frame ${text}` : text)) frameLabel.replaceChildren(...phrase(total ? "frame " : "", text));
    },
    dispose() {
      for (const [node, type, fn] of handlers) node.removeEventListener(type, fn);
      el.remove();
    },
  };
}

/**
 * Fills `el` with "title · epoch E · loss 0.123 · …" as text (names may hold HTML, never parse them). `brief`:
 * the title alone (or "epoch E" without one), for a view a Player drives: the player's line already says it.
 */
export function renderTitle(el, { prefix, frame, loading, brief = false }) {
  const parts = [];
  if (prefix) parts.push(prefix);
  if (brief) {
    if (!prefix) parts.push(frame ? `epoch ${frame.epoch}` : "waiting for frames");
  } else if (frame) {
    parts.push(`epoch ${frame.epoch}`);
    for (const [name, value] of Object.entries(frame.metrics)) parts.push(`${name} ${formatMetric(value)}`);
  } else parts.push("waiting for frames");
  /** @type {Node[]} */
  const nodes = [document.createTextNode(parts.join(" · "))];
  if (frame?.diverged) {
    const flag = document.createElement("span");
    flag.className = "nnviz-diverged";
    flag.style.color = "var(--nnviz-error)";
    flag.textContent = " · diverged";
    nodes.push(flag);
  }
  if (loading && frame) nodes.push(document.createTextNode(" (loading)"));
  el.replaceChildren(...nodes);
}

/** Styles for both widgets, scoped by their root classes; appended once per view. */
export function styleElement() {
  const style = document.createElement("style");
  style.textContent = `
.nnviz-boundary, .nnviz-player, .nnviz-mosaic, .nnviz-scatter, .nnviz-histograms, .nnviz-chart {
  /* The host's theme: JupyterLab's variables, else VS Code's (its webview sets them), else light defaults. */
  --nnviz-fg: var(--jp-ui-font-color1, var(--vscode-editor-foreground, #222));
  --nnviz-fg-muted: var(--jp-content-font-color2, var(--vscode-descriptionForeground, #555));
  --nnviz-border: var(--jp-border-color1, var(--vscode-panel-border, #bdbdbd));
  --nnviz-control-bg: var(--jp-layout-color2, var(--vscode-input-background, #eee));
  --nnviz-control-fg: var(--jp-ui-font-color1, var(--vscode-input-foreground, #222));
  --nnviz-accent: var(--jp-brand-color1, var(--vscode-focusBorder, #1976d2));
  --nnviz-error: var(--jp-error-color1, var(--vscode-errorForeground, #d32f2f));
  font: 13px sans-serif; color: var(--nnviz-fg);
}
:is(.nnviz-boundary, .nnviz-player, .nnviz-mosaic, .nnviz-scatter, .nnviz-histograms) :is(button, select) {
  color: var(--nnviz-control-fg); background: var(--nnviz-control-bg); border: 1px solid var(--nnviz-border);
  border-radius: 3px; font: inherit; padding: 1px 6px;
}
:is(.nnviz-boundary, .nnviz-player, .nnviz-mosaic, .nnviz-scatter, .nnviz-histograms) button[aria-pressed="true"] {
  background: var(--jp-layout-color3, var(--vscode-toolbar-activeBackground, #cfd8dc)); border-color: var(--nnviz-accent);
}
:is(.nnviz-boundary, .nnviz-player, .nnviz-mosaic, .nnviz-scatter, .nnviz-histograms) input { accent-color: var(--nnviz-accent); }
/* Canvases keep their light colours in a dark theme; a frame in the theme's border colour sets them off. */
.nnviz-boundary .nnviz-plot, .nnviz-mosaic canvas.nnviz-plot, .nnviz-mosaic canvas.nnviz-zoom { outline: 1px solid var(--nnviz-border); }
.nnviz-boundary, .nnviz-histograms { display: inline-block; }
/* The player's controls stay on one line down to about 330 px (JupyterLab at 800 px with its file browser open
   leaves an output ~370 px wide): the scrubber gives up the width, and under 480 px the labels lose their first
   word ("follow live" → "live", "frame 6 / 9" → "6 / 9") and the gaps narrow; narrower still, they wrap. */
.nnviz-player { max-width: 640px; container: nnviz-player / inline-size; }
.nnviz-player .nnviz-controls { flex-wrap: nowrap; }
.nnviz-player .nnviz-controls > * { flex-shrink: 0; }
.nnviz-player .nnviz-controls > .nnviz-scrub { flex: 1 1 0%; min-width: 24px; }
@container nnviz-player (max-width: 480px) {
  .nnviz-player .nnviz-controls { gap: 3px; }
  .nnviz-player .nnviz-controls button { min-width: 1.6em; padding: 1px 3px; }
  .nnviz-player .nnviz-wide { display: none; }
}
@container nnviz-player (max-width: 330px) { .nnviz-player .nnviz-controls { flex-wrap: wrap; } }
.nnviz-title { margin: 2px 0 4px; font-weight: 600; }
.nnviz-plot { display: block; }
.nnviz-legend { display: flex; flex-wrap: wrap; gap: 4px 12px; margin: 4px 0; }
.nnviz-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
.nnviz-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin-top: 4px; }
.nnviz-controls button { display: inline-flex; align-items: center; justify-content: center; min-width: 2.2em; height: 1.9em; }
.nnviz-scrub { flex: 1 1 120px; min-width: 40px; }
.nnviz-check, .nnviz-frame-label { white-space: nowrap; }
.nnviz-frame-label { font-variant-numeric: tabular-nums; }`;
  return style;
}
