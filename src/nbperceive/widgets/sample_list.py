"""A clickable list of samples (e.g. the suspected label errors) that selects in the page.

Clicking an entry sets ``selected`` to its sample id in the front end (``js/src/sample_list.js``),
so linked by ``jslink`` to the population view it works in a saved report too. Entry texts
are shown as text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anywidget
import traitlets as t

from ..errors import MetadataError

STATIC = Path(__file__).resolve().parents[1] / "static"


class SampleList(anywidget.AnyWidget):
    """``SampleList([(sample_id, text), ...])``; ``selected`` is the last clicked sample id."""

    _esm = STATIC / "sample_list.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    ids = t.List(t.Int()).tag(sync=True)
    texts = t.List(t.Unicode()).tag(sync=True)
    selected = t.Int(-1).tag(sync=True)
    empty = t.Unicode("nothing to list").tag(sync=True)
    rows = t.Int(8).tag(sync=True)

    def __init__(self, items: Sequence[tuple[int, str]] = (), **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.set_items(items)

    def set_items(self, items: Sequence[tuple[int, str]]) -> None:
        """Replace the entries: ``[(sample_id, text), ...]`` in display order."""
        pairs = list(items)
        if any(len(p) != 2 for p in pairs):
            raise MetadataError("SampleList entries are (sample_id, text) pairs")
        with self.hold_sync():
            self.ids = [int(i) for i, _ in pairs]
            self.texts = [str(s) for _, s in pairs]
