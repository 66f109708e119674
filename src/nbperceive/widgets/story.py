"""Why a sample is suspect: its trajectory over epochs, its neighbours' labels, its score's parts.

The panel (``js/src/story.js``) draws the story of ``selected`` from ``stories``
(``{str(sample id): story}``), so it works the same live and in a saved page. Live, the kernel
adds the story of each sample selected (:class:`nbperceive.metrics.Stories`: the run is read
once per ranking, then a story takes about a millisecond at any N); a saved page carries the
stories of ``export_samples`` (the listed suspects). A click on a neighbour sets ``selected``
in the page, which ``jslink`` carries to the scatter and the other views. Class names and
texts are shown as text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import pandas as pd
import traitlets as t

from ..errors import RunError

if TYPE_CHECKING:
    from ..export import ExportContext

STATIC = Path(__file__).resolve().parents[1] / "static"
LIVE_STORIES = 50  # stories kept in the live widget (the oldest are dropped, then recomputed)
DIGITS = 4  # decimals of the numbers a story carries


class SuspectStory(anywidget.AnyWidget):
    """The story of sample ``selected`` once :meth:`set_ranking` gave it a ranking."""

    _esm = STATIC / "story.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    selected = t.Int(-1).tag(sync=True)
    stories = t.Dict().tag(sync=True)
    class_names = t.List(t.Unicode()).tag(sync=True)
    ranked = t.Int(0).tag(sync=True)  # samples in the ranking (0: none yet)
    status = t.Unicode("").tag(sync=True)
    placeholder = t.Unicode("select a sample to see why it is (or is not) suspect").tag(
        sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ranking: pd.DataFrame | None = None
        self._stories_of: Any = None  # metrics.Stories of the ranking: O(k) per story
        self._lock = threading.RLock()
        self.export_samples: list[int] = []
        self.before_export: Callable[[], None] | None = None  # e.g. wait for the ranking

    def set_ranking(self, run: Any, ranked: pd.DataFrame) -> None:
        """Explain ``ranked`` (:func:`nbperceive.metrics.suspects` of ``run``) from now on
        (reads the run once here, so that each selected sample's story is quick)."""
        from ..metrics import Stories

        stories_of = Stories(run, ranked)
        with self._lock:
            self._ranking, self._stories_of = ranked, stories_of
            with self.hold_sync():
                self.stories = {}
                self.ranked = len(ranked)
                self.status = ""
            self._add([self.selected])

    @t.observe("selected")
    def _on_selected(self, change: Any) -> None:
        self._add([change["new"]])

    def _add(self, sample_ids: Sequence[int]) -> None:
        with self._lock:
            if self._ranking is None:
                return
            have = dict(self.stories)
            todo = [int(s) for s in sample_ids if int(s) >= 0 and str(int(s)) not in have]
            if not todo:
                return
            try:
                made = self._stories(todo)
            except RunError:  # not a probe sample (e.g. a plain table's row)
                return
            have.update(made)
            keep = {str(int(s)) for s in sample_ids} | {str(self.selected)}
            while len(have) > max(LIVE_STORIES, len(keep)):
                oldest = next(k for k in have if k not in keep)
                del have[oldest]
            self.stories = have

    def _stories(self, sample_ids: Sequence[int]) -> dict[str, Any]:
        known = [s for s in sample_ids if self._stories_of.known(s)]
        return {str(s["sample_id"]): story_json(s)
                for s in self._stories_of(known)} if known else {}

    def export_state(self, ctx: ExportContext | None = None) -> dict[str, Any]:
        """A saved page carries the stories of ``export_samples`` and the selected sample."""
        if self.before_export is not None:
            self.before_export()
        with self._lock:
            if self._ranking is None:
                return {}
            wanted = list(dict.fromkeys(int(s) for s in [*self.export_samples, self.selected]
                                        if int(s) >= 0))
            have = {k: v for k, v in self.stories.items() if int(k) in wanted}
            return {"stories": {**have, **self._stories(
                [s for s in wanted if str(s) not in have])}}


def _num(value: Any) -> float | None:
    v = float(value)
    return round(v, DIGITS) if np.isfinite(v) else None


def story_json(story: dict[str, Any]) -> dict[str, Any]:
    """What the page needs of :func:`nbperceive.metrics.suspect_story`, compactly: columns of
    the trajectory, neighbours as sample ids and class indices, the score's parts."""
    traj, nbrs, parts = story["trajectory"], story["neighbours"], story["parts"]
    return {
        "label": int(story["label"]), "pred": int(story["pred"]), "rank": int(story["rank"]),
        "epochs": [int(e) for e in traj["epoch"]],
        "p_label": [_num(v) for v in traj["p_label"]],
        "margin": [_num(v) for v in traj["margin"]],
        "forgotten": [bool(v) for v in traj["forgotten"]],
        "neighbours": [int(v) for v in nbrs["sample_id"]],
        "neighbour_labels": [int(v) for v in nbrs["label"]],
        "parts": {**{k: _num(parts[k]) for k in ("p_label", "knn_label", "neighbour_weight",
                                                 "belief", "class_threshold", "label_quality",
                                                 "suspicion")},
                  "layer": parts["layer"], "epoch": parts["epoch"], "k": parts["k"]},
    }
