"""The Explorer's confusion grid: bqplot's GridHeatMap whose clicked cells survive a round trip
through the page (bqplot reads the page's ``[[row, column]]`` as an object array it cannot
serialise again, so saving the page failed after a cell click)."""

from __future__ import annotations

from typing import Any

import bqplot as bq
import numpy as np
import traitlets as t


def _cells_from_json(value: Any, widget: Any = None) -> np.ndarray | None:
    """A grid's clicked cells from the page ([[row, column], ...]) as int pairs: bqplot reads a
    list of lists as an object array that it then cannot serialise (a save failed after a
    cell click)."""
    if value is None:
        return None
    return np.asarray(value, dtype=np.int64).reshape(-1, 2)


def _cells_to_json(value: Any, widget: Any = None) -> list[list[int]] | None:
    """The cells as the page sends them (so a click is not echoed back to it)."""
    return None if value is None else np.asarray(value, dtype=np.int64).reshape(-1, 2).tolist()


class ConfusionGrid(bq.GridHeatMap):
    """bqplot's GridHeatMap whose ``selected`` cells survive a round trip through the page."""

    selected = t.Any(None, allow_none=True).tag(sync=True, to_json=_cells_to_json,
                                                from_json=_cells_from_json)
