// What VS Code's notebook renderer does with widget outputs (microsoft/vscode-jupyter,
// src/webviews/webview-side/ipywidgets), on a page with a real kernel connection instead of VS Code's message relay:
// load @vscode/jupyter-ipywidgets8, make window.vscIPyWidgets.WidgetManager(kernel, el, scriptLoader, logger),
// register widget modules in requirejs from the kernel environment's share/jupyter/nbextensions when the manager
// asks for them, and render each widget-view output with get_model -> create_view -> display_view.
import { KernelManager, ServerConnection } from "@jupyterlab/services";

const WIDGET_MIME = "application/vnd.jupyter.widget-view+json";
const cells = {}; // index -> {stdout, errors, done, status}
const log = [];
const received = {}; // iopub message type -> count, with the time of the last one (performance.now())
let kernel = null;
let manager = null;

function cellNode(i) {
  let node = document.getElementById(`cell-${i}`);
  if (!node) {
    node = document.createElement("div");
    node.id = `cell-${i}`;
    node.className = "cell";
    const cellsEl = document.getElementById("cells");
    const after = [...cellsEl.children].find((c) => Number(c.id.slice(5)) > i);
    cellsEl.insertBefore(node, after || null);
  }
  return node;
}

/** Connect to (or start) a kernel and make VS Code's widget manager on it; resolves with the kernel id. */
export async function start({ server, kernelId, sources }) {
  window.vscIPyWidgets8.load();
  const registered = new Set();
  // VS Code's ScriptManager: the manager asks for a module it cannot find; the extension answers with the script's
  // location (here the kernel environment's nbextensions, found by the test), registered in requirejs's paths.
  const scriptLoader = {
    widgetsRegisteredInRequireJs: registered,
    errorHandler: (className, moduleName, moduleVersion, error) =>
      console.error(`widget ${moduleName}@${moduleVersion} ${className} failed to load: ${error}`),
    loadWidgetScript: async (moduleName) => {
      const url = sources[moduleName];
      if (!url) return;
      window.requirejs.config({ paths: { [moduleName]: url.replace(/\.js$/, "") } });
      registered.add(moduleName);
    },
    successHandler: () => {},
  };
  const serverSettings = ServerConnection.makeSettings({
    baseUrl: server, wsUrl: server.replace(/^http/, "ws"), token: "", appendToken: false,
  });
  const kernels = new KernelManager({ serverSettings });
  await kernels.ready;
  kernel = kernelId ? kernels.connectTo({ model: { id: kernelId, name: "python3" } }) : await kernels.startNew({ name: "python3" });
  await kernel.info;
  kernel.iopubMessage.connect((_k, msg) => {
    const t = msg.header.msg_type;
    received[t] = { n: (received[t]?.n ?? 0) + 1, at: performance.now() };
  });
  manager = new window.vscIPyWidgets.WidgetManager(kernel, document.getElementById("cells"), scriptLoader, (m) => log.push(m));
  return kernel.id;
}

async function renderWidget(data, node) {
  const el = document.createElement("div");
  el.className = "output cell-output-ipywidget-background";
  node.append(el);
  const model = await manager.get_model(data.model_id);
  const view = await manager.create_view(model, { el });
  return manager.display_view(data, view, { node: el });
}

/** Execute ``code`` as cell ``i`` (its previous output cleared), rendering outputs as they arrive. */
export function run(i, code) {
  const node = cellNode(i);
  node.replaceChildren();
  const rec = (cells[i] = { stdout: "", errors: [], done: false, status: null, renders: [] });
  const future = kernel.requestExecute({ code, stop_on_error: true });
  future.onIOPub = (msg) => {
    const type = msg.header.msg_type, c = msg.content;
    if (type === "stream" && c.name === "stdout") rec.stdout += c.text;
    else if (type === "error") rec.errors.push(`${c.ename}: ${c.evalue}\n${(c.traceback || []).join("\n")}`);
    else if ((type === "display_data" || type === "execute_result") && c.data[WIDGET_MIME]) {
      rec.renders.push(renderWidget(c.data[WIDGET_MIME], node).catch((e) => rec.errors.push(`render: ${e}`)));
    } else if (type === "display_data" || type === "execute_result") {
      const pre = document.createElement("pre");
      pre.textContent = c.data["text/plain"] || "";
      node.append(pre);
    }
  };
  future.done.then(
    (reply) => Object.assign(rec, { done: true, status: reply.content.status }),
    (e) => Object.assign(rec, { done: true, status: "error", errors: [...rec.errors, String(e)] }),
  );
}

export function cell(i) {
  const rec = cells[i];
  return rec ? { stdout: rec.stdout, errors: rec.errors, done: rec.done, status: rec.status } : null;
}

export function kernelStatus() {
  return kernel ? kernel.status : "none";
}

export function iopub() {
  return { ...received, now: performance.now() };
}

export function messages() {
  return log.slice(-50);
}
