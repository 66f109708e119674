"""The selection view: summary and table of the samples lassoed in the population view, and
the front-end link from a confusion-matrix cell to those samples. The details panel reads its
rows too.

Everything is computed in the page (``js/src/selection.js``), so it works in a saved report
too, from the rows the view holds (``table``: numbers as binary columns, text as text). Live,
the view holds only what the page asked for (the row requests of :mod:`.rows`): whole columns
when a view needs them (the summary, a sort, a search, a confusion cell, a download) and some
rows by slot for the rows it shows (``"page"``: the table's page, ``"details"``: the details
panel's sample and its nearest samples); the kernel adds those columns to ``table`` or sets
``rows[slot]``. A saved page carries every column (``complete``). It references the
population view and the bqplot confusion grid (widget references). A lasso
(the population's ``selection``) redraws the summary (count, accuracy, mean loss, label mix)
and the table; a click on a grid cell (label r, prediction c) selects those samples in the
population view. For a multi-label run the grid is one label's 2x2 (``confusion_label``), which
the page recounts when another label is picked.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets as w
import numpy as np
import pandas as pd
import traitlets as t

from .rows import parse_request, row_requests_trait
from .serializers import PROBABILITY_PREFIX, compact_to_json, texts_to_json

if TYPE_CHECKING:
    from ..export import ExportContext

STATIC = Path(__file__).resolve().parents[1] / "static"
MAX_ROWS = 200
HIDDEN_COLUMNS = ("x", "y")  # layout coordinates: not details of a sample
# more rows than this: a text column goes binary (no JSON string per row), live too
PACKED_TEXTS_MIN = 1_000


def column_payload(values: pd.Series, saved: bool = False) -> dict[str, Any]:
    """A column for the page: numbers as one compact binary array (the smallest integer type,
    the recorded ``prob_*`` columns quantised to uint16, other floats float32; ``saved``:
    smaller still, see :func:`compact_to_json`), the rest as text (``saved``, or a whole
    column of a large table: packed in binary, :func:`texts_to_json`)."""
    if pd.api.types.is_bool_dtype(values) and values.notna().all():
        return {"numbers": compact_to_json(values.to_numpy(dtype=bool)), "bool": True}
    if pd.api.types.is_integer_dtype(values) and values.notna().all():
        return {"numbers": compact_to_json(values.to_numpy(), saved=saved)}
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        probabilities = str(values.name).startswith(PROBABILITY_PREFIX)
        return {"numbers": compact_to_json(values.to_numpy(dtype=np.float64, na_value=np.nan),
                                           probabilities=probabilities, saved=saved)}
    texts = ["" if pd.isna(v) else str(v) for v in values]
    if saved or len(texts) > PACKED_TEXTS_MIN:
        return {"packed": texts_to_json(texts)}
    return {"texts": texts}


def table_payload(data: pd.DataFrame, columns: list[str], saved: bool = False
                  ) -> dict[str, Any]:
    """``{column: column_payload}`` of the columns the page shows."""
    return {c: column_payload(data[c], saved) for c in columns if c in data.columns}


class SelectionView(anywidget.AnyWidget):
    """Summary and table of ``population.selection``; cell clicks on ``grid`` select samples."""

    _esm = STATIC / "selection.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    population = t.Instance(w.DOMWidget).tag(sync=True, **w.widget_serialization)
    grid = t.Instance(w.Widget, allow_none=True).tag(sync=True, **w.widget_serialization)
    columns = t.List(t.Unicode()).tag(sync=True)
    class_names = t.List(t.Unicode()).tag(sync=True)
    table = t.Dict().tag(sync=True)  # {column: column_payload}: the columns asked for
    # the rows asked for by slot ("page": the table's shown rows, "details": the details
    # panel's sample then its nearest samples): {slot: {ids, table, neighbours, epoch}}
    rows = t.Dict().tag(sync=True)
    complete = t.Bool(False).tag(sync=True)  # table holds every column (a saved page)
    # saved reports that scrub epochs: {str(epoch): table}, chosen by the population's epoch
    epoch_tables = t.Dict().tag(sync=True)
    max_rows = t.Int(MAX_ROWS).tag(sync=True)
    row_requests = row_requests_trait()  # the names of the page's requests (rows.py)
    # multi-label runs: the label (index into class_names) whose 2x2 the grid shows (rows:
    # label_<name> 0/1, columns: prob_<name> >= 0.5); -1: a confusion of classes (rows:
    # label, columns: pred)
    confusion_label = t.Int(-1).tag(sync=True)

    def __init__(self, data: pd.DataFrame, population: w.DOMWidget, grid: w.Widget | None = None,
                 class_names: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(population=population, grid=grid,
                         class_names=[str(c) for c in class_names or []], **kwargs)
        # set by the Explorer: every epoch's table, for a saved report's epoch scrubber
        self._requests: dict[str, dict[str, Any]] = {}  # the rows asked for, by slot
        self._rows_lock = threading.RLock()  # `rows` is also sent from a search's thread
        self._awaiting_neighbours = False
        self.set_data(data)
        self.on_msg(self._on_msg)

    def set_data(self, data: pd.DataFrame) -> None:
        """Show another table (the next epoch's, a new metadata column): the columns and rows
        the page asked for are sent again from it."""
        self._data = data.reset_index(drop=True)
        columns = [str(c) for c in self._data.columns if c not in HIDDEN_COLUMNS]
        with self.hold_sync():
            self.columns = columns
            self.table = table_payload(self._data, [c for c in self.table if c in columns])
            with self._rows_lock:
                self.rows = {slot: self._rows(**req) for slot, req in self._requests.items()}

    def _rows(self, ids: list[int], neighbours: bool = False) -> dict[str, Any]:
        """Rows ``ids`` (every column), and with ``neighbours`` the nearest samples of the
        first one (their rows follow)."""
        n = len(self._data)
        ids = [i for i in ids if 0 <= i < n]
        near: list[int] = []
        if neighbours and ids:
            find = getattr(self.population, "neighbours_of", None)
            found = find(ids[0], wait=False) if find is not None else []
            if found is None:  # still searched: the rows now (the kernel answers the page
                found = []     # at once), the nearest samples when they are found
                self._send_when_found()
            near = [j for j in found if 0 <= j < n]
        order = np.asarray(ids + near, dtype=np.uint32)
        return {"ids": compact_to_json(order), "neighbours": near,
                "epoch": int(getattr(self.population, "epoch", -1)),
                "table": table_payload(self._data.iloc[order], self.columns)}

    def _send_when_found(self) -> None:
        """Once the population view's neighbour search is done, send the rows of the requests
        that asked for nearest samples again, with them."""
        with self._rows_lock:
            if self._awaiting_neighbours:
                return
            self._awaiting_neighbours = True

        def send() -> None:
            with self._rows_lock:
                self._awaiting_neighbours = False
                again = {slot: self._rows(**req) for slot, req in self._requests.items()
                         if req["neighbours"]}
                if again:
                    self.rows = {**self.rows, **again}

        self.population.when_neighbours_found(send)

    def _on_msg(self, _widget: Any, content: Any, buffers: list) -> None:
        """The page asks for whole columns or for some rows (see :mod:`.rows`)."""
        req = parse_request(content, ("page", "details"), self.max_rows + 1)
        if req is None:
            return
        if req.kind == "columns":
            wanted = [c for c in req.names if c in self.columns]
            missing = [c for c in wanted if c not in self.table]
            if missing:
                self.table = {**self.table, **table_payload(self._data, missing)}
        elif req.ids is not None:
            with self._rows_lock:
                self._requests[req.slot] = {"ids": req.ids, "neighbours": req.neighbours}
                self.rows = {**self.rows, req.slot: self._rows(**self._requests[req.slot])}

    def export_state(self, ctx: ExportContext | None = None) -> dict[str, Any]:
        """Every column (a page without a kernel cannot ask for them); every epoch's rows when
        the page can scrub epochs (then the shown epoch's ``table`` is among them)."""
        pop = self.population  # a run's view: the epochs its saved page scrubs through
        epochs = pop.saved_epochs(ctx) if hasattr(pop, "saved_epochs") else []
        tables = {e: pop.epoch_table(e) for e in epochs}
        out: dict[str, Any] = {"complete": True, "rows": {}}
        if len(tables) < 2:
            return {**out, "table": table_payload(self._data, self.columns, saved=True)}
        return {**out, "table": {},
                "epoch_tables": {str(e): table_payload(df, self.columns, saved=True)
                                 for e, df in tables.items()}}
