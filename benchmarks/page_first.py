"""Plain Voila, an explorer of a large run: navigation -> points painted, with the page drawn
first (as shipped: the background analyses wait for the view's first frame) and without
(``background.PAGE_WAIT = 0``: the label-error ranking starts when the cell ends).

    .venv/bin/python benchmarks/page_first.py [--run DIR] [--repeat 4]

``--run``: a recorded run (default: the 1M-sample run ``benchmarks/scale.py`` records,
``/tmp/nbp-scale/fashion-1000000``; its neighbour graph cached, as a run's is once ranked).
The two modes alternate, each a fresh Voila server and kernel serving the notebook
``ex = nbp.Explorer(run); ex`` (one cell) to headless Chromium (software GL); medians and
their ratio are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser tests' Chromium flags and Voila server

NO_WAIT = "from nbperceive.projection import background\nbackground.PAGE_WAIT = 0\n"


def painted(browser, run: Path, n: int, wait: bool) -> float:
    """s from navigation to all ``n`` points on the canvas, in a fresh Voila."""
    from browser import servers

    with tempfile.TemporaryDirectory() as tmp:
        cell = ("" if wait else NO_WAIT) + (
            f"import nbperceive as nbp\nex = nbp.Explorer({str(run)!r})\nex")
        with servers.voila_server(servers.write_notebook(Path(tmp), [cell])) as srv:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(srv.url + "/", timeout=600_000)
            page.wait_for_selector(f".nbp-pop[data-painted='{n}']", timeout=600_000)
            took = time.perf_counter() - t0
            page.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("/tmp/nbp-scale/fashion-1000000"))
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    from browser import servers
    from playwright.sync_api import sync_playwright

    import nbperceive as nbp

    n = len(nbp.open_run(args.run).samples)
    got: dict[str, list[float]] = {"page first": [], "no wait": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=servers.CHROMIUM, headless=True,
                                    args=servers.CHROMIUM_ARGS)
        for _ in range(args.repeat):
            for mode in got:
                got[mode].append(painted(browser, args.run, n, wait=mode == "page first"))
        browser.close()
    med = {mode: statistics.median(v) for mode, v in got.items()}
    for mode, v in got.items():
        print(f"{mode:10s} navigation -> painted, s: {', '.join(f'{x:.2f}' for x in v)}"
              f" (median {med[mode]:.2f})")
    print(f"{n:,} samples: page first / no wait = {med['page first'] / med['no wait']:.2f}x")


if __name__ == "__main__":
    main()
