// The render tier (tests/views/) loads each view the way anywidget does, by a dynamic import in
// anywidget's own front end: inlined, that import goes through vitest's module runner (so the
// views resolve their packages as esbuild does) instead of node's.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { server: { deps: { inline: ["anywidget"] } } },
});
