"""PopulationView in real Chromium, served by real Voila and JupyterLab.

Crowded cluster labels (the digits' t-SNE at 800 px) move apart, each with a leader line to
its cluster's centre, in Voila light and dark.

The Voila page is loaded once per module (each load starts a kernel); its tests run in order
on that page. Traits travel back to Python through a recorder cell (see conftest.py).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from . import servers

pytestmark = pytest.mark.browser

DIGITS_CELLS = [
    """import numpy as np, pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.naive_bayes import GaussianNB
import nbperceive as nbp
d = load_digits()
xy = PCA(2, random_state=0).fit_transform(d.data)
p = GaussianNB().fit(d.data[:1000], d.target[:1000]).predict_proba(d.data)
loss = -np.log(np.clip(p[np.arange(len(p)), d.target], 1e-7, 1))
df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "label": d.target, "pred": p.argmax(1),
                   "loss": loss})
images = (d.images * 16).clip(0, 255).astype(np.uint8)
view = nbp.PopulationView(df, preview=nbp.images(images), title="digits")
view""",
]
TRAITS = ["selected", "selection", "color", "size"]

# Points that are alone on screen (nearest other point >= 12 px away), best first.
# the hover card's thumbnail as drawn, in CSS px
THUMB_WIDTH_JS = "() => document.querySelector('.nbp-tip img').getBoundingClientRect().width"

ISOLATED_JS = """() => {
  const c = document.querySelector('.nbp-plot canvas');
  const n = Number(document.querySelector('.nbp-pop').dataset.points);
  const pos = [];
  for (let i = 0; i < n; i++) pos.push(c.nbpScreenPosition(i));
  const w = c.clientWidth, h = c.clientHeight;
  const out = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = pos[i];
    if (x < 20 || y < 20 || x > w - 300 || y > h - 20) continue;
    let best = Infinity;
    for (let j = 0; j < n; j++) if (j !== i) {
      const d = Math.hypot(pos[j][0] - x, pos[j][1] - y);
      if (d < best) best = d;
    }
    if (best >= 12) out.push([best, i]);
  }
  out.sort((a, b) => b[0] - a[0]);
  return out.map((o) => o[1]);
}"""
POSITIONS_JS = """() => {
  const c = document.querySelector('.nbp-plot canvas');
  const n = Number(document.querySelector('.nbp-pop').dataset.points);
  const out = [];
  for (let i = 0; i < n; i++) out.push(c.nbpScreenPosition(i));
  return out;
}"""


def digits_images() -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().images * 16).clip(0, 255).astype(np.uint8)


def digits_predictions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label, prediction and loss of each digit, as DIGITS_CELLS computes them."""
    from sklearn.datasets import load_digits
    from sklearn.naive_bayes import GaussianNB

    d = load_digits()
    p = GaussianNB().fit(d.data[:1000], d.target[:1000]).predict_proba(d.data)
    loss = -np.log(np.clip(p[np.arange(len(p)), d.target], 1e-7, 1))
    return d.target, p.argmax(1), loss


def canvas_pixels(page) -> np.ndarray:
    png = page.locator(".nbp-plot canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


# viridis at its 9 published stops (js/src/scales.js interpolates between them the same way)
VIRIDIS = np.array([[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
                    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], float)


def viridis_hex(t: float) -> str:
    u = min(1.0, max(0.0, t)) * (len(VIRIDIS) - 1)
    i = min(len(VIRIDIS) - 2, int(u))
    rgb = VIRIDIS[i] + (VIRIDIS[i + 1] - VIRIDIS[i]) * (u - i)
    return "#" + "".join(f"{round(v):02x}" for v in rgb)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def point_contrasts(page, plot: int = 0) -> np.ndarray:
    """WCAG contrast of every point of a scatter, as painted (the pixel at its centre in a
    screenshot), against the plot's background; nothing selected, no card or overlay on it."""
    canvas = page.locator(".nbp-plot canvas").nth(plot)
    page.mouse.move(0, 0)
    # a screenshot of points at rest: none drawing or moving before it, and still none after
    # (a layout that arrives meanwhile animates them: then take another)
    settled = "(c) => { const d = c.closest('.nbp-pop').dataset; return d.drawing || d.moving" \
              " ? null : d.draws + '/' + d.transitions; }"
    for _ in range(5):
        page.wait_for_function(f"() => ({settled})(document.querySelectorAll('.nbp-plot canvas')"
                               f"[{plot}])", timeout=30_000)
        before = canvas.evaluate(settled)
        png = canvas.screenshot()
        if before is not None and canvas.evaluate(settled) == before:
            break
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)
    centres = np.asarray(canvas.evaluate(
        "(c) => Array.from({length: Number(c.closest('.nbp-pop').dataset.points)},"
        " (_, i) => c.nbpScreenPosition(i))"))
    scale = px.shape[1] / canvas.bounding_box()["width"]
    cols = np.clip(np.floor(centres[:, 0] * scale).astype(int), 0, px.shape[1] - 1)
    rows = np.clip(np.floor(centres[:, 1] * scale).astype(int), 0, px.shape[0] - 1)
    values, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
    bg = values[counts.argmax()]  # the plot's background: most of the canvas
    lum, lum_bg = _luminance(px[rows, cols]), _luminance(bg)
    return (np.maximum(lum, lum_bg) + 0.05) / (np.minimum(lum, lum_bg) + 0.05)


def near_colour(pixels: np.ndarray, hex_colour: str, alpha: float = 0.85, tol: int = 45) -> int:
    """How many pixels show ``hex_colour`` as drawn (blended over white at ``alpha``)."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    blended = alpha * rgb + (1 - alpha) * 255
    return int((np.abs(pixels - blended).max(axis=-1) < tol).sum())


def click_point(page, index: int) -> None:
    """Hover sample ``index`` until its card shows (as a user would), then click it."""
    page.mouse.move(*screen_point(page, index))
    page.wait_for_function(
        "(i) => document.querySelector('.nbp-tip-title')?.textContent === `sample ${i}`", arg=index
    )
    page.mouse.down()
    page.mouse.up()


def screen_point(page, index: int) -> tuple[float, float]:
    box = page.locator(".nbp-plot canvas").first.bounding_box()
    x, y = page.evaluate(
        "(i) => document.querySelector('.nbp-plot canvas').nbpScreenPosition(i)", index
    )
    return box["x"] + x, box["y"] + y


@pytest.fixture(scope="module")
def digits_page(browser, tmp_path_factory):
    """The digits notebook served by Voila, loaded and drawn; yields (page, recorder path)."""
    tmp = tmp_path_factory.mktemp("voila-digits")
    rec = tmp / "traits.json"
    nb = servers.write_notebook(
        tmp, DIGITS_CELLS + [servers.trait_recorder_source("view", TRAITS, rec)]
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    with servers.voila_server(nb) as server:
        page.goto(server.url + "/")
        page.wait_for_selector(".nbp-pop[data-draws]", timeout=90_000)
        servers.wait_for_frames(page)
        yield page, rec
        servers.screenshot(page, "population-voila-end")
    context.close()


def test_scatter_draws_coloured_points(digits_page):
    page, _ = digits_page
    servers.screenshot(page, "population-voila")
    px = canvas_pixels(page)
    painted = (px.min(axis=-1) < 200).sum()
    assert painted > 2_000, f"only {painted} painted pixels: the scatter looks blank"
    # loss colours: low loss dark purple (viridis 0) and high loss the top of the stretch of
    # viridis that keeps 3:1 on white (its yellow end would fade into the page) both appear
    t0, t1 = map(float, page.locator(".nbp-pop").get_attribute("data-ramp").split())
    assert t0 == 0 and 0.3 < t1 < 0.8
    assert near_colour(px, viridis_hex(t0)) > 200
    assert near_colour(px, viridis_hex(t1)) > 20
    worst = min(point_contrasts(page))
    print(f"Voila light: lowest contrast of a point's centre on the plot {worst:.2f}:1")
    assert worst >= 3
    assert page.locator(".nbp-legend-color-title").inner_text() == "Colour: loss"
    assert page.console_errors == []


def test_an_idle_view_draws_nothing(digits_page):
    """Nothing moving, nothing hovered: no frame of points is drawn (each costs ~1 s at 1M
    points without a GPU, and the page takes no input meanwhile). A plot that sized itself
    from its own canvas once redrew every frame."""
    page, _ = digits_page
    page.mouse.move(2, 2)
    page.wait_for_function("() => !document.querySelector('.nbp-pop').dataset.moving"
                           " && !document.querySelector('.nbp-pop').dataset.drawing")
    servers.wait_for_frames(page, 5)
    frames = int(page.locator(".nbp-pop").get_attribute("data-frames"))
    servers.wait_for_frames(page, 60)  # a second of a page at rest
    assert int(page.locator(".nbp-pop").get_attribute("data-frames")) == frames


RING_JS = """(cls) => {
  const ring = document.querySelector(cls || '.nbp-hover-ring');
  const r = ring.getBoundingClientRect(), c = document.querySelector('.nbp-plot canvas')
    .getBoundingClientRect();
  return {shown: getComputedStyle(ring).display !== 'none', x: r.x + r.width / 2 - c.x,
          y: r.y + r.height / 2 - c.y, colour: getComputedStyle(ring).borderTopColor,
          ink: getComputedStyle(document.querySelector('.nbp-plot')).color,
          frames: Number(document.querySelector('.nbp-pop').dataset.frames)};
}"""


def test_hover_shows_that_samples_image(digits_page):
    page, _ = digits_page
    i = page.evaluate(ISOLATED_JS)[0]
    page.mouse.move(5, 5)
    frames = page.evaluate(RING_JS)["frames"]
    page.mouse.move(*screen_point(page, i))
    # a ring in the theme's text colour around the hovered point, drawn in the page: the
    # points are not drawn again for a hover (a frame of 1M points takes ~1 s without a GPU)
    page.wait_for_function("() => getComputedStyle(document.querySelector('.nbp-hover-ring'))"
                           ".display !== 'none'", timeout=10_000)
    ring = page.evaluate(RING_JS)
    at = page.evaluate("(i) => document.querySelector('.nbp-plot canvas').nbpScreenPosition(i)",
                       i)
    assert abs(ring["x"] - at[0]) < 1.5 and abs(ring["y"] - at[1]) < 1.5, (ring, at)
    assert ring["colour"] == ring["ink"]
    tip = page.locator(".nbp-tip")
    tip.locator("img.nbp-thumb").wait_for(timeout=10_000)  # fetched by custom message
    assert tip.locator(".nbp-tip-title").inner_text() == f"sample {i}"
    src_b64 = page.evaluate(
        """async () => {
          const img = document.querySelector('.nbp-tip img');
          const buf = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
          let s = ''; for (const b of buf) s += String.fromCharCode(b); return btoa(s);
        }"""
    )
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(src_b64))))
    np.testing.assert_array_equal(shown, digits_images()[i])  # the sample's own pixels ...
    # ... drawn at least 64 px wide, every pixel a whole square
    width = page.evaluate(THUMB_WIDTH_JS)
    assert width >= 64 and width % shown.shape[1] == 0, width
    servers.screenshot(page, "population-hover")
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden")
    assert page.evaluate(RING_JS)["shown"] is False
    assert page.evaluate(RING_JS)["frames"] == frames  # hovered and left: no frame drawn


def test_click_sets_selected_in_the_kernel(digits_page):
    page, rec = digits_page
    i = page.evaluate(ISOLATED_JS)[1]
    click_point(page, i)
    data = servers.wait_for_file_json(rec, lambda d: d["selected"] == i)
    assert data["selection"] == [i]
    assert f"sample {i} selected" in page.locator(".nbp-status").inner_text()


def test_a_click_rings_the_sample_without_drawing_the_points_again(digits_page):
    """One selected sample is ringed in the page, not by a WebGL frame of every point (~1 s
    at 1M without a GPU, during which the details' answer from the kernel waited: click ->
    details 741 ms at 1M); the ring stays on its point when the view zooms."""
    page, rec = digits_page
    i = page.evaluate(ISOLATED_JS)[0]
    page.evaluate("() => document.activeElement?.blur()")
    page.keyboard.press("Escape")  # no selection: regl-scatterplot's own selection drawn off
    servers.wait_for_file_json(rec, lambda d: d["selected"] == -1 and d["selection"] == [])
    page.wait_for_function("() => !document.querySelector('.nbp-plot canvas')"
                           ".nbpSelectedPoints().length")
    servers.wait_for_frames(page, 5)
    frames = page.evaluate(RING_JS, ".nbp-selected-ring")["frames"]
    click_point(page, i)
    servers.wait_for_file_json(rec, lambda d: d["selected"] == i)
    page.wait_for_function("() => getComputedStyle(document.querySelector('.nbp-selected-ring'))"
                           ".display !== 'none'", timeout=10_000)
    servers.wait_for_frames(page, 10)
    ring = page.evaluate(RING_JS, ".nbp-selected-ring")
    at = page.evaluate("(i) => document.querySelector('.nbp-plot canvas').nbpScreenPosition(i)",
                       i)
    assert abs(ring["x"] - at[0]) < 1.5 and abs(ring["y"] - at[1]) < 1.5, (ring, at)
    assert ring["frames"] == frames  # no frame of points drawn for the click
    page.mouse.move(*screen_point(page, i))
    page.mouse.wheel(0, -300)  # zoom in around the point: the camera moves, the ring follows
    page.wait_for_function("(f) => Number(document.querySelector('.nbp-pop').dataset.frames) > f",
                           arg=frames, timeout=10_000)
    page.wait_for_function(f"""() => {{
      const r = ({RING_JS})('.nbp-selected-ring');
      const p = document.querySelector('.nbp-plot canvas').nbpScreenPosition({i});
      return Math.abs(r.x - p[0]) < 1.5 && Math.abs(r.y - p[1]) < 1.5;
    }}""", timeout=10_000)
    page.locator(".nbp-reset").first.click()
    page.wait_for_function("() => !document.querySelector('.nbp-pop').dataset.moving")


def test_lasso_sets_selection_to_the_points_inside(digits_page):
    page, rec = digits_page
    box = page.locator(".nbp-plot canvas").first.bounding_box()
    positions = np.array(page.evaluate(POSITIONS_JS))
    # a rectangle around the middle of the cloud, in canvas pixels
    cx, cy = np.median(positions, axis=0)
    x0, x1, y0, y1 = cx - 60, cx + 40, cy - 50, cy + 30
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0 + 1)]
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + x0, box["y"] + y0)
    page.mouse.down()
    for cx_, cy_ in corners[1:]:
        page.mouse.move(box["x"] + cx_, box["y"] + cy_, steps=12)
    page.mouse.up()
    page.keyboard.up("Shift")
    px, py = positions[:, 0], positions[:, 1]
    inside = set(np.flatnonzero((px > x0 + 3) & (px < x1 - 3) & (py > y0 + 3) & (py < y1 - 3)))
    outside = set(np.flatnonzero((px < x0 - 3) | (px > x1 + 3) | (py < y0 - 3) | (py > y1 + 3)))
    assert len(inside) > 20
    servers.wait_for_file_json(rec, lambda d: len(d["selection"]) > 1)
    # nothing else (e.g. a click at the lasso's end) replaces it: a change made after the
    # lasso reaches the kernel after anything the lasso sent, so once it is there, all is
    colour = page.locator(".nbp-color").input_value()
    other = next(v for v in ("label", "pred", "loss") if v != colour)
    page.select_option(".nbp-color", other)
    data = servers.wait_for_file_json(rec, lambda d: d["color"] == other)
    page.select_option(".nbp-color", colour)
    servers.wait_for_file_json(rec, lambda d: d["color"] == colour)
    got = set(data["selection"])
    assert inside <= got and not (got & outside)
    assert data["selected"] == -1
    servers.screenshot(page, "population-lasso")


def test_colour_dropdown_updates_legend_kernel_and_pixels(digits_page):
    page, rec = digits_page
    page.keyboard.press("Escape")  # deselect, so no point is faded
    servers.wait_for_file_json(rec, lambda d: d["selection"] == [])
    from_draws = int(page.locator(".nbp-pop").get_attribute("data-draws"))
    page.select_option(".nbp-color", "label")
    servers.wait_for_file_json(rec, lambda d: d["color"] == "label")
    page.wait_for_function(
        f"() => +document.querySelector('.nbp-pop').dataset.draws > {from_draws}"
    )
    items = page.locator("ul.nbp-legend-color li .nbp-cat")
    assert items.all_inner_texts() == [str(k) for k in range(10)]
    assert page.locator(".nbp-legend-color-title").inner_text() == "Colour: label"
    px = canvas_pixels(page)
    palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1"]
    assert sum(near_colour(px, c, tol=30) > 30 for c in palette) >= 6
    # the README's picture: the view alone, hovering the worst-classified digit that stands
    # apart on screen (the model's losses as the notebook computes them)
    label, pred, loss = digits_predictions()
    isolated = page.evaluate(ISOLATED_JS)
    worst = max((i for i in isolated if pred[i] != label[i]), key=lambda i: loss[i])
    page.mouse.move(*screen_point(page, worst))
    page.wait_for_function(
        "(i) => document.querySelector('.nbp-tip-title')?.textContent === `sample ${i}`",
        arg=worst)
    servers.ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".nbp-pop").first.screenshot(
        path=str(servers.ARTIFACTS / "population-by-label.png"))
    page.mouse.move(0, 0)


def test_a_view_on_its_own_searches_its_rows(digits_page):
    """``PopulationView(df)`` outside an Explorer: its search box selects the matching rows
    (the page answers over the view's own rows), which reach the kernel."""
    from sklearn.datasets import load_digits
    from sklearn.naive_bayes import GaussianNB

    page, rec = digits_page
    d = load_digits()
    p = GaussianNB().fit(d.data[:1000], d.target[:1000]).predict_proba(d.data)
    loss = -np.log(np.clip(p[np.arange(len(p)), d.target], 1e-7, 1))
    box = page.locator(".nbp-search input")
    note = "document.querySelector('.nbp-search-note').textContent"
    for query, want in [("label == 3 and loss > 1", (d.target == 3) & (loss > 1)),
                        ("pred != label", p.argmax(1) != d.target)]:
        expected = sorted(int(i) for i in np.flatnonzero(want))
        assert 1 < len(expected) < 1797
        box.fill(query)
        page.wait_for_function(f"(n) => {note}.startsWith(`${{n.toLocaleString('en-US')}} match`)",
                               arg=len(expected), timeout=10_000)
        servers.wait_for_file_json(rec, lambda r, e=expected: sorted(r["selection"]) == e)
    box.fill("")
    box.evaluate("(b) => b.blur()")
    page.keyboard.press("Escape")
    servers.wait_for_file_json(rec, lambda r: r["selection"] == [])


def test_size_dropdown_resizes_the_painted_points(digits_page):
    # sizing by another column swaps lookup tables in the page (no upload): the painted
    # footprint must follow each choice, and come back when the first column is chosen again
    page, rec = digits_page
    page.keyboard.press("Escape")
    servers.wait_for_file_json(rec, lambda d: d["selection"] == [])

    def size_by(column: str) -> np.ndarray:
        draws = int(page.locator(".nbp-pop").get_attribute("data-draws"))
        page.select_option(".nbp-size", column)
        servers.wait_for_file_json(rec, lambda d: d["size"] == column)
        page.wait_for_function(
            f"() => +document.querySelector('.nbp-pop').dataset.draws > {draws}")
        servers.wait_for_frames(page)
        return canvas_pixels(page).min(axis=-1) < 235  # painted pixels

    if page.locator(".nbp-size").input_value() != "loss":
        size_by("loss")
    by_loss = canvas_pixels(page).min(axis=-1) < 235
    by_label = size_by("label")
    by_pred = size_by("pred")
    again = size_by("loss")
    changed = (by_loss != by_label).mean()
    assert changed > 0.01, "sizing by label left the points as they were"
    # pred mostly equals label: similar sizes, but the misread digits change size (the same
    # size table moved to another packed column must still be applied)
    assert 30 < (by_label != by_pred).sum() and (by_label != by_pred).mean() < changed
    assert (by_loss != again).mean() < 0.2 * changed  # back to loss: back to the first picture
    assert page.locator(".nbp-legend-size-title").inner_text() == "Size: loss"


def test_legend_click_hides_and_shows_a_category(digits_page):
    page, _ = digits_page
    blue = "#4e79a7"  # category "0"
    # coloured by label (an earlier test leaves it so; alone, this test picks it itself)
    page.select_option(".nbp-color", "label")
    page.wait_for_function("() => document.querySelectorAll('ul.nbp-legend-color li').length"
                           " === 10")
    page.keyboard.press("Escape")  # no selection: every point at full opacity
    servers.wait_for_frames(page)
    before = near_colour(canvas_pixels(page), blue, tol=30)
    item = page.locator("ul.nbp-legend-color li").first
    item.click()
    page.wait_for_function("(el) => el.classList.contains('nbp-off')", arg=item.element_handle())
    servers.wait_for_frames(page)
    hidden = near_colour(canvas_pixels(page), blue, tol=30)
    assert before > 100 and hidden < before * 0.1
    item.click()
    page.wait_for_function("(el) => !el.classList.contains('nbp-off')", arg=item.element_handle())
    servers.wait_for_frames(page)
    assert near_colour(canvas_pixels(page), blue, tol=30) > before * 0.8


TEXT_CELLS = [
    """import numpy as np, pandas as pd
import nbperceive as nbp
texts = ["a gorgeous , moving film", "<script>window.__xss = 1</script> dull and tedious",
         "<img src=x onerror=\\"window.__xss = 2\\"> a triumph", "flat , lifeless drama",
         "witty & warm <b>not bold</b>"]
angle = np.linspace(0, 2 * np.pi, len(texts), endpoint=False)
df = pd.DataFrame({"x": np.cos(angle), "y": np.sin(angle), "label": [1, 0, 1, 0, 1],
                   "loss": [0.1, 2.0, 0.3, 1.2, 0.05]})
view = nbp.PopulationView(df, preview=nbp.texts(texts), color="label")
view""",
    """second = nbp.PopulationView(df, color="loss", title="same samples, by loss")
second""",
]
# Counts WebGL contexts the page creates (successful getContext calls), before any script runs.
COUNT_WEBGL = """(() => {
  const orig = HTMLCanvasElement.prototype.getContext;
  window.__webglContexts = 0;
  HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
    const ctx = orig.call(this, type, ...rest);
    if (ctx && /webgl/.test(type) && !this.__counted) {
      this.__counted = true;
      window.__webglContexts++;
    }
    return ctx;
  };
})();"""


@pytest.fixture(scope="module")
def text_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("voila-text")
    with servers.voila_server(servers.write_notebook(tmp, TEXT_CELLS)) as server:
        yield server


def test_text_preview_with_markup_shows_as_text(page, text_server):
    page.goto(text_server.url + "/")
    page.wait_for_selector(".nbp-pop[data-draws]", timeout=90_000)
    for i, raw in [(1, "<script>window.__xss = 1</script> dull and tedious"),
                   (2, '<img src=x onerror="window.__xss = 2"> a triumph')]:
        page.mouse.move(*screen_point(page, i))
        tip = page.locator(".nbp-tip")
        tip.locator(".nbp-text").wait_for(timeout=10_000)
        assert tip.locator(".nbp-text").inner_text() == raw
        assert tip.locator("img, script, b").count() == 0
        servers.screenshot(page, f"population-text-{i}")
        page.mouse.move(5, 5)
    assert page.evaluate("() => window.__xss") is None


def test_two_plots_share_one_webgl_renderer(page, text_server):
    page.add_init_script(COUNT_WEBGL)
    page.goto(text_server.url + "/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.nbp-pop')].filter((r) => r.dataset.draws).length"
        " === 2", timeout=90_000,
    )
    servers.wait_for_frames(page)
    canvases = page.locator(".nbp-plot canvas")
    for k in range(2):
        img = np.asarray(Image.open(io.BytesIO(canvases.nth(k).screenshot())).convert("RGB"))
        assert (img.min(axis=-1) < 200).sum() > 50, f"plot {k} is blank"
    # one throw-away probe (WebGL available?) + one renderer shared by both plots
    assert page.evaluate("() => window.__webglContexts") == 2
    servers.screenshot(page, "population-two-plots")


def test_without_webgl_the_cell_says_so(text_server, launch_browser):
    browser = launch_browser(["--disable-webgl", "--disable-3d-apis"])
    page = browser.new_page()
    page.goto(text_server.url + "/")
    message = page.locator(".nbp-nowebgl").first
    message.wait_for(timeout=90_000)
    assert "WebGL is not available" in message.inner_text()
    assert "5 points" in message.inner_text()
    assert page.locator(".nbp-search input").first.is_visible()  # search still selects
    servers.screenshot(page, "population-no-webgl")
    browser.close()


def test_lab_click_and_python_side_changes(page, lab):
    lab(DIGITS_CELLS)
    page.wait_for_selector(".jp-OutputArea-output .nbp-pop[data-draws]", timeout=90_000)
    servers.wait_for_frames(page)
    assert (canvas_pixels(page).min(axis=-1) < 200).sum() > 2_000
    # the page tells the kernel it has drawn every point (the background analyses wait for it)
    assert servers.kernel_sees(lab.eval_json, "view.painted == len(view.data) > 0", True)
    i = page.evaluate(ISOLATED_JS)[0]
    click_point(page, i)
    page.wait_for_function(
        f"() => document.querySelector('.nbp-status').textContent.includes('sample {i} ')"
    )
    # the page shows it first; the kernel has it a message later
    assert servers.kernel_sees(lab.eval_json, "int(view.selected)", i) == i
    assert servers.kernel_sees(lab.eval_json, "view.selection.tolist()", [i]) == [i]
    # from Python: colour by label -> legend shows the ten digits
    lab.eval("view.color = 'label'")
    page.wait_for_function(
        "() => document.querySelectorAll('ul.nbp-legend-color li').length === 10"
    )
    assert page.locator(".nbp-color").input_value() == "label"
    # from Python: select a sample -> the view says so
    lab.eval("view.selection = np.array([], np.uint32); view.selected = 7")
    page.wait_for_function(
        "() => document.querySelector('.nbp-status').textContent.includes('sample 7 selected')"
    )
    servers.screenshot(page, "population-lab")


@pytest.fixture(scope="module")
def digits_run_dir(tmp_path_factory):
    """A real run: a small CNN trained 2 epochs on digits, 300 probe samples recorded."""
    from core.models import record_digits_run

    return record_digits_run(tmp_path_factory.mktemp("run") / "digits")


def test_epoch_scrubber_animates_points_to_the_new_layout(page, voila, tmp_path, digits_run_dir):
    import nbperceive as nbp

    run = nbp.open_run(digits_run_dir)
    first, last = run.epochs[0], run.epochs[-1]
    rec = tmp_path / "traits.json"
    url = voila([
        f"import nbperceive as nbp\nrun = nbp.open_run({str(digits_run_dir)!r})\n"
        f"view = nbp.PopulationView.from_run(run, epoch={first})\nview",
        servers.trait_recorder_source("view", ["epoch"], rec),
    ])
    page.goto(url)
    page.wait_for_selector(".nbp-pop[data-draws]", timeout=90_000)
    slider = page.locator(".nbp-epoch input")
    assert slider.is_visible()
    slider.focus()
    page.keyboard.press("End")  # drag the scrubber to the last epoch
    servers.wait_for_file_json(rec, lambda d: d["epoch"] == last)
    page.wait_for_function("() => document.querySelector('.nbp-pop').dataset.transitions === '1'")
    assert page.locator(".nbp-epoch span").inner_text().strip() == str(last)
    shown = np.array(page.evaluate(POSITIONS_JS))
    target = run.project(last, method="pca")
    before = run.project(first, method="pca")
    # screen x follows layout x, screen y follows -layout y (same scale), at the new epoch
    assert np.corrcoef(shown[:, 0], target[:, 0])[0, 1] > 0.999
    assert np.corrcoef(shown[:, 1], -target[:, 1])[0, 1] > 0.999
    assert np.corrcoef(shown[:, 0], before[:, 0])[0, 1] < 0.999  # it really moved
    servers.screenshot(page, "population-epoch")


@pytest.mark.parametrize(("theme", "width"), [("light", 1400), ("dark", 800)])
def test_a_layout_computed_on_a_thread_shows_colours_first_then_the_points(
        page, voila, tmp_path, digits_run_dir, theme, width):
    """A large run's first layout is computed on a thread (here: the view counts 300 samples
    as many and the layout waits for a file the test writes): the page says so with the
    sample count and draws no stray points; then the points land at the layout. Voila light
    at 1400 px and dark at 800 px (the status line cut to one line, its text whole)."""
    import shutil

    import nbperceive as nbp

    path = shutil.copytree(digits_run_dir, tmp_path / "run")
    for f in path.glob("epoch-*/proj-*.npy"):
        f.unlink()
    go = tmp_path / "go"
    url = voila([
        "import pathlib, time\nimport nbperceive as nbp\n"
        "from nbperceive.projection import runs\nfrom nbperceive.widgets import population\n"
        "population.INLINE_LAYOUT_MAX = 100\nchain = runs._pca_chain\n"
        "def held(*args, **kwargs):\n"
        f"    while not pathlib.Path({str(go)!r}).exists():\n        time.sleep(0.05)\n"
        "    return chain(*args, **kwargs)\n"
        "runs._pca_chain = held\n"
        f"view = nbp.PopulationView.from_run({str(path)!r})\nview",
    ])
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url + ("?theme=dark" if theme == "dark" else ""))
    status = page.locator(".nbp-pop .nbp-status")
    status.filter(has_text="computing").wait_for(timeout=90_000)
    assert page.evaluate("() => document.body.dataset.jpThemeLight") == str(
        theme == "light").lower()
    run = nbp.open_run(path)
    n = len(run.samples)
    state = page.locator(".nbp-pop .nbp-status-state")
    assert state.text_content().startswith(
        f"{n} samples · pca layout of epoch {run.epochs[-1]}")
    assert state.get_attribute("title") == state.text_content()  # whole, when cut to a line
    assert page.evaluate("() => Number(document.querySelector('.nbp-pop').dataset.points || 0)"
                         ) == 0
    go.touch()
    page.wait_for_function(
        f"() => document.querySelector('.nbp-pop').dataset.points === '{n}'", timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('.nbp-pop .nbp-status').textContent.includes('computing')")
    shown = np.array(page.evaluate(POSITIONS_JS))
    want = run.project(run.epochs[-1], method="pca")
    assert np.corrcoef(shown[:, 0], want[:, 0])[0, 1] > 0.999
    assert np.corrcoef(shown[:, 1], -want[:, 1])[0, 1] > 0.999


def test_voila_dark_theme_keeps_the_view_legible(digits_page):
    """The same notebook under Voila's dark theme (``?theme=dark``): the view's text keeps
    4.5:1 against what is behind it, and the plot takes the theme's background."""
    from .test_explorer_lab import CONTRAST_JS

    page, _ = digits_page
    dark = page.context.new_page()
    try:
        dark.goto(page.url.split("?")[0] + "?theme=dark")
        dark.wait_for_selector(".nbp-pop[data-draws]", timeout=90_000)
        assert dark.evaluate("() => document.body.dataset.jpThemeLight") == "false"
        got = dark.evaluate(CONTRAST_JS, ".nbp-pop")
        print("Voila dark contrast:", got)
        assert got["count"] > 10 and got["worst"][0]["ratio"] >= 4.5, got["worst"]
        bg = dark.evaluate("() => getComputedStyle(document.querySelector('.nbp-plot'))"
                           ".backgroundColor")
        import re

        assert sum(float(v) for v in re.findall(r"[\d.]+", bg)[:3]) < 200, bg  # a dark grey
    finally:
        dark.close()


# The structure overlay as drawn: each cluster label's box and whether it was moved, the
# leader lines (canvas px), each labelled cluster's members (the page's own hook), the plot's
# size; boxes relative to the canvas, where nbpScreenPosition measures from.
LABELS_JS = """() => {
  const plot = document.querySelector('.nbp-plot');
  const canvas = plot.querySelector('canvas');
  const at = canvas.getBoundingClientRect();
  const rel = (r) => [r.left - at.left, r.top - at.top, r.right - at.left, r.bottom - at.top];
  const labels = Array.from(plot.querySelectorAll('.nbp-cluster-label'))
    .filter((l) => l.style.visibility !== 'hidden')
    .map((l) => ({ text: l.textContent, box: rel(l.getBoundingClientRect()),
                   moved: l.dataset.moved === 'true', cluster: Number(l.dataset.cluster) }));
  const lines = Array.from(plot.querySelectorAll('.nbp-leaders line'), (g) =>
    ['x1', 'y1', 'x2', 'y2'].map((k) => Number(g.getAttribute(k))));
  const members = Object.fromEntries(plot.nbpClusters().map((c) => [c.id, c.members]));
  const centres = Object.fromEntries(Object.entries(members).map(([id, m]) => {
    const p = m.map((i) => canvas.nbpScreenPosition(i));
    return [id, [0, 1].map((k) => p.reduce((a, q) => a + q[k], 0) / p.length)];
  }));
  return { labels, lines, centres, width: at.width, height: at.height };
}"""


def _crowded_labels(page, name: str) -> dict:
    """Structure on at the page's current size; checks the labels and returns what it drew."""
    pop = page.locator(".nbp-pop").first
    if pop.locator(".nbp-structure-tool").get_attribute("aria-pressed") != "true":
        pop.locator(".nbp-structure-tool").click()
    page.wait_for_function(
        "() => document.querySelector('.nbp-cluster-label') && !document.querySelector("
        "'.nbp-pop').dataset.drawing && !document.querySelector('.nbp-pop').dataset.moving",
        timeout=10_000)
    servers.wait_for_frames(page)
    got = page.evaluate(LABELS_JS)
    moved = [lab for lab in got["labels"] if lab["moved"]]
    print(f"{name}: {len(got['labels'])} labels, {len(moved)} moved,",
          [lab["text"] for lab in got["labels"]])
    boxes = [lab["box"] for lab in got["labels"]]
    for i, a in enumerate(boxes):
        # inside the plot
        assert a[0] >= -0.5 and a[1] >= -0.5, (name, got["labels"][i])
        assert a[2] <= got["width"] + 0.5 and a[3] <= got["height"] + 0.5, (name, got["labels"][i])
        for b in boxes[i + 1:]:  # no two labels overlap
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (name, a, b)
    for lab in got["labels"]:
        cx, cy = got["centres"][str(lab["cluster"])]
        mid = ((lab["box"][0] + lab["box"][2]) / 2, (lab["box"][1] + lab["box"][3]) / 2)
        ends = [ln for ln in got["lines"]
                if abs(ln[2] - mid[0]) < 1.5 and abs(ln[3] - mid[1]) < 1.5]
        if lab["moved"]:
            # a leader from the label to its cluster's centre (the mean of its points on screen)
            assert len(ends) == 1, (name, lab, got["lines"])
            assert abs(ends[0][0] - cx) < 2 and abs(ends[0][1] - cy) < 2, (name, lab, ends, cx, cy)
        else:  # in place: on its cluster's centre, no leader
            assert not ends and abs(mid[0] - cx) < 2 and abs(mid[1] - cy) < 2, (name, lab, cx, cy)
    assert len(got["lines"]) == len(moved)
    pop.screenshot(path=str(servers.ARTIFACTS / f"{name}.png"))
    return got


CROWDED_CELL = """import numpy as np, pandas as pd
from sklearn.datasets import load_digits
from sklearn.naive_bayes import GaussianNB
import nbperceive as nbp
d = load_digits()
xy = np.load({xy!r})   # the digits' t-SNE: ten clusters, some close
pred = GaussianNB().fit(d.data[:1000], d.target[:1000]).predict(d.data)
df = pd.DataFrame({{"x": xy[:, 0], "y": xy[:, 1], "label": d.target, "pred": pred,
                   "correct": pred == d.target}})
view = nbp.PopulationView(df, title="digits t-SNE", structure=True)
view"""


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory):
    """A Voila page of the digits laid out by t-SNE (computed once here: each page load runs
    the notebook in a new kernel)."""
    from sklearn.datasets import load_digits
    from sklearn.manifold import TSNE

    tmp = tmp_path_factory.mktemp("voila-crowded")
    xy = TSNE(2, random_state=0, init="pca").fit_transform(load_digits().data)
    np.save(tmp / "tsne.npy", xy)
    cell = CROWDED_CELL.format(xy=str(tmp / "tsne.npy"))
    with servers.voila_server(servers.write_notebook(tmp, [cell])) as server:
        yield server


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_crowded_cluster_labels_move_apart_with_leader_lines(browser, crowded_server, theme):
    """At 800 px the digits' t-SNE clusters crowd: labels that would overlap move to a free
    place inside the plot, each with a line to its cluster's centre."""
    context = browser.new_context(viewport={"width": 800, "height": 700})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    servers.ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.goto(crowded_server.url + "/" + ("?theme=dark" if theme == "dark" else ""),
                  timeout=120_000)  # Voila runs the notebook before the page loads
        page.wait_for_selector(".nbp-pop[data-draws]", timeout=90_000)
        light = page.evaluate("() => document.body.dataset.jpThemeLight")
        assert light == ("true" if theme == "light" else "false")
        got = _crowded_labels(page, f"structure-crowded-800-{theme}")
        assert len(got["labels"]) >= 8  # the ten digits, each its own cluster
        assert any(lab["moved"] for lab in got["labels"])  # crowded: some had to move
    finally:
        context.close()
    assert not errors


def test_a_live_search_finds_preview_texts_beyond_the_inline_ones(page, tmp_path):
    """Above 1,000 samples the text previews are fetched per hover, not held by the page:
    the search box found none of them ("0 matches" for a word in ten of the sentences).
    They join the table as its ``text`` column, searched and listed at any size."""
    import nbperceive as nbp

    sentences = list(nbp.datasets.movie_reviews().x[:1500])
    want = [i for i, s in enumerate(sentences) if "wonderful" in s.lower()]
    assert len(want) >= 3
    cells = ["""import numpy as np, pandas as pd
import nbperceive as nbp
d = nbp.datasets.movie_reviews()
rng = np.random.default_rng(0)
df = pd.DataFrame({"x": rng.normal(size=1500), "y": rng.normal(size=1500),
                   "label": d.y[:1500], "loss": rng.random(1500)})
view = nbp.PopulationView(df, preview=nbp.texts(list(d.x[:1500])))
view"""]
    with servers.voila_server(servers.write_notebook(tmp_path, cells)) as server:
        page.goto(server.url + "/")
        page.wait_for_selector(".nbp-pop[data-draws][data-points='1500']", timeout=90_000)
        box = page.locator(".nbp-search input")
        box.fill("wonderful")
        box.press("Enter")
        page.wait_for_function(
            "(n) => document.querySelector('.nbp-search-note')?.textContent.startsWith("
            "`${n} match`)", arg=len(want), timeout=30_000)
        assert page.locator(".nbp-pop .nbp-status").inner_text().startswith(
            f"1,500 samples · {len(want)} selected")
