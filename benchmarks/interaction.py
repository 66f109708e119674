"""What a user waits for in the Explorer, live in Voila: hover, click, heatmap, depth slider.

    .venv/bin/python benchmarks/interaction.py [--repeat 5] [--width 1400]

The notebook of tests/browser/test_explorer.py (a digits CNN with two conv layers trained 4
epochs, 300 probe samples, image previews), served by real Voila and driven in headless
Debian Chromium with real mouse and keyboard input (Playwright). Measured from the input
event (a capture listener on the window, the first to see it) to:

- hover -> card: the hover card naming the sample is in the DOM;
- click -> details: the details panel names the clicked sample;
- click -> heatmap: the inspector's canvas shows other pixels than before the click (the
  kernel computes the sample's maps: every depth x every label, then the page paints them);
- depth slider: an arrow key on the inspector's depth slider until its canvas changes.

Baseline, measured in the same page and run: the frame interval while idle (median gap
between animation frames), the floor of anything painted. Each figure is also printed as a
multiple of that frame. Issue 10's trial measured hover 17-73 ms, click -> heatmap 89-150 ms,
depth slider 14-50 ms.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser tests' package (a "tests" is installed)

from browser import servers  # noqa: E402  (Chromium path, flags, Voila server)
from browser.test_explorer import CELLS, ISOLATED_JS  # noqa: E402

# Listens for the next `event` on the window (capture) and resolves with the ms until
# `done()` is true, checked after every DOM change and every frame.
TIMED_JS = """([event, done]) => {
  const check = new Function(`return (${done})()`);
  window.__timed = new Promise((resolve) => {
    const onEvent = () => {
      window.removeEventListener(event, onEvent, true);
      const t0 = performance.now();
      const finish = () => {
        observer.disconnect();
        resolve(performance.now() - t0);
      };
      const observer = new MutationObserver(() => check() && finish());
      observer.observe(document.body, { subtree: true, childList: true, characterData: true,
                                        attributes: true });
      const poll = () => (check() ? finish() : requestAnimationFrame(poll));
      poll();
    };
    window.addEventListener(event, onEvent, true);
  });
}"""

# A digest of the inspector's first canvas (its pixels), to see when it shows something else.
CANVAS_JS = """() => {
  const c = document.querySelector('.nbp-inspector canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) | 0;
  return h;
}"""

FRAME_JS = """() => new Promise((resolve) => {
  const gaps = [];
  let last = performance.now();
  const step = (now) => {
    gaps.push(now - last);
    last = now;
    if (gaps.length < 60) requestAnimationFrame(step);
    else resolve(gaps.sort((a, b) => a - b)[30]);
  };
  requestAnimationFrame(step);
})"""


def timed(page, event: str, done_js: str, act) -> float:
    page.evaluate(TIMED_JS, [event, done_js])
    act()
    return float(page.evaluate("() => window.__timed"))


def measure(page, repeat: int) -> dict[str, list[float]]:
    from browser.test_population import screen_point

    out: dict[str, list[float]] = {"hover -> card": [], "click -> details": [],
                                   "click -> heatmap": [], "depth slider": []}
    samples = page.evaluate(ISOLATED_JS)[:repeat]
    for i in samples:
        page.mouse.move(2, 2)
        page.wait_for_function("() => document.querySelector('.nbp-tip')?.style.display"
                               " !== 'block'")
        x, y = screen_point(page, i)
        out["hover -> card"].append(timed(
            page, "mousemove",
            f"() => document.querySelector('.nbp-tip-title')?.textContent === 'sample {i}'",
            lambda x=x, y=y: page.mouse.move(x, y)))
        before = page.evaluate(CANVAS_JS)
        page.evaluate(TIMED_JS, ["mousedown", "() => document.querySelector('.nbp-details')"
                                 f"?.textContent.includes('sample{i}')"])
        page.evaluate("() => { window.__details = window.__timed; }")
        page.evaluate(TIMED_JS.replace("window.__timed", "window.__heat"), [
            "mousedown", f"() => ({CANVAS_JS})() !== {before} && !/computing/.test("
            "document.querySelector('.nbp-inspector .nbp-status').textContent)"])
        page.mouse.down()
        page.mouse.up()
        details = float(page.evaluate("() => window.__details"))
        out["click -> details"].append(details)
        out["click -> heatmap"].append(float(page.evaluate("() => window.__heat")))
        slider = page.locator(".nbp-inspector .nbp-depth-slider").first
        slider.focus()
        at = int(slider.input_value())
        key = "ArrowLeft" if at > 0 else "ArrowRight"
        before = page.evaluate(CANVAS_JS)
        out["depth slider"].append(timed(
            page, "keydown", f"() => ({CANVAS_JS})() !== {before}",
            lambda k=key: page.keyboard.press(k)))
        page.keyboard.press("ArrowRight" if key == "ArrowLeft" else "ArrowLeft")
        slider.blur()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--width", type=int, default=1400)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        nb = servers.write_notebook(Path(tmp), CELLS)
        with servers.voila_server(nb, timeout=120) as server, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=servers.CHROMIUM, headless=True,
                                        args=servers.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 1100})
            page.goto(server.url + "/", timeout=180_000)
            page.wait_for_selector(".nbp-pop[data-draws]", timeout=120_000)
            page.wait_for_selector(".nbp-inspector .nbp-status", timeout=60_000)
            page.locator(".nbp-plot canvas").first.scroll_into_view_if_needed()
            frame = float(page.evaluate(FRAME_JS))
            got = measure(page, args.repeat)
            browser.close()
    print(f"Explorer in Voila, {args.width} px, headless Chromium (software GL); frame "
          f"interval at rest {frame:.1f} ms (the floor)")
    for name, values in got.items():
        med = float(np.median(values))
        print(f"{name:<18} median {med:7.1f} ms  ({med / frame:5.1f} frames)  range "
              f"{min(values):.0f}-{max(values):.0f} ms over {len(values)}")


if __name__ == "__main__":
    main()
