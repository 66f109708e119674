// Copies the third-party loaders that nbperceive.report inlines into a self-contained HTML file
// (require.js and the Jupyter widgets HTML manager) from node_modules into the Python package.
// They are build output like the bundles: gitignored, shipped in the wheel, never committed.
// embed-amd-fonts.js is JSON ({style: {file name: base64}}): the Font Awesome webfonts the HTML
// manager's CSS points to (bqplot's figure buttons), inlined by the report so that no font
// request fails.
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
const fonts = fontStyles(readFileSync(join(out, "embed-amd.js"), "utf8"), dist);
writeFileSync(join(out, "embed-amd-fonts.js"), JSON.stringify(fonts));

/**
 * The Font Awesome woff2 files by style, {solid|regular|brands: {file name: base64}}, so a
 * page carries only the styles its widgets show (bqplot's figure buttons: solid). Read from
 * the manager's bundle: its CSS says `font-family:"Font Awesome 5 Brands";font-weight:400;
 * ...url(${v}) format("woff2")`, `v=new URL(n(id),...)` names the module, and module `id`
 * exports the hashed file name.
 */
function fontStyles(bundle, dir) {
  const files = {};
  for (const m of bundle.matchAll(/(\d+):\([^)]*\)=>\{"use strict";\w+\.exports=\w+\.p\+"([0-9a-f]+\.woff2)"\}/g)) {
    files[m[1]] = m[2];
  }
  const face = /font-family:"Font Awesome 5 (Brands|Free)";font-style:normal;font-weight:(\d+);(?:[^}$]|\$\{\w+\})*?url\(\$\{(\w+)\}\) format\("woff2"\)/g;
  const styles = {};
  for (const m of bundle.matchAll(face)) {
    const style = m[1] === "Brands" ? "brands" : m[2] === "900" ? "solid" : "regular";
    // the nearest declaration of that variable before the rule (each bundle has its own
    // names): `v=new URL(n(id),n.b)`, or `v=u()(w)` (css-loader's url escape) of such a w
    const before = bundle.slice(Math.max(0, m.index - 200_000), m.index);
    const last = (re) => [...before.matchAll(re)].pop();
    let name = m[3], id = null;
    for (let hops = 0; hops < 3 && id === null; hops++) {
      const v = name.replace("$", "\\$");
      const url = last(new RegExp(`[,\\s]${v}=new URL\\(\\w+\\((\\d+)\\)`, "g"));
      if (url) id = url[1];
      else {
        const wrapped = last(new RegExp(`[,\\s]${v}=\\w+\\(\\)\\(([\\w$]+)[,)]`, "g"));
        if (!wrapped) break;
        name = wrapped[1];
      }
    }
    const file = id && files[id];
    if (file && existsSync(join(dir, file))) {
      styles[style] = { [file]: readFileSync(join(dir, file)).toString("base64") };
    }
  }
  if (["solid", "regular", "brands"].some((s) => !styles[s])) {
    console.error(`copy-assets: could not tell the Font Awesome styles' woff2 files in ${dir} ` +
      `(found ${Object.keys(styles)}); update fontStyles for this html-manager version`);
    process.exit(1);
  }
  return styles;
}
