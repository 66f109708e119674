"""notebooks/05_report.ipynb served by Voila, as a user would publish it, in real Chromium.

The notebook as shipped (MNIST CNN trained with the callback), served as its first cell says
(``--preheat_kernel``: Voila runs it in a pooled kernel before the page is asked for): the
report renders from that kernel, and clicking a dot moves the details and the inspector to
that digit, whose heatmap the kernel computes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from . import servers
from .test_explorer import ISOLATED_JS, _png
from .test_population import click_point

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_report.ipynb"


def test_the_shipped_report_notebook_is_interactive_in_voila(browser, tmp_path):
    nb = Path(shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name))  # it writes runs/ beside it
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    try:
        with servers.voila_server(nb, preheat=True) as server:
            page.goto(server.url + "/", timeout=300_000)  # Voila trains the CNN first
            page.wait_for_selector(".nbp-pop[data-draws]", timeout=240_000)
            page.wait_for_function(  # no sample is shown before one is clicked
                "() => document.querySelector('.nbp-inspector .nbp-status')?.textContent"
                ".startsWith('no sample selected')", timeout=60_000)
            assert page.locator("h1").first.inner_text().startswith("nbperceive report")
            assert "Downloading data" not in page.inner_text("body")  # no loader chatter
            i = [j for j in page.evaluate(ISOLATED_JS) if j != 0][0]
            click_point(page, i)
            page.wait_for_function(
                "(i) => document.querySelector('.nbp-details')?.textContent"
                ".includes(`sample${i}`)", arg=i, timeout=30_000)
            page.wait_for_function(
                "(i) => document.querySelector('.nbp-inspector input[type=number]')?.value == i",
                arg=i, timeout=60_000)
            page.wait_for_function(  # the kernel's heatmaps arrived
                "() => !document.querySelector('.nbp-inspector .nbp-status')?.textContent",
                timeout=60_000)
            canvas = page.locator(".nbp-inspector canvas").first
            canvas.wait_for(timeout=30_000)
            assert _png(canvas).std() > 10  # that sample's maps are drawn
            servers.screenshot(page, "voila-05-report")
            assert "Using pre-heated kernel" in server.log_path.read_text(errors="replace")
    finally:
        context.close()
