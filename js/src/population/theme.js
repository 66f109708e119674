// The population view follows the page's theme: the plot's background (--nbp-bg) has a tiny
// CSS transition, so a theme switch fires transition events; once they have run their
// course, `apply()` reads the new colours (the WebGL side cannot take CSS variables).

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
