"""The Explorer: population view, inspector, details, confusion matrix, curves and suspects.

Every link between views lives in the front end, so it survives a static export: ``jslink``
moves the scatter's ``selected`` to the details, the inspector's ``sample`` and the suspects
list; the selection view (``js/src/selection.js``) turns a confusion-matrix cell into a
selection and draws the lasso's summary and table. The kernel computes heatmaps on demand; a
saved report (:meth:`Explorer.save_html`) carries every sample's details and the heatmaps of
the suspects and the selection.

The label-error ranking (:func:`nbperceive.metrics.suspects`, with its neighbour graph) runs on
the background worker of :mod:`nbperceive.projection` (above ~20k samples the approximate
neighbour search runs in the worker process, whose first one compiles numba code for
minutes), so ``Explorer()`` returns at once; the suspects list shows the job's status and
fills in when it is done, the scatter's "show suspects" (``marked``) and the story panel
(:class:`SuspectStory`) with it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from ..errors import MetadataError, ModelError, RunError
from ..export import SAVED_PREVIEW_BYTES
from .details import Details
from .maps import REPORT_DEPTHS, REPORT_EPOCHS
from .population import PopulationView
from .sample_list import SampleList
from .selection import SelectionView
from .story import SuspectStory

SUSPECTS_LISTED = 50  # suspects in the clickable list (and with heatmaps in a saved report)
BUILD_WAIT = 60.0  # s the ranking waits for the views to be built (longer: start anyway)
SELECTION_SAVED = 50  # lasso-selected samples whose heatmaps a saved report carries
LOSS_COLOUR, ACCURACY_COLOUR = "#1f77b4", "#d62728"  # the curves' lines and axis labels


class Explorer(w.VBox):
    """Linked views of a recorded run (and of its model, when given).

    ``Explorer(perceiver)``, ``Explorer(run)`` or ``Explorer("runs/mnist", model=model, x=x)``;
    ``metadata={"ink": lambda img: img.sum()}`` adds columns (values, or a function of one
    probe sample) at once, like :meth:`add_metadata`.
    With a model and the probe inputs, the inspector shows heatmaps of the clicked sample
    (``attribution``: its first method; default GradCAM, or saliency for models without a
    layer that keeps the input's axes).
    """

    def __init__(
        self,
        source: Any,
        model: Any = None,
        x: Any = None,
        epoch: int | None = None,
        method: str = "pca",
        preview: Any = None,
        tokens: Any = None,
        vocabulary: Any = None,
        attribution: str | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        from ..store import Run, open_run

        perceiver = None
        if isinstance(source, (str, os.PathLike)):
            run = open_run(source)
        elif isinstance(source, Run):
            run = source
        elif hasattr(source, "run") and hasattr(source, "model"):
            perceiver = source
            run = source.run
            model = model if model is not None else source.model
            if x is None and getattr(source.data, "x", None) is not None:
                xs = source.data.x
                x = xs if len(xs) > 1 else xs[0]
            preview = preview if preview is not None else source.preview
        else:
            raise RunError(
                f"Explorer needs a Perceiver, a Run or a run directory, not {type(source)}.")
        if not run.epochs:
            raise RunError(f"{run.path} holds no epoch yet: train with perceiver.callback() "
                           "or call perceiver.capture() first.")
        self.run = run
        self.perceiver = perceiver
        self.class_names = run.class_names
        self._preview = preview
        self._lock = threading.RLock()
        self._built = False
        self._ranked: pd.DataFrame | None = None
        self._suspects_done = threading.Event()
        self._views_built = threading.Event()
        self.suspects = SampleList(
            rows=8, empty="(the label-error ranking is being computed)",
            filter_label=f"show only the top {SUSPECTS_LISTED} suspects in the scatter",
            layout=w.Layout(width="100%"))
        self.story = SuspectStory(class_names=[str(c) for c in self.class_names])
        self.story.before_export = self.wait_for_suspects
        self.suspects_job = self._start_suspects()  # first in the worker's queue
        try:
            self._build(model, x, epoch, method, preview, tokens, vocabulary, attribution,
                        metadata)
        finally:
            self._views_built.set()  # the ranking starts now (also when building failed)

    def _build(self, model: Any, x: Any, epoch: int | None, method: str, preview: Any,
               tokens: Any, vocabulary: Any, attribution: str | None,
               metadata: dict[str, Any] | None) -> None:
        """Every view but the suspects list and the story (made first, for the ranking)."""
        run = self.run
        # the selection view answers the search box, over its rows
        self.population = PopulationView.from_run(run, epoch=epoch, method=method,
                                                  preview=preview, own_search=False,
                                                  search_large=False)  # the ranking's graph
        self.population.searchable = True
        if self._is_regression() or self._multilabel_names():
            # no label-error ranking will cache a graph: the view searches its own when asked
            self.population.look_for_neighbours(search=True)
        self.inspector = None
        self.no_inspector = ""  # why a model given has no inspector
        if model is not None and x is not None:
            from .inspector import Inspector


            truth = self._multi_hot()
            truth = truth if truth is not None else run.samples["label"].to_numpy()

            def inspector(method: str) -> Inspector:
                # the model in memory is the trained one (the last epoch's); earlier epochs'
                # maps come from the weights the run kept (the scrubber picks the epoch)
                return Inspector(model, x, y_true=truth,
                                 class_names=self.class_names, tokens=tokens,
                                 vocabulary=vocabulary, method=method, run=run,
                                 regression=self._is_regression(), background=True,
                                 display=_flat_images(x, preview))

            try:
                self.inspector = inspector(attribution or "gradcam")
            except ModelError:
                if attribution is not None:
                    raise
                # no layer keeps the input's axes (e.g. a Dense model): maps at the input
                try:
                    self.inspector = inspector("saliency")
                except ModelError as err:  # a model explain cannot handle: no inspector
                    self.no_inspector = f"No inspector for this model: {err}"
            if self.inspector is not None:
                w.jslink((self.population, "selected"), (self.inspector, "sample"))
                w.jslink((self.population, "epoch"), (self.inspector, "view_epoch"))
        self.precision_recall = w.HTML()
        self.confusion = self._task_figure()
        self.curves = self._curves_figure()
        self.selection_view = SelectionView(self._table(), self.population, grid=self._cm_grid,
                                            class_names=self.class_names)
        if getattr(self, "label_picker", None) is not None:
            # the page recounts the picked label's 2x2 and selects a cell's samples itself
            self.selection_view.confusion_label = self.label_picker.index
            w.jslink((self.label_picker, "index"), (self.selection_view, "confusion_label"))
        self.details = Details(source=self.selection_view, layout=w.Layout(min_width="260px"))
        w.jslink((self.population, "selected"), (self.details, "selected"))
        w.jslink((self.population, "selected"), (self.suspects, "selected"))
        w.jslink((self.population, "selected"), (self.story, "selected"))
        w.jslink((self.suspects, "filter_on"), (self.population, "only_marked"))

        self.population.observe(self._on_epoch, names="epoch")

        right = [w.HTML("<b>Details</b>"), self.details]
        if self.inspector is not None:
            right += [w.HTML("<b>Inspector</b>"), self.inspector]
        elif self.no_inspector:
            right += [w.Label(self.no_inspector)]  # a Label shows text, never markup
        super().__init__(_layout(self.population, right, [
            (self._task_title(), w.VBox([self.confusion, self.precision_recall]),
             "nbp-ex-figure"),
            ("<b>Per-epoch curves</b>", self.curves, "nbp-ex-figure"),
            ("<b>Suspected label errors</b> (click one)", self.suspects, "nbp-ex-suspects"),
            ("<b>Why is the selected sample suspect?</b>", self.story, "nbp-ex-story"),
        ], self.selection_view))
        self.add_class("nbp-explorer")
        for name, values in (metadata or {}).items():
            self.add_metadata(name, values)
        with self._lock:  # the ranking may have arrived while the views were built
            self._built = True
            if self._ranked is not None:
                self._show_suspects()

    # --- views -----------------------------------------------------------------------------
    def _table(self) -> pd.DataFrame:
        return self.population.data

    def _is_regression(self) -> bool:
        """A run of values, not classes: no class probabilities, float labels."""
        table = self._table()
        return not any(str(c).startswith("prob_") for c in table.columns) and \
            table["label"].dtype.kind == "f"

    def _multilabel_names(self) -> list[str]:
        """The labels of a multi-label run (one ``label_<name>`` column each), else []."""
        table = self._table()
        names = [str(c) for c in self.class_names]
        columns = [f"label_{n}" for n in names] + [f"prob_{n}" for n in names]
        if not names or (table["label"] >= 0).any() or not set(columns) <= set(table.columns):
            return []
        return names

    def _multi_hot(self) -> np.ndarray | None:
        """(N, C) true labels of a multi-label run (None for other runs)."""
        names = self._multilabel_names()
        if not names:
            return None
        return self._table()[[f"label_{n}" for n in names]].to_numpy().astype(np.int64)

    def _task_title(self) -> str:
        if self._is_regression():
            return "<b>Predicted vs true</b> (first output)"
        if self._multilabel_names():
            return "<b>Confusion per label</b> (pick the label, click a cell)"
        return "<b>Confusion matrix</b> (click a cell)"

    def _task_figure(self) -> Any:
        """The confusion matrix of a classifier (of the picked label, multi-label),
        predicted-vs-true of a regression."""
        self.label_picker = None
        if self._is_regression():
            self._cm_grid = None
            return self._regression_figure()
        return self._confusion_figure()

    def _regression_figure(self) -> Any:
        import bqplot as bq

        xs, ys = bq.LinearScale(), bq.LinearScale()
        self._pred_true = bq.Scatter(scales={"x": xs, "y": ys}, default_size=8,
                                     colors=["steelblue"], default_opacities=[0.6])
        self._diagonal = bq.Lines(scales={"x": xs, "y": ys}, colors=["gray"],
                                  line_style="dashed")
        self._update_confusion()
        return bq.Figure(marks=[self._diagonal, self._pred_true],
                         axes=[bq.Axis(scale=xs, label="true"),
                               bq.Axis(scale=ys, orientation="vertical", label="predicted")],
                         fig_margin={"top": 10, "bottom": 40, "left": 50, "right": 10},
                         display_toolbar=False, layout=_figure_layout())

    def _confusion_figure(self) -> Any:
        import bqplot as bq

        multilabel = self._multilabel_names()
        # multi-label: one 2x2 per label (no / yes), the label picked in `label_picker`
        names = ["no", "yes"] if multilabel else self.class_names
        n = len(names)
        # rows and columns named by class (a cell click reports indices, as before); the
        # colour ramp stops at a mid blue so the black counts stay legible on every cell
        from .confusion import ConfusionGrid

        self._cm_grid = ConfusionGrid(
            color=np.zeros((n, n)),
            row=[str(c) for c in names], column=[str(c) for c in names],
            scales={"row": bq.OrdinalScale(reverse=True), "column": bq.OrdinalScale(),
                    "color": bq.ColorScale(colors=["#f7fbff", "#9ecae1", "#4292c6"])},
            interactions={"click": "select"},  # js/src/selection.js selects the samples
            selected_style={"stroke": "orange", "stroke-width": "3"},
            display_format=".0f", font_style={"font-size": "10px", "fill": "#000"},
        )
        axes = [bq.Axis(scale=self._cm_grid.scales["column"], label="prediction"),
                bq.Axis(scale=self._cm_grid.scales["row"], orientation="vertical",
                        label="label")]
        self.label_picker = None
        if multilabel:
            self.label_picker = w.Dropdown(options=multilabel, value=multilabel[0],
                                           description="label", layout=w.Layout(width="220px"))
        self._update_confusion()
        figure = bq.Figure(marks=[self._cm_grid], axes=axes, padding_y=0.0,
                           fig_margin={"top": 10, "bottom": 40, "left": 50, "right": 10},
                           display_toolbar=False, layout=_figure_layout())
        if self.label_picker is None:
            return figure
        self.label_picker.observe(lambda _: self._update_confusion(), names="value")
        return w.VBox([self.label_picker, figure])

    def _update_confusion(self) -> None:
        from ..metrics import confusion_matrix, label_confusion

        if self._cm_grid is None:  # regression: predicted vs true of this epoch
            table = self._table()
            true = table["label"].to_numpy(dtype=float)
            pred = table["pred"].to_numpy(dtype=float)
            ok = np.isfinite(true) & np.isfinite(pred)
            self._pred_true.x, self._pred_true.y = true[ok], pred[ok]
            both = np.concatenate([true[ok], pred[ok]]) if ok.any() else np.zeros(1)
            self._diagonal.x = self._diagonal.y = np.array([both.min(), both.max()])
            return

        if self.label_picker is not None:  # multi-label: the picked label's 2x2
            table, names = self._table(), self._multilabel_names()
            per_label = [label_confusion(table, n) for n in names]
            self._cm_grid.color = per_label[names.index(self.label_picker.value)].astype(float)
            self.precision_recall.value = _precision_recall_html(
                np.array([[0]]), names, per_label=per_label)
            return
        cm = confusion_matrix(self._table(), len(self.class_names))
        self._cm_grid.color = cm.astype(float)
        self.precision_recall.value = _precision_recall_html(cm, self.class_names)

    def _curves_figure(self) -> Any:
        import bqplot as bq

        hist = self.run.history()
        xs = bq.LinearScale()
        # loss on the left axis (blue), accuracy (0..1) on the right (red): their units
        # differ. Solid: the probe, dashed: training. The axis labels say so, instead of a
        # legend that would sit on some run's lines.
        scales = {"loss": bq.LinearScale(min=0.0), "accuracy": bq.LinearScale(min=0.0, max=1.0)}
        colours = {"probe_loss": LOSS_COLOUR, "train_loss": LOSS_COLOUR,
                   "probe_accuracy": ACCURACY_COLOUR, "train_accuracy": ACCURACY_COLOUR}
        marks, used = [], set()
        for name, colour in colours.items():
            if name not in hist.columns:
                continue
            ok = hist[name].notna().to_numpy()  # e.g. no training loss before the first epoch
            if not ok.any():
                continue
            kind = name.split("_", 1)[1]
            used.add(kind)
            marks.append(bq.Lines(
                x=hist["epoch"].to_numpy()[ok], y=hist[name].to_numpy(dtype=float)[ok],
                scales={"x": xs, "y": scales[kind]}, labels=[name], colors=[colour],
                marker="circle", marker_size=24,
                line_style="dashed" if name.startswith("train") else "solid"))
        axes = [bq.Axis(scale=xs, label="epoch", tick_format="d",
                        tick_values=hist["epoch"].to_numpy())]
        if "loss" in used:
            axes.append(bq.Axis(scale=scales["loss"], orientation="vertical",
                                label="loss (solid: probe, dashed: train)",
                                label_color=LOSS_COLOUR, tick_format=".2~f"))
        if "accuracy" in used:
            axes.append(bq.Axis(scale=scales["accuracy"], orientation="vertical",
                                side="right", label="accuracy (solid: probe, dashed: train)",
                                label_color=ACCURACY_COLOUR, tick_format=".0%"))
        return bq.Figure(marks=marks, axes=axes,
                         fig_margin={"top": 10, "bottom": 40, "left": 50, "right": 50},
                         display_toolbar=False, layout=_figure_layout())

    def _start_suspects(self) -> Any:
        """Queue the ranking on the background worker; the views fill in when it is done."""
        from ..neighbours import EXACT_MAX
        from ..projection.background import submit

        run, n = self.run, len(self.run.samples)

        def job(handle: Any) -> pd.DataFrame:
            # first in the queue, but it starts once the views are built: computing beside
            # the constructor (a numba compile above all) would slow Explorer() down
            self._views_built.wait(BUILD_WAIT)
            slow = (" (the neighbour search runs in the worker process; its first one "
                    "compiles numba code: a few minutes)") if n > EXACT_MAX else ""
            handle.report(f"ranking {n:,} samples{slow}", 0.1)
            return run.suspects()

        def on_ready(ranked: pd.DataFrame) -> None:
            with self._lock:
                self._ranked = ranked
                if self._built:
                    self._show_suspects()

        def on_progress(handle: Any) -> None:
            if handle.status in ("failed", "cancelled"):
                why = str(handle.error) if handle.error is not None else "cancelled"
                with self.suspects.hold_sync():
                    self.suspects.status = ""
                    self.suspects.empty = f"(no label-error ranking for this run: {why})"
                self.story.status = "No label-error ranking for this run."
                self._suspects_done.set()
                # no ranking caches a graph: a large run's nearest samples are searched
                self.population.look_for_neighbours(search=True)
            elif handle.status != "done":
                text = f"{handle.description}: {handle.stage}"
                self.suspects.status = self.story.status = text

        key = ("suspects", str(run.path.resolve()), tuple(run.epochs))
        # before the job can report (it may start at once): the worker runs jobs in turn
        self.suspects.status = self.story.status = (
            "label-error ranking: queued on the background worker")
        return submit(key, "label-error ranking", job, on_ready, on_progress)

    def _show_suspects(self) -> None:
        """List the top of the ranking, mark it in the scatter, explain it in the story; a
        large run's view lists nearest samples from the graph the ranking cached."""
        try:
            self._list_suspects(self._ranked)
            self.population.look_for_neighbours()
        except Exception as err:  # say so in the panel; never leave a waiter hanging
            self.suspects.status = self.story.status = f"the suspects could not be shown: {err}"
            raise
        finally:
            self._suspects_done.set()

    def _list_suspects(self, ranked: pd.DataFrame) -> None:
        names = self.class_names
        top = ranked.head(SUSPECTS_LISTED)
        ids = top["sample_id"].to_numpy().astype(int)
        keys = {"suspicion": top["suspicion"], "p(label)": top["p_label"],
                "neighbours with its label": top["knn_label"], "loss": top["loss"],
                "forgetting events": top["forgetting"], "sample id": top["sample_id"]}
        with self.suspects.hold_sync():
            self.suspects.set_items(
                [(int(r.sample_id), f"#{int(r.sample_id)}: labelled {names[int(r.label)]}, model "
                                    f"says {names[int(r.pred)]} (suspicion "
                                    f"{_suspicion(r.suspicion)})")
                 for r in top.itertuples()],
                sort_keys={k: v.to_numpy(dtype=float) for k, v in keys.items()},
                preview=self._preview)
            self.suspects.status = ""
        self.population.marked = np.ascontiguousarray(ids, dtype=np.uint32)
        self.story.export_samples = ids.tolist()
        self.story.set_ranking(self.run, ranked)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.population.await_page()  # the points are drawn before the analyses take the cores
        return super()._repr_mimebundle_(**kwargs)

    def wait_for_suspects(self, timeout: float | None = None) -> bool:
        """Wait until the suspects are listed (or the ranking failed); False on timeout."""
        return self._suspects_done.wait(timeout)

    # --- reactions -------------------------------------------------------------------------
    def _on_epoch(self, change: Any) -> None:
        self._update_confusion()
        self.selection_view.set_data(self._table())

    # --- API -------------------------------------------------------------------------------
    @property
    def selected_samples(self) -> pd.DataFrame:
        """The rows of the samples selected in the scatter (lasso or confusion cell)."""
        table = self._table()
        idx = np.asarray(self.population.selection, dtype=np.int64)
        rows = table.iloc[np.unique(idx[(idx >= 0) & (idx < len(table))])]
        return rows.drop(columns=[c for c in ("x", "y") if c in table.columns])

    def add_metadata(self, name: str, values: Any) -> None:
        """Add a column (array, or a function of one probe sample) to the run and the pickers."""
        from ..store import add_metadata

        if callable(values):
            values = self._apply(values)
        values = add_metadata(self.run, name, values).to_numpy()
        self.population.add_column(name, values)
        self.selection_view.set_data(self._table())

    def _apply(self, fn: Callable[[Any], Any]) -> np.ndarray:
        from ..perceiver import sample_values

        if self.perceiver is None:
            raise MetadataError("a function needs the probe samples: build the Explorer from "
                                "a Perceiver, or pass the values as an array.")
        return sample_values(fn, self.perceiver.data)

    def save_html(self, path: str | os.PathLike, title: str = "nbperceive explorer",
                  samples: Sequence[int] | None = None,
                  depths: int | None = REPORT_DEPTHS,
                  preview_bytes: int | None = SAVED_PREVIEW_BYTES,
                  epochs: int | None = REPORT_EPOCHS) -> Any:
        """One self-contained HTML file of these views (no kernel, no network needed).

        The page shows every sample's details; the inspector carries the heatmaps of the
        listed suspects, the clicked and the lasso-selected samples (the first
        ``SELECTION_SAVED``), plus ``samples`` when given, at ``depths`` depths of the network
        spread from the shallowest to the deepest (plus the one on screen; ``None``: all).
        ``preview_bytes``: the hover previews' budget, ``epochs``: how many recorded epochs
        the scrubber carries (see :func:`nbperceive.save_html`).
        """
        from ..report import save_html

        self.wait_for_suspects()  # the page carries the listed suspects and their stories
        if self.inspector is None:
            return save_html(self, path, title=title, depths=depths, preview_bytes=preview_bytes,
                             epochs=epochs)
        saved = [*self.suspects.ids, self.population.selected,
                 *np.asarray(self.population.selection)[:SELECTION_SAVED].tolist(),
                 *(samples or [])]
        previous = self.inspector.export_samples
        self.inspector.export_samples = [int(s) for s in saved if s >= 0]
        try:
            return save_html(self, path, title=title, depths=depths, preview_bytes=preview_bytes,
                             epochs=epochs)
        finally:
            self.inspector.export_samples = previous

    @classmethod
    def compare(cls, a: Any, b: Any, **kwargs: Any) -> w.Box:
        """Two explorers side by side (e.g. Dense vs CNN on the same probe), selection linked."""
        left, right = cls(a, **kwargs), cls(b, **kwargs)
        if len(left.run.samples) != len(right.run.samples):
            raise RunError("compare needs two runs over the same probe samples.")
        w.jslink((left.population, "selected"), (right.population, "selected"))
        box = w.Box([left, right])
        box.add_class("nbp-compare")  # side by side when there is room, else one above the other
        box.explorers = (left, right)
        return box


def _precision_recall_html(cm: np.ndarray, class_names: list[str],
                           per_label: list[np.ndarray] | None = None) -> str:
    """Per class precision TP / (TP + FP) and recall TP / (TP + FN) of the shown epoch, as a
    small table (class names escaped: they are data); multi-label: from each label's 2x2
    ``per_label`` (rows: truth no/yes, columns: prediction no/yes)."""
    import html

    from ..metrics import precision_recall

    if per_label is not None:
        pairs = [precision_recall(c) for c in per_label]  # class "yes" of each 2x2
        precision = np.array([p[1] for p, _ in pairs])
        recall = np.array([r[1] for _, r in pairs])
    else:
        precision, recall = precision_recall(cm)
    show = lambda v: "-" if np.isnan(v) else f"{v:.2f}"  # noqa: E731
    rows = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td>{show(p)}</td><td>{show(r)}</td></tr>"
        for name, p, r in zip(class_names, precision, recall))
    return ('<table class="nbp-precision-recall" style="font-size:11px;border-spacing:8px 0">'
            '<tr><th>class</th><th title="TP / (TP + FP): of the samples predicted as the '
            'class, the share that are of it">precision</th><th title="TP / (TP + FN): of '
            'the samples of the class, the share predicted as it">recall</th></tr>'
            f"{rows}</table>")


def _figure_layout() -> w.Layout:
    """bqplot figures fill their panel's width (nbperceive.css sets the panel's bounds).
    They show no toolbar (``display_toolbar=False``): its pan-zoom has nothing to do on a
    confusion matrix or a few epochs, and a saved page then carries no icon font (0.1 MB)."""
    return w.Layout(width="100%", height="300px", min_width="0")


def _layout(population: Any, side: list[Any], panels: list[tuple[str, Any, str]],
            selection: Any) -> list[Any]:
    """The Explorer's boxes; js/src/nbperceive.css lays them out (CSS grid and flex-wrap with
    minimum widths), so panels reflow at any width instead of overlapping."""
    population.height = 0  # the scatter fills its grid cell
    population.add_class("nbp-ex-scatter")
    side_box = w.VBox(side)
    side_box.add_class("nbp-ex-side")
    top = w.Box([population, side_box])
    top.add_class("nbp-ex-top")
    boxes = []
    for title, widget, kind in panels:
        box = w.VBox([w.HTML(title), widget])  # title: our own markup
        box.add_class("nbp-ex-panel")
        box.add_class(kind)
        boxes.append(box)
    bottom = w.Box(boxes)
    bottom.add_class("nbp-ex-bottom")
    return [top, bottom, w.HTML("<b>Selection</b>"), selection]


def _suspicion(value: float) -> str:
    """A suspicion score with enough digits to tell near-1 scores apart (0.9987, not 1.00)."""
    v = float(value)
    if not np.isfinite(v):
        return "n/a"
    for digits in range(2, 8):  # the fewest digits that do not round up to a whole number
        text = f"{v:.{digits}f}"
        if float(text) != round(v) or v == round(v):
            return text.rstrip("0").rstrip(".") if v == round(v) else text
    return f"{v:.7f}"


def _flat_images(x: Any, preview: Any) -> np.ndarray | None:
    """The preview images of ``x`` when ``x`` holds their pixels as flat vectors (MNIST fed to
    an MLP): the inspector draws its maps over them instead of listing the numbers."""
    from ..samples import ImagePreview, as_preview

    preview = as_preview(preview)
    if not isinstance(preview, ImagePreview) or not isinstance(x, np.ndarray) or x.ndim != 2:
        return None
    images = preview.x
    if len(images) != len(x) or int(np.prod(images.shape[1:])) != x.shape[1]:
        return None
    return images

