"""The cost of watching with a real browser: a training loop in a JupyterLab kernel with a live dashboard drawn by
Chromium on the same machine, against the same loop with no view.

    .venv/bin/python benchmarks/bench_live_browser.py [--rounds 3] [--epochs 20]

JupyterLab (the browser tests' harness, tests/browser/conftest.py) and headless Chromium (Debian's, through
Playwright) on 127.0.0.1; one notebook, one kernel. Workload: bench_live.py's, digits 64-100-64-10 (1,797 rows),
Adam, batch 32, one capture per epoch, 1 torch thread. Three loops, interleaved round by round so all see the same
machine load, medians:

- *no capture*: the bare training loop;
- *recorder*: ``rec.capture()`` every epoch, nothing watching (``budget=None``: every capture is evaluated);
- *dashboard*: the same with ``nnv.Dashboard(rec)`` shown in the notebook, every frame sent to the page and drawn
  by Chromium (boundary, mosaic, embedding canvases; bqplot curves) while the loop runs.

The page stays open for all three, so JupyterLab's own idle cost is in each. The slowdown from watching is
dashboard / recorder - 1 in the kernel's wall-clock time (target <= 10 % on 2 cores); the table also gives the
kernel's CPU time (its threads: the views' senders count), Chromium's CPU time (every process of the browser, then
a table by process: the renderer's main thread and its other threads, the GPU process, the browser process) and
the Jupyter server's (it relays each message between kernel and page) during each loop, to say where the time
went. No timed assertions: ratios side by side in one run.

Chromium is started here and Playwright only sets the page up (opens the notebook, runs the set-up cell), then
disconnects; the loops are run and timed over a plain DevTools connection that enables nothing (``CdpPage``), as no
tool watches a person's browser. Attached, Playwright's session would copy every WebSocket frame (each kernel
message) to its driver process and poll on every animation frame while a cell runs, on the same two cores:
``--playwright`` keeps it attached, as the browser tests do, to see that difference.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.conftest import CHROMIUM_ARGS, Lab, start_jupyter  # noqa: E402 - the harness of the tests

SETUP = """
import json, sys, torch, nnviz_widgets as nnv
sys.path.insert(0, {here!r})
import bench_live  # the same workload and loop as the kernel-side benchmark
from bench_live import model
torch.set_num_threads(1)
if {share!r} is not None:  # --share: the live clock's share of the time (nnviz_widgets/widgets/_stream.py)
    from nnviz_widgets.widgets import _stream
    _stream.LIVE_SHARE = {share!r}
X, y = nnv.datasets.digits()
bench_live.EPOCHS = {epochs}

def loop(net, rec=None):
    wall, cpu = bench_live.loop(net, X, y, rec)
    print(json.dumps({{"wall": wall, "cpu": cpu}}))

ONE = iter({split!r})  # --split: the views, one per dashboard
"""

CELLS = [
    SETUP,
    "loop(model())",  # 1: no capture
    "net = model(); loop(net, nnv.Recorder(net, X, y, activations='3', budget=None))",  # 2: recorder
    # 3: the dashboard, shown; 4: its loop; 5: closed again (the next round's cell 3 replaces the output)
    "net = model(); rec = nnv.Recorder(net, X, y, activations='3', budget=None); dash = nnv.Dashboard(rec); dash",
    "loop(net, rec)",
    "dash.close(); print(json.dumps({'frames': len(rec.run)}))",
    # 6: with --split, one view of the dashboard at a time (the next name each run), then 4 and 5 again
    "net = model(); rec = nnv.Recorder(net, X, y, activations='3', budget=None); dash = nnv.Dashboard(rec, "
    "views=[next(ONE)]); dash",
]
SPLIT = ("boundary", "mosaic", "embedding", "histograms", "curves")


class CdpPage:
    """The few calls of Playwright's ``Page`` the timed part makes (``evaluate``, ``wait_for_function``,
    ``screenshot``, and a CDP session's ``send``), over one plain DevTools connection that enables no domain:
    Chromium then reports nothing back (Playwright's own session enables the Network domain, which copies every
    WebSocket frame, the kernel's messages, to its driver: measured, 0.1 s of its CPU and 0.1 s of Chromium's
    browser process per 1.4 s dashboard loop, on the cores training runs on). ``wait_for_function`` polls every
    ``polling`` ms (Playwright's default polls on every animation frame, making the page produce frames while it
    waits)."""

    def __init__(self, port: int):
        import websocket  # websocket-client, a dependency of jupyter_server

        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        self.ws, self.next_id = websocket.create_connection(url, suppress_origin=True, timeout=600), 0

    def send(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:  # no domain is enabled, so only answers come; anything else is skipped
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, function: str, arg=None):
        """As Playwright's: a function is called with ``arg``, any other expression is evaluated as it is."""
        call = f"(() => {{ const f = ({function}); return typeof f === 'function' ? f({json.dumps(arg)}) : f; }})()"
        result = self.send("Runtime.evaluate", {"expression": call, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for_function(self, function: str, arg=None, timeout: float = 30_000, polling: float = 200) -> None:
        deadline = time.monotonic() + timeout / 1000
        while not self.evaluate(function, arg):
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true in {timeout / 1000:.0f} s: {function}")
            time.sleep(polling / 1000)

    def screenshot(self, path: str, timeout: float = 15_000) -> None:
        Path(path).write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))


def plain_chromium(chromium: str, profile_dir: str) -> tuple[subprocess.Popen, int]:
    """Chromium started here (not by Playwright), with the tests' flags and a DevTools port: (process, port)."""
    proc = subprocess.Popen(
        [chromium, *CHROMIUM_ARGS, "--remote-debugging-port=0", f"--user-data-dir={profile_dir}",
         "--window-size=1280,1000", "about:blank"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in proc.stderr:
        if m := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line):
            _drain(proc.stderr)
            return proc, int(m.group(1))
    raise RuntimeError(f"{chromium} did not open a DevTools port (exit {proc.wait()})")


def _drain(stream) -> None:
    """Read the rest of Chromium's stderr in the background, so that its pipe never fills and blocks it."""
    import threading

    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


ERRORS_JS = """() => { window.__nnvizErrors = [];
    window.addEventListener('error', (e) => window.__nnvizErrors.push(String(e.message) + ' ' + (e.filename || '')));
    window.addEventListener('unhandledrejection', (e) => window.__nnvizErrors.push(String(e.reason))); }"""


def chromium_parts(root: psutil.Process) -> dict[str, float]:
    """CPU seconds of the Chromium processes under this one (started here, or by Playwright's driver), by kind:
    the renderer's main thread ("renderer main") and its other threads (raster workers, compositor), the GPU
    process, the browser process, utilities."""
    parts: dict[str, float] = {}
    for p in root.children(recursive=True):
        try:
            if "chrom" not in p.name().lower():
                continue
            args = p.cmdline()
            kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")
            t = p.cpu_times()
            if kind == "renderer":
                main = next((th for th in p.threads() if th.id == p.pid), None)  # the main thread's id is the pid
                main_s = main.user_time + main.system_time if main else 0.0
                parts["renderer main"] = parts.get("renderer main", 0.0) + main_s
                kind, cpu = "renderer, other threads", t.user + t.system - main_s
            else:
                cpu = t.user + t.system
            parts[kind] = parts.get(kind, 0.0) + cpu
        except psutil.Error:
            pass
    return parts


def print_profile(profile: dict, top: int) -> None:
    """Self time by function (and script) of a CDP CPU profile, the largest first."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = dict.fromkeys(nodes, 0.0)
    for sample, dt in zip(profile["samples"], profile["timeDeltas"], strict=True):
        deltas[sample] += dt / 1e3
    by: dict[str, float] = {}
    for i, node in nodes.items():
        f = node["callFrame"]
        key = f"{f['functionName'] or '(anonymous)'} {f['url'].rsplit('/', 1)[-1][:40]}:{f['lineNumber']}"
        by[key] = by.get(key, 0.0) + deltas[i]
    total = sum(by.values())
    print(f"Chromium page profile, {total:.0f} ms sampled:")
    for key, ms in sorted(by.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {ms:8.1f} ms  {ms / total:6.1%}  {key}")


def server_cpu(server) -> float:
    """CPU seconds of the Jupyter server process itself (it relays every message between kernel and page)."""
    t = psutil.Process(server.proc.pid).cpu_times()
    return t.user + t.system


def timed(lab: Lab, cell: int, me: psutil.Process, timeout: float) -> dict:
    before, server_before = chromium_parts(me), server_cpu(lab.server)
    lab.run_cell(cell, timeout=timeout * 1000)
    result = json.loads(lab.cell_stdout(cell).strip().splitlines()[-1])
    after = chromium_parts(me)
    result["parts"] = {k: v - before.get(k, 0.0) for k, v in after.items()}
    result["browser"] = sum(result["parts"].values())
    result["server"] = server_cpu(lab.server) - server_before
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20, help="epochs (captures) per timed loop")
    parser.add_argument("--split", action="store_true", help="then one loop per view, each view alone")
    parser.add_argument("--share", type=float, default=None, help="the live clock's LIVE_SHARE in the kernel "
                        "(default: the package's); 0.001 leaves one tick per loop: the cost besides ticks")  # fmt: skip
    parser.add_argument("--playwright", action="store_true", help="keep Playwright attached while timing, as the "
                        "browser tests do (it copies every WebSocket frame to its driver)")  # fmt: skip
    parser.add_argument("--profile", type=int, default=0, help="print the N functions Chromium's page spent most time "
                        "in during the last dashboard loop (its CPU profiler, self time by function)")  # fmt: skip
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("this benchmark needs Debian's chromium on PATH")
    from playwright.sync_api import sync_playwright

    me = psutil.Process()
    times: dict[str, list[dict]] = {"no capture": [], "recorder": [], "dashboard": []}
    frames = []
    load = [os.getloadavg()]
    with start_jupyter("lab") as server, contextlib.ExitStack() as stack:
        # closing `driver` stops Playwright's driver (at the end, or once the page is set up); a second close is a no-op
        driver = stack.enter_context(contextlib.ExitStack())
        pw = driver.enter_context(sync_playwright())
        if args.playwright:  # the tests' way: Playwright launches Chromium and stays attached
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True, timeout=60_000)
            stack.callback(browser.close)
            lab = Lab(browser, server)
        else:  # Playwright sets the page up in a Chromium started here, then lets go of it (CdpPage)
            proc, port = plain_chromium(chromium, stack.enter_context(tempfile.TemporaryDirectory()))
            stack.callback(proc.wait, 30)
            stack.callback(proc.terminate)
            browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            lab = Lab.__new__(Lab)  # on the browser's own page and context, which outlive Playwright's connection
            lab.server, lab.context, lab.console, lab.page_errors = server, browser.contexts[0], [], []
            lab.page = lab.context.pages[0]
        stack.callback(lab.close)
        lab.open_notebook(
            "live_cost",
            [
                SETUP.format(epochs=args.epochs, here=str(REPO / "benchmarks"), split=list(SPLIT), share=args.share),
                *CELLS[1:],
            ],
        )
        lab.run_cell(0, timeout=300_000)
        if not args.playwright:
            lab.page.evaluate(ERRORS_JS)
            browser.close()  # disconnects: the page stays, Playwright's session and its driver go
            driver.close()
            lab.page = CdpPage(port)
        lab.run_cell(1, timeout=600_000)  # a warm-up round of the bare loop (imports, first allocations)
        for _ in range(args.rounds):
            times["no capture"].append(timed(lab, 1, me, 600))
            times["recorder"].append(timed(lab, 2, me, 600))
            lab.run_cell(3, timeout=120_000)
            # the dashboard is on the page before its loop starts: every view made and drawn once
            lab.page.wait_for_function(
                "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node"
                ".querySelectorAll('canvas').length >= 3",
                arg=3,
                timeout=120_000,
            )
            # in sight: a view out of the viewport does not draw (js/src/lib/dom.js drawOncePerFrame)
            lab.page.evaluate(f"({lab.cell_node})(3).scrollIntoView({{block: 'start'}})")
            cdp = None
            if args.profile:
                cdp = lab.page if isinstance(lab.page, CdpPage) else lab.context.new_cdp_session(lab.page)
                cdp.send("Profiler.enable")
                cdp.send("Profiler.start")
            times["dashboard"].append(timed(lab, 4, me, 600))
            if cdp is not None:
                print_profile(cdp.send("Profiler.stop")["profile"], args.profile)
            lab.screenshot("bench_live_browser")  # the dashboard as the loop left it
            lab.run_cell(5, timeout=120_000)
            frames.append(json.loads(lab.cell_stdout(5).strip().splitlines()[-1])["frames"])
            load.append(os.getloadavg())
        split = {}
        for view in SPLIT if args.split else ():
            lab.run_cell(6, timeout=120_000)
            lab.page.evaluate(f"({lab.cell_node})(6).scrollIntoView({{block: 'start'}})")
            time.sleep(1)  # drawn once before its loop starts
            split[view] = timed(lab, 4, me, 600)
            lab.run_cell(5, timeout=120_000)
        if args.playwright:
            lab.assert_no_page_errors()
        else:
            errors = lab.page.evaluate("() => window.__nnvizErrors")
            assert not errors, f"errors on the page: {errors}"
    med = {
        k: {m: statistics.median(r[m] for r in v) for m in ("wall", "cpu", "browser", "server")}
        for k, v in times.items()
    }
    print(
        f"digits 64-100-64-10, {args.epochs} epochs per loop (a capture per epoch, {statistics.median(frames):.0f} "
        f"frames per dashboard loop), 1 torch thread, {args.rounds} rounds, JupyterLab + headless Chromium "
        f"({chromium}) on this machine ({psutil.cpu_count()} cores)"
    )
    print("\n| loop | kernel wall s (median) | min-max | vs. recorder alone | kernel CPU s | vs. recorder alone "
          "| Chromium CPU s during the loop | Jupyter server CPU s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for k, v in times.items():
        lo, hi = min(r["wall"] for r in v), max(r["wall"] for r in v)
        m, base = med[k], med["recorder"]
        print(f"| {k} | {m['wall']:.3f} | {lo:.3f}-{hi:.3f} | {m['wall'] / base['wall'] - 1:+.1%} | {m['cpu']:.3f} "
              f"| {m['cpu'] / base['cpu'] - 1:+.1%} | {m['browser']:.3f} | {m['server']:.3f} |")  # fmt: skip
    d, r = med["dashboard"], med["recorder"]
    print(
        f"\nslowdown of training with a live dashboard in Chromium: {d['wall'] / r['wall'] - 1:+.1%} wall "
        f"(target <= 10 %); Chromium used {d['browser']:.2f} s of CPU over the {d['wall']:.2f} s loop "
        f"({d['browser'] / d['wall']:.0%} of one core), {r['browser']:.2f} s over the loop with no view"
    )
    kinds = sorted({k for v in times.values() for r in v for k in r["parts"]})
    print("\n| Chromium CPU s during the loop, by process (median) | " + " | ".join(times) + " |")
    print("|---|" + "---:|" * len(times))
    for kind in kinds:
        cells = [statistics.median(r["parts"].get(kind, 0.0) for r in v) for v in times.values()]
        print(f"| {kind} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    if split:
        print("\n| one view alone | kernel wall s | vs. recorder alone (median) | kernel CPU s | Chromium CPU s "
              "| Jupyter server CPU s |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|")
        for view, r in split.items():
            print(f"| {view} | {r['wall']:.3f} | {r['wall'] / med['recorder']['wall'] - 1:+.1%} | {r['cpu']:.3f} "
                  f"| {r['browser']:.3f} | {r['server']:.3f} |")  # fmt: skip
    print("load average (1, 5, 15 min) at the start and after each round: " + "; ".join(
        ", ".join(f"{v:.1f}" for v in la) for la in load))  # fmt: skip


if __name__ == "__main__":
    main()
