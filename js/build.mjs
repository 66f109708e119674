// Bundles each view in src/ (one file per view) into one ES module in the Python package.
import { build } from "esbuild";
import { readdirSync } from "node:fs";

// nbperceive.css: every view's styles, one file (each widget's anywidget `_css`).
const views = ["population.js", "inspector.js", "details.js", "sample_list.js", "selection.js",
  "story.js", "nbperceive.css"].filter((f) => readdirSync("src").includes(f));
await build({
  entryPoints: views.map((f) => `src/${f}`),
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  outdir: "../src/nbperceive/static",
  logLevel: "warning",
});

// The saved report's zstd decoder: a classic script (the report inlines it before its loader).
await build({
  entryPoints: ["src/unzstd.js"],
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2020"],
  outfile: "../src/nbperceive/static/unzstd.js",
  logLevel: "warning",
});
