// The population view follows the page's theme: the plot's background (--nbp-bg) has a tiny
// CSS transition, so a theme switch fires transition events; once they have run their
// course, `apply()` reads the new colours (the WebGL side cannot take CSS variables).

import { cssToHex } from "./dom.js";
import { OPACITY } from "./renderer.js";
import { rampRange } from "../scales.js";

// every point's colour against the plot's background (WCAG's 3:1 for graphics, with a margin
// for the rounding of the WebGL blend)
const MIN_CONTRAST = 3.2;

const EVENTS = ["transitionrun", "transitionend", "transitioncancel"];

/** Call `apply()` after each theme switch on `plot`; returns the function that stops it. */
export function followTheme(plot, apply) {
  let timer = 0;
  const onChange = () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 60);
  };
  for (const ev of EVENTS) plot.addEventListener(ev, onChange);
  return () => {
    for (const ev of EVENTS) plot.removeEventListener(ev, onChange);
    clearTimeout(timer);
  };
}

/** The theme's colours on `plot`: the stretch of the continuous ramp that keeps 3:1 contrast
 * on its background (rampRange), and its text colour (`ink`, the selection ring). */
export function themeColors(plot) {
  const style = getComputedStyle(plot);
  const ramp = rampRange(cssToHex(style.backgroundColor, "#ffffff"), MIN_CONTRAST, OPACITY);
  return { ramp, ink: cssToHex(style.color, "#000000") };
}
