// The view side of the trait contract (src/traits.json; the Python side is
// tests/widgets/test_traits_contract.py): every trait listed for a view is named in that
// view's code (its module and the local modules it imports), and every trait the view reads,
// writes or listens to on its own model (`model.get/set/on`) is listed.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import contract from "../src/traits.json";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

const ENTRIES = new Set(Object.keys(contract.views).map((v) => resolve(SRC, v)));

/** The text of a view module and of every local module it imports, transitively; another
 * view's module (imported for a helper) is left out: its `model` is that view's. */
function sources(file, seen = new Map()) {
  if (seen.has(file) || (seen.size && ENTRIES.has(file))) return seen;
  const text = readFileSync(file, "utf8");
  seen.set(file, text);
  for (const [, spec] of text.matchAll(/^\s*(?:import|export)[^"']*?from\s+["'](\.[^"']+)["']/gm)) {
    sources(resolve(dirname(file), spec), seen);
  }
  return seen;
}

/** The names the code uses on its own `model`: get/set("x"), on/off("change:x"). */
function ownUses(text) {
  const names = new Set();
  for (const [, n] of text.matchAll(/\bmodel\.(?:get|set)\(\s*["']([A-Za-z_]\w*)["']/g)) names.add(n);
  for (const [, n] of text.matchAll(/\bmodel\.(?:on|off)\(\s*["']change:([A-Za-z_]\w*)["']/g)) names.add(n);
  return names;
}

describe("trait contract (JS side)", () => {
  for (const [view, { traits }] of Object.entries(contract.views)) {
    it(`${view}: lists exactly the traits its code uses`, () => {
      const texts = [...sources(resolve(SRC, view)).values()];
      const all = texts.join("\n");
      const unused = traits.filter((t) => !new RegExp(`["'\`](?:change:)?${t}["'\`]`).test(all));
      expect(unused, `listed but never named in ${view}`).toEqual([]);
      const used = new Set(texts.flatMap((t) => [...ownUses(t)]));
      const unlisted = [...used].filter((t) => !traits.includes(t)).sort();
      expect(unlisted, `used by ${view} on its model but not listed`).toEqual([]);
    });
  }
});
