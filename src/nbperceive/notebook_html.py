"""A whole notebook as one self-contained HTML file whose widgets work offline.

``jupyter nbconvert --to html`` embeds the widget state but loads require.js, the widget
manager and every widget library from CDNs, so the page is blank without network. Here the
notebook is (optionally) executed with its widget state stored, converted by nbconvert
without its widget and CDN scripts, and given the same inline loader as
:func:`nbperceive.save_html`: the libraries travel in the file, the state is escaped JSON.

When executing, a last hidden cell asks every widget's ``export_state`` for what a page without
a kernel needs (every hover preview inline, the inspector's heatmaps of chosen samples) and
prints it; those overrides go into the stored state as ``save_html`` writes them
(:mod:`nbperceive.export`), so the notebook page is as complete, and no live trait is set.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from . import export
from .errors import ReportError
from .report import page_scripts
from .store import atomic_file

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"

# run in the kernel after the notebook: its output is what each widget saves instead
_EXPORT_CELL = "import nbperceive.export as _nbp_export\n_nbp_export.publish_overrides()\n"

# nbconvert's widget loader (fetches the manager from a CDN) and its unescaped state copy
_CDN_WIDGET_LOADER = re.compile(
    r"<script\b[^>]*>(?:(?!</script>).)*?widgetRendererSrc.*?</script>", re.S)
_NB_STATE = re.compile(
    r"<script type=\"application/vnd\.jupyter\.widget-state\+json\">.*?</script>", re.S)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^>]*>\s*</script>", re.I)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>", re.I)


def _execute(nb: Any, cwd: Path, timeout: int, kernel_name: str) -> None:
    import nbformat
    from nbclient import NotebookClient

    extra = nbformat.v4.new_code_cell(_EXPORT_CELL)
    nb.cells.append(extra)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, store_widget_state=True,
                       resources={"metadata": {"path": str(cwd)}}).execute()
    finally:
        nb.cells.remove(extra)
    state = nb.metadata.get("widgets", {}).get(STATE_MIME, {}).get("state", {})
    for model_id, encoded in export.overrides_in(extra.outputs).items():
        if model_id in state:  # a widget closed before the end has no saved state
            export.apply(state[model_id], encoded)


def _has_widget_views(nb: Any) -> bool:
    return any(VIEW_MIME in out.get("data", {})
               for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", []))


def notebook_html(path: str | os.PathLike, execute: bool = False, timeout: int = 900,
                  kernel_name: str = "python3", compress: bool = True) -> str:
    """The self-contained HTML page of the notebook at ``path`` (see :func:`save_notebook_html`)."""
    import nbformat
    from nbconvert import HTMLExporter

    source = Path(path)
    if source.suffix != ".ipynb" or not source.is_file():
        raise ReportError(f"{source} is not a notebook file (.ipynb)")
    nb = nbformat.read(source, as_version=4)
    if execute:
        _execute(nb, source.resolve().parent, timeout, kernel_name)
    state = nb.metadata.get("widgets", {}).get(STATE_MIME)
    if state is None and _has_widget_views(nb):
        raise ReportError(
            f"{source} shows widgets but holds no widget state: pass execute=True (CLI: "
            "--execute), or save it from JupyterLab with Settings > Save Widget State "
            "Automatically")
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": source.stem}})
    if state is not None:  # replaced by the inline loader and an escaped copy below
        body, loaders = _CDN_WIDGET_LOADER.subn("", body)
        body, states = _NB_STATE.subn("", body)
        if loaders != 1 or states != 1:
            raise ReportError("this nbconvert version writes its widget scripts differently "
                              f"({loaders} loaders, {states} states found); please report it")
    body = _REMOTE_LINK.sub("", _REMOTE_SCRIPT.sub("", body))
    if state is None:
        return body
    from . import __version__

    tail = (f'<meta name="generator" content="nbperceive {__version__}">\n'
            + page_scripts(state, compress))
    at = body.rfind("</body>")
    if at < 0:
        raise ReportError("nbconvert produced a page without </body>; cannot add the widgets")
    return body[:at] + tail + "\n" + body[at:]


def save_notebook_html(path: str | os.PathLike, out: str | os.PathLike | None = None,
                       execute: bool = False, timeout: int = 900,
                       kernel_name: str = "python3") -> Path:
    """Write the notebook at ``path`` as one HTML file that works offline, widgets included.

    ``execute`` runs it first (in its own folder) and stores the widget state; otherwise the
    state saved in the notebook is used. ``out`` defaults to the notebook's name with
    ``.html``. The file is written under a temporary name and renamed.
    """
    target = Path(out) if out is not None else Path(path).with_suffix(".html")
    page = notebook_html(path, execute=execute, timeout=timeout, kernel_name=kernel_name)
    with atomic_file(target, "w") as f:
        f.write(page)
    return target
