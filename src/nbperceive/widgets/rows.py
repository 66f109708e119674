"""Rows on demand: the one message protocol by which a page asks the kernel for table data.

A view that holds rows only when its page asks (the selection view's ``table`` / ``rows``, a
standalone population view's search ``rows``) receives these custom messages; their names are
defined here only and reach the page as the ``row_requests`` trait (``js/src/tables.js``
builds every request from it):

- ``{"type": ROW_REQUESTS["columns"], "names": [...]}``: whole columns;
- ``{"type": ROW_REQUESTS["rows"], "slot": s, "ids": [...], "neighbours": bool}``: some rows
  for slot ``s`` (without ``ids``: every row, e.g. the search box's ``"search"`` slot);
- ``{"type": ROW_REQUESTS["preview"], "index": i}``: one sample's hover card (its fields and
  preview); answered by a custom message of the same type (population view).

Each widget answers from its own table (``selection.table_payload``) by setting traits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import traitlets as t

ROW_REQUESTS = {"columns": "columns", "rows": "rows", "preview": "preview"}


def row_requests_trait() -> t.Dict:
    """The synced trait that tells the page the request names (read-only)."""
    return t.Dict(ROW_REQUESTS, read_only=True).tag(sync=True)


@dataclass(frozen=True)
class RowRequest:
    """A parsed request: ``kind`` is a key of :data:`ROW_REQUESTS`; ``ids`` None means all
    (for ``preview``: the one sample's index)."""

    kind: str
    slot: str = ""
    names: list[str] = field(default_factory=list)
    ids: list[int] | None = None
    neighbours: bool = False


def parse_request(content: Any, slots: tuple[str, ...], max_ids: int | None = None
                  ) -> RowRequest | None:
    """The row request a custom message holds, or None (another message, or a slot this
    widget does not answer; slot ``"preview"``: it answers preview requests); at most
    ``max_ids`` ids are kept."""
    if not isinstance(content, dict):
        return None
    kind = content.get("type")
    if kind == ROW_REQUESTS["preview"] and "preview" in slots:
        return RowRequest("preview", ids=[int(content.get("index", -1))])
    if kind == ROW_REQUESTS["columns"]:
        return RowRequest("columns", names=[str(c) for c in content.get("names", [])])
    if kind != ROW_REQUESTS["rows"] or content.get("slot") not in slots:
        return None
    ids = content.get("ids")
    if ids is not None:
        ids = [int(i) for i in list(ids)[:max_ids]]
    return RowRequest("rows", slot=str(content["slot"]), ids=ids,
                      neighbours=bool(content.get("neighbours")))
