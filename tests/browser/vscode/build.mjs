// Bundles harness.js (a Jupyter kernel client from @jupyterlab/services) into dist/ for the page test_vscode.py serves.
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: ["harness.js"],
  outdir: "dist",
  bundle: true,
  format: "iife",
  globalName: "nnvizHarness",
  target: "es2020",
  logLevel: "warning",
});
