import { describe, expect, it } from "vitest";
// What regl-scatterplot's draw() runs when it is given no index (its own source module,
// called as draw() calls it).
import createKdbush from "regl-scatterplot/src/kdbush.js";
import { cssToHex, spatialIndex } from "../src/population.js";
import { sampleCount, statusParts } from "../src/population/status.js";

describe("cssToHex", () => {
  it("reads the browser's computed colours, and falls back on transparent or unknown", () => {
    expect(cssToHex("rgb(33, 33, 33)")).toBe("#212121");
    expect(cssToHex("rgba(255, 255, 255, 1)")).toBe("#ffffff");
    expect(cssToHex("rgba(0, 0, 0, 0)", "#abcdef")).toBe("#abcdef");
    expect(cssToHex("", "#123456")).toBe("#123456");
  });
});

describe("spatialIndex", () => {
  it("builds the KD-tree regl-scatterplot would build from the same points, byte for byte", async () => {
    const n = 5000;
    const x = new Float32Array(n), y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = Math.sin(i * 12.9898) * 0.9; // deterministic scatter in [-0.9, 0.9]
      y[i] = Math.cos(i * 78.233) * 0.9;
    }
    const ours = await spatialIndex(x, y);
    const points = Array.from(x, (v, i) => [v, y[i]]);
    const theirs = (await createKdbush(points, { useWorker: false })).data;
    expect(ours).toBeInstanceOf(ArrayBuffer);
    expect(new Uint8Array(ours)).toEqual(new Uint8Array(theirs));
  });
});

describe("statusParts", () => {
  const model = (traits) => ({ get: (name) => traits[name] });
  const codes = (n) => ({ view: new Uint8Array(n), dtype: "uint8", shape: [n] });

  it("counts the samples by a column's codes while the first layout is being computed", () => {
    const waiting = model({ selection: null, selected: -1, layout_status: "pca layout of epoch 1: computing",
      channels: { loss: { kind: "continuous", codes: codes(1234) } } });
    const [state, hint] = statusParts(waiting, 0, false);
    expect(state).toBe("1,234 samples · pca layout of epoch 1: computing");
    expect(hint).toMatch(/^click to select/); // the gestures on a line of their own
    expect(sampleCount(waiting, 7)).toBe(7); // placed points count once they are there
    expect(sampleCount(model({ channels: {} }), 0)).toBe(0);
  });

  it("says what is selected, and the lasso tool's gestures while it is on", () => {
    const one = model({ selection: null, selected: 7, layout_status: "", channels: {} });
    expect(statusParts(one, 20, true)).toEqual(["20 samples · sample 7 selected",
      "lasso tool: drag to select (Lasso again to pan and zoom) · Esc clears"]);
  });
});
