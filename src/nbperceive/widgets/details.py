"""The details panel: ground truth, prediction, loss and metadata of the selected sample.

The page formats and draws (``js/src/details.js``, every value as text, never markup); Python
only supplies raw values. Live, ``row`` holds the selected sample's values, refreshed by the
kernel when ``selected`` changes. A saved report has no kernel, so :meth:`_export_traits`
stores every sample's values in ``table`` (numbers as binary columns) and the page looks the
selected one up itself. ``selected`` is meant to be linked in the front end
(``jslink((population, "selected"), (details, "selected"))``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import pandas as pd
import traitlets as t

from .serializers import array_to_json

STATIC = Path(__file__).resolve().parents[1] / "static"
HIDDEN_COLUMNS = ("x", "y")  # layout coordinates: not details of a sample


def json_value(value: Any) -> Any:
    """One cell as a JSON value: numbers stay numbers, NaN becomes None, the rest text."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # array-like cells
        pass
    return str(value)


def column_payload(values: pd.Series) -> dict[str, Any]:
    """A column for the page: numbers as one binary float64/int32 array, the rest as text."""
    if pd.api.types.is_bool_dtype(values):
        return {"numbers": array_to_json(values.to_numpy(dtype=np.int32)), "bool": True}
    if pd.api.types.is_integer_dtype(values) and values.notna().all():
        a = values.to_numpy()
        if a.min(initial=0) >= -(2**31) and a.max(initial=0) < 2**31:
            return {"numbers": array_to_json(a.astype(np.int32))}
    if pd.api.types.is_numeric_dtype(values):
        return {"numbers": array_to_json(values.to_numpy(dtype=np.float64))}
    return {"texts": ["" if pd.isna(v) else str(v) for v in values]}


def table_payload(data: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """``{column: column_payload}`` of the columns the page shows."""
    return {c: column_payload(data[c]) for c in columns if c in data.columns}


def epoch_tables_payload(source: Callable[[], dict[int, pd.DataFrame]] | None,
                         columns: list[str]) -> dict[str, Any]:
    """``{"epoch_tables": {str(epoch): table_payload}}`` when ``source`` gives several."""
    tables = source() if source is not None else {}
    if len(tables) < 2:
        return {}
    return {"epoch_tables": {str(e): table_payload(df, columns) for e, df in tables.items()}}


class Details(anywidget.AnyWidget):
    """The selected row of a table (``details.selected = i``), formatted in the page."""

    _esm = STATIC / "details.js"

    selected = t.Int(-1).tag(sync=True)
    columns = t.List(t.Unicode()).tag(sync=True)
    class_names = t.List(t.Unicode()).tag(sync=True)
    row = t.Dict().tag(sync=True)  # live: {column: value} of sample ``row_of``
    row_of = t.Int(-1).tag(sync=True)
    table = t.Dict().tag(sync=True)  # saved reports: {column: column_payload}
    # saved reports that scrub epochs: {str(epoch): table}, chosen by ``epoch`` (jslinked)
    epoch_tables = t.Dict().tag(sync=True)
    epoch = t.Int(-1).tag(sync=True)
    placeholder = t.Unicode("click a point to see its details").tag(sync=True)

    def __init__(self, data: pd.DataFrame, class_names: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(class_names=[str(c) for c in class_names or []], **kwargs)
        self._data = data
        # set by the Explorer: every epoch's table, for a saved report's epoch scrubber
        self.tables_by_epoch: Callable[[], dict[int, pd.DataFrame]] | None = None
        self.set_data(data)
        self.observe(lambda _change: self._show(), names="selected")

    def set_data(self, data: pd.DataFrame) -> None:
        """Show another table (e.g. the next epoch's); the selected row is refreshed."""
        self._data = data.reset_index(drop=True)
        self.columns = [str(c) for c in self._data.columns if c not in HIDDEN_COLUMNS]
        self._show()

    def _show(self) -> None:
        i = self.selected
        with self.hold_sync():
            if not 0 <= i < len(self._data):
                self.row, self.row_of = {}, -1
                return
            record = self._data.iloc[i]
            self.row = {c: json_value(record[c]) for c in self.columns}
            self.row_of = i

    def _export_traits(self) -> dict[str, Any]:
        """Every sample's values, so a page without a kernel can show any selected one."""
        return {"table": table_payload(self._data, self.columns),
                **epoch_tables_payload(self.tables_by_epoch, self.columns)}
