"""The Explorer in real Chromium through Voila: click a dot, the details and inspector follow."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from . import servers
from .test_population import ISOLATED_JS as _ISOLATED_WIDE
from .test_population import canvas_pixels, click_point
from .test_report import LONG, check_long_value_stays_responsive

pytestmark = pytest.mark.browser

# isolated points anywhere on the (narrower) explorer canvas, not only left of a legend
ISOLATED_JS = _ISOLATED_WIDE.replace("x > w - 300", "x > w - 20")

CELLS = [
    """import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np, pandas as pd, keras
import nbperceive as nbp
d = nbp.datasets.digits()
x, y = d.x[..., None], d.y
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((8, 8, 1)),
    keras.layers.Conv2D(8, 3, activation="relu", padding="same", name="conv1"),
    keras.layers.Conv2D(16, 3, activation="relu", padding="same", name="conv2"),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dense(10, activation="softmax", name="out"),
])
model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
note = np.array(["<script>window.__xss=1</script>", "<img src=x onerror='window.__xss=2'>"]
                * 150)
p = nbp.Perceiver(model, probe=(x[:300], y[:300]), metadata={"note": note},
                  preview=nbp.images((d.x[:300] * 255).astype(np.uint8)),
                  run_dir=f"run-{os.getpid()}",  # a page opened again runs it again
                  class_names=d.class_names)
model.fit(x, y, epochs=4, verbose=0, callbacks=[p.callback()])
ex = nbp.Explorer(p)
ex""",
]


# a user saving the page after clicking a confusion cell (bqplot's cell list made every later
# save raise): the kernel saves on the click and writes what happened
SAVE_AFTER_CELL = """import json, pathlib
def _save_after_cell(change):
    try:
        ex.save_html({page!r})
        out = {{"saved": True}}
    except Exception as err:
        out = {{"saved": False, "error": repr(err)}}
    pathlib.Path({out!r}).write_text(json.dumps(out))
ex.selection_view.grid.observe(_save_after_cell, names="selected")"""


def _png(locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).astype(int)


@pytest.fixture(scope="module")
def explorer_page(browser, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("voila-explorer")
    rec = tmp / "traits.json"
    # one 1 MB metadata value, on the first suspect (the test clicks it in the list)
    long_cell = ("ex.wait_for_suspects()\n_long = np.array(['short'] * 300, dtype=object)\n"
                 f"_long[ex.suspects.ids[0]] = ''.join(f'word{{k}} ' for k in range({LONG} // 8))"
                 f"[:{LONG}]\n"
                 "ex.add_metadata('long', _long)")
    nb = servers.write_notebook(tmp, CELLS + [long_cell,
        servers.trait_recorder_source("ex.inspector", ["sample", "shown", "model_epoch"], rec),
        servers.trait_recorder_source("ex.population", ["selection"], tmp / "selection.json"),
        SAVE_AFTER_CELL.format(out=str(tmp / "saved.json"), page=str(tmp / "after-cell.html"))])
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    with servers.voila_server(nb) as server:
        page.goto(server.url + "/", timeout=180_000)  # Voila runs the notebook first
        page.wait_for_selector(".nbp-pop[data-draws]", timeout=120_000)
        page.wait_for_selector(".nbp-inspector .nbp-status", timeout=60_000)
        yield page, rec
        servers.screenshot(page, "explorer-voila-end")
    context.close()


def test_clicking_a_dot_analyses_that_sample(explorer_page):
    page, rec = explorer_page
    servers.screenshot(page, "explorer-voila-start")
    # the points were drawn once: no view around the plot resized it after its first frame
    # (a second frame of every point cost 1.35 s at 1M in software WebGL, on opening)
    servers.wait_for_frames(page, 10)
    assert page.evaluate("() => document.querySelector('.nbp-pop').dataset.frames") == "1"
    # nothing clicked yet: no view shows a sample (the inspector used to show sample 0)
    assert page.locator(".nbp-inspector .nbp-status").inner_text().startswith(
        "no sample selected")
    assert not page.locator(".nbp-inspector .nbp-panels").is_visible()
    candidates = [i for i in page.evaluate(ISOLATED_JS) if i != 0]
    i = candidates[0]
    click_point(page, i)
    # front-end link: scatter.selected -> inspector.sample; the kernel computes its heatmaps
    servers.wait_for_file_json(rec, lambda d: d["shown"] == i, timeout=60)
    page.wait_for_function(
        "(i) => document.querySelector('.nbp-details')?.textContent.includes(`sample${i}`)",
        arg=i, timeout=30_000)
    # the details are answered while the maps are made (on the inspector's worker): the page
    # paints sample i's maps a message later than the kernel's `shown` says so
    page.wait_for_selector(f".nbp-inspector[data-shown='{i}']", state="attached",
                           timeout=30_000)
    canvas = page.locator(".nbp-inspector canvas").first
    canvas.wait_for(timeout=30_000)
    assert _png(canvas).std() > 10  # the sample's maps are drawn
    servers.screenshot(page, "explorer-after-click")


@pytest.mark.parametrize("width", [800, 1400, 1920])
def test_a_selection_never_resizes_the_plot(explorer_page, width):
    """The status line says more once a sample is selected (and while a layout computes); were
    the plot, which fills its grid cell, to give it another line, the canvas would shrink and
    every point be drawn again: ~0.7 s at 1M points in software WebGL, the details' answer
    waiting behind it (the first click after opening took 1.2-1.9 s at 1M). Its parts keep
    one line each at every width, their whole text on hover."""
    page, rec = explorer_page
    selection = rec.parent / "selection.json"  # the population's, recorded by the fixture
    canvas = ("() => { const r = document.querySelector('.nbp-plot canvas')"
              ".getBoundingClientRect(); return [r.width, r.height]; }")
    frames = "() => Number(document.querySelector('.nbp-pop').dataset.frames)"
    page.set_viewport_size({"width": width, "height": 1100})
    try:
        page.wait_for_function(f"() => document.documentElement.clientWidth <= {width}")
        page.locator(".nbp-plot canvas").first.scroll_into_view_if_needed()
        page.locator(".nbp-plot").first.hover(position={"x": 3, "y": 3})
        page.keyboard.press("Escape")
        servers.wait_for_file_json(selection, lambda d: d["selection"] == [])
        page.wait_for_function("() => !document.querySelector('.nbp-pop').dataset.moving")
        servers.wait_for_frames(page, 10)  # the resize's own frame painted
        before, drawn = page.evaluate(canvas), page.evaluate(frames)
        i = page.evaluate(ISOLATED_JS)[0]
        click_point(page, i)
        servers.wait_for_file_json(selection, lambda d: d["selection"] == [i])
        page.wait_for_function(f"() => document.querySelector('.nbp-pop .nbp-status')"
                               f".textContent.includes('sample {i} selected')")
        servers.wait_for_frames(page, 10)
        assert page.evaluate(canvas) == before
        assert page.evaluate(frames) == drawn  # no frame of the points drawn for the click
        for part in (".nbp-status-state", ".nbp-status-hint"):
            shown = page.locator(f".nbp-pop {part}").first
            assert shown.get_attribute("title") == shown.text_content()
    finally:
        page.set_viewport_size({"width": 1500, "height": 1100})


def test_metadata_text_shows_as_text(explorer_page):
    page, rec = explorer_page
    for i in page.evaluate(ISOLATED_JS)[:2]:  # even samples hold a <script>, odd an <img>
        note = ("<script>window.__xss=1</script>" if i % 2 == 0
                else "<img src=x onerror='window.__xss=2'>")
        click_point(page, i)
        page.wait_for_function(
            "(i) => document.querySelector('.nbp-details')?.textContent.includes(`sample${i}`)",
            arg=i, timeout=30_000)
        assert note in page.locator(".nbp-details").inner_text()
    servers.wait_for_error_events(page)  # an injected onerror would have run by now
    assert page.evaluate("() => window.__xss") is None


CELL_COUNTS_JS = ("() => Array.from(document.querySelectorAll('.heatmapcell_label'),"
                  " (t) => Number(t.textContent))")


def test_a_confusion_cell_selects_its_samples_in_python(explorer_page):
    page, rec = explorer_page
    import nbperceive as nbp

    counts = page.evaluate(CELL_COUNTS_JS)
    k = max(range(len(counts)), key=lambda j: (0 < counts[j] < max(counts), counts[j]))
    page.locator(".heatmapcell").nth(k).click()
    got = servers.wait_for_file_json(rec.parent / "selection.json",
                                     lambda d: len(d["selection"]) == counts[k], timeout=30)
    # the run of the page under test (the first one written; a page opened again writes its own)
    run_dir = min(rec.parent.glob("run-*"), key=lambda p: p.stat().st_mtime)
    table = nbp.open_run(run_dir).snapshot().table
    chosen = table.iloc[got["selection"]]
    pairs = set(zip(chosen.label, chosen.pred))
    assert len(pairs) == 1  # one cell: one (label, prediction) pair ...
    (label, pred), = pairs
    every = np.flatnonzero((table.label == label) & (table.pred == pred))
    assert sorted(got["selection"]) == every.tolist()  # ... and all of its samples
    summary = page.locator(".nbp-selection .nbp-summary").inner_text()
    assert summary.startswith(f"{counts[k]} samples")
    saved = servers.wait_for_file_json(rec.parent / "saved.json", lambda d: "saved" in d,
                                       timeout=60)
    assert saved["saved"], saved  # the page can still be saved after the click
    # the table's rows come from the kernel on request (rows on demand): wait for them
    page.wait_for_function("(n) => document.querySelectorAll('.nbp-selection tr').length - 1"
                           " === n", arg=min(counts[k], 200), timeout=30_000)
    servers.screenshot(page, "explorer-voila-cell")


def test_a_1mb_value_does_not_freeze_the_live_page(explorer_page):
    page, _ = explorer_page
    first = int(page.locator(".nbp-samples .nbp-sample").first.get_attribute("data-sample"))
    check_long_value_stays_responsive(page, first)


def test_curves_and_confusion_matrix_are_drawn(explorer_page):
    page, _ = explorer_page
    # bqplot draws the figures as SVG: one line per series, one cell per class pair
    assert page.locator(".nbp-explorer svg .line").count() >= 2
    assert page.locator(".nbp-explorer svg rect").count() >= 100


SCRUB_JS = """(e) => {
    const input = document.querySelector('.nbp-epoch input');
    input.value = String(e);
    input.dispatchEvent(new Event('input'));
    input.dispatchEvent(new Event('change'));
}"""
NOTE = ".nbp-inspector .nbp-epoch-note"


def scrub_and_wait(page, epoch: int, note: str) -> np.ndarray:
    """Move the explorer's epoch scrubber to ``epoch``; wait until the inspector's note says
    ``note``; return the inspector's heatmap canvas as pixels."""
    page.evaluate(SCRUB_JS, epoch)
    page.wait_for_function("([sel, text]) => document.querySelector(sel)?.textContent === text",
                           arg=[NOTE, note], timeout=60_000)
    servers.wait_for_frames(page)  # the canvas is drawn in the task that writes the note
    return _png(page.locator(".nbp-inspector canvas").first)


def test_the_epoch_scrubber_moves_the_inspectors_heatmaps(explorer_page):
    """Live: the kernel recomputes the shown sample's maps with the weights of the epoch the
    scrubber shows, and the inspector names that epoch."""
    page, rec = explorer_page
    i = [j for j in page.evaluate(ISOLATED_JS) if j != 0][1]
    click_point(page, i)
    servers.wait_for_file_json(rec, lambda d: d["shown"] == i, timeout=60)
    # the page paints sample i's maps (the kernel's `shown` reaches it a message later)
    page.wait_for_selector(f".nbp-inspector[data-shown='{i}']", state="attached",
                           timeout=30_000)
    last = scrub_and_wait(page, 4, "Heatmaps of the model after epoch 4.")
    first = scrub_and_wait(page, 0, "Heatmaps of the model after epoch 0.")
    assert servers.wait_for_file_json(rec, lambda d: d["model_epoch"] == 0, timeout=30)
    assert np.abs(first - last).max() > 40, "epoch 0's heatmap looks like epoch 4's"
    servers.screenshot(page, "explorer-voila-inspector-epoch0")
    again = scrub_and_wait(page, 4, "Heatmaps of the model after epoch 4.")
    assert np.abs(again - last).max() <= 2  # the same maps as before, from the cache


def test_in_jupyterlab_a_click_reaches_the_inspector_and_python(page, lab):
    lab(CELLS)
    page.wait_for_selector(".jp-OutputArea-output .nbp-pop[data-draws]", timeout=120_000)
    page.wait_for_selector(".jp-OutputArea-output .nbp-inspector .nbp-status", timeout=60_000)
    page.locator(".nbp-plot canvas").first.scroll_into_view_if_needed()
    servers.screenshot(page, "explorer-lab-start")
    assert (canvas_pixels(page).min(axis=-1) < 200).sum() > 500  # points are drawn
    i = [j for j in page.evaluate(ISOLATED_JS) if j != 0][0]
    click_point(page, i)
    page.wait_for_function(
        "(i) => document.querySelector('.nbp-details')?.textContent.includes(`sample${i}`)",
        arg=i, timeout=30_000)
    # the page's change reaches the kernel a message later
    assert servers.kernel_sees(lab.eval_json, "int(ex.population.selected)", i) == i
    # the front-end link moved the inspector to the same sample, and the kernel analysed it
    deadline_js = "(i) => document.querySelector('.nbp-inspector input[type=number]')?.value == i"
    page.wait_for_function(deadline_js, arg=i, timeout=60_000)
    assert servers.kernel_sees(lab.eval_json, "int(ex.inspector.sample)", i) == i
    servers.screenshot(page, "explorer-lab")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_voila_explorer_reflows_legibly_at_every_width(explorer_page, theme):
    """Voila's light and dark themes (``?theme=dark``) at 800, 1400 and 1920 px: no panel
    overlaps another or leaves the explorer, the confusion matrix keeps its 100 cells, every
    point is on the canvas, the views' text keeps 4.5:1, and the page logs no error."""
    from .test_explorer_lab import (
        CONTRAST_JS,
        FIGURE_FITS_JS,
        OFF_CANVAS_JS,
        OVERLAP_JS,
        PANELS,
        WIDGETS,
    )

    page, _ = explorer_page
    target = page if theme == "light" else page.context.new_page()
    errors: list[str] = []
    target.on("pageerror", lambda e: errors.append(str(e)))
    # (Voila's template asks a CDN for MathJax: the sandbox has no network, not our error)
    target.on("console", lambda m: m.type == "error" and "127.0.0.1" in m.location["url"]
              and errors.append(m.text))
    try:
        if theme == "dark":
            target.goto(page.url.split("?")[0] + "?theme=dark", timeout=180_000)
            target.wait_for_selector(".nbp-pop[data-draws]", timeout=120_000)
            target.wait_for_selector(".nbp-inspector .nbp-status", timeout=60_000)
        assert target.evaluate("() => document.body.dataset.jpThemeLight") == str(
            theme == "light").lower()
        for width in (800, 1400, 1920):
            target.set_viewport_size({"width": width, "height": 1100})
            target.wait_for_function(f"() => document.documentElement.clientWidth <= {width}")
            figures = target.locator(".nbp-explorer .bqplot")
            for k in range(figures.count()):
                figures.nth(k).scroll_into_view_if_needed()
                figures.nth(k).evaluate(FIGURE_FITS_JS, timeout=10_000)
            target.wait_for_function(
                f"(sel) => {{ const g = ({OVERLAP_JS})(sel); return g.cellsOut === 0"
                " && g.overlaps.length === 0 && g.outside.length === 0; }", arg=PANELS,
                timeout=10_000)
            got = target.evaluate(OVERLAP_JS, PANELS)
            assert got["panels"] >= 8 and got["cells"] == 100, got
            target.locator(".nbp-plot canvas").first.scroll_into_view_if_needed()
            target.wait_for_function(f"() => ({OFF_CANVAS_JS})()[0].off === 0", timeout=10_000)
            contrast = target.evaluate(CONTRAST_JS, WIDGETS)
            print(f"Voila {theme} {width} px: worst text contrast", contrast["worst"][:1])
            assert contrast["count"] > 30 and contrast["worst"][0]["ratio"] >= 4.5, \
                contrast["worst"]
            servers.screenshot(target, f"explorer-voila-{theme}-{width}")
    finally:
        if theme == "light":
            page.set_viewport_size({"width": 1500, "height": 1100})
        else:
            target.close()
    assert errors == []
