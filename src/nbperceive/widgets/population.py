"""PopulationView: every sample as a point (WebGL scatter, regl-scatterplot), pandas-first.

Traits carry binary arrays only: ``x``/``y`` float32, and per column one uint8 code per point
(``channels``), so a point costs 10 bytes on the wire (8 for x, y; 1 for colour; 1 for size).

Selection traits, both ways between Python and the browser:

* ``selected``: int, the sample clicked last (-1 = none).
* ``selection``: numpy uint32 array of the samples selected by lasso (empty = none); sent as a
  binary ``{view, dtype, shape}`` buffer, never a JSON list. A click sets it to ``[selected]``.
* ``marked`` (uint32 point indices, set by Python) and ``only_marked``: while on, the scatter
  shows the marked points alone (the Explorer's "show suspects").

Hover previews (``preview=nbp.images(x)`` / ``nbp.texts(strings)``) travel inline for small
sets and are fetched one at a time by custom message for large ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import pandas as pd
import traitlets as t

from ..errors import MetadataError, RunError
from ..export import ExportContext
from ..samples import Preview, as_preview
from .maps import spread_indices
from .rows import ROW_REQUESTS, parse_request, row_requests_trait
from .serializers import (
    PROBABILITY_PREFIX,
    array_from_json,
    array_serialization,
    array_to_json,
    channels_to_json,
    codes_of_json,
    encode_channel,
    pngs_to_json,
    quantized_to_json,
    ranked_to_json,
)

STATIC = Path(__file__).resolve().parents[1] / "static"
INLINE_CHANNEL_BYTES = 100_000  # send every column's codes up front below this total
# (above: the colour and size columns', the others when picked; a saved page has all)
INLINE_PREVIEW_POINTS = 1_000  # carry previews inline up to this many samples ...
INLINE_PREVIEW_BYTES = 2_000_000  # ... and this many bytes
SELECTION_PREVIEWS = 1_000  # lasso-selected samples a saved page's previews put first
PREVIEW_TEXT_COLUMN = "text"  # text previews join the table as this column (searched, listed)
INFO_COLUMNS = ("label", "pred", "correct", "loss")  # shown in the hover card when present
STRUCTURE_COLUMNS = ("label", "correct")  # the cluster labels' codes (dominant class, accuracy)
# above this many samples a layout that is not cached is computed on a thread (PCA of 1M
# samples reads ~0.5 GB of vectors: 0.5 s warm, 1 s+ from disk) and the view shows what it
# has meanwhile; below, it is computed at once (tens of ms)
INLINE_LAYOUT_MAX = 200_000
# nearest-sample ids are uint16 up to this many samples (int32 above); a saved page carries
# them up to there only (int32 ids would be ~21 B a sample, most of a large page)
SAVED_NEIGHBOURS_MAX = int(np.iinfo(np.uint16).max)
# the points' base size (px) up to this many; more points are drawn smaller (point_size)
FULL_SIZE_POINTS = 50_000
NEIGHBOURS_K = 8  # nearest samples in perception space listed for the selected one
NEIGHBOURS_SEARCHED = 20_000  # up to this many samples the view searches them at once (exact,
# ~1 s); above, it takes the run's cached graph, or searches one in the background worker
# (NN-descent, about a minute at 1M) unless another job is about to cache one (search_large)


def default_point_size(n: int) -> float:
    """The base point size (px) for ``n`` points: 4 up to FULL_SIZE_POINTS, then shrinking
    with the square root of the count down to 1.5 (at 1M points big dots only overplot one
    another, and a frame of them cost 35% more in software WebGL)."""
    if n <= FULL_SIZE_POINTS:
        return 4.0
    return float(max(1.5, round(4.0 * (FULL_SIZE_POINTS / n) ** 0.5, 2)))


class PopulationView(anywidget.AnyWidget):
    """Scatter of a table's rows: ``PopulationView(df, x="x", y="y", color="loss")``."""

    _esm = STATIC / "population.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    x = t.Any(np.zeros(0, np.float32)).tag(sync=True, **array_serialization)
    y = t.Any(np.zeros(0, np.float32)).tag(sync=True, **array_serialization)
    channels = t.Dict().tag(sync=True, to_json=channels_to_json)
    columns = t.List(t.Unicode()).tag(sync=True)
    color = t.Unicode("").tag(sync=True)
    size = t.Unicode("").tag(sync=True)
    selected = t.Int(-1).tag(sync=True)
    selection = t.Any(np.zeros(0, np.uint32)).tag(sync=True, **array_serialization)
    # points to show alone while ``only_marked`` is on (the Explorer marks the top suspects)
    marked = t.Any(np.zeros(0, np.uint32)).tag(sync=True, **array_serialization)
    only_marked = t.Bool(False).tag(sync=True)
    preview_kind = t.Unicode("none").tag(sync=True)
    preview_inline = t.Dict().tag(sync=True)
    # saved reports only: {str(epoch): {x, y, channels}} so the page scrubs without a kernel
    epoch_frames = t.Dict().tag(sync=True)
    epochs = t.List(t.Int()).tag(sync=True)
    epoch = t.Int(-1).tag(sync=True)
    layout_status = t.Unicode("").tag(sync=True)
    # points the page has drawn in its first frame (set by the page once): until then, after a
    # display, the background worker's jobs wait (projection.background.await_page)
    painted = t.Int(0).tag(sync=True)
    # the layout method of a run's view, switched from the page; [] hides the switch (a view
    # of a table, or a saved page: no kernel to compute another layout)
    layout_method = t.Unicode("pca").tag(sync=True)
    layout_methods = t.List(t.Unicode()).tag(sync=True)
    # the layer whose perception vectors the layout (and the neighbours) use: "" = all
    # captured layers; `layout_layers` the captured layers a run's view offers ([] hides the
    # switch: one layer, a table's view, or a saved page with no kernel to lay them out)
    layout_layer = t.Unicode("").tag(sync=True)
    layout_layers = t.List(t.Unicode()).tag(sync=True)
    # int32 (N, k): each sample's nearest samples in perception space at the shown epoch and
    # layer (the run's neighbour graph, nbperceive.neighbours); (0, 0) when not at hand.
    # Saved pages only (the shown epoch's): live, the details panel asks for one sample's
    # (neighbours_of)
    neighbours = t.Any(np.zeros((0, 0), np.int32)).tag(sync=True, **array_serialization)
    neighbours_note = t.Unicode("").tag(sync=True)  # why there are none, or what they are
    # the search box (shown when `searchable`): the page matches `search` over every
    # sample's values (js/src/search.js: the Explorer's selection view over its rows, a view
    # on its own over `rows`) and selects them; `search_note` says how many matched or what
    # is wrong with the query
    searchable = t.Bool(False).tag(sync=True)
    search = t.Unicode("").tag(sync=True)
    search_note = t.Unicode("").tag(sync=True)
    # a view on its own answers its search box itself, over these rows (every column of
    # every sample, as the selection view holds them: selection.table_payload); {} in the
    # Explorer, whose selection view answers over its rows
    rows = t.Dict().tag(sync=True)
    # this view answers its search box itself (a view on its own; in the Explorer the
    # selection view does); live, it asks the kernel for `rows` at its first search by the
    # row request of slot "search" (rows.py; its names in `row_requests`)
    answers_search = t.Bool(False).tag(sync=True)
    row_requests = row_requests_trait()
    # the "Structure" overlay (density contours, labelled clusters; js/src/population/
    # structure.js): found in the page from the points and the label / correct codes, so a
    # saved page shows it too; class names (index -> name) name the clusters' classes
    structure = t.Bool(False).tag(sync=True)
    class_names = t.List(t.Unicode()).tag(sync=True)
    title = t.Unicode("").tag(sync=True)
    height = t.Int(420).tag(sync=True)
    point_size = t.Float(4.0).tag(sync=True)  # base px; default_point_size(N) when not given

    def __init__(
        self,
        data: pd.DataFrame,
        x: str | np.ndarray = "x",
        y: str | np.ndarray = "y",
        color: str | None = None,
        size: str | None = None,
        preview: Any = None,
        own_search: bool = True,
        **kwargs: Any,
    ):
        """``own_search``: the search box answered over the view's own rows (False: another
        view answers it, as the Explorer's selection view does)."""
        if not isinstance(data, pd.DataFrame):
            raise MetadataError(
                f"PopulationView needs a pandas DataFrame (one row per sample), not "
                f"{type(data).__name__}; e.g. pd.DataFrame({{'x': ..., 'y': ..., 'loss': ...}})."
            )
        self._data = data.reset_index(drop=True)
        self._preview: Preview | None = as_preview(preview)
        if self._preview is not None and len(self._preview) != len(self._data):
            raise MetadataError(
                f"preview holds {len(self._preview)} samples but the table has "
                f"{len(self._data)} rows; pass the previews of exactly these samples."
            )
        self._lock = threading.RLock()
        self._own_search = own_search
        self._rows_wanted = False  # the page asked for the rows (its first search)
        self._extra: dict[str, np.ndarray] = {}
        self._run: Any = None
        self._layers: list[str] = []  # a run view's captured layers (from_run)
        self._near = np.zeros((0, 0), np.int32)  # the shown epoch's neighbours (neighbours_of)
        self._near_job: Future | None = None  # their search, on a thread (_start_neighbours)
        # a large run's graph, when not cached, is searched in the background on the first
        # sample asked for (from_run's search_large), once per epoch and layer shown
        self._search_large, self._near_searched = False, False
        self._large_search = threading.Lock()  # one such search at a time, the newest wanted
        self._layout_job: Future | None = None  # a layout computed on a thread (_show_epoch)
        if self._preview is not None and self._preview.kind == "text" and \
                PREVIEW_TEXT_COLUMN not in self._data.columns:
            # the samples' texts as a column: the table lists them and the search box finds
            # them at any size (the previews reach the page inline up to 1,000 samples only)
            texts = self._preview.snippets()
            self._extra[PREVIEW_TEXT_COLUMN] = texts
            self._data = self._data.assign(**{PREVIEW_TEXT_COLUMN: texts})
        skip = {v for v in (x, y) if isinstance(v, str)}
        columns = [str(c) for c in self._data.columns
                   if c not in skip and _plottable(self._data[c])
                   and not _multilabel_placeholder(self._data, c)]
        # loss by default (bigger = worse); without it, colour by the first column and one size
        default = "loss" if "loss" in columns else (columns[0] if columns else "")
        default_size = "loss" if "loss" in columns else ""
        kwargs.setdefault("point_size", default_point_size(len(self._data)))
        kwargs.setdefault("searchable", own_search)
        kwargs.setdefault("answers_search", own_search)
        super().__init__(columns=columns, **kwargs)
        self._set_xy(self._column_or_array(x, "x"), self._column_or_array(y, "y"))
        self._skip = skip  # the coordinate columns: not searched
        self._send_rows()
        self._channels_ready = False  # pick colour and size, then encode the channels once
        self.color = self._check_column(color if color is not None else default)
        self.size = self._check_column(size if size is not None else default_size)
        self._channels_ready = True
        self._send_channels()
        self._set_preview()
        self.on_msg(self._on_custom_msg)

    # --- display: the page draws first, then the background analyses run --------------------
    def await_page(self) -> None:
        """Displayed (directly or in an Explorer): the background worker waits for this view's
        first frame, a few seconds at most (see ``projection.background.PAGE_WAIT``)."""
        if not self.painted:
            from ..projection.background import await_page

            await_page(self.model_id)

    @t.observe("painted")
    def _on_painted(self, change: Any) -> None:
        from ..projection.background import page_painted

        page_painted(self.model_id)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.await_page()
        return super()._repr_mimebundle_(**kwargs)

    # --- data -------------------------------------------------------------------------------
    @property
    def data(self) -> pd.DataFrame:
        """The table the view shows (one row per point, in point order)."""
        return self._data

    def add_column(self, name: str, values: Any) -> None:
        """Add (or replace) a column, e.g. metadata computed later; it joins the pickers.

        Kept across epochs of a run view.
        """
        values = np.asarray(values)
        if values.ndim != 1 or len(values) != len(self._data):
            raise MetadataError(
                f"{name!r} has shape {values.shape} but the view has {len(self._data)} "
                "samples; give one value per sample, in point order."
            )
        self._extra[name] = values
        self._data = self._data.assign(**{name: values})
        plottable = _plottable(self._data[name])
        with self.hold_sync():
            if plottable and name not in self.columns:
                self.columns = [*self.columns, name]
            self._send_channels(refresh=name)
            self._send_rows()

    def _send_rows(self) -> None:
        """The rows the page searches, when this view answers its own search box and the
        page has asked for them (its first search: until then they cost no bytes)."""
        if not (self._own_search and self._rows_wanted):
            return
        self.rows = self._rows_payload(self._data)

    def _rows_payload(self, data: pd.DataFrame, saved: bool = False) -> dict[str, Any]:
        """Every column but the coordinates (``saved``: a page's encoding, the same bytes as
        a selection view's saved table of these rows, so a page stores them once)."""
        from .selection import HIDDEN_COLUMNS, table_payload

        hidden = set(HIDDEN_COLUMNS) | self._skip
        return table_payload(data, [str(c) for c in data.columns if c not in hidden], saved)

    def _column_or_array(self, value: str | np.ndarray, axis: str) -> np.ndarray:
        if isinstance(value, str):
            if value not in self._data.columns:
                raise MetadataError(
                    f"{axis}={value!r} is not a column of the table; columns are "
                    f"{list(self._data.columns)}. Pass a column name or an array of length "
                    f"{len(self._data)}."
                )
            value = self._data[value].to_numpy()
        arr = np.asarray(value, dtype=np.float32).reshape(-1)
        if len(arr) != len(self._data):
            raise MetadataError(
                f"{axis} has {len(arr)} values but the table has {len(self._data)} rows."
            )
        return arr

    def _set_xy(self, x: np.ndarray, y: np.ndarray) -> None:
        """Send the layout; one not computed yet (all NaN) as no points, not N NaNs."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.ascontiguousarray(y, dtype=np.float32)
        if not (np.isfinite(x).any() and np.isfinite(y).any()):
            x = y = np.zeros(0, np.float32)
        with self.hold_sync():
            self.x, self.y = x, y

    def _check_column(self, name: str) -> str:
        if name and name not in self.columns:
            raise MetadataError(
                f"cannot colour or size by {name!r}: it is not a numeric or categorical column "
                f"of the table. Choose one of {self.columns}."
            )
        return name

    @t.validate("color", "size")
    def _valid_column(self, proposal: Any) -> str:
        return self._check_column(proposal["value"])

    @t.observe("color", "size", "structure")
    def _on_channel_choice(self, change: Any) -> None:
        if not getattr(self, "_channels_ready", True):
            return
        wanted = STRUCTURE_COLUMNS if change["name"] == "structure" else (change["new"],)
        if change["new"] and any(c and c in self.columns and c not in self.channels
                                 for c in wanted):
            self._send_channels()

    def _send_channels(self, refresh: str | None = None) -> None:
        """Codes of the colour and size columns; of every column when that is small.

        ``refresh``: only that column changed; the others keep their codes.
        """
        n = len(self._data)
        if n * max(1, len(self.columns)) <= INLINE_CHANNEL_BYTES:
            wanted = list(self.columns)
        else:
            shown = [self.color, self.size, *(STRUCTURE_COLUMNS if self.structure else ())]
            wanted = [c for c in dict.fromkeys(shown) if c]
            wanted += [c for c in self.channels if c not in wanted]  # keep what was sent
        old = self.channels if refresh is not None else {}
        self.channels = {
            name: old[name] if name in old and name != refresh else encode_channel(
                self._data[name])
            for name in wanted if name in self.columns
        }

    # --- previews ---------------------------------------------------------------------------
    def _set_preview(self) -> None:
        pv = self._preview
        if pv is None:
            self.preview_kind, self.preview_inline = "none", {}
            return
        self.preview_kind = pv.kind
        self.preview_inline = self._inline_previews(limited=True)

    def _inline_previews(self, limited: bool) -> dict[str, Any]:
        """Every preview in one payload ({} when ``limited`` and the set is too large)."""
        pv = self._preview
        if pv is None or (limited and len(pv) > INLINE_PREVIEW_POINTS):
            return {}
        items = [pv.get(i) for i in range(len(pv))]
        if limited and sum(len(b) for b in items) > INLINE_PREVIEW_BYTES:
            return {}
        return self._previews_payload(items, [self.info(i) for i in range(len(pv))])

    def _previews_payload(self, items: list[Any], info: list[dict[str, Any]],
                          ids: np.ndarray | None = None) -> dict[str, Any]:
        """Previews (texts or PNGs) and hover-card fields as the page reads them; ``ids``
        (sorted): whose they are when not every sample's ({"ids", "of": N} say so)."""
        out = ({"texts": items} if self._preview.kind == "text" else pngs_to_json(items))
        out["info"] = info
        if ids is not None:
            out.update(ids=array_to_json(np.asarray(ids, np.uint32)), of=len(self._preview))
        return out

    def _saved_previews(self, budget: int | None) -> dict[str, Any]:
        """A saved page's previews within ``budget`` bytes (None: all): the selected, lasso-
        selected and marked samples' first, then a seeded random share of the others, so
        hovering anywhere finds some; every sample's when they fit."""
        pv, n = self._preview, len(self._preview)
        if budget is None:
            return self._inline_previews(limited=False)
        first = [int(self.selected)] if 0 <= self.selected < n else []
        first += np.asarray(self.selection, np.int64)[:SELECTION_PREVIEWS].tolist()
        first += np.asarray(self.marked, np.int64).tolist()
        rest = np.random.default_rng(0).permutation(n)
        order = dict.fromkeys(i for i in (*first, *rest.tolist()) if 0 <= i < n)
        taken: dict[int, tuple[Any, dict[str, Any]]] = {}
        used = 0
        for i in order:
            item, info = pv.get(i), self.info(i)
            cost = len(item) + len(json.dumps(info, default=str))
            if used + cost > budget:
                break
            taken[i], used = (item, info), used + cost
        ids = np.array(sorted(taken), np.int64)
        items, infos = [taken[i][0] for i in ids], [taken[i][1] for i in ids]
        return self._previews_payload(items, infos, None if len(ids) == n else ids)

    def export_state(self, ctx: ExportContext | None = None) -> dict[str, Any]:
        """What a saved report carries instead of the live traits: every hover preview
        (a page without a kernel cannot fetch them one by one) and, for a run, every epoch
        whose layout is at hand (coordinates and colour/size codes), so the scrubber works."""
        out: dict[str, Any] = {}
        self.wait_for_layout()  # the page carries the shown epoch's points ...
        self._wait_neighbours()  # ... and their nearest samples
        if self._preview:
            out["preview_inline"] = self._saved_previews((ctx or ExportContext()).preview_bytes)
        if self._own_search:  # the page's search box has no kernel to ask for them
            out["rows"] = self._rows_payload(self._data, saved=True)
        frames = self._epoch_frames(ctx)
        if frames:
            out["epoch_frames"] = frames
            out["epochs"] = [int(e) for e in frames]
            # the shown epoch as its frame has it (the page stores those bytes once)
            shown = frames.get(str(self.epoch))
            if shown is not None:
                return {**out, "layout_methods": [], "layout_layers": [],
                        "x": shown["x"], "y": shown["y"],
                        "channels": shown["channels"], "neighbours": shown["neighbours"],
                        "neighbours_note": shown["neighbours_note"]}
        out["layout_methods"] = []  # no kernel in the page to lay the points out again
        out["layout_layers"] = []
        # every column's codes (the page's pickers cannot ask for more), the neighbours
        channels = _saved_channels(self._data, self.columns)
        # the layout as uint16 steps over its extent (far below a pixel), as frames have it
        x, y = (quantized_to_json(v) for v in (self.x, self.y))
        near, note = self._saved_near()
        return {**out, "channels": channels, "x": x, "y": y,
                "neighbours": _saved_neighbours(near, channels, x), "neighbours_note": note}

    def _saved_near(self) -> tuple[np.ndarray, str]:
        """The nearest samples a saved page carries and its note on them: none above
        SAVED_NEIGHBOURS_MAX samples."""
        if len(self._near) <= SAVED_NEIGHBOURS_MAX:
            return self._near, self.neighbours_note
        return np.zeros((0, 0), np.int32), (
            f"nearest samples: listed in the live view only; a saved page of more than "
            f"{SAVED_NEIGHBOURS_MAX:,} samples leaves them out (~21 bytes a sample)")

    def neighbours_of(self, index: int, wait: bool = True) -> list[int] | None:
        """The nearest samples of sample ``index`` at the shown epoch ([] when not at hand);
        waits for their search when it is still running, or with ``wait=False`` returns None
        then (see :meth:`when_neighbours_found`)."""
        job = self._near_job
        if not wait and job is not None and not job.done():
            return None
        self._wait_neighbours()
        if self._search_on_demand():
            if not wait:
                return None
            self._wait_neighbours()
        near = self._near
        return near[index].tolist() if near.ndim == 2 and 0 <= index < len(near) else []

    def _search_on_demand(self) -> bool:
        """Start searching a large run's graph if none was found for the shown epoch and
        layer, the view may search it and has not yet; whether it started."""
        with self._lock:
            job = self._near_job
            if (not self._search_large or self._near_searched or job is None
                    or not job.done() or self._near.size or self._run is None
                    or len(self._data) <= NEIGHBOURS_SEARCHED):
                return False
            self._start_neighbours(self.epoch, search=True)
            return True

    def saved_epochs(self, ctx: ExportContext | None = None) -> list[int]:
        """The epochs a saved report's scrubber carries: of those it can show (all for PCA,
        else those with a cached layout), ``ctx.epoch_count`` spread from the first to the
        last, plus the one shown."""
        run = getattr(self, "_run", None)
        if run is None:
            return []
        if self._method == "pca":  # computed on demand in milliseconds: every epoch
            able = list(run.epochs)
        else:
            able = [e for e in run.epochs if self._saved_layout(e) is not None]
        keep = [able.index(self.epoch)] if self.epoch in able else []
        count = (ctx or ExportContext()).epoch_count(len(self._data))
        return [able[i] for i in spread_indices(len(able), count, keep)]

    def epoch_table(self, epoch: int) -> pd.DataFrame:
        """The table this view shows at ``epoch`` (recorded columns plus added ones)."""
        table = self._run.snapshot(epoch).table
        return table.assign(**self._extra) if self._extra else table

    def _saved_layout(self, epoch: int) -> np.ndarray | None:
        if epoch == self.epoch:
            # (a notebook page's export may have set x, y to their saved, quantised form)
            return np.stack([array_from_json(array_to_json(v)) for v in (self.x, self.y)], 1)
        if self._method == "pca":
            return np.asarray(self._run.project(epoch, method="pca", layer=self._layer))
        from ..projection import cached

        found = self._refined.get(epoch)
        return found if found is not None else cached(self._run, epoch, self._method,
                                                      layer=self._layer)

    def _epoch_frames(self, ctx: ExportContext | None = None) -> dict[str, Any]:
        layouts = {e: self._saved_layout(e) for e in self.saved_epochs(ctx)}
        layouts = {e: coords for e, coords in layouts.items() if coords is not None}
        if len(layouts) < 2:
            return {}
        frames = {}
        near, note = self._saved_near()
        for e, found in layouts.items():
            coords = np.asarray(found, dtype=np.float32)
            table = self.epoch_table(e)
            channels = _saved_channels(table, self.columns)
            # a page draws the layout: uint16 steps over its extent are far below a pixel
            x, y = quantized_to_json(coords[:, 0]), quantized_to_json(coords[:, 1])
            # nearest samples of the shown epoch only: ~10 bytes a point per epoch would be
            # most of the page's budget
            ids = near if e == self.epoch else np.zeros((0, 0), np.int32)
            frames[str(e)] = {"x": x, "y": y,
                              "channels": channels_to_json(channels),
                              "neighbours": _saved_neighbours(ids, channels, x),
                              "neighbours_note": note if e == self.epoch else (
                                  f"nearest samples: this page saved those of epoch "
                                  f"{self.epoch} only" if near.size else "")}
            if self._own_search:  # the search box finds that epoch's values
                frames[str(e)]["rows"] = self._rows_payload(table, saved=True)
        return frames

    def info(self, index: int) -> dict[str, Any]:
        """The hover card's fields of one sample (label, pred, correct, loss when present)."""
        row = self._data.iloc[int(index)]
        names = list(getattr(self._run, "class_names", None) or [])
        sets = _label_sets(row, names)
        out = {}
        for col in INFO_COLUMNS:
            if sets is not None and col in sets:  # a multi-label run: the labels by name
                out[col] = sets[col]
                continue
            if col in self._data.columns:
                value = row[col]
                out[col] = value.item() if hasattr(value, "item") else value
                if isinstance(out[col], float) and not np.isfinite(out[col]):
                    out[col] = None
                # classes by name, as the details panel shows them
                if col in ("label", "pred") and isinstance(out[col], int) \
                        and 0 <= out[col] < len(names):
                    out[col] = str(names[out[col]])
        return out

    def _on_custom_msg(self, _widget: Any, content: dict[str, Any], buffers: list) -> None:
        req = parse_request(content, ("search", "preview"))
        if req is not None and req.kind == "rows":  # every row, for the search box
            self._rows_wanted = True
            with self._lock:
                self._send_rows()
            return
        if req is None or req.kind != "preview":
            return
        index = req.ids[0]
        if not 0 <= index < len(self._data):
            return
        reply: dict[str, Any] = {"type": ROW_REQUESTS["preview"], "index": index,
                                 "kind": self.preview_kind}
        reply["info"] = self.info(index)
        out_buffers: list[bytes] = []
        if self._preview is not None:
            item = self._preview.get(index)
            if isinstance(item, bytes):
                out_buffers = [item]
            else:
                reply["text"] = item
        self.send(reply, out_buffers)

    # --- runs -------------------------------------------------------------------------------
    @classmethod
    def from_run(
        cls,
        run: Any,
        epoch: int | None = None,
        method: str = "pca",
        layer: str | None = None,
        preview: Any = None,
        search_large: bool = True,
        **kwargs: Any,
    ) -> PopulationView:
        """The samples of a recorded run at ``epoch``, laid out by ``method`` (pca|umap|tsne).

        PCA shows at once; UMAP and t-SNE replace it when they are ready (in the background) if
        :mod:`nbperceive.projection` offers ``project_run_async``. The epoch scrubber in the
        view (``view.epoch = k``) moves the points to epoch k's layout.

        A selected sample's nearest samples in perception space come from the run's neighbour
        graph; above 20,000 samples, when none is cached, ``search_large`` searches it in the
        background worker once a sample is selected (False: another job, such as the
        label-error ranking, caches one; call :meth:`look_for_neighbours` when it has).
        """
        if isinstance(run, (str, os.PathLike)):
            from ..store import open_run

            run = open_run(run)
        snap = run.snapshot(epoch)
        from ..projection import METHODS

        if method not in METHODS:
            raise RunError(f"unknown layout method {method!r}; choose one of {METHODS}.")
        view = cls(snap.table.assign(x=np.nan, y=np.nan), preview=preview, **kwargs)
        view._run, view._method, view._layer, view._refined = run, method, layer, {}
        view._search_large = bool(search_large)
        view.class_names = [str(c) for c in (getattr(run, "class_names", None) or [])]
        view.layout_methods = [m for m in METHODS if _installed(m)]
        view.layout_method = method
        layers = view._layers = [str(b["name"]) for b in snap.layout]
        if layer is not None and layer not in layers:
            raise RunError(f"layer {layer!r} was not captured in this run; captured layers: "
                           f"{layers}.")
        view.layout_layers = layers if len(layers) > 1 else []
        view.layout_layer = layer or ""
        view.epochs = list(run.epochs)
        view.epoch = snap.epoch
        view._show_epoch(snap.epoch, table=snap.table)
        view.observe(lambda ch: view._show_epoch(ch["new"]), names="epoch")
        view.observe(view._on_layout_method, names="layout_method")
        view.observe(view._on_layout_layer, names="layout_layer")
        return view

    def _on_layout_layer(self, change: Any) -> None:
        """The page switched the layer: lay the shown epoch out from that layer's vectors
        (or all layers', "") on a thread, the status line saying so meanwhile."""
        layer = change["new"] or None
        if layer == self._layer:
            return
        if change["new"] and change["new"] not in self.layout_layers:
            self.layout_layer = self._layer or ""  # not a captured layer: the switch goes back
            return
        with self._lock:
            self._layer, self._refined = layer, {}
        where = f"layer {layer}" if layer else "all layers"
        self.layout_status = f"{self._method} layout of epoch {self.epoch}, {where}: computing"

        def work() -> None:
            try:
                if self._layer == layer:  # not switched again meanwhile
                    self._show_epoch(self.epoch)
            except Exception as err:  # shown on the page: the thread has no one to raise to
                self.layout_status = f"layout of {where} failed: {err}"

        threading.Thread(target=work, name="nbperceive-layer", daemon=True).start()

    def _on_layout_method(self, change: Any) -> None:
        """The page switched PCA / UMAP / t-SNE: lay the shown epoch out again (refined
        layouts arrive from the background worker, with their progress in the status)."""
        if change["new"] == self._method:
            return
        if change["new"] not in self.layout_methods:
            self.layout_method = self._method  # not installed: the switch goes back
            return
        with self._lock:
            self._method, self._refined = change["new"], {}
        self._show_epoch(self.epoch)

    def _start_neighbours(self, epoch: int, search: bool = False) -> None:
        """Look for the nearest samples at ``epoch`` on a thread of their own (an exact search
        takes seconds at 10k samples: the view must not wait for it, nor queue it behind a
        layout on the background worker); :meth:`neighbours_of` waits for it if asked early.
        A large run's graph, when not cached, is searched only with ``search`` (on the first
        sample asked for: NN-descent beside the page's first frame slowed it by a second)."""
        job: Future = Future()
        run, layer, n = self._run, self._layer, len(self._data)
        if run is None or n < 2:
            job.set_result((np.zeros((0, 0), np.int32), ""))
        self._near_job, self._near_searched = job, search
        self._near = np.zeros((0, 0), np.int32)
        if job.done():
            self.neighbours_note = ""
            return
        self.neighbours_note = "searching the nearest samples in perception space…"
        wanted = None
        if search and n > NEIGHBOURS_SEARCHED:
            self.neighbours_note = (f"searching the nearest samples among {n:,} in the "
                                    "background (NN-descent: a minute or more)…")

            def wanted() -> bool:  # whether the graph search is still wanted, in its turn
                return self._near_job is job

        def work() -> None:
            try:
                with self._large_search if wanted is not None else contextlib.nullcontext():
                    ids, note = self._neighbour_ids(run, epoch, layer, n, self._layers, wanted)
                if not ids.size and self._search_large and wanted is None:
                    note = (f"the nearest samples among {n:,} are searched in the background "
                            "once a sample is selected (NN-descent: a minute or more)")
                found = ids, note
            except Exception as err:  # noqa: BLE001 - the note says so; the view goes on
                found = (np.zeros((0, 0), np.int32), f"no neighbours: {err}")
            with self._lock:
                if self._near_job is job:  # not superseded by another epoch or layer
                    self._near, self.neighbours_note = found
            job.set_result(found)

        threading.Thread(target=work, name="nbperceive-neighbours", daemon=True).start()

    def look_for_neighbours(self, search: bool = False) -> None:
        """Look again for the shown epoch's nearest samples if the search under way (or the
        last one) found none: a large run's graph may have been cached since, e.g. by the
        label-error ranking. ``search``: from now on, search a large run's graph in the
        background when none is cached and a sample is asked for (as ``from_run``'s
        ``search_large``)."""
        self._search_large = self._search_large or search

        def again() -> None:
            if self._run is not None and not self._near.size:
                self._start_neighbours(self.epoch)

        self.when_neighbours_found(again)

    def when_neighbours_found(self, fn: Callable[[], Any]) -> None:
        """Call ``fn`` once the running neighbour search is done (at once when none runs; else
        on the search's thread)."""
        job = self._near_job
        if job is None:
            fn()
        else:
            job.add_done_callback(lambda _: fn())

    def _wait_neighbours(self) -> None:
        job = self._near_job
        if job is not None:
            job.result()

    @staticmethod
    def _neighbour_ids(run: Any, epoch: int, layer: str | None, n: int,
                       layers: Sequence[str] = (), search: Callable[[], bool] | None = None
                       ) -> tuple[np.ndarray, str]:
        """((N, k) nearest samples of each sample at ``epoch``, a note on them); uint16 ids
        up to 65,535 samples (half the bytes in a saved page), int32 above. Above
        :data:`NEIGHBOURS_SEARCHED` samples, a cached graph, else (``search()`` true: still
        wanted) one searched in the background worker."""
        from ..neighbours import cached_graph, run_graph

        none = np.zeros((0, 0), np.int32)
        where = f"layer {layer}" if layer else "all captured layers"
        try:
            graph = (run_graph(run, epoch, layer=layer) if n <= NEIGHBOURS_SEARCHED
                     else cached_graph(run, epoch, layer=layer))
            if graph is None and not layer:
                # a large run: the graph the label-error ranking searched (one layer's) will
                # do, the note naming that layer
                for name in layers:
                    graph = cached_graph(run, epoch, layer=name)
                    if graph is not None:
                        where = f"layer {name}"
                        break
            if graph is None and search is not None:
                if not search():  # another epoch or layer is shown by now
                    return none, ""
                graph = run_graph(run, epoch, layer=layer)  # approximate, in the worker
        except (RunError, ValueError, OSError) as err:
            return none, f"no neighbours: {err}"
        if graph is None:
            return none, (f"neighbours of {n:,} samples are searched when the run's graph is "
                          "cached (the label-error ranking or a UMAP layout builds it)")
        dtype = np.uint16 if n <= SAVED_NEIGHBOURS_MAX else np.int32
        ids = np.ascontiguousarray(graph.neighbours(NEIGHBOURS_K), dtype=dtype)
        return ids, f"nearest in perception space ({where}, epoch {epoch})"

    @t.validate("epoch")
    def _valid_epoch(self, proposal: Any) -> int:
        run = getattr(self, "_run", None)
        if run is not None and proposal["value"] not in run.epochs:
            raise RunError(
                f"epoch {proposal['value']} is not in {run.path}; recorded epochs: {run.epochs}."
            )
        return proposal["value"]

    def _show_epoch(self, epoch: int, table: pd.DataFrame | None = None) -> None:
        """Show ``epoch``: at once when its layout is cached or quick to compute; else its
        layout is computed on a thread, the status line saying so, and the points move when
        it is done (the first view of a large run shows its colours and no points until then;
        a scrubbed-to epoch keeps the points of the one before)."""
        if table is None:
            table = self._run.snapshot(epoch).table
        if self._extra:
            table = table.assign(**self._extra)
        if len(table) <= INLINE_LAYOUT_MAX or self._layout_at_hand(epoch):
            self._place(epoch, table, self._layout(epoch))
            return
        job: Future = Future()
        method, layer = self._method, self._layer
        self._layout_job = job  # (a first view has its colours already: from_run)
        self.layout_status = (f"{method} layout of epoch {epoch} ({len(table):,} samples): "
                              "computing")

        def work() -> None:
            try:
                coords = self._layout(epoch)
                with self._lock:
                    if self._layout_job is job and (self._method, self._layer) == (method,
                                                                                  layer):
                        self._place(epoch, table, coords)
            except Exception as err:  # shown on the page: the thread has no one to raise to
                self.layout_status = f"layout of epoch {epoch} failed: {err}"
            finally:
                job.set_result(None)

        threading.Thread(target=work, name="nbperceive-layout", daemon=True).start()

    def _layout_at_hand(self, epoch: int) -> bool:
        """Whether ``epoch``'s layout (or the PCA one shown before a refined one) is cached."""
        from ..projection import is_cached

        return any(is_cached(self._run, epoch, m, self._layer) for m in {self._method, "pca"})

    def wait_for_layout(self, timeout: float | None = None) -> bool:
        """Wait until a layout computed on a thread is shown; False on timeout."""
        job = self._layout_job
        if job is None:
            return True
        try:
            job.result(timeout)
        except TimeoutError:
            return False
        return True

    def _place(self, epoch: int, table: pd.DataFrame, coords: np.ndarray) -> None:
        """Show ``table`` at ``coords`` (or the refined layout if it arrived meanwhile)."""
        with self._lock:  # a refined layout may have arrived meanwhile (worker thread)
            if self.epoch != epoch:
                return  # scrubbed on while this epoch was laid out: that show comes next
            coords = self._refined.get(epoch, coords)
            with self.hold_sync():
                self._data = table.assign(x=coords[:, 0], y=coords[:, 1]).reset_index(drop=True)
                self._set_xy(coords[:, 0], coords[:, 1])
                self._send_channels()
                self._send_rows()
                self._start_neighbours(epoch)
                if self._method == "pca" or epoch in self._refined:
                    self.layout_status = ""  # after the points: watchers see them in place

    def _layout(self, epoch: int) -> np.ndarray:
        """PCA now; the refined layout (umap, tsne) replaces it when the worker has it."""
        from .. import projection

        project_async = getattr(projection, "project_run_async", None)
        method = self._method
        if method == "pca" or project_async is None:
            # (the status clears once the points are in place: _show_epoch)
            # without project_run_async (older projection module) the refined layout blocks
            return np.asarray(self._run.project(epoch, method=self._method, layer=self._layer))

        def on_ready(coords: np.ndarray) -> None:
            coords = np.asarray(coords, dtype=np.float32)
            with self._lock:
                if self._method != method:  # switched to another method meanwhile
                    return
                self._refined[epoch] = coords
                if self.epoch == epoch and len(coords) == len(self._data):
                    self._data = self._data.assign(x=coords[:, 0], y=coords[:, 1])
                    self._set_xy(coords[:, 0], coords[:, 1])
                    self.layout_status = ""
            self.look_for_neighbours()  # the layout cached the run's graph of this layer

        def on_progress(handle: Any) -> None:
            if self.epoch == epoch and self._method == method and handle.status != "done":
                self.layout_status = f"{handle.description}: {handle.stage}"

        self.layout_status = f"{self._method} layout of epoch {epoch}: queued"
        return np.asarray(project_async(self._run, epoch, self._method, on_ready,
                                        layer=self._layer, on_progress=on_progress))


def _multilabel_placeholder(table: pd.DataFrame, column: Any) -> bool:
    """Whether ``column`` is a multi-label run's ``label`` or ``pred``: -1 for every sample
    (the labels are in label_<name> columns), nothing to colour by."""
    return column in ("label", "pred") and any(str(c).startswith("label_") for c in table) \
        and bool((table[column] == -1).all())


def _label_sets(row: pd.Series, names: Sequence[str]) -> dict[str, str] | None:
    """A multi-label row's true and predicted labels by name ({"label", "pred"}), or None for
    other runs (its label and pred hold -1; label_<name> and prob_<name> carry each label)."""
    if not names or row.get("label") != -1 or f"label_{names[0]}" not in row.index:
        return None
    truth = [str(n) for n in names if row.get(f"label_{n}") == 1]
    pred = [str(n) for n in names if float(row.get(f"prob_{n}", 0.0)) >= 0.5]
    return {"label": ", ".join(truth) or "no label", "pred": ", ".join(pred) or "no label"}


def _saved_channels(table: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Every column's channel for a saved page; a continuous one's codes as its values in
    the saved table's encoding (``codes_of_json``: the page holds those bytes anyway and
    works the codes out), but for probabilities, whose codes are the table's bytes."""
    from .selection import column_payload

    out = {}
    for name in (c for c in columns if c in table.columns):
        ch = encode_channel(table[name])
        if ch["kind"] == "continuous" and not name.startswith(PROBABILITY_PREFIX):
            numbers = column_payload(table[name], saved=True).get("numbers")
            if numbers is not None:
                ch = {**ch, "codes": codes_of_json(numbers, ch["domain"])}
        out[name] = ch
    return out


def _saved_neighbours(ids: np.ndarray, channels: dict[str, Any], x: dict[str, Any]
                      ) -> dict[str, Any]:
    """A page's (N, k) nearest samples, ranked by the predicted class (else the label) and
    the quantised x it holds anyway (``ranked_to_json``: near samples share both, so the ids
    compress to ~2/3)."""
    if not ids.size:
        return array_to_json(np.zeros((0, 0), np.int32))
    keys = [channels[c]["codes"] for c in ("pred", "label")
            if c in channels and channels[c]["kind"] == "categorical"][:1]
    q = np.frombuffer(x["view"], dtype=x["dtype"])
    return ranked_to_json(ids, [*keys, q])


def _installed(method: str) -> bool:
    """Whether the library behind a layout method imports (PCA: always)."""
    import importlib.util

    module = {"umap": "umap", "tsne": "openTSNE"}.get(method)
    return module is None or importlib.util.find_spec(module) is not None


def _plottable(series: pd.Series) -> bool:
    """Numeric, boolean or categorical (not free text with a value per row)."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return True
    if isinstance(series.dtype, pd.CategoricalDtype):
        return True
    n = series.nunique(dropna=True)
    return n <= 20 or (n < len(series) // 2 and n <= 254)
