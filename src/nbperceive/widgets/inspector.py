"""The Inspector: one sample with its heatmap at every depth, for every explained label.

Python holds traits only; the view is ``js/src/inspector.js``. All depths and labels of the
shown sample travel together as one binary uint8 array per model (each map quantised to its own
[0, 255], with its raw range beside it for the colour bar's numbers; signed methods keep their
sign, 128 = 0), so the depth slider and the label choice are pure front-end. Changing ``method``,
``input_name`` or ``sample`` asks the kernel to recompute with :func:`nbperceive.explain`.

Standalone::

    nbp.Inspector(model, x_val, y_true=y_val, class_names=names)       # batch + ``sample``
    nbp.Inspector.compare(dense, cnn, x_val, tokens=..., class_names=...)
    nbp.Inspector.from_explanation(nbp.explain(model, x), x)

``faithfulness=True`` also scores every map (every depth x label of the shown sample) by
Deletion AUC (lower = the map points at what the model needs), Insertion AUC and MuFidelity
(higher is better), shown as text beside the heatmap (live and in a saved page); pass a list
such as ``faithfulness=["deletion"]`` for fewer. The method list comes from the attribution
registry (every method that draws a heatmap for the model's kind of input).

A model of several outputs: ``output=`` names the one explained (by name or index, as
``nbp.explain(output=...)``; default the first, the one a run records as ``pred``); pass that
output's labels as ``y_true`` (``regression=True`` for a value output).

Linked to the population view: ``ipywidgets.jslink((population, "selected"),
(inspector, "sample"))``.

Across epochs: ``Inspector(model, x, run=run)`` (the Explorer does this) follows
``view_epoch`` (jslinked to the scatter's epoch scrubber): the maps are recomputed with the
weights the run kept for that epoch (``Perceiver(keep_weights=...)``), swapped into one copy
of the model, and cached per (epoch, sample); ``model_epoch`` says which epoch's model made
the maps on screen, and the page says so, and says when an epoch has no saved weights. A saved
page carries the maps of a few saved samples at up to ``SAVED_EPOCHS`` recorded epochs
(within ``EPOCH_MAPS_BYTES``), so its scrubber moves them too.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import traitlets as t

from ..errors import LabelError, ModelError, NbPerceiveError, ProbeError
from ..young_gc import young_collections
from .maps import (
    REPORT_DEPTHS,
    SIGNED_ZERO,
    native_maps,
    pack_maps,
    pick_depths,
    take_depths,
    unpack_maps,
)
from .maps import quantize as quantize  # noqa: F401 - re-exported
from .serializers import array_to_json

if TYPE_CHECKING:
    from ..export import ExportContext

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parents[1] / "static"

FAITHFULNESS = ("deletion", "insertion", "mufidelity")
COLORMAPS = ["inferno", "viridis", "turbo", "jet", "reds", "gray"]  # the first is the default
MAX_LABELS = 20
_CACHE_SIZE = 64
SAVED_EPOCHS = 4  # earlier epochs (besides the final one) whose maps a saved page carries
EPOCH_MAPS_BYTES = 100_000  # at most this many bytes of earlier epochs' maps in a saved page
EPOCH_LABELS = 3  # labels per earlier-epoch map in a saved page: the truth and the top ones


def image_pixels(sample: np.ndarray) -> np.ndarray:
    """One image as uint8 ``(H, W, C)`` with C in {1, 3, 4}, ready to draw on a canvas.

    uint8 input is kept; anything else is scaled by its own min..max.
    """
    a = np.asarray(sample)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4):
        raise ProbeError(
            f"cannot show an image of shape {a.shape}: expected (H, W) or (H, W, 1|3|4); "
            "pass display= with viewable images"
        )
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    a = np.nan_to_num(a.astype(np.float32))
    lo, hi = float(a.min()), float(a.max())
    scaled = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return np.round(scaled * 255).astype(np.uint8)


class Inspector(anywidget.AnyWidget):
    """One sample, its prediction and its heatmaps (every depth x label), for 1 or 2 models."""

    _esm = STATIC / "inspector.js"
    _css = STATIC / "nbperceive.css"  # every view's styles (js/src/nbperceive.css)

    # what to compute (a change asks the kernel to recompute)
    method = t.Unicode("gradcam").tag(sync=True)
    methods = t.List(t.Unicode()).tag(sync=True)  # from the attribution registry
    input_name = t.Unicode("").tag(sync=True)
    inputs = t.List(t.Unicode()).tag(sync=True)
    sample = t.Int(0).tag(sync=True)
    shown = t.Int(0).tag(sync=True)  # the sample on screen (sample=-1: none selected)
    # the epoch of the model that made the maps, and the one a linked scatter shows (-1: not
    # known); the page says so when they differ
    model_epoch = t.Int(-1).tag(sync=True)
    view_epoch = t.Int(-1).tag(sync=True)
    weight_epochs = t.List(t.Int()).tag(sync=True)  # epochs whose model can make maps
    n_samples = t.Int(1).tag(sync=True)

    # what to show (pure front-end)
    label = t.Int(-1).tag(sync=True)
    depth = t.Int(-1).tag(sync=True)
    depth_b = t.Int(-1).tag(sync=True)
    opacity = t.Float(0.5, min=0.0, max=1.0).tag(sync=True)
    colormap = t.Unicode(COLORMAPS[0]).tag(sync=True)  # perceptually uniform: not jet
    colormaps = t.List(t.Unicode(), default_value=list(COLORMAPS)).tag(sync=True)

    # the shown sample
    input_kind = t.Unicode("image")  # not synced: the view reads each panel's input_kind
    image = t.Dict().tag(sync=True)
    tokens = t.List(t.Unicode()).tag(sync=True)
    class_names = t.List(t.Unicode()).tag(sync=True)
    y_true = t.Int(-1).tag(sync=True)
    # multi-label ground truth: every true label of the shown sample (y_true is then -1)
    y_true_labels = t.List(t.Int()).tag(sync=True)
    # a multi-label model (independent sigmoids): the page predicts every label at p >= 0.5
    multi_label = t.Bool(False).tag(sync=True)
    # a model that predicts values: the page shows the output and the target, no class or p
    regression = t.Bool(False).tag(sync=True)
    y_value = t.Float(None, allow_none=True).tag(sync=True)  # the shown sample's target
    panels = t.List(t.Dict()).tag(sync=True)
    # saved reports only: {str(sample): {image, tokens, y_true, panels}} shown without a kernel
    saved = t.Dict().tag(sync=True)

    status = t.Unicode("").tag(sync=True)
    error = t.Unicode("").tag(sync=True)

    def __init__(
        self,
        model: Any = None,
        x: Any = None,
        *,
        models: Sequence[Any] | None = None,
        labels: Sequence[int] | None = None,
        class_names: Sequence[str] | None = None,
        y_true: Any = None,
        sample: int = 0,
        method: str = "gradcam",
        tokens: Sequence[str] | Sequence[Sequence[str]] | None = None,
        vocabulary: Sequence[str] | None = None,
        display: Any = None,
        input: str | None = None,  # noqa: A002 - mirrors nbp.explain(input=...)
        output: int | str | None = None,
        titles: Sequence[str] | None = None,
        max_labels: int = MAX_LABELS,
        explanation: Any = None,
        faithfulness: bool | Sequence[str] = False,
        run: Any = None,
        regression: bool = False,
        background: bool = False,
        **kwargs: Any,
    ) -> None:
        if models is not None and model is not None:
            raise ModelError("pass either model= or models=[a, b], not both")
        self._models = list(models) if models is not None else ([model] if model is not None
                                                                  else [])
        if len(self._models) > 2:
            raise ModelError(
                f"the Inspector compares at most 2 models side by side; got {len(self._models)}"
            )
        if not self._models and explanation is None:
            raise ModelError(
                "the Inspector needs a Keras model (Inspector(model, x)) or an Explanation "
                "(Inspector.from_explanation(expl, x))"
            )
        if x is None:
            raise ProbeError("pass the sample(s) to inspect: Inspector(model, x)")
        self._explanation = explanation
        self._output = output  # the output explained (nbp.explain(output=...); None: first)
        self._faithfulness = _faithfulness_metrics(faithfulness)
        self._x, batched = self._as_batch(x)
        self._n = _length(self._x)
        background = background and bool(self._models) and explanation is None
        # what explain would raise, raised before anything slower (a Dense model's gradcam)
        kind = self._check_explainable(sample, method, input) if background else None
        self._run = self._epoch_run(run)
        # the run's epoch the model stands for is found from its predictions (on the thread)
        self._epochs = None if background else self._match_epochs()
        self._recorded: dict[int, np.ndarray | None] = {}  # epoch -> its prob_* rows
        self._labels = None if labels is None else [int(v) for v in labels]
        self._max_labels = int(max_labels)
        self._y_values = self._targets(y_true) if regression else None
        self._y_true = None if regression else self._truths(y_true)
        self._tokens = self._token_table(tokens, vocabulary, batched)
        self._display = self._displays(display, batched)
        self._cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        # samples whose maps a saved report carries besides the shown one (see save_html)
        self.export_samples: list[int] = []
        self._titles = list(titles) if titles is not None else [
            getattr(m, "name", f"model {i + 1}") for i, m in enumerate(self._models)
        ]
        super().__init__(**kwargs)
        self._syncing = False
        # one refresh at a time; `_asked` counts them, so a background first refresh that
        # finds another already made does not overwrite it
        self._refresh_lock = threading.RLock()
        self._asked = 0
        # background: one worker makes the first maps, then those of samples the page asks for
        self._jobs = ThreadPoolExecutor(1, "nbperceive-inspector") if background else None
        self._wanted: int | None = None  # the latest sample the page asked for, not yet shown
        self._wanted_lock = threading.Lock()
        with self.hold_sync():
            self.n_samples = self._n
            if class_names is not None:
                self.class_names = [str(c) for c in class_names]
            if self._models:
                self.inputs = [str(getattr(i, "name", "")) for i in _model_inputs(self._models[0])]
            if input is not None:
                if self.inputs and input not in self.inputs:
                    raise ModelError(f"input {input!r} is not one of the model's inputs "
                                     f"{self.inputs}")
                self.input_name = input
            if explanation is not None:
                method = explanation.method
            self.regression = bool(regression)
            self.multi_label = getattr(self, "_y_sets", None) is not None
            self.methods = [method]  # the registry's list once the input kind is known
            self.method = method
            self._check_sample(sample)
            self.sample = int(sample)
            self.shown = int(sample)
            self._show_epochs()
            if kind is not None:  # the maps follow on a thread
                self.input_kind = kind
                self.methods = _methods_for(kind, self.method)
                self.status = "computing"
            else:
                self._refresh(raise_errors=True)
        self.observe(self._on_compute_change, names=["method", "input_name"])
        self.observe(self._on_sample_change, names=["sample"])
        self.observe(self._on_view_epoch, names=["view_epoch"])
        if self._jobs is not None:  # the first maps (and the model's compiled pass)
            self._submit(self._first_refresh)

    def _submit(self, job: Any) -> None:
        """Run ``job`` on the worker; a garbage collection its tracing starts spares the old
        heap, which would stop the kernel's main thread for its whole pass (young_gc)."""

        def young() -> None:
            with young_collections():
                job()

        self._jobs.submit(young)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the maps asked for so far are made (``background=True``: the first
        sample's, and those of samples clicked in the page); True when they are."""
        if self._jobs is None:
            return True
        try:
            self._jobs.submit(lambda: None).result(timeout)  # after every job before it
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        jobs = getattr(self, "_jobs", None)  # None too when the constructor refused its input
        if jobs is not None:
            jobs.shutdown(wait=False, cancel_futures=True)
        super().close()

    def _check_explainable(self, sample: int, method: str, input_name: str | None) -> str:
        """Every check of explaining ``sample`` with every model, no map computed; returns
        the kind of the explained input."""
        from ..attribution.explain import check_explainable

        self._check_sample(sample)
        x1 = _take(self._x, int(sample))
        kinds = [check_explainable(m, x1, method, input_name, self._output).input_kind
                 for m in self._models]
        return kinds[0]  # the first model's input is the one shown

    def _first_refresh(self) -> None:
        """The deferred first refresh, unless one was made meanwhile; a failure is shown in
        the widget (a model that explain checked but cannot run)."""
        with self._refresh_lock:
            try:
                self._epochs = self._match_epochs()
            except Exception as exc:  # noqa: BLE001 - shown in the widget, never raised here
                self.status, self.error = "", f"{type(exc).__name__}: {exc}"
                return
            with self.hold_sync():
                self._show_epochs()
            # none yet, and no click waiting behind (its own maps come next): at the epoch a
            # linked scrubber shows, if it has weights
            if self._asked == 0 and self._wanted is None:
                wanted = self.view_epoch if self.view_epoch in self.weight_epochs else None
                self._refresh(epoch=wanted)

    def _show_epochs(self) -> None:
        if self._epochs is not None:
            self.weight_epochs = self._epochs.epochs
            self.model_epoch = self._epochs.final_epoch

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def from_explanation(cls, explanation: Any, x: Any, *, model: Any = None,
                         **kwargs: Any) -> Inspector:
        """Show a ready :class:`~nbperceive.attribution.result.Explanation` of ``x``.

        With ``model`` the widget can also recompute other methods; without it, the method
        selector only offers the explanation's own method.
        """
        kwargs.setdefault("titles", [getattr(model, "name", "model")])
        inspector = cls(model, x, explanation=explanation, **kwargs)
        if model is None:
            inspector.methods = [explanation.method]
        return inspector

    @classmethod
    def compare(cls, model_a: Any, model_b: Any, x: Any, **kwargs: Any) -> Inspector:
        """Two models on the same sample(s), side by side."""
        return cls(x=x, models=[model_a, model_b], **kwargs)

    # ---- input handling -----------------------------------------------------------------
    def _epoch_run(self, run: Any) -> Any:
        """``run=`` as a Run (None: no run), checked."""
        if run is None:
            return None
        if len(self._models) != 1:
            raise ModelError("run= makes the Inspector follow the epochs of one model's run; "
                             "pass exactly one model (model=...)")
        from ..store import Run, open_run

        return run if isinstance(run, Run) else open_run(run)

    def _match_epochs(self) -> Any:
        """The model at every epoch of the run that kept weights (None: no run)."""
        if self._run is None:
            return None
        from ..models import EpochModels

        return EpochModels.matching(self._run, self._models[0], self._x)

    def _as_batch(self, x: Any) -> tuple[Any, bool]:
        """``x`` as a batch, and whether it came as one (a single sample gets a batch axis)."""
        if isinstance(x, (list, tuple, dict)) and not _is_numeric_list(x):
            return x, True  # a multi-input model's list/dict of batches
        a = np.asarray(x)
        if a.dtype.kind in ("U", "S", "O") and self._models and _takes_text(self._models[0]):
            a = a.astype(str)  # texts for a model with a TextVectorization inside
        elif a.dtype == object:
            raise ProbeError("x must be a numeric array (token ids for text models, not strings); "
                             "vectorise texts first, e.g. with keras.layers.TextVectorization")
        if self._models:
            shapes = [tuple(i.shape) for i in _model_inputs(self._models[0])]
            rank = len(shapes[0]) if shapes else a.ndim  # subclassed: x is a batch
            if a.ndim == rank:
                return a, True
            if a.ndim == rank - 1:
                return a[None], False
            raise ProbeError(
                f"x has shape {a.shape} but the model's input is {shapes[0]}: pass one sample "
                f"or a batch of samples of that shape"
            )
        axes = tuple(self._explanation.heatmaps.shape[3:])
        n = self._explanation.n_samples
        if a.ndim > len(axes) and a.shape[0] == n and tuple(a.shape[1 : 1 + len(axes)]) == axes:
            return a, True
        if n == 1 and tuple(a.shape[: len(axes)]) == axes:
            return a[None], False
        raise ProbeError(
            f"x has shape {a.shape} but the explanation holds {n} sample(s) with maps of shape "
            f"{axes}: pass the same samples that were explained"
        )

    def _targets(self, y_true: Any) -> np.ndarray | None:
        """A regression's targets, one value per sample (or None)."""
        if y_true is None:
            return None
        try:
            y = np.asarray(y_true, dtype=np.float64).reshape(self._n, -1)[:, 0]
        except ValueError as err:
            raise LabelError(f"y_true must hold one target value per sample ({self._n}) for "
                             f"a regression; got shape {np.shape(y_true)}") from err
        return y

    def _value_of(self, s: int) -> float | None:
        """Sample ``s``'s regression target (None: not given, or not finite)."""
        if self._y_values is None or not np.isfinite(self._y_values[s]):
            return None
        return float(self._y_values[s])

    def _truths(self, y_true: Any) -> np.ndarray | None:
        if y_true is None:
            return None
        y = np.asarray(y_true)
        if y.ndim == 0:
            y = y[None]
        self._y_sets = None
        if y.ndim == 2 and y.shape[0] == self._n and y.shape[1] > 1 and \
                np.isin(y, [0, 1]).all() and (y.sum(axis=1) != 1).any():
            self._y_sets = y.astype(bool)  # multi-hot: every true label is shown
            return np.full(self._n, -1, dtype=np.int64)
        if y.ndim == 2 and y.shape[0] == self._n:  # one-hot
            y = y.argmax(axis=1) if y.shape[1] > 1 else (y[:, 0] > 0.5)
        y = y.reshape(-1)
        if y.shape[0] != self._n:
            raise LabelError(f"y_true has {y.shape[0]} entries but x holds {self._n} samples; "
                             "pass one ground-truth class per sample")
        if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
            raise LabelError("y_true must hold class indices (integers), e.g. 0..C-1")
        return y.astype(np.int64)

    def _token_table(self, tokens: Any, vocabulary: Any, batched: bool) -> Any:
        """Each sample's token strings (indexable by sample; None: not a text input). The
        model's own vectoriser tokenises a sample when it is shown, not every one up front."""
        if tokens is None and vocabulary is None:
            x = self._primary_x()
            if self._models and np.asarray(x).dtype.kind in ("U", "S", "O"):
                from ..attribution.inputs import text_tokens  # the model's own vectoriser

                per_sample = text_tokens(self._models[0], x)
                return None if per_sample is None else _Lazy(per_sample)
            return None
        if tokens is not None:
            if isinstance(tokens, str):
                raise ProbeError("tokens must be a list of token strings (one per position), "
                                 "not one string: use text.split() or your tokenizer")
            rows = list(tokens)
            if rows and all(isinstance(v, str) for v in rows):
                rows = [rows]
            rows = [[str(v) for v in r] for r in rows]
            if len(rows) != self._n:
                raise ProbeError(f"tokens has {len(rows)} rows but x holds {self._n} samples; "
                                 "pass one list of token strings per sample")
            return rows
        vocab = [str(v) for v in vocabulary]
        ids = np.asarray(self._primary_x()).reshape(self._n, -1)

        def row(s: int) -> list[str]:
            r = ids[s].astype(np.int64)
            last = int(np.max(np.nonzero(r)[0])) + 1 if np.any(r) else 0  # trim trailing padding
            return [vocab[i] if 0 <= i < len(vocab) else f"[{i}]" for i in r[:last]]

        return _Lazy(row)

    def _displays(self, display: Any, batched: bool) -> np.ndarray | None:
        if display is None:
            return None
        d = np.asarray(display)
        if not batched:
            d = d[None]
        if d.shape[0] != self._n:
            raise ProbeError(f"display has {d.shape[0]} images but x holds {self._n} samples")
        return d

    def _primary_x(self, name: str | None = None) -> np.ndarray:
        """The batch of the input that is explained (``name``, else the chosen input)."""
        x = self._x
        name = name or self.input_name
        if isinstance(x, dict):
            return np.asarray(x[name] if name in x else next(iter(x.values())))
        if isinstance(x, (list, tuple)):
            i = self.inputs.index(name) if name in self.inputs else 0
            return np.asarray(x[i])
        return x

    def _check_sample(self, sample: int) -> None:
        if not 0 <= sample < self._n:
            raise ProbeError(f"sample {sample} out of range: the Inspector holds {self._n} "
                             f"samples (0..{self._n - 1})")

    # ---- computing ----------------------------------------------------------------------
    def _on_compute_change(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        if not self._models:
            # no model: only the explanation's own method can be shown
            self.error = ("this Inspector shows a precomputed Explanation and has no model: "
                          "build it with Inspector(model, x) to switch methods or inputs")
            self._syncing = True
            try:
                setattr(self, change["name"], change["old"])
            finally:
                self._syncing = False
            return
        if not self._refresh():  # keep showing (and naming) what is on screen
            self._syncing = True
            try:
                setattr(self, change["name"], change["old"])
            finally:
                self._syncing = False

    def _on_sample_change(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        new = int(change["new"])
        if new < 0:  # nothing selected in a linked view: keep showing the last sample
            return
        if new >= self._n:
            self.error = (f"sample {new} out of range: this Inspector holds {self._n} samples; "
                          "pass the same probe batch that the population view shows")
            return
        if self._jobs is not None and "sample" in self._property_lock:
            # a click in the page: the kernel stays free for the other views' messages (the
            # details of the same click); the newest sample asked for is the one made
            with self._wanted_lock:
                self._wanted = new
            self.status = "computing"
            self._submit(self._refresh_wanted)
            return
        self._refresh(reset_label=True, sample=new)  # the last one stays if this one fails

    def _refresh_wanted(self) -> None:
        with self._refresh_lock:
            with self._wanted_lock:
                s, self._wanted = self._wanted, None
            if s is not None:
                self._refresh(reset_label=True, sample=s)

    def _on_view_epoch(self, change: dict[str, Any]) -> None:
        """The scrubber moved: show the maps of that epoch's model (the final model, and a
        note on the page, when the run kept no weights for it)."""
        with self._refresh_lock:  # the run's epochs may still be matched on the thread
            if self._epochs is None or self._syncing:
                return
        self.weight_epochs = self._epochs.epochs
        wanted = int(change["new"])
        epoch = wanted if wanted in self.weight_epochs else self._epochs.final_epoch
        if epoch != self.model_epoch:
            self._refresh(epoch=epoch)  # model_epoch changes with the maps, not before

    def _model(self, i: int, epoch: int) -> Any:
        """Model ``i`` as it was after ``epoch`` (``epoch`` -1 or no run: as it is)."""
        if i == 0 and self._epochs is not None and epoch >= 0:
            model = self._epochs.at(epoch)
            if model is None:
                raise ModelError(f"the run kept no weights for epoch {epoch}")
            return model
        return self._models[i]

    def _refresh(self, raise_errors: bool = False, reset_label: bool = False,
                 epoch: int | None = None, sample: int | None = None) -> bool:
        """Compute (or fetch from cache) ``sample`` (default: the shown one) for every model
        (model 0 as after ``epoch``, default: the shown one) and sync the traits, ``shown``
        with its maps (a page must not see a sample's number beside another's maps)."""
        with self._refresh_lock:
            self._asked += 1
            return self._refresh_now(raise_errors, reset_label, epoch, sample)

    def _refresh_now(self, raise_errors: bool, reset_label: bool, epoch: int | None,
                     sample: int | None) -> bool:
        self.status = "computing"
        s = self.shown if sample is None else sample
        epoch = self.model_epoch if epoch is None else epoch
        try:
            panels = [self._panel(i, s, epoch=epoch) for i in range(max(1, len(self._models)))]
            image, tokens = self._sample_view(s, panels[0])
        except Exception as exc:  # shown in the cell instead of a blank
            self.status = ""
            if raise_errors:
                raise
            self.error = str(exc) if isinstance(exc, NbPerceiveError) else (
                f"{type(exc).__name__}: {exc}")
            log.warning("Inspector recompute failed: %s", self.error)
            return False
        old = self.panels
        with self.hold_sync():
            kind = panels[0].get("explained_kind", panels[0]["input_kind"])
            if self._models:
                self.methods = _methods_for(kind, self.method)
            self.input_kind = kind
            self.image, self.tokens = image, tokens
            self.y_true = int(self._y_true[s]) if self._y_true is not None else -1
            self.y_true_labels = self._true_set(s)
            self.y_value = self._value_of(s)
            self.shown = s
            self.panels = panels
            self.model_epoch = epoch
            self.depth = _keep_depth(self.depth, old[0] if old else None, panels[0])
            if len(panels) > 1:
                self.depth_b = _keep_depth(self.depth_b, old[1] if len(old) > 1 else None,
                                           panels[1])
            labels = panels[0]["labels"]
            if reset_label or self.label not in labels:
                pred = int(panels[0]["prediction"])
                self.label = pred if pred in labels else labels[0]
            self.error = ""
            self.status = ""
        return True

    def _sample_view(self, s: int, panel: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """What the page shows of sample ``s``: image pixels (binary) and token strings."""
        kind, name = panel["input_kind"], panel["input_name"]
        image: dict[str, Any] = {}
        if kind == "image":
            src = self._display[s] if self._display is not None else self._primary_x(name)[s]
            pixels = image_pixels(src)
            maps = panel["input_axes"][:2]
            if list(pixels.shape[:2]) != maps:
                raise ProbeError(
                    f"the image to show is {pixels.shape[0]}x{pixels.shape[1]} but the heatmaps "
                    f"are {maps[0]}x{maps[1]}: pass display= images of the model's input size"
                )
            image = array_to_json(pixels)
        if self._tokens is not None:
            return image, self._tokens[s]
        if kind == "vector":
            values = np.asarray(self._primary_x(name)[s]).reshape(-1)
            return image, [f"{v:.3g}" for v in values]
        if kind == "tokens":
            return image, [str(int(v)) for v in np.asarray(self._primary_x(name)[s]).reshape(-1)]
        return image, []

    def _panel(self, i: int, s: int | None = None, epoch: int | None = None,
               labels: list[int] | None = None) -> dict[str, Any]:
        """Model ``i``'s maps of sample ``s`` (default: the shown one) made by its model after
        ``epoch`` (default: the one shown), for ``labels`` (default: all), cached."""
        s = self.shown if s is None else s
        epoch = self.model_epoch if epoch is None else epoch
        final = self._epochs is None or epoch == self._epochs.final_epoch
        key = (i, epoch if i == 0 and not final else -1, self.method, self.input_name, s,
               None if labels is None else tuple(labels))
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if self._explanation is not None and self.method == self._explanation.method and \
                i == 0 and final and labels is None:
            expl, row = self._explanation, s
        else:
            expl, row = self._explain(self._model(i, epoch), s, labels), 0
        panel = _panel_from(expl, row, self._titles[i] if i < len(self._titles) else "model",
                            self._faithfulness)
        if panel["input_kind"] == "vector" and self._display is not None:
            panel = _vector_as_image(panel, np.asarray(self._display[0]).shape)
        self._cache[key] = panel
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return panel

    # ---- saved reports ------------------------------------------------------------------
    def export_state(self, ctx: ExportContext | None = None) -> dict[str, Any]:
        """What a saved report carries: the maps of the shown sample and of
        ``export_samples``, so a page without a kernel can switch between them, at the depths
        ``ctx.depths`` chooses (:func:`~nbperceive.widgets.maps.pick_depths`: that many
        spread over the network plus the one on screen; None: all)."""
        return self._export_state(ctx)

    def _export_state(self, ctx: ExportContext | None) -> dict[str, Any]:
        self.wait()  # the maps on screen, when made in the background
        count = ctx.depths if ctx is not None else REPORT_DEPTHS
        shown = [self.depth, self.depth_b]
        chosen: dict[int, list[int]] = {}  # panel -> carried depth indices

        def budget(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for i, p in enumerate(panels):
                n = len(p["layers"])
                keep = chosen.setdefault(i, pick_depths(n, count, [shown[min(i, 1)] % n]))
                out.append(take_depths(p, keep))
            return out

        saved: dict[str, Any] = {}
        final = self._epochs.final_epoch if self._epochs is not None else None
        wanted = [s for s in dict.fromkeys(int(v) for v in [self.shown, *self.export_samples])
                  if 0 <= s < self._n]
        self._prefetch(wanted, final)
        for s in wanted:
            try:  # the final model's maps; earlier epochs' in entry["epochs"]
                panels = [self._panel(i, s, final) for i in range(max(1, len(self._models)))]
                image, tokens = self._sample_view(s, panels[0])
            except NbPerceiveError as exc:  # one sample that cannot be explained: skip it
                log.warning("Inspector: sample %d left out of the report: %s", s, exc)
                continue
            y_true = int(self._y_true[s]) if self._y_true is not None else -1
            saved[str(s)] = {"image": image, "tokens": tokens, "y_true": y_true,
                             "y_value": self._value_of(s),
                             "y_true_labels": self._true_set(s), "panels": budget(panels)}
        self._export_epochs(saved)
        for entry in saved.values():  # earlier epochs' maps at the same carried depths
            for key, panels in entry.get("epochs", {}).items():
                entry["epochs"][key] = budget(panels)
        out: dict[str, Any] = {"saved": saved, "panels": budget(list(self.panels))}
        # the depth on screen, as an index into the carried depths
        for i, trait in enumerate(("depth", "depth_b")):
            if i in chosen:
                depth = getattr(self, trait) % max(1, len(self.panels[i]["layers"]))
                out[trait] = chosen[i].index(depth) if depth in chosen[i] else len(chosen[i]) - 1
        return out

    def _export_epochs(self, saved: dict[str, Any]) -> None:
        """Give the saved samples (in order, while ``EPOCH_MAPS_BYTES`` lasts) their maps at
        up to ``SAVED_EPOCHS`` earlier epochs with weights, spread over the run, each for the
        true label and the top predicted ones at that epoch (``entry["epochs"][str(e)]``)."""
        if self._epochs is None or not saved:
            return
        final = self._epochs.final_epoch
        earlier = [e for e in self._epochs.epochs if e != final]
        if len(earlier) > SAVED_EPOCHS:
            picks = np.linspace(0, len(earlier) - 1, SAVED_EPOCHS).round().astype(int)
            earlier = [earlier[i] for i in dict.fromkeys(picks.tolist())]
        for entry in saved.values():
            entry["epoch"] = final  # the epoch of the model that made entry["panels"]
        budget = EPOCH_MAPS_BYTES
        for key, entry in saved.items():
            s = int(key)
            by_epoch: dict[str, Any] = {}
            for epoch in list(earlier):
                try:
                    labels = self._export_labels(s, epoch, entry["panels"][0]["labels"])
                    panel = self._panel(0, s, epoch, labels)
                except ModelError as exc:  # no model of that epoch: not for any sample
                    log.warning("Inspector: epoch %d left out of the saved page: %s", epoch, exc)
                    earlier.remove(epoch)
                    continue
                except NbPerceiveError as exc:
                    log.warning("Inspector: epoch %d of sample %d left out: %s", epoch, s, exc)
                    continue
                size = len(panel["heatmaps"]["view"])
                if size > budget:
                    budget = 0
                    break
                budget -= size
                by_epoch[str(epoch)] = [panel]
            if by_epoch:
                entry["epochs"] = by_epoch
            if budget <= 0:
                break

    def _export_labels(self, s: int, epoch: int, final: list[int]) -> list[int]:
        """The labels a saved page keeps of an earlier epoch's maps: the true one and the
        classes that epoch's model ranks highest (from the probabilities the run recorded at
        that epoch; a forward pass only where it recorded none for this probe); a one-unit
        head (binary sigmoid, regression) keeps the ``final`` epoch's labels."""
        probs = self._recorded_probs(epoch, s)
        if probs is None:
            probs = _output_of(self._model(0, epoch), _take(self._x, s), self._output)
        probs = probs.reshape(-1)
        if probs.size == 1:
            return list(final)
        labels = [] if self._y_true is None or self._y_true[s] < 0 else [int(self._y_true[s])]
        for c in np.argsort(-probs):
            if len(labels) >= EPOCH_LABELS:
                break
            if int(c) not in labels:
                labels.append(int(c))
        return sorted(labels)

    def _recorded_probs(self, epoch: int, s: int) -> np.ndarray | None:
        """Row ``s`` of the ``prob_*`` columns the run recorded at ``epoch``, or None when it
        recorded none or its probe is not this inspector's samples."""
        cache = self._recorded
        if _output_index(self._models[0], self._output) != 0:
            return None  # the run records the first output's probabilities
        if epoch not in cache:
            probs = self._epochs.run.probabilities(epoch)
            cache[epoch] = probs if probs is not None and len(probs) == self._n \
                else None
        probs = cache[epoch]
        return None if probs is None else probs[s]

    def _true_set(self, s: int) -> list[int]:
        sets = getattr(self, "_y_sets", None)
        return [] if sets is None else [int(i) for i in np.flatnonzero(sets[s])]

    def _prefetch(self, samples: list[int], epoch: int | None = None) -> None:
        """Explain the uncached ``samples`` in one batched call per model (a report's dozens of
        samples cost one compiled pass per batch, not one per sample). Samples whose labels
        differ (top labels of a wide head) or that fail are left to :meth:`_panel`."""
        from ..attribution import explain

        final = self._epochs is None or epoch is None or epoch == self._epochs.final_epoch
        for i, model in enumerate(self._models):
            if i == 0 and final and self._explanation is not None and \
                    self.method == self._explanation.method:
                continue  # the given explanation holds them
            tag = epoch if i == 0 and not final else -1  # the cache key of _panel

            def key(s: int, i: int = i, tag: int = tag) -> tuple:
                return (i, tag, self.method, self.input_name, s, None)
            todo = [s for s in samples if key(s) not in self._cache]
            model = self._model(i, epoch) if i == 0 and not final else model
            if len(todo) < 2 or self._labels is None and \
                    _n_outputs(model, _take(self._x, todo[0]), self._output) > \
                    min(self._max_labels, MAX_LABELS):
                continue
            try:
                expl = explain(model, _take_rows(self._x, todo), method=self.method,
                               labels=self._labels, input=self.input_name or None,
                               output=self._output)
            except NbPerceiveError:
                continue  # one by one instead: a sample that fails is skipped alone
            title = self._titles[i] if i < len(self._titles) else "model"
            for row, s in enumerate(todo):
                self._cache[key(s)] = _panel_from(
                    expl, row, title, self._faithfulness)
            while len(self._cache) > max(_CACHE_SIZE, len(todo)):
                self._cache.popitem(last=False)

    def _explain(self, model: Any, s: int, labels: list[int] | None = None) -> Any:
        from ..attribution import explain

        x1 = _take(self._x, s)
        labels = self._labels_for(model, x1, s) if labels is None else labels
        return explain(model, x1, method=self.method, labels=labels,
                       input=self.input_name or None, output=self._output)

    def _labels_for(self, model: Any, x1: Any, s: int) -> list[int] | None:
        """Every class (explain's default, a single sigmoid counts as 2), else the top ones."""
        if self._labels is not None:
            return self._labels
        n_classes = _n_outputs(model, x1, self._output)
        if n_classes <= min(self._max_labels, MAX_LABELS):
            return None
        probs = _output_of(model, x1, self._output).reshape(-1)
        top = [int(c) for c in np.argsort(-probs)[: self._max_labels]]
        if self._y_true is not None and int(self._y_true[s]) not in top:
            top[-1] = int(self._y_true[s])
        return top


# ---- helpers --------------------------------------------------------------------------
def _faithfulness_metrics(choice: bool | Sequence[str]) -> tuple[str, ...]:
    if choice is True:
        return FAITHFULNESS
    if not choice:
        return ()
    if isinstance(choice, str):
        choice = [choice]
    metrics = tuple(str(m) for m in choice)
    unknown = [m for m in metrics if m not in FAITHFULNESS]
    if unknown:
        raise ModelError(f"faithfulness= names unknown metrics {unknown}; choose from "
                         f"{list(FAITHFULNESS)} (or True for all)")
    return metrics


def _methods_for(input_kind: str, current: str) -> list[str]:
    """The registry's heatmap methods for this kind of input (plus the one shown)."""
    from ..attribution.registry import heatmap_methods

    names = heatmap_methods(input_kind)
    return names if current in names else [*names, current]


def _scores(expl: Any, row: int, metrics: tuple[str, ...]) -> dict[str, Any]:
    """Each metric's (L, K) scores of sample ``row`` (cached by the explanation's scorer)."""
    if not metrics:
        return {}
    if getattr(expl, "scorer", None) is None:
        if expl.faithfulness is None:
            return {}
        return {"deletion": array_to_json(np.asarray(expl.faithfulness[row], np.float32))}
    return {m: array_to_json(np.asarray(expl.scores(m, sample=row), np.float32))
            for m in metrics}


def _panel_from(expl: Any, row: int, title: str,
                metrics: tuple[str, ...] = ()) -> dict[str, Any]:
    # (L, K, *input_axes) -> each depth at its layer's own size (the page upsamples); a
    # signed method's signed maps (0 stays 0), else the positive part
    signed = expl.signed()
    raw = expl.heatmaps[row] if signed is None else signed[row]
    blocks, ranges = native_maps(raw, getattr(expl, "map_axes", None), signed is not None)
    probs = np.asarray(expl.probabilities[row], dtype=np.float32).reshape(-1)
    pred = int(probs.argmax()) if probs.size > 1 else int(probs[0] >= 0.5)
    panel = {
        "title": str(title),
        "method": str(expl.method),
        "input_kind": str(expl.input_kind),
        "input_name": str(expl.input_name),
        "layers": [str(v) for v in expl.layers],
        "depths": [int(v) for v in expl.depths],
        "labels": [int(v) for v in expl.labels],
        **pack_maps(blocks),  # heatmaps, map_shapes
        "ranges": array_to_json(ranges),  # (L, K, 2): the raw values of codes 0 and 255
        "signed": signed is not None,
        "input_axes": [int(v) for v in expl.heatmaps.shape[3:]],  # the page upsamples to these
        "probabilities": array_to_json(probs),
        "prediction": pred,
    }
    scores = _scores(expl, row, metrics)
    if scores:
        panel["faithfulness"] = scores  # {metric: (L, K) float32}
    return panel


def _vector_as_image(panel: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """A flat vector panel's maps drawn over ``display=`` images of ``shape`` (H, W[, C])
    whose pixels the vector holds in order (``x = images.reshape(N, -1)``, e.g. MNIST fed to
    an MLP): each map becomes (H, W), the strongest of a pixel's C channels. The panel says
    ``input_kind`` "image" (what the page draws) and ``explained_kind`` "vector" (which
    methods apply). Unchanged when the sizes do not match."""
    h, w = int(shape[0]), int(shape[1]) if len(shape) > 1 else 1
    c = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    blocks = unpack_maps(panel)
    if len(shape) < 2 or any(b.shape[1:] != (h * w * c,) for b in blocks):
        return panel
    images = []
    for b in blocks:
        m = b.reshape(b.shape[0], h, w, c)
        if panel["signed"]:  # the channel furthest from zero, sign kept
            pick = np.abs(m.astype(np.int16) - SIGNED_ZERO).argmax(axis=-1)[..., None]
            images.append(np.take_along_axis(m, pick, axis=-1)[..., 0])
        else:
            images.append(m.max(axis=-1))
    return {**panel, **pack_maps(images), "input_kind": "image", "explained_kind": "vector",
            "input_axes": [h, w]}


def _keep_depth(depth: int, old: dict[str, Any] | None, new: dict[str, Any]) -> int:
    """Keep the chosen depth while the candidate layers stay the same; else the deepest."""
    n = len(new["layers"])
    if old is not None and old["layers"] == new["layers"] and 0 <= depth < n:
        return depth
    return n - 1


def _model_inputs(model: Any) -> list[Any]:
    import keras

    if not isinstance(model, keras.Model):
        raise ModelError(f"expected a Keras model, got {type(model).__name__}; pass the model "
                         "itself, e.g. Inspector(model, x)")
    from ..layers import declared_inputs, model_inputs

    if getattr(model, "built", False) and not declared_inputs(model):
        return []  # a built subclassed model declares no inputs: its call takes x
    return model_inputs(model)  # the same "not built: build it first" error as capture


def _takes_text(model: Any) -> bool:
    """A model with a string input (a TextVectorization layer inside)."""
    from ..layers import declared_inputs

    inputs = declared_inputs(model)
    return inputs is None or any(str(i.dtype) == "string" for i in inputs)


def _output_index(model: Any, output: int | str | None) -> int:
    """The position of ``output`` among the model's outputs (None: the first)."""
    if output is None:
        return 0
    from ..attribution.depth import output_position

    try:
        count = len(list(model.outputs))
    except (AttributeError, ValueError):  # a subclassed model: explain checked the name
        return int(output) if isinstance(output, int) else 0
    return output_position(model, count, output)


def _n_outputs(model: Any, x1: Any, output: int | str | None = None) -> int:
    """Width of the explained output; a subclassed model's from one call."""
    try:
        return int(list(model.outputs)[_output_index(model, output)].shape[-1])
    except (AttributeError, ValueError, IndexError):
        return int(_output_of(model, x1, output).shape[-1])


def _output_of(model: Any, x: Any, output: int | str | None = None) -> np.ndarray:
    """The explained output of the model on ``x`` (None: the first, the one a run records as
    pred), its outputs flattened as explain flattens them (a dict by sorted name)."""
    import keras

    outs = keras.tree.flatten(model(x, training=False))
    return np.asarray(outs[_output_index(model, output)])


def _is_numeric_list(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and len(x) > 0 and not hasattr(x[0], "shape") \
        and not isinstance(x[0], (list, tuple, dict))


class _Lazy:
    """``fn(i)`` by index, each computed when first asked for and kept."""

    def __init__(self, fn: Any) -> None:
        self._fn, self._done = fn, {}

    def __getitem__(self, i: int) -> Any:
        if i not in self._done:
            self._done[i] = self._fn(int(i))
        return self._done[i]


def _length(x: Any) -> int:
    if isinstance(x, dict):
        return len(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return len(x[0])
    return int(x.shape[0])


def _take_rows(x: Any, rows: list[int]) -> Any:
    """Rows ``rows`` of a batch, a list of batches or a dict of batches."""
    idx = np.asarray(rows, dtype=np.int64)
    if isinstance(x, dict):
        return {k: np.asarray(v)[idx] for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [np.asarray(v)[idx] for v in x]
    return np.asarray(x)[idx]


def _take(x: Any, s: int) -> Any:
    if isinstance(x, dict):
        return {k: np.asarray(v)[s : s + 1] for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [np.asarray(v)[s : s + 1] for v in x]
    return x[s : s + 1]
