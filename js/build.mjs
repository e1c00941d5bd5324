// Bundles each widget's ES module into the Python package's static/ folder (generated, not committed).
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: { boundary: "src/boundary.js", player: "src/player.js", mosaic: "src/mosaic.js", curves: "src/curves.js", scatter: "src/scatter.js", histograms: "src/histograms.js", chart: "src/chart.js" },
  outdir: "../nnviz_widgets/static",
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: false,
  logLevel: "info",
});
