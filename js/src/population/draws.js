// The population view's draws, one at a time (regl-scatterplot refuses a draw while one is
// running); requests meanwhile merge into one (x and y arrive as two change events of one
// message), a transition asked by any of them kept.

/** `schedule(opts)` for `draw(opts)` (async); a failed draw goes to `onError`; `onBusy(true)`
 * when draws are asked, `onBusy(false)` once the last has finished (its transition too). */
export function drawQueue(draw, onError, onBusy = () => {}) {
  let pending = null;
  let running = false;
  function scheduleDraw(opts = {}) {
    if (pending) {
      pending.transition = pending.transition || Boolean(opts.transition);
      return;
    }
    pending = { transition: Boolean(opts.transition) };
    onBusy(true);
    if (!running) queueMicrotask(runDraws);
  }
  async function runDraws() {
    running = true;
    while (pending) {
      const o = pending;
      pending = null;
      try {
        await draw(o);
      } catch (err) {
        onError(err);
      }
    }
    running = false;
    onBusy(false);
  }
  return scheduleDraw;
}
