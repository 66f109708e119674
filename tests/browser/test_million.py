"""A live PopulationView of 1,000,000 points in real Chromium, served by real Voila (issue 12).

Generated points (the analysis stages of benchmarks/scale.py use real vectors; the scatter's
job is the same at any source): a million in a Gaussian cloud, plus two samples placed alone
at the edges, so the sample under the pointer is known. What a user notices is asserted (the
hover card names the hovered sample, a click reaches the kernel's ``selected``, which the
details panel follows); speed is measured in benchmarks/scatter.py, not here.
"""

from __future__ import annotations

import pytest

from . import servers
from .test_population import screen_point

pytestmark = [pytest.mark.browser, pytest.mark.slow]

N = 1_000_000
ALONE = (123_456, 654_321)  # samples placed away from the cloud
CELLS = [
    f"""import numpy as np, pandas as pd
import nbperceive as nbp
rng = np.random.default_rng(0)
xy = rng.normal(size=({N}, 2)).astype(np.float32)
xy[{ALONE[0]}] = (9.0, 9.0)
xy[{ALONE[1]}] = (-9.0, 9.0)
df = pd.DataFrame({{"x": xy[:, 0], "y": xy[:, 1], "label": rng.integers(0, 10, {N}),
                   "loss": rng.exponential(size={N}).astype(np.float32)}})
view = nbp.PopulationView(df, title="a million")
view""",
]


def _hover(page, index: int) -> None:
    page.mouse.move(2, 2)
    page.mouse.move(*screen_point(page, index))
    page.wait_for_function(
        "(i) => document.querySelector('.nbp-tip-title')?.textContent === `sample ${i}` && "
        "document.querySelector('.nbp-tip').style.display !== 'none'", arg=index,
        timeout=30_000)


def test_hover_and_click_at_a_million_points(browser, tmp_path):
    rec = tmp_path / "traits.json"
    nb = servers.write_notebook(
        tmp_path, CELLS + [servers.trait_recorder_source("view", ["selected"], rec)])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    with servers.voila_server(nb, timeout=120) as server:
        page.goto(server.url + "/", timeout=120_000)
        # the points are painted before their KD-tree is built (a worker): a pointer resting
        # on a sample meanwhile gets its card once the tree is in
        page.wait_for_selector(f".nbp-pop[data-painted='{N}']", timeout=120_000)
        _hover(page, ALONE[0])
        page.wait_for_selector(".nbp-pop[data-draws]", timeout=120_000)
        assert page.locator(".nbp-pop").get_attribute("data-points") == str(N)
        for index in ALONE:
            _hover(page, index)  # the card names the sample under the pointer
            page.mouse.down()
            page.mouse.up()
            got = servers.wait_for_file_json(rec, lambda d, i=index: d["selected"] == i,
                                             timeout=60)
            assert got["selected"] == index  # the kernel (and the details panel) follow
        # in the dense middle, a click selects the sample whose card shows (regl-scatterplot
        # finds the hovered and the clicked point apart; they used to differ there)
        box = page.locator(".nbp-plot canvas").first.bounding_box()
        page.mouse.move(2, 2)
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function("() => document.querySelector('.nbp-tip')?.style.display"
                               " === 'block'", timeout=30_000)
        shown = int(page.locator(".nbp-tip-title").inner_text().split()[-1])
        page.mouse.down()
        page.mouse.up()
        got = servers.wait_for_file_json(rec, lambda d: d["selected"] not in (-1, *ALONE),
                                         timeout=60)
        assert got["selected"] == shown
        servers.screenshot(page, "million-hover-click")
    context.close()
    assert not errors, errors
