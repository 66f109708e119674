"""The saved-page protocol (nbperceive.export): both page writers save the same overrides, and
neither sets a live widget's traits."""

from __future__ import annotations

import nbformat
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

import nbperceive as nbp
from nbperceive import export, report
from nbperceive.notebook_html import _EXPORT_CELL, notebook_html

# a PopulationView whose saved page differs from its live state: 1500 previews are fetched per
# hover live and all travel inline in a page; the layout menus empty (no kernel to ask)
VIEW = """import numpy as np, pandas as pd
from sklearn.datasets import load_digits
import nbperceive as nbp
d = load_digits()
images = (d.images * 16).clip(0, 255).astype(np.uint8)[:1500]
df = pd.DataFrame({"x": d.data[:1500, 20], "y": d.data[:1500, 36], "label": d.target[:1500]})
view = nbp.PopulationView(df, color="label", preview=nbp.images(images))
"""


def _view() -> nbp.PopulationView:
    scope: dict = {}
    exec(VIEW, scope)  # the same code the notebook runs
    return scope["view"]


def _saved(entry: dict, names: set[str]) -> tuple[dict, list]:
    """The saved values of trait ``names`` in a state entry: JSON and buffers by path."""
    state = {k: v for k, v in entry["state"].items() if k in names}
    buffers = sorted((b["path"], b["data"]) for b in entry.get("buffers", [])
                     if b["path"][0] in names)
    return state, buffers


def test_the_notebook_and_save_html_save_the_same_overrides(tmp_path):
    view = _view()
    names = set(export.overrides(view))
    assert {"preview_inline", "layout_methods", "channels", "neighbours"} <= names
    page = report.read_state(report.to_html(view, compress=False))
    ours = page["state"][view.model_id]

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(VIEW + "view")]
    path = tmp_path / "view.ipynb"
    nbformat.write(nb, path)
    state = report.read_state(notebook_html(path, execute=True, compress=False))
    theirs = [e for e in state["state"].values() if e["model_name"] == ours["model_name"]]
    assert len(theirs) == 1
    assert _saved(theirs[0], names) == _saved(ours, names)
    # what the page saved is not what the live widget holds
    assert ours["state"]["preview_inline"] and view.preview_inline == {}


def test_the_notebook_export_sets_no_live_trait():
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    outputs: list[dict] = []

    def run(code: str) -> None:
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda m: outputs.append(
            m["content"]) if m["msg_type"] in ("display_data", "execute_result") else None)
        assert reply["content"]["status"] == "ok", reply["content"]

    try:
        run(VIEW + "changed = []\nview.observe(lambda c: changed.append(c['name']))")
        run(_EXPORT_CELL)  # what the notebook export runs after the notebook
        found = export.overrides_in(outputs)
        assert len(found) == 1
        assert set(next(iter(found.values()))["state"]) >= {"preview_inline", "layout_methods"}
        outputs.clear()
        run("changed, view.preview_inline == {}")
        assert outputs[-1]["data"]["text/plain"] == "([], True)"  # the live widget as it was
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_applied_overrides_replace_a_traits_buffers_and_keep_the_others():
    d = load_digits()
    df = pd.DataFrame({"x": d.data[:50, 20], "y": d.data[:50, 36]})
    view = nbp.PopulationView(df, preview=nbp.images((d.images[:50] * 16).astype(np.uint8)))
    from ipywidgets.embed import dependency_state

    view.marked = np.arange(3, dtype=np.uint32)  # a trait with a buffer the page keeps
    entry = dependency_state([view], drop_defaults=False)[view.model_id]
    kept = [b for b in entry["buffers"] if b["path"][0] == "marked"]
    assert kept and "marked" not in export.overrides(view)
    encoded = export.encode_overrides(view)
    export.apply(entry, encoded)
    by_trait = [b["path"][0] for b in entry["buffers"]]
    for name in {b["path"][0] for b in encoded["buffers"]}:  # no buffer left twice
        assert by_trait.count(name) == sum(b["path"][0] == name for b in encoded["buffers"])
    assert [b for b in entry["buffers"] if b["path"][0] == "marked"] == kept
    assert entry["state"]["layout_methods"] == []


def test_the_saved_traits_the_page_reads_are_the_widgets_synced_traits():
    import re
    from pathlib import Path

    from nbperceive.widgets.inspector import Inspector
    from nbperceive.widgets.population import PopulationView
    from nbperceive.widgets.selection import SelectionView

    page = (Path(__file__).parents[1] / "js" / "src" / "page.js").read_text()
    names = dict(re.findall(r'(\w+): "(\w+)"', re.search(r"SAVED_TRAITS = \{(.*?)\}", page)[1]))
    widgets = {"population": PopulationView, "selection": SelectionView, "inspector": Inspector}
    assert set(names) == set(widgets)
    for view, trait in names.items():
        assert widgets[view].class_traits()[trait].metadata.get("sync"), (view, trait)
