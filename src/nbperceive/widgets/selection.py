"""The selection view: summary and table of the samples lassoed in the population view, and
the front-end link from a confusion-matrix cell to those samples. It holds every sample's
values, which the details panel reads too.

Everything happens in the page (``js/src/selection.js``), so it works in a saved report too:
the view holds every sample's values (``table``: numbers as binary columns, text as text) and
references the population view and the bqplot confusion grid (widget references). A lasso
(the population's ``selection``) redraws the summary (count, accuracy, mean loss, label mix)
and the table; a click on a grid cell (label r, prediction c) selects those samples in the
population view. For a multi-label run the grid is one label's 2x2 (``confusion_label``), which
the page recounts when another label is picked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as w
import numpy as np
import pandas as pd
import traitlets as t

from .serializers import compact_to_json

STATIC = Path(__file__).resolve().parents[1] / "static"
MAX_ROWS = 200
HIDDEN_COLUMNS = ("x", "y")  # layout coordinates: not details of a sample
PROBABILITY_PREFIX = "prob_"  # the Perceiver's per-class probability columns (store.py)


def column_payload(values: pd.Series) -> dict[str, Any]:
    """A column for the page: numbers as one compact binary array (the smallest integer type,
    the recorded ``prob_*`` columns quantised to uint16, other floats float32:
    :func:`compact_to_json`), the rest as text."""
    if pd.api.types.is_bool_dtype(values) and values.notna().all():
        return {"numbers": compact_to_json(values.to_numpy(dtype=bool)), "bool": True}
    if pd.api.types.is_integer_dtype(values) and values.notna().all():
        return {"numbers": compact_to_json(values.to_numpy())}
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        probabilities = str(values.name).startswith(PROBABILITY_PREFIX)
        return {"numbers": compact_to_json(values.to_numpy(dtype=np.float64, na_value=np.nan),
                                           probabilities=probabilities)}
    return {"texts": ["" if pd.isna(v) else str(v) for v in values]}


def table_payload(data: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """``{column: column_payload}`` of the columns the page shows."""
    return {c: column_payload(data[c]) for c in columns if c in data.columns}


class SelectionView(anywidget.AnyWidget):
    """Summary and table of ``population.selection``; cell clicks on ``grid`` select samples."""

    _esm = STATIC / "selection.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    population = t.Instance(w.DOMWidget).tag(sync=True, **w.widget_serialization)
    grid = t.Instance(w.Widget, allow_none=True).tag(sync=True, **w.widget_serialization)
    columns = t.List(t.Unicode()).tag(sync=True)
    class_names = t.List(t.Unicode()).tag(sync=True)
    table = t.Dict().tag(sync=True)
    # saved reports that scrub epochs: {str(epoch): table}, chosen by the population's epoch
    epoch_tables = t.Dict().tag(sync=True)
    max_rows = t.Int(MAX_ROWS).tag(sync=True)
    # multi-label runs: the label (index into class_names) whose 2x2 the grid shows (rows:
    # label_<name> 0/1, columns: prob_<name> >= 0.5); -1: a confusion of classes (rows:
    # label, columns: pred)
    confusion_label = t.Int(-1).tag(sync=True)

    def __init__(self, data: pd.DataFrame, population: w.DOMWidget, grid: w.Widget | None = None,
                 class_names: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(population=population, grid=grid,
                         class_names=[str(c) for c in class_names or []], **kwargs)
        # set by the Explorer: every epoch's table, for a saved report's epoch scrubber
        self.tables_by_epoch: Callable[[], dict[int, pd.DataFrame]] | None = None
        self.set_data(data)

    def set_data(self, data: pd.DataFrame) -> None:
        """Show another table (the next epoch's, a new metadata column)."""
        data = data.reset_index(drop=True)
        columns = [str(c) for c in data.columns if c not in HIDDEN_COLUMNS]
        with self.hold_sync():
            self.columns = columns
            self.table = table_payload(data, columns)

    def _export_traits(self) -> dict[str, Any]:
        """Every epoch's rows, when the page can scrub epochs (no kernel to send them)."""
        tables = self.tables_by_epoch() if self.tables_by_epoch is not None else {}
        if len(tables) < 2:
            return {}
        return {"epoch_tables": {str(e): table_payload(df, self.columns)
                                 for e, df in tables.items()}}
