"""A clickable, sortable list of samples (e.g. the suspected label errors) that selects in the page.

Clicking an entry sets ``selected`` to its sample id in the front end (``js/src/sample_list.js``),
so linked by ``jslink`` to the population view it works in a saved report too. Entry texts
are shown as text, never markup. Optional parts, all drawn in the page:

* ``sort_keys``: ``{name: one number per entry}``; a picker sorts the entries by one of them
  (``sort_by``, ``sort_descending``).
* ``thumbs``: a thumbnail (PNG) or a text snippet per entry, from a preview
  (:func:`nbperceive.images` / :func:`nbperceive.texts`), as binary bytes plus offsets.
* ``filter_label``: a checkbox with that label bound to ``filter_on`` (the Explorer links it to
  the scatter's ``only_marked``: "show suspects").
* ``status``: a line above the entries (e.g. "computing the ranking...").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from ..errors import MetadataError
from .serializers import pngs_to_json

STATIC = Path(__file__).resolve().parents[1] / "static"
SNIPPET_CHARS = 120  # characters of a text snippet under an entry


class SampleList(anywidget.AnyWidget):
    """``SampleList([(sample_id, text), ...])``; ``selected`` is the last clicked sample id."""

    _esm = STATIC / "sample_list.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    ids = t.List(t.Int()).tag(sync=True)
    texts = t.List(t.Unicode()).tag(sync=True)
    selected = t.Int(-1).tag(sync=True)
    empty = t.Unicode("nothing to list").tag(sync=True)
    rows = t.Int(8).tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    sort_keys = t.Dict().tag(sync=True)
    sort_by = t.Unicode("").tag(sync=True)
    sort_descending = t.Bool(True).tag(sync=True)
    thumbs = t.Dict().tag(sync=True)
    filter_label = t.Unicode("").tag(sync=True)
    filter_on = t.Bool(False).tag(sync=True)

    def __init__(self, items: Sequence[tuple[int, str]] = (), **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.set_items(items)

    def set_items(self, items: Sequence[tuple[int, str]],
                  sort_keys: Mapping[str, Sequence[float]] | None = None,
                  preview: Any = None) -> None:
        """Replace the entries: ``[(sample_id, text), ...]`` in display order; ``sort_keys``:
        ``{name: one number per entry}``; ``preview``: a preview of every sample (indexed by
        sample id) whose thumbnails or snippets the entries show."""
        from ..samples import as_preview

        pairs = list(items)
        if any(len(p) != 2 for p in pairs):
            raise MetadataError("SampleList entries are (sample_id, text) pairs")
        keys = {str(k): [_finite(v) for v in vs] for k, vs in (sort_keys or {}).items()}
        bad = [k for k, vs in keys.items() if len(vs) != len(pairs)]
        if bad:
            raise MetadataError(f"sort_keys[{bad[0]!r}] needs one number per entry "
                                f"({len(pairs)}), got {len(keys[bad[0]])}.")
        ids = [int(i) for i, _ in pairs]
        with self.hold_sync():
            self.ids = ids
            self.texts = [str(s) for _, s in pairs]
            self.sort_keys = keys
            if self.sort_by not in keys:
                self.sort_by = next(iter(keys), "")
            self.thumbs = _thumbs(as_preview(preview), ids)


def _finite(value: Any) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None


def _thumbs(preview: Any, ids: list[int]) -> dict[str, Any]:
    """PNG thumbnails (one blob plus offsets) or text snippets of the entries, or {}."""
    if preview is None or not ids:
        return {}
    if preview.kind == "text":
        snippets = []
        for i in ids:
            text = str(preview.get(i))
            snippets.append(text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1] + "…")
        return {"kind": "text", "texts": snippets}
    return {"kind": "image", **pngs_to_json([preview.get(i) for i in ids])}
