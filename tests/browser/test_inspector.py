"""The Inspector in real Chromium through Voila, fed by real small Keras models.

* digits CNN: moving the depth slider, switching the label and switching the method change the
  overlay pixels; the kernel sees the method change and recomputes (new method in its traits);
  the faithfulness scores beside the map follow the depth; the method list is the registry's.
  A second Inspector on the same model: a flat GradCAM map (its deepest conv layer leaves
  nothing for most labels after the ReLU) says so beside the depth, the sample still shows.
* movie-review sentences, a Dense and a CNN model compared side by side: tokens that look like
  markup are shown as text, never run or parsed.
* the colour bar's numbers are the kernel's raw range of the shown map; switched to integrated
  gradients (a signed method) the map paints red where the kernel's signed map is for the
  label and blue where it is against it; a saved page shows the same numbers.
"""

from __future__ import annotations

import pytest

from . import servers

pytestmark = pytest.mark.browser

DIGITS_CELLS = [
    r'''
import numpy as np, keras
from sklearn.datasets import load_digits
from nbperceive.widgets.inspector import Inspector
keras.utils.set_random_seed(0)
d = load_digits()
x = np.kron(d.images, np.ones((2, 2)))[..., None].astype("float32") / 16.0   # 16x16 digits
y = d.target
model = keras.Sequential([
    keras.Input((16, 16, 1)),
    keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a"),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_b"),
    keras.layers.MaxPooling2D(name="pool"),
    keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_c"),
    keras.layers.Flatten(name="flat"),
    keras.layers.Dense(10, activation="softmax", name="out"),
], name="digits_cnn")
model.compile(keras.optimizers.Adam(0.003), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x[:1500], y[:1500], epochs=5, batch_size=32, verbose=0)
w = Inspector(model, x[1500:1520], y_true=y[1500:1520], class_names=[str(i) for i in range(10)],
              method="gradcam", faithfulness=True)
w
''',
]

TEXT_CELLS = [
    r'''
import numpy as np, keras
from nbperceive.datasets import movie_reviews
from nbperceive.widgets.inspector import Inspector
keras.utils.set_random_seed(0)
reviews = movie_reviews()
texts = [t.lower() for t in reviews.x[:3000]]
labels = reviews.y[:3000]
T = 24
vec = keras.layers.TextVectorization(max_tokens=3000, output_sequence_length=T,
                                     standardize="lower", split="whitespace")
vec.adapt(texts)
ids = vec(np.array(texts)).numpy()
def text_model(kind):
    inp = keras.Input((T,), dtype="int32", name="ids")
    h = keras.layers.Embedding(3000, 16, name="embedding")(inp)
    if kind == "cnn":
        h = keras.layers.Conv1D(16, 3, padding="same", activation="relu", name="conv1")(h)
        h = keras.layers.Conv1D(16, 3, padding="same", activation="relu", name="conv2")(h)
        h = keras.layers.GlobalMaxPooling1D(name="pool")(h)
    else:
        h = keras.layers.GlobalAveragePooling1D(name="pool")(h)
        h = keras.layers.Dense(16, activation="relu", name="dense")(h)
    out = keras.layers.Dense(2, activation="softmax", name="out")(h)
    m = keras.Model(inp, out, name=f"{kind}_review")
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(ids, labels, epochs=2, batch_size=64, verbose=0)
    return m
dense, cnn = text_model("dense"), text_model("cnn")
review = ("a <script>window.__pwned = 1</script> gorgeous , moving film "
          "<img src=x onerror=window.__pwned=2> .")
tokens = review.split()
probe_ids = vec(np.array([review])).numpy()
w = Inspector.compare(dense, cnn, probe_ids, tokens=[tokens], y_true=[1],
                      class_names=["negative", "positive"], method="layercam")
w
''',
]

# a third Inspector on the digits CNN, and what the kernel says its maps are: each label's
# GradCAM peak at conv_a (the input's 16x16, so no resampling between it and the page) and
# the integrated-gradients signed map of sample 0
SCALE_CELL = r'''
import json, pathlib
import nbperceive as nbp
scaled = Inspector(model, x[1500:1520], y_true=y[1500:1520],
                   class_names=[str(i) for i in range(10)], method="gradcam")
_g = nbp.explain(model, x[1500:1501], method="gradcam")
_ig = nbp.explain(model, x[1500:1501], method="integrated_gradients")
pathlib.Path({path!r}).write_text(json.dumps({{
    "layers": _g.layers, "gradcam_peaks": _g.heatmaps[0, 0].reshape(10, -1).max(1).tolist(),
    "signed": _ig.signed()[0, 0].tolist()}}))
scaled
'''

BROKEN_CELLS = [
    r'''
from nbperceive.attribution.result import Explanation
e = Explanation("gradcam", np.zeros((1, 1, 1, 4, 4), "float32"), ["conv"], [1], [0], "img",
                "image", np.array([[1.0]], "float32"))
broken = Inspector.from_explanation(e, np.zeros((4, 4), "float32"))
bad = dict(broken.panels[0], heatmaps={"view": b"\x00" * 5, "dtype": "uint8", "shape": [2, 3, 4]})
broken.panels = [bad]   # a state the view cannot draw
broken
''',
]

FLAT_CELLS = [
    r'''
flat = Inspector(model, x[1500:1520], y_true=y[1500:1520], class_names=[str(i) for i in range(10)],
                 method="gradcam")
flat
''',
]


def _canvas_pixels(page, panel=0):
    return page.evaluate(
        """(i) => {
          const c = document.querySelectorAll('.nbp-inspector canvas.nbp-view')[i];
          return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
        }""",
        panel,
    )


def _changed(before, after):
    """How many RGBA values differ by more than a rounding step."""
    return sum(abs(a - b) > 2 for a, b in zip(before, after, strict=True))


def _wait_pixels_change(page, before, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _canvas_pixels(page)
        if _changed(before, now) > 0:
            return now
        time.sleep(0.2)
    raise AssertionError("the overlay never changed")


@pytest.fixture(scope="module")
def served(browser, tmp_path_factory):
    """One Voila page holding both notebooks' widgets (one kernel: TensorFlow loads once)."""
    d = tmp_path_factory.mktemp("inspector")
    rec = d / "traits.json"
    recorder = servers.trait_recorder_source("w", ["method", "depth", "label", "sample"], rec)
    scale = d / "scale.json"
    nb = servers.write_notebook(d, DIGITS_CELLS + [recorder] + TEXT_CELLS
                                 + [SCALE_CELL.format(path=str(scale))] + BROKEN_CELLS
                                 + FLAT_CELLS)
    with servers.voila_server(nb) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.console_errors = []
        page.scale_file = scale  # what the kernel says the third Inspector's maps are
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))
        page.goto(server.url + "/", timeout=300_000)
        page.locator(".nbp-js-error").first.wait_for(timeout=120_000)
        yield page, rec
        context.close()


def _shot(locator, name):
    servers.ARTIFACTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(servers.ARTIFACTS / f"{name}.png"))


def test_depth_label_and_method_change_the_overlay(served):
    page, rec = served
    insp = page.locator(".nbp-inspector").first
    insp.locator("canvas.nbp-view").wait_for(timeout=60_000)
    first = servers.wait_for_file_json(rec, lambda d: d["method"] == "gradcam")
    n_layers = int(insp.locator(".nbp-depth-slider").get_attribute("max")) + 1
    assert n_layers >= 3 and first["depth"] == n_layers - 1  # the deepest layer by default
    assert "conv_c" in insp.locator(".nbp-depth-text").inner_text()
    deep_scores = insp.locator(".nbp-faith").inner_text()
    for name in ("deletion AUC", "insertion AUC", "MuFidelity"):
        assert name in deep_scores
    from nbperceive.attribution.registry import heatmap_methods

    offered = insp.locator(".nbp-select-method option").evaluate_all(
        "(os) => os.map((o) => o.value)")
    assert offered == heatmap_methods("image")  # sent from Python's registry
    truth = insp.locator(".nbp-truth").inner_text()
    assert truth.startswith("ground truth:")
    assert "prediction:" in insp.locator(".nbp-pred").inner_text()
    _shot(insp, "inspector-digits-deepest")
    deepest = _canvas_pixels(page)

    # depth: pure front-end, the new map is drawn at once and the kernel hears of it
    insp.locator(".nbp-depth-slider").fill("0")
    shallow = _canvas_pixels(page)
    assert _changed(deepest, shallow) > 100
    assert "conv_a" in insp.locator(".nbp-depth-text").inner_text()
    # the faithfulness scores beside the map are the shallow map's, not the deep one's
    shallow_scores = insp.locator(".nbp-faith").inner_text()
    assert "deletion AUC" in shallow_scores and shallow_scores != deep_scores
    servers.wait_for_file_json(rec, lambda d: d["depth"] == 0)
    _shot(insp, "inspector-digits-shallow")

    # label: another class's map at the same depth
    other = "3" if first["label"] != 3 else "5"
    insp.locator(".nbp-select-label").select_option(other)
    assert _changed(shallow, _canvas_pixels(page)) > 100
    servers.wait_for_file_json(rec, lambda d: d["label"] == int(other))

    # colormap and opacity: redrawn in the page; opacity 0 shows the bare (gray) digit
    coloured = _canvas_pixels(page)
    insp.locator(".nbp-select-colormap").select_option("gray")
    assert _changed(coloured, _canvas_pixels(page)) > 100
    insp.locator(".nbp-controls input[type=range]").fill("0")
    bare = _canvas_pixels(page)
    rgb = [bare[i:i + 3] for i in range(0, len(bare), 4)]
    assert all(r == g == b for r, g, b in rgb) and len({r for r, _, _ in rgb}) > 2
    insp.locator(".nbp-controls input[type=range]").fill("0.5")
    insp.locator(".nbp-select-colormap").select_option("inferno")

    # method: the kernel recomputes with nbp.explain and sends new maps
    before = _canvas_pixels(page)
    insp.locator(".nbp-select-method").select_option("layercam")
    servers.wait_for_file_json(rec, lambda d: d["method"] == "layercam", timeout=60)
    _wait_pixels_change(page, before)
    assert insp.locator(".nbp-error").is_hidden()
    _shot(insp, "inspector-digits-layercam")

    # next sample: recomputed in the kernel, new ground truth shown
    insp.locator(".nbp-controls button").nth(1).click()
    servers.wait_for_file_json(rec, lambda d: d["sample"] == 1, timeout=60)
    page.wait_for_function(
        "(t) => document.querySelector('.nbp-truth').innerText !== t", arg=truth, timeout=30_000)
    assert not page.console_errors


def test_compare_text_models_shows_markup_tokens_as_text(served):
    page, _ = served
    insp = page.locator(".nbp-inspector").nth(1)
    panels = insp.locator(".nbp-panel")
    assert panels.count() == 2
    titles = [panels.nth(i).locator(".nbp-title").inner_text() for i in range(2)]
    assert "dense_review" in titles[0] and "cnn_review" in titles[1]
    spans = panels.nth(1).locator(".nbp-token")
    texts = spans.all_inner_texts()
    assert "<script>window.__pwned" in texts and "onerror=window.__pwned=2>" in texts
    # the markup stayed text: no element was made from it and nothing ran
    assert insp.locator("script").count() == 0 and insp.locator("img").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")
    # tokens are coloured by weight: not all the same colour
    colours = [spans.nth(i).evaluate("s => s.style.background") for i in range(spans.count())]
    assert len(set(colours)) > 1
    _shot(insp, "inspector-text-compare")
    # the CNN has several depths over the tokens; moving its slider recolours them
    slider = panels.nth(1).locator(".nbp-depth-slider")
    assert int(slider.get_attribute("max")) >= 2
    slider.fill("0")
    after = [spans.nth(i).evaluate("s => s.style.background") for i in range(spans.count())]
    assert after != colours
    _shot(insp, "inspector-text-compare-shallow")


def test_a_state_the_view_cannot_draw_shows_a_readable_error(served):
    page, _ = served
    box = page.locator(".nbp-js-error")
    assert box.count() == 1  # only the broken widget; the others drew
    assert "could not draw" in box.inner_text() and "does not fit" in box.inner_text()
    assert box.is_visible()


# Whether the canvas' colour is one function of the bare sample's gray value (remembered by
# the first call with `remember`): a map with one value everywhere tints every pixel alike.
_TINT_JS = """([remember]) => {
  const c = [...document.querySelectorAll('.nbp-inspector canvas.nbp-view')].at(-1);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  if (remember) { window.__bare = Array.from(d.filter((_, i) => i % 4 === 0)); return null; }
  const byGray = new Map(), colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const rgb = `${d[i]},${d[i + 1]},${d[i + 2]}`;
    colours.add(rgb);
    const g = window.__bare[i / 4];
    if (!byGray.has(g)) byGray.set(g, new Set());
    byGray.get(g).add(rgb);
  }
  return { colours: colours.size, uniformTint: [...byGray.values()].every((s) => s.size === 1) };
}"""


def test_a_flat_map_says_so_and_still_shows_the_sample(served):
    page, _ = served
    insp = page.locator(".nbp-inspector").last  # the FLAT_CELLS widget
    insp.locator("canvas.nbp-view").wait_for(timeout=60_000)
    text = insp.locator(".nbp-depth-text")
    slider = insp.locator(".nbp-depth-slider")
    deepest = int(slider.get_attribute("max"))
    slider.fill(str(deepest))
    assert "conv_c" in text.inner_text()
    opacity = insp.locator(".nbp-controls input[type=range]")
    opacity.fill("0")  # the bare sample: each pixel's gray value
    page.evaluate(_TINT_JS, [True])
    opacity.fill("0.5")
    flat, evident = [], []
    for label in insp.locator(".nbp-select-label option").evaluate_all(
            "(os) => os.map((o) => o.value)"):
        insp.locator(".nbp-select-label").select_option(label)
        shown = page.evaluate(_TINT_JS, [False])
        note = text.inner_text()
        # the note iff the map on screen is one tint: every pixel of one gray got one colour
        assert ("flat map: no evidence for" in note) == shown["uniformTint"], (label, note)
        if shown["uniformTint"]:
            assert f"no evidence for {label} at this depth" in note
            assert shown["colours"] > 2  # the sample shows through, not one uniform colour
            flat.append(label)
        else:
            evident.append(label)
    assert flat and evident, (flat, evident)  # GradCAM's ReLU left nothing for some labels only
    insp.locator(".nbp-select-label").select_option(flat[0])
    _shot(insp, "inspector-flat-map")
    # a shallower depth has evidence for that label: no note there
    for depth in range(deepest - 1, -1, -1):
        slider.fill(str(depth))
        if not page.evaluate(_TINT_JS, [False])["uniformTint"]:
            assert "flat map" not in text.inner_text()
            break
    else:
        raise AssertionError(f"label {flat[0]} has no evidence at any depth")
    assert not page.console_errors


def _bar_numbers(bar) -> list[float]:
    """The numbers of a colour bar ("0 … 0.0123", "−a · 0 · +a"), as written: no e-notation."""
    import re

    text = bar.inner_text()
    assert not re.search(r"\de[-+]?\d", text), text  # formatNumber never writes 6.8e-5
    found = re.findall(r"[\u2212+-]?\d[\d,]*(?:\.\d+)?", text.split("(")[0])
    return [float(v.replace("\u2212", "-").replace(",", "")) for v in found]


def _close(shown: float, want: float) -> bool:
    """``shown`` is ``want`` written with 3 significant digits."""
    return abs(shown - want) <= 0.0051 * abs(want) + 1e-12


# each 16x16 input pixel's colour on the canvas (it is drawn 16 times larger): [[r, g, b]]
_CELL_COLOURS_JS = """(el) => {
  const c = el.querySelector('canvas.nbp-view');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const step = c.width / 16, out = [];
  for (let r = 0; r < 16; r++) for (let q = 0; q < 16; q++) {
    const i = (Math.floor((r + 0.5) * step) * c.width + Math.floor((q + 0.5) * step)) * 4;
    out.push([d[i], d[i + 1], d[i + 2]]);
  }
  return out;
}"""


def test_colour_bar_shows_the_kernels_raw_range_and_signed_maps_both_signs(served):
    import numpy as np

    page, _ = served
    insp = page.locator(".nbp-inspector").nth(2)  # the SCALE_CELL widget
    insp.locator("canvas.nbp-view").wait_for(timeout=60_000)
    kernel = servers.wait_for_file_json(page.scale_file, timeout=60)
    bar = insp.locator(".nbp-colorbar")
    insp.locator(".nbp-depth-slider").fill("0")
    assert kernel["layers"][0] in insp.locator(".nbp-depth-text").inner_text()
    labels = insp.locator(".nbp-select-label option").evaluate_all("(os) => os.map((o) => o.value)")
    for label in labels[:3]:  # each label's map has its own scale, and the bar says which
        insp.locator(".nbp-select-label").select_option(label)
        lo, hi = _bar_numbers(bar)
        assert lo == 0 and _close(hi, kernel["gradcam_peaks"][int(label)]), (label, hi)
        assert "this map's own scale" in bar.inner_text()
    assert len({round(p, 6) for p in kernel["gradcam_peaks"][:3]}) > 1  # numbers differ
    _shot(insp, "inspector-colorbar-numbers")

    # a signed method: the kernel recomputes, the map is painted signed on one depth
    canvas = insp.locator("canvas.nbp-view")
    pixels = "(c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    before = canvas.evaluate(pixels)
    insp.locator(".nbp-select-method").select_option("integrated_gradients")
    insp.locator(".nbp-colorbar[data-signed='1']").wait_for(timeout=60_000)
    assert _changed(before, canvas.evaluate(pixels)) > 100
    assert insp.locator(".nbp-depth-slider").is_disabled()  # one signed map, at the input
    label = int(insp.locator(".nbp-select-label").input_value())
    signed = np.asarray(kernel["signed"][label])  # (16, 16), the kernel's signed map
    a = float(np.abs(signed).max())
    low, zero, high = _bar_numbers(bar)
    assert zero == 0 and _close(high, a) and _close(low, -a), (low, high, a)
    assert f"red: for {label}, blue: against it" in bar.inner_text()
    rgb = np.asarray(insp.evaluate(_CELL_COLOURS_JS), float).reshape(16, 16, 3)
    redness = rgb[..., 0] - rgb[..., 2]
    strong_for, strong_against = signed > 0.4 * a, signed < -0.4 * a
    assert strong_for.any() and strong_against.any()  # a real sample: both signs
    assert (redness[strong_for] > 10).mean() > 0.9, redness[strong_for]
    assert (redness[strong_against] < -10).mean() > 0.9, redness[strong_against]
    _shot(insp, "inspector-signed-integrated-gradients")
    assert not page.console_errors


@pytest.fixture(scope="module")
def saved_inspector(tmp_path_factory):
    """A saved Inspector page (no kernel) with faithfulness scores for two samples."""
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    from nbperceive.report import save_html
    from nbperceive.widgets.inspector import Inspector

    keras.utils.set_random_seed(0)
    d = load_digits()
    x = np.kron(d.images, np.ones((2, 2)))[..., None].astype("float32") / 16.0
    model = keras.Sequential([
        keras.Input((16, 16, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a"),
        keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x[:1200], d.target[:1200], epochs=5, verbose=0)
    w = Inspector(model, x[1200:1210], y_true=d.target[1200:1210], faithfulness=True)
    w.export_samples = [3]
    path = tmp_path_factory.mktemp("saved-inspector") / "inspector.html"
    save_html(w, path, title="saved inspector")
    # what the kernel's maps of sample 0 are: each label's GradCAM peak at conv_a (the
    # input's size: the page's numbers need no resampling to compare)
    from nbperceive import explain

    heat = explain(model, x[1200:1201], method="gradcam").heatmaps[0, 0]
    return path, heat.reshape(len(heat), -1).max(1).tolist()


def test_saved_page_shows_faithfulness_that_follows_depth_and_sample(browser, saved_inspector):
    from .test_report import offline_page

    with offline_page(browser, saved_inspector[0]) as page:
        insp = page.locator(".nbp-inspector").first
        insp.locator("canvas.nbp-view").wait_for(timeout=60_000)
        faith = insp.locator(".nbp-faith")
        deep = faith.inner_text()
        for name in ("deletion AUC", "insertion AUC", "MuFidelity"):
            assert name in deep
        insp.locator(".nbp-depth-slider").fill("0")
        page.wait_for_function("(t) => document.querySelector('.nbp-faith').innerText !== t",
                               arg=deep, timeout=10_000)
        shallow = faith.inner_text()
        assert "deletion AUC" in shallow
        number = ".nbp-inspector input[type=number]"
        page.locator(number).fill("3")
        page.locator(number).press("Enter")
        page.wait_for_function("(t) => document.querySelector('.nbp-faith').innerText !== t",
                               arg=shallow, timeout=10_000)
        assert "MuFidelity" in faith.inner_text()
        assert "not saved" not in insp.locator(".nbp-status").inner_text()
        _shot(insp, "inspector-saved-faithfulness")


def test_saved_page_colour_bar_shows_the_kernels_numbers(browser, saved_inspector):
    from .test_report import offline_page

    path, peaks = saved_inspector
    with offline_page(browser, path) as page:
        insp = page.locator(".nbp-inspector").first
        insp.locator("canvas.nbp-view").wait_for(timeout=60_000)
        insp.locator(".nbp-depth-slider").fill("0")
        assert "conv_a" in insp.locator(".nbp-depth-text").inner_text()
        for label in ("0", "7"):
            insp.locator(".nbp-select-label").select_option(label)
            lo, hi = _bar_numbers(insp.locator(".nbp-colorbar"))
            assert lo == 0 and _close(hi, peaks[int(label)]), (label, hi, peaks)


@pytest.fixture(scope="module")
def saved_multilabel(tmp_path_factory):
    """A saved Inspector page of a multi-label model (three sigmoids: small digit, even digit,
    digit with a loop) on a sample with two true labels."""
    import numpy as np
    from core.models import LABEL_NAMES as names
    from core.models import digits_multilabel

    from nbperceive.report import save_html
    from nbperceive.widgets.inspector import Inspector

    x, y, model = digits_multilabel()
    model.fit(x[:1200], y[:1200], epochs=5, verbose=0)
    sample = int(np.flatnonzero(y[1200:1210].sum(1) == 2)[0])
    w = Inspector(model, x[1200:1210], y_true=y[1200:1210], class_names=names, sample=sample)
    path = tmp_path_factory.mktemp("saved-multilabel") / "inspector.html"
    save_html(w, path, title="multi-label inspector")
    truth = [names[i] for i in np.flatnonzero(y[1200 + sample])]
    said = [names[i] for i in np.flatnonzero(model.predict(x[1200 + sample][None], verbose=0)[0]
                                              >= 0.5)]
    return path, truth, said


def test_saved_multilabel_inspector_shows_every_true_label(browser, saved_multilabel):
    from .test_report import offline_page

    path, truth, said = saved_multilabel
    with offline_page(browser, path) as page:
        insp = page.locator(".nbp-inspector").first
        insp.locator("canvas.nbp-view").wait_for(timeout=60_000)
        # every true label of the multi-hot row, not an argmax of it
        assert insp.locator(".nbp-truth").inner_text() == f"ground truth: {', '.join(truth)}"
        pred = insp.locator(".nbp-pred").inner_text()
        assert pred == f"prediction: {', '.join(said) or 'no label'}"
        ticked = [t.removesuffix(" ✓") for t in insp.locator(".nbp-bar-name").all_inner_texts()
                  if t.endswith(" ✓")]
        assert sorted(ticked) == sorted(truth)
        assert insp.locator(".nbp-bar.nbp-true").count() == len(truth)
        assert _pixels_std(insp.locator("canvas.nbp-view").first) > 10
        _shot(insp, "inspector-saved-multilabel")


def _pixels_std(locator) -> float:
    import io

    import numpy as np
    from PIL import Image

    return float(np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).std())


def test_tokens_stay_legible_in_a_dark_theme(served):
    """A token's text is black or white for its colour over the page: it assumed a white
    page, so Voila's or JupyterLab's dark theme gave black text on near-black (1.15:1)."""
    from .test_explorer_lab import CONTRAST_JS

    page, _ = served
    dark = page.context.new_page()
    try:
        dark.goto(page.url.split("?")[0] + "?theme=dark", timeout=300_000)
        tokens = dark.locator(".nbp-inspector .nbp-tokens").first
        tokens.locator(".nbp-token").first.wait_for(timeout=120_000)
        assert dark.evaluate("() => getComputedStyle(document.body).backgroundColor") \
            != "rgb(255, 255, 255)"  # the dark theme is on
        got = dark.evaluate(CONTRAST_JS, ".nbp-inspector .nbp-tokens")
        assert got["count"] > 20 and got["worst"][0]["ratio"] >= 4.5, got["worst"]
        _shot(tokens, "inspector-tokens-dark")
    finally:
        dark.close()


def test_saved_page_draws_flat_pixels_as_the_image(browser, tmp_path):
    """An MLP fed flattened digits with display= images: the page draws the picture with the
    map over it, not 64 numbers as tokens."""
    import keras

    import nbperceive as nbp
    from nbperceive.report import save_html
    from nbperceive.widgets.inspector import Inspector

    from .test_report import offline_page

    data = nbp.datasets.digits()
    images = data.x[:10]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    w = Inspector(model, images.reshape(10, -1), display=images, method="saliency", sample=2)
    path = tmp_path / "flat.html"
    save_html(w, path, title="flat pixels")
    with offline_page(browser, path) as page:
        insp = page.locator(".nbp-inspector").first
        view = insp.locator("canvas.nbp-view")
        view.wait_for(timeout=60_000)
        assert insp.locator(".nbp-token").count() == 0
        box = view.bounding_box()
        assert box["width"] > 100 and abs(box["width"] - box["height"]) < 2  # the 8x8 image
        assert _pixels_std(view) > 10
        _shot(insp, "inspector-saved-flat-pixels")
