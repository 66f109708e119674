"""How long a process's threads are held up: the kernel-responsiveness probe of issue 12.

:class:`StallProbe` ticks every 5 ms on its own thread; its ``max_gap`` is the longest wait
between two ticks beyond the 5 ms (a numba compile holding the GIL shows as seconds).
``python -m nbperceive.stall`` runs the same probe in a process that does nothing else, the
control for a shared machine's own scheduling gaps: it prints its ``max_gap`` in seconds when
its standard input closes. Used by benchmarks/scale.py and tests/test_projection.py.
"""

from __future__ import annotations

import sys
import threading
import time

TICK = 0.005  # s


class StallProbe(threading.Thread):
    """Ticks every 5 ms; ``max_gap`` is the longest time between two ticks beyond the tick,
    in s, and ``at`` when it ended (s after the start). Stop it with :meth:`stop`."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.max_gap = 0.0
        self.at = 0.0
        self.running = True

    def run(self) -> None:
        start = last = time.perf_counter()
        while self.running:
            time.sleep(TICK)
            now = time.perf_counter()
            if now - last - TICK > self.max_gap:
                self.max_gap, self.at = now - last - TICK, now - start
            last = now

    def stop(self) -> float:
        """Stop ticking; the longest gap, s."""
        self.running = False
        self.join()
        return self.max_gap


if __name__ == "__main__":
    probe = StallProbe()
    probe.start()
    sys.stdin.read()
    print(probe.stop())
