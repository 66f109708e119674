"""save_html writes one self-contained file: no external script, escaped text, every library."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import ipywidgets as w
import numpy as np
import pandas as pd
import pytest
import traitlets

import nbperceive as nbp
from nbperceive import report
from nbperceive.errors import NbPerceiveError

XSS = "</script><script>window.__xss=1</script><!--"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in: dict | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in, self._text = dict(attrs), []

    def handle_data(self, data):
        if self._in is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._in is not None:
            self.scripts.append((self._in, "".join(self._text)))
            self._in = None


def population(n: int = 300) -> nbp.PopulationView:
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    d = load_digits()
    xy = PCA(2, random_state=0).fit_transform(d.data[:n])
    note = np.array([XSS] + ["plain"] * (n - 1))
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "label": d.target[:n], "note": note})
    images = (d.images[:n] * 16).clip(0, 255).astype(np.uint8)
    return nbp.PopulationView(df, color="note", preview=nbp.images(images))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    import bqplot as bq

    view = population()
    xs, ys = bq.LinearScale(), bq.LinearScale()
    fig = bq.Figure(marks=[bq.Lines(x=np.arange(5), y=np.arange(5.0) ** 2,
                                    scales={"x": xs, "y": ys})],
                    axes=[bq.Axis(scale=xs), bq.Axis(scale=ys, orientation="vertical")])
    box = w.VBox([w.HTML(f"<b>{'&lt;b&gt;'}</b>"), view, fig, w.IntSlider(3)])
    w.jslink((view, "selected"), (box.children[-1], "value"))
    path = tmp_path_factory.mktemp("report") / "r.html"
    out = report.save_html(box, path, title=f"run {XSS}")
    return out, out.read_text(encoding="utf-8"), view, box


def test_file_loads_nothing_from_outside(saved):
    path, text, _, _ = saved
    tags = Tags()
    tags.feed(text)
    assert [t for t, a in tags.tags if t == "script" and "src" in a] == []
    assert [t for t, a in tags.tags if t == "link"] == []
    assert not re.search(r"""<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?https?:""",
                         text, re.I)
    # one file of a few MB: the loaders (require.js, widgets manager, anywidget, bqplot) + state
    assert 500_000 < path.stat().st_size < 4_000_000


def sources(text: str) -> dict[str, str]:
    """The inlined scripts of a report by id, unpacked (gzip + base64, or JSON text)."""
    tags = Tags()
    tags.feed(text)
    out = {}
    for attrs, body in tags.scripts:
        if attrs.get("type") in (report.PACKED_MIME, report.LIBRARY_MIME):
            data = report.unpack(attrs["type"], report.unbase85(body, int(attrs["data-bytes"])))
            out[attrs["id"]] = data if attrs["id"].startswith("nbp-buffers-") else \
                data.decode("utf-8")
        elif attrs.get("id"):
            out[attrs["id"]] = json.loads(body)
    return out


@pytest.mark.parametrize("compress", [True, False])
def test_every_library_the_widgets_use_is_inlined(saved, tmp_path, compress):
    _, text, _, box = saved
    if not compress:
        text = report.to_html(box, compress=False)
    by_id = sources(text)
    modules = by_id["nbp-modules"]
    assert modules == ["anywidget", "bqplot", "bqscales"]
    for i, name in enumerate(modules):
        assert "define(" in by_id[f"nbp-src-module-{i}"], name
    assert "requirejs" in by_id["nbp-src-require"]
    assert "@jupyter-widgets/html-manager" in by_id["nbp-src-embed"]
    assert all(name.endswith(".woff2") for name in by_id["nbp-fonts"])


def test_icon_fonts_travel_only_with_a_widget_that_can_show_an_icon(tmp_path):
    """Font Awesome (0.22 MB) is for icons: a page of views, boxes and HTML carries none; a
    Button's icon or a bqplot figure (its pan-zoom, reset and save buttons) brings the fonts
    along (the browser tests' saved pages fail on any font they ask for and do not hold)."""
    import bqplot as bq

    xs, ys = bq.LinearScale(), bq.LinearScale()
    fig = bq.Figure(marks=[bq.Lines(x=np.arange(3), y=np.arange(3.0), scales={"x": xs, "y": ys})],
                    axes=[bq.Axis(scale=xs)])
    plain = w.VBox([w.HTML("<b>views</b>"), population()])
    fonts = sources(report.to_html(plain))["nbp-fonts"]
    assert fonts == {}
    styles = json.loads(report._static(report.EMBED_FONTS))
    assert sorted(styles) == ["brands", "regular", "solid"]
    every = {k: v for style in styles.values() for k, v in style.items()}
    assert len(every) == 3 and all(name.endswith(".woff2") for name in every)
    # a figure's pan-zoom, reset and save buttons are solid icons; a Button's may be any
    for icon, want in ((fig, styles["solid"]), (w.Button(description="save", icon="check"), every)):
        assert sources(report.to_html(w.VBox([plain, icon])))["nbp-fonts"] == want
    fig.display_toolbar = False  # a figure without its buttons shows no icon
    assert sources(report.to_html(w.VBox([plain, fig])))["nbp-fonts"] == {}


def saved_state(text: str) -> dict:
    """The widget state a page hands the HTML manager (a compressed page's loader restores
    it: the JSON plus every buffer's bytes from the one blob)."""
    return report.read_state(text)


def test_compressed_page_restores_the_state_and_buffers_it_packed(saved):
    _, text, view, box = saved
    plain = saved_state(report.to_html(box, compress=False))
    packed = saved_state(text)
    assert packed["state"].keys() == plain["state"].keys()
    for model_id, entry in plain["state"].items():
        assert packed["state"][model_id]["state"] == entry["state"]
        assert packed["state"][model_id].get("buffers", []) == entry.get("buffers", [])
    # identical buffers are stored once in the blob (padded to multiples of 8)
    by_id = sources(text)
    blob = b"".join(by_id[f"nbp-buffers-{k}"] for k in range(len(by_id))
                    if f"nbp-buffers-{k}" in by_id)
    total = sum(len(base64.b64decode(b["data"])) for e in plain["state"].values()
                for b in e.get("buffers", []))
    count = sum(len(e.get("buffers", [])) for e in plain["state"].values())
    assert len(blob) <= total + 7 * count  # each buffer starts at a multiple of 8


def test_buffers_travel_in_chunks_and_the_views_arrays_by_reference(saved, monkeypatch):
    _, _, view, box = saved
    monkeypatch.setattr(report, "CHUNK_BYTES", 1024)  # a few kB of buffers: several chunks
    text = report.to_html(box)
    by_id = sources(text)
    chunks = [k for k in by_id if k.startswith("nbp-buffers-")]
    assert len(chunks) > 2 and all(len(by_id[k]) <= 1024 for k in chunks)
    # the nbperceive view's buffers stay in the page's bytes (a reference in the state);
    # bqplot's come back as base64 for the HTML manager
    packed = json.loads(by_id["nbp-state"])["state"]
    assert all(b.get("ref") for b in packed[view.model_id]["buffers"])
    assert not any(b.get("ref") for m, e in packed.items() if m != view.model_id
                   for b in e.get("buffers", []))
    plain = saved_state(report.to_html(box, compress=False))["state"]
    restored = saved_state(text)["state"]
    assert restored[view.model_id] == plain[view.model_id]


def test_compressed_file_is_much_smaller(saved):
    _, text, _, box = saved
    plain = report.to_html(box, compress=False)
    assert len(text) < 0.6 * len(plain)


def test_sample_text_cannot_end_a_script_tag(saved):
    _, text, view, _ = saved
    tags = Tags()
    tags.feed(text)
    # the parser sees exactly the scripts the report wrote: no text closed one early
    kinds = [a.get("type", "text/javascript") for a, _ in tags.scripts]
    ids = [a.get("id") for a, _ in tags.scripts]
    assert kinds.count("application/vnd.jupyter.widget-state+json") + ids.count("nbp-state") == 1
    assert kinds.count("application/vnd.jupyter.widget-view+json") == 1
    assert len(tags.scripts) == len(re.findall(r"</script>", text))
    assert "<script>window.__xss" not in text and "<!--" not in text
    # ... and the text comes back unchanged from the state
    state = saved_state(text)
    entry = state["state"][view.model_id]["state"]
    assert XSS in entry["channels"]["note"]["categories"]
    assert isinstance(entry["_esm"], str) and len(entry["_esm"]) > 1000


def test_title_is_text(saved):
    _, text, _, _ = saved
    title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
    assert "<script>" not in title and "&lt;/script&gt;" in title


def test_links_between_included_widgets_travel_with_the_state(saved):
    _, text, view, _ = saved
    state = saved_state(text)["state"]
    links = [s["state"] for s in state.values() if s["model_name"] == "LinkModel"]
    assert [ln["source"][0] for ln in links] == [f"IPY_MODEL_{view.model_id}"]


def test_script_json_escapes_markup_characters():
    text = report.script_json({"a": "</script><!-- & >"})
    assert not set("<>&") & set(text)
    assert json.loads(text) == {"a": "</script><!-- & >"}


def test_script_json_is_strict_json_even_with_nan():
    # the page parses it with JSON.parse, which refuses NaN and Infinity
    text = report.script_json({"loss": [1.5, float("nan")], "x": {"y": float("inf")}})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"loss": [1.5, None], "x": {"y": None}}


def test_missing_widget_library_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(report, "_nbextension_dirs", lambda: [tmp_path])
    with pytest.raises(NbPerceiveError, match="Install its Python package"):
        report.to_html(w.VBox([population(20)]))


def test_only_widgets_can_be_saved(tmp_path):
    with pytest.raises(NbPerceiveError, match="needs a widget"):
        report.save_html(pd.DataFrame({"a": [1]}), tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


class SavesOtherValues(w.DOMWidget):
    """A widget whose report carries other values than the live ones (see nbperceive.export)."""

    text = traitlets.Unicode("live").tag(sync=True)
    blob = traitlets.Bytes(b"").tag(sync=True)

    def export_state(self, ctx):
        return {"text": "saved", "blob": b"\x00\x01<\xff"}


def test_widgets_can_save_what_a_page_without_kernel_needs():
    widget = SavesOtherValues()
    state, _ = report.widget_state(w.VBox([widget]))
    entry = state["state"][widget.model_id]
    assert entry["state"]["text"] == "saved"
    assert entry["buffers"] == [{"encoding": "base64", "path": ["blob"],
                                 "data": base64.b64encode(b"\x00\x01<\xff").decode()}]
    assert widget.text == "live" and widget.blob == b""  # the live widget keeps its values


def test_notebook_export_needs_a_notebook_and_its_widget_state(tmp_path):
    import nbformat

    from nbperceive.notebook_html import notebook_html

    with pytest.raises(nbp.ReportError, match="not a notebook"):
        notebook_html(tmp_path / "missing.ipynb")
    # a widget output without the state saved beside it cannot be drawn: say how to fix it
    nb = nbformat.v4.new_notebook()
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    nb.cells = [nbformat.v4.new_code_cell("view", outputs=[nbformat.v4.new_output(
        "display_data", data={"application/vnd.jupyter.widget-view+json": view})])]
    path = tmp_path / "stateless.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(nbp.ReportError, match="execute=True"):
        nbp.save_notebook_html(path)
    assert not list(tmp_path.glob("*.html"))
    # without widgets it is nbconvert's page with nothing fetched from the network
    nb.cells = [nbformat.v4.new_markdown_cell("# plain <i>page</i>")]
    nbformat.write(nb, path)
    page = nbp.save_notebook_html(path).read_text()
    assert "plain" in page and re.search(r"""<script[^>]*src=["']?https?:""", page) is None
