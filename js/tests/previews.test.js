import { describe, expect, it } from "vitest";
import { encodeArray } from "../src/codecs.js";
import { inlinePreview, previewLeftOut, previewTexts, previewText } from "../src/previews.js";

// a saved page's previews of some samples only: sorted ids, their texts / PNGs and card fields
const someTexts = () => ({
  texts: ["<b>three</b>", "seven", "forty"],
  info: [{ label: 3 }, { label: 7 }, { label: 40 }],
  ids: encodeArray(new Uint32Array([3, 7, 40])),
  of: 100,
});

describe("inline previews", () => {
  it("finds a saved sample's preview by its id, not by its position", () => {
    const inline = someTexts();
    expect(inlinePreview(inline, 7)).toEqual({ info: { label: 7 }, text: "seven" });
    expect(inlinePreview(inline, 40).info).toEqual({ label: 40 });
    expect(inlinePreview(inline, 1)).toBeNull();
    expect(previewText(inline, 3)).toBe("<b>three</b>");
    expect(previewText(inline, 0)).toBeNull();
  });

  it("says a left-out preview is not in the page, once the page holds some only", () => {
    const inline = someTexts();
    expect(previewLeftOut(inline, 5)).toBe("no preview saved for this sample (this page carries 3 of 100)");
    expect(previewLeftOut(inline, 40)).toBeNull();
    const all = { texts: ["a", "b"], info: [{}, {}] }; // every sample's: nothing left out
    expect(previewLeftOut(all, 1)).toBeNull();
    expect(inlinePreview(all, 1).text).toBe("b");
  });

  it("indexes texts by sample for the search box", () => {
    const texts = previewTexts(someTexts());
    expect(texts.length).toBe(100);
    expect(texts[7]).toBe("seven");
    expect(texts[8]).toBeUndefined();
  });

  it("cuts a PNG out of the blob at the slot of its id", () => {
    const blob = new Uint8Array([1, 2, 3, 4, 5]);
    const inline = {
      png: encodeArray(blob), offsets: encodeArray(new Uint32Array([0, 2, 5])),
      info: [{}, {}], ids: encodeArray(new Uint32Array([10, 20])), of: 30,
    };
    expect(Array.from(inlinePreview(inline, 20).png)).toEqual([3, 4, 5]);
    expect(Array.from(inlinePreview(inline, 10).png)).toEqual([1, 2]);
    expect(inlinePreview(inline, 15)).toBeNull();
  });
});
