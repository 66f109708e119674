// Copies the third-party loaders that nbperceive.report inlines into a self-contained HTML file
// (require.js and the Jupyter widgets HTML manager) from node_modules into the Python package.
// They are build output like the bundles: gitignored, shipped in the wheel, never committed.
// embed-amd-fonts.js is JSON ({file name: base64}): the Font Awesome webfonts the HTML manager's
// CSS points to (bqplot's toolbar icons), inlined by the report so that no font request fails.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const out = "../src/nbperceive/static";
const assets = {
  "require.js": "requirejs/require.js",
  "embed-amd.js": "@jupyter-widgets/html-manager/dist/embed-amd.js",
};

// embed-amd.js also defines ipywidgets 7's modules (base7, controls7) for pages saved with
// ipywidgets 7; nbperceive needs ipywidgets 8 (pyproject), so their definitions are left out
// (a quarter of the file: 0.23 MB of every saved page, gzipped).
const WIDGETS_7 = /^define\("@jupyter-widgets\/(base7|controls7)"/;

mkdirSync(out, { recursive: true });
for (const [name, spec] of Object.entries(assets)) {
  const [pkg, ...rest] = spec.startsWith("@") ? [spec.split("/").slice(0, 2).join("/"),
    ...spec.split("/").slice(2)] : spec.split("/");
  let root;
  try {
    root = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    console.error(`copy-assets: ${pkg} is missing; run 'npm ci' (or 'npm install') in js/`);
    process.exit(1);
  }
  const src = join(root, ...rest);
  if (!existsSync(src)) {
    console.error(`copy-assets: ${src} not found; reinstall ${pkg} with 'npm ci' in js/`);
    process.exit(1);
  }
  if (name !== "embed-amd.js") {
    copyFileSync(src, join(out, name));
    continue;
  }
  const lines = readFileSync(src, "utf8").split("\n");
  const kept = lines.filter((line) => !WIDGETS_7.test(line));
  if (lines.length - kept.length !== 2) {
    console.error(`copy-assets: expected one line each defining base7 and controls7 in ${src}, ` +
      `found ${lines.length - kept.length}; update WIDGETS_7 for this html-manager version`);
    process.exit(1);
  }
  writeFileSync(join(out, name), kept.join("\n"));
}

const dist = join(dirname(require.resolve("@jupyter-widgets/html-manager/package.json")), "dist");
const fonts = Object.fromEntries(readdirSync(dist).filter((f) => f.endsWith(".woff2"))
  .map((f) => [f, readFileSync(join(dist, f)).toString("base64")]));
if (Object.keys(fonts).length === 0) {
  console.error(`copy-assets: no .woff2 fonts in ${dist}; reinstall with 'npm ci' in js/`);
  process.exit(1);
}
writeFileSync(join(out, "embed-amd-fonts.js"), JSON.stringify(fonts));
