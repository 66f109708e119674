"""A whole notebook exported by ``nbperceive html --execute``, opened offline in Chromium.

The notebook is executed for real (nbclient, a real kernel), its widget state stored, and the
page opened from file:// with every network request blocked: the markdown, the printed text and
the PopulationView must all be there, the scatter drawn and its hover previews working (they
travel inline because the export asks the widget for them).
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from . import servers
from .test_population import ISOLATED_JS, screen_point
from .test_report import offline_page, pixels

pytestmark = pytest.mark.browser

XSS = "<script>window.__xss=1</script>"
CELLS = [
    nbformat.v4.new_markdown_cell("# Digits population\nA PCA of sklearn digits."),
    nbformat.v4.new_code_cell(f"""import numpy as np, pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
import nbperceive as nbp
d = load_digits()
xy = PCA(2, random_state=0).fit_transform(d.data)
df = pd.DataFrame({{"x": xy[:, 0], "y": xy[:, 1], "label": d.target, "note": [{XSS!r}] * len(xy)}})
images = (d.images * 16).clip(0, 255).astype(np.uint8)
view = nbp.PopulationView(df, color="label", preview=nbp.images(images))
view"""),
    nbformat.v4.new_code_cell(f"print({XSS!r}, len(df))"),
]


@pytest.fixture(scope="module")
def notebook_page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nb-html")
    nb = nbformat.v4.new_notebook()
    nb.cells = CELLS
    path = tmp / "digits.ipynb"
    nbformat.write(nb, path)
    subprocess.run([sys.executable, "-m", "nbperceive.cli", "html", str(path), "--execute"],
                   check=True, timeout=600, capture_output=True)
    return tmp / "digits.html"


def test_exported_notebook_runs_its_widgets_offline(browser, notebook_page):
    with offline_page(browser, notebook_page) as page:
        page.wait_for_selector(".nbp-pop[data-draws]", timeout=60_000)
        assert page.locator("h1").first.inner_text().startswith("Digits population")
        # the printed sample text is text, and so is the legend's
        assert f"{XSS} 1797" in page.locator(".jp-OutputArea-output pre").last.inner_text()
        servers.wait_for_frames(page)
        canvas = page.locator(".nbp-plot canvas").first
        assert (pixels(canvas).min(axis=-1) < 200).sum() > 2_000, "the scatter looks blank"
        # 1,797 samples: previews come inline only because the export asked for them
        i = page.evaluate(ISOLATED_JS)[0]
        page.mouse.move(*screen_point(page, i))
        page.wait_for_function(
            "(i) => document.querySelector('.nbp-tip-title')?.textContent === `sample ${i}`",
            arg=i, timeout=10_000)
        page.locator(".nbp-tip img.nbp-thumb").wait_for(timeout=10_000)
        servers.screenshot(page, "notebook-html")
