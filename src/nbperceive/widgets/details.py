"""The details panel: ground truth, prediction, loss and metadata of the selected sample.

The page formats and draws (``js/src/details.js``, every value as text, never markup) from the
rows the :class:`~nbperceive.widgets.selection.SelectionView` already holds (``source``, a
widget reference), at the population view's epoch, so it needs no kernel and a saved report
carries the rows once. ``selected`` is meant to be linked in the front end
(``jslink((population, "selected"), (details, "selected"))``).
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import ipywidgets as w
import traitlets as t

STATIC = Path(__file__).resolve().parents[1] / "static"


class Details(anywidget.AnyWidget):
    """Row ``selected`` of ``source``'s table, formatted in the page."""

    _esm = STATIC / "details.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    selected = t.Int(-1).tag(sync=True)
    source = t.Instance(w.Widget).tag(sync=True, **w.widget_serialization)
    placeholder = t.Unicode("click a point to see its details").tag(sync=True)
