// Metric curves drawn from the frames' own metrics on a canvas: the "curves" of an exported page, where no
// kernel runs bqplot. One panel per metric family (lib/chart.js), train solid and others dashed, a cursor at
// the shown frame.
import { formatMetric, niceTicks } from "./lib/axes.js";
import { metricFamilies, series, yRange } from "./lib/chart.js";
import { renderTitle, styleElement } from "./lib/controls.js";
import { drawOncePerFrame, make } from "./lib/dom.js";
import { getSession, initSession } from "./lib/session.js";

const PANEL = { left: 50, right: 10, top: 22, bottom: 28 };
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
const TRAITS = ["epoch", "width", "height", "title"];

function initialize({ model }) {
  return initSession(model);
}

function render({ model, el }) {
  const session = getSession(model);
  const store = session.store;
  const root = make("div", "nnviz-chart");
  const title = make("div", "nnviz-title");
  const canvas = make("canvas", "nnviz-plot");
  root.append(styleElement(), title, canvas);
  el.append(root);
  let draws = 0;

  function draw() {
    const frames = store.indices().map((i) => store.get(i));
    const names = [];
    for (const f of frames) for (const n of Object.keys(f.metrics)) if (!names.includes(n)) names.push(n);
    const families = metricFamilies(names);
    const panelW = Number(model.get("width")) || 360, panelH = Number(model.get("height")) || 220;
    const perRow = Math.max(1, Math.min(families.length, 2));
    const rows = Math.max(1, Math.ceil(families.length / perRow));
    const cssW = panelW * perRow, cssH = panelH * rows;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.width = `${cssW}px`;
    canvas.style.height = `${cssH}px`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, cssW, cssH);
    const { index, frame, loading } = session.current();
    const xs = frames.map((f) => f.epoch);
    const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
    const panels = [];
    families.forEach(([family, members], k) => {
      const ox = (k % perRow) * panelW, oy = Math.floor(k / perRow) * panelH;
      const plot = { left: ox + PANEL.left, top: oy + PANEL.top, width: panelW - PANEL.left - PANEL.right, height: panelH - PANEL.top - PANEL.bottom };
      const lines = members.map((n) => series(frames, n));
      const [y0, y1] = yRange(lines);
      const sx = (x) => plot.left + ((x - x0) / (x1 - x0 || 1)) * plot.width;
      const sy = (y) => plot.top + ((y1 - y) / (y1 - y0)) * plot.height;
      ctx.strokeStyle = "#444";
      ctx.lineWidth = 1;
      ctx.strokeRect(plot.left + 0.5, plot.top + 0.5, plot.width, plot.height);
      ctx.font = "11px sans-serif";
      ctx.fillStyle = "#333";
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      const yt = niceTicks(y0, y1, 4);
      for (const t of yt.ticks) ctx.fillText(t.toFixed(yt.decimals), plot.left - 4, sy(t));
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      const xt = niceTicks(x0, x1, Math.max(2, Math.round(plot.width / 70)));
      for (const t of xt.ticks) ctx.fillText(t.toFixed(xt.decimals), sx(t), plot.top + plot.height + 3);
      ctx.textAlign = "left";
      ctx.textBaseline = "alphabetic";
      members.forEach((name, j) => {
        const pts = lines[j];
        ctx.strokeStyle = COLORS[j % COLORS.length];
        ctx.lineWidth = 1.8;
        ctx.setLineDash(j ? [5, 3] : []);
        ctx.beginPath();
        for (const [i, p] of pts.entries()) {
          if (i) ctx.lineTo(sx(p.x), sy(p.y));
          else ctx.moveTo(sx(p.x), sy(p.y));
        }
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = COLORS[j % COLORS.length];
        const now = pts.find((p) => p.index === index);
        ctx.fillText(`${name}${now ? ` ${formatMetric(now.y)}` : ""}`, ox + PANEL.left + 4 + j * 130, oy + 15);
      });
      if (frame) {
        ctx.strokeStyle = "#555";
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(sx(frame.epoch) + 0.5, plot.top);
        ctx.lineTo(sx(frame.epoch) + 0.5, plot.top + plot.height);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      panels.push({ family, members, ...plot, x0, x1, y0, y1 });
    });
    renderTitle(title, { prefix: model.get("title"), frame, loading });
    draws += 1;
    Object.assign(root.dataset, { frames: String(store.size), total: String(store.total), epoch: String(index ?? -1), draws: String(draws), panels: JSON.stringify(panels) });
  }

  const { schedule, dispose } = drawOncePerFrame(root, draw);
  for (const name of TRAITS) model.on(`change:${name}`, schedule);
  const unsubscribe = store.subscribe(schedule);
  schedule();
  return () => {
    dispose();
    for (const name of TRAITS) model.off(`change:${name}`, schedule);
    unsubscribe();
    root.remove();
  };
}

export default { initialize, render };
