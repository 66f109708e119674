"""Perceiver: wraps a Keras model and a probe set, records snapshots into a run directory."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from .capture import (
    Capturer,
    batch_spec,
    build_probe,
    compiled_loss,
    first_loss,
    from_logits,
    input_specs,
    loss_spec,
)
from .errors import MetadataError, ModelError, ProbeError
from .layers import declared_inputs, model_inputs
from .models import save_weights
from .probe import (
    LabelKind,
    OutputHead,
    ProbeData,
    _as_list,
    from_arrays,
    from_dataset,
    label_kind,
    nonfinite_rows,
)
from .store import (
    WEIGHTS_FILE,
    EpochWriter,
    Run,
    RunWriter,
    Snapshot,
    _list_epochs,
    epoch_dirname,
    metadata_frame,
    probe_summary,
)

log = logging.getLogger(__name__)

_CHUNK = 4096
WEIGHTS_BUDGET = 64 * 2**20
"""``keep_weights="auto"``: keep each captured epoch's weights while the run's weight files
stay under this many bytes (a small CNN of 100k parameters needs 0.4 MB per epoch)."""


def _weights_budget(keep: bool | int | str) -> int | None:
    """Bytes of model weights a run may keep (None: no limit, 0: none)."""
    if keep is True:
        return None
    if keep is False:
        return 0
    if keep == "auto":
        return WEIGHTS_BUDGET
    if isinstance(keep, (int, np.integer)) and not isinstance(keep, bool) and keep >= 0:
        return int(keep)
    raise ModelError(f"keep_weights must be True, False, 'auto' or a byte budget (an int >= "
                     f"0), got {keep!r}.")


def _is_dataset(obj: Any) -> bool:
    return type(obj).__module__.startswith("tensorflow") and hasattr(obj, "element_spec")


def sample_values(fn: Any, data: ProbeData) -> np.ndarray:
    """``fn`` applied to every probe sample (one array, or a list of arrays for several
    inputs), in probe order: a metadata column computed from the samples."""
    if data.x is None:
        raise MetadataError("a metadata function needs the probe samples as arrays (a "
                            "tf.data probe keeps none): pass the values instead.")
    xs = data.x
    if len(xs) == 1:
        return np.array([fn(xs[0][i]) for i in range(data.n)])
    return np.array([fn([x[i] for x in xs]) for i in range(data.n)])


def _metadata_frame(metadata: Any, n: int, data: ProbeData | None = None) -> pd.DataFrame:
    if metadata is None:
        return pd.DataFrame(index=pd.RangeIndex(n))
    if isinstance(metadata, dict) and data is not None:
        metadata = {k: sample_values(v, data) if callable(v) else v for k, v in metadata.items()}
    try:
        frame = metadata if isinstance(metadata, pd.DataFrame) else pd.DataFrame(metadata)
    except ValueError as err:  # e.g. a 2-D array as one column
        raise MetadataError(f"metadata cannot be read as one column per field ({err}); give "
                            "a DataFrame or a dict of 1-D arrays, one value per sample.") from err
    if len(frame) != n:
        raise MetadataError(
            f"metadata has {len(frame)} rows but the probe has {n} samples; give one row per "
            "probe sample, in probe order."
        )
    if not frame.index.equals(pd.RangeIndex(n)):
        raise MetadataError(
            "metadata's index does not run 0..N-1 like the probe samples, so rows cannot be "
            "matched to samples. If the rows are already in probe order, pass "
            "metadata.reset_index(drop=True); otherwise reorder them first."
        )
    return metadata_frame(frame, n)  # names and values checked by the store, which owns them


def probe_fingerprint(data: ProbeData) -> str:
    """A hash of what the probe holds, kept in the run signature so that resuming with other
    samples of the same size is refused. Covers the labels (every probe), and for array
    probes the inputs too: dtype, shape and every byte (blake2b, ~1 GB/s). A tf.data probe's
    inputs are not covered (hashing them would cost a pass over the dataset): its prefix is
    ``y:`` instead of ``xy:``."""
    digest = hashlib.blake2b(digest_size=16)

    def feed(array: np.ndarray) -> None:
        array = np.asarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        if array.dtype == object:
            digest.update(repr(array.tolist()).encode())
        else:
            digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))

    for x in data.x or []:
        feed(x)
    if data.y is not None:
        for y in data.y if isinstance(data.y, list) else [data.y]:
            feed(y)
    return ("xy:" if data.x is not None else "y:") + digest.hexdigest()


_NOT_COMPILED = (
    "model {name!r} is not compiled, so nbperceive cannot know how to read the probe labels "
    "(classes or values) nor compute the per-sample loss. Call model.compile(loss=...) before "
    "creating the Perceiver, or pass the probe without labels (probe=x_val)."
)


def _ensure_built(model: keras.Model) -> None:
    """A model never called has no weights yet (a subclassed model's layers get their shapes
    only from a first call): say how to build it."""
    if getattr(model, "built", True) or declared_inputs(model):
        return
    model_inputs(model)  # raises the "not built: build it first" error


class Perceiver:
    """Records how ``model`` perceives the probe samples, epoch after epoch.

    >>> perceiver = Perceiver(model, probe=(x_val, y_val), metadata=df, run_dir="runs/mnist")
    >>> model.fit(x, y, epochs=5, callbacks=[perceiver.callback()])
    >>> perceiver.run.snapshot().table

    ``keep_weights`` saves the model's weights with every captured epoch
    (``model.weights.h5``, Keras' weights-only format), so heatmaps can be shown at any
    recorded epoch (``run.model_at(epoch, model)``): ``"auto"`` keeps them while the run's
    weight files stay under ``WEIGHTS_BUDGET`` (64 MB), an int sets that budget in bytes,
    True keeps every epoch's, False none.
    """

    def __init__(
        self,
        model: keras.Model,
        probe: Any,
        metadata: Any = None,
        run_dir: str | os.PathLike | None = None,
        layers: list[str] | None = None,
        class_names: list[str] | None = None,
        preview: Any = None,
        batch_size: int = 256,
        max_width: int = 256,
        overwrite: bool = False,
        resume: bool = False,
        seed: int = 0,
        keep_weights: bool | int | str = "auto",
    ):
        self.model = model
        self._weights_budget = _weights_budget(keep_weights)
        self.preview = preview
        declared = declared_inputs(model)
        input_shapes = [tuple(t.shape) for t in declared] if declared else None
        if _is_dataset(probe):
            self.data: ProbeData = from_dataset(probe, input_shapes, batch_size)
        elif isinstance(probe, tuple) and len(probe) == 2:
            self.data = from_arrays(probe[0], probe[1], input_shapes, batch_size)
        elif isinstance(probe, (np.ndarray, list, dict)):
            self.data = from_arrays(probe, None, input_shapes, batch_size)
        else:
            raise ProbeError(
                f"probe must be (x, y) arrays, x alone, or a tf.data.Dataset; got {type(probe)}."
            )
        self.metadata = _metadata_frame(metadata, self.data.n, self.data)
        rows = nonfinite_rows(self.data.x) if self.data.x is not None else None
        self._bad_inputs = rows if rows is not None and rows.any() else None
        if self._bad_inputs is not None:
            bad = int(self._bad_inputs.sum())
            warnings.warn(
                f"nbperceive: {bad} of {self.data.n} probe samples have NaN or inf inputs; "
                "their loss is recorded as NaN and their pred as -1 (their vectors are zeroed). "
                "Clean or drop them: keep = np.isfinite(x.reshape(len(x), -1)).all(1).",
                RuntimeWarning, stacklevel=2,
            )
        _ensure_built(model)
        self._specs = input_specs(model, self.data.shapes, self.data.dtypes)
        self.probe = build_probe(model, self._specs, layers, max_width=max_width, seed=seed)
        if self.data.y is not None and compiled_loss(model) is None:
            raise ModelError(_NOT_COMPILED.format(name=model.name))
        self.loss = loss_spec(model, self.probe.n_outputs)
        output_shape = self.probe.output_shapes[0]
        self.labels: LabelKind = label_kind(first_loss(model), output_shape, self.data.first_y)
        self.heads = self._output_heads()  # a model's outputs, when it has several
        self._output_loss: np.ndarray | None = None  # (N, H) each output's loss, last capture
        n_classes = max(self.labels.n_classes, 2) if self.labels.kind in ("binary",) \
            else self.labels.n_classes
        if class_names is not None and len(class_names) != n_classes:
            raise ProbeError(
                f"{len(class_names)} class_names given but the model has {n_classes} classes."
            )
        self.class_names = [str(c) for c in (class_names or range(n_classes))]
        dupes = sorted({c for c in self.class_names if self.class_names.count(c) > 1})
        if dupes:
            raise ProbeError(f"class_names {dupes} appear more than once; each class needs its "
                             "own name (one prob_<name> column each).")
        self.run_dir = Path(run_dir or f"runs/{model.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        # checks (other model, epochs without resume, another writer) all run before any write
        self._writer = RunWriter(
            self.run_dir, self._signature(), self._samples_frame(), self.class_names,
            overwrite=overwrite, resume=resume,
        )
        existing = self._writer.epochs
        self.epoch = existing[-1] if existing else -1  # last captured epoch number
        self.epochs_trained = existing[-1] if existing else 0
        self._capturer = self._new_capturer()
        self._weights_bytes = sum(  # what a resumed run's earlier epochs already hold
            (self.run_dir / epoch_dirname(e) / WEIGHTS_FILE).stat().st_size
            for e in existing if (self.run_dir / epoch_dirname(e) / WEIGHTS_FILE).is_file())
        self._budget_warned = False
        self._last_weights = 0

    def _output_heads(self) -> list[OutputHead]:
        """Every output of a model with several (none for one output), each checked
        against its labels and named after the output (see :class:`OutputHead`)."""
        shapes = self.probe.output_shapes
        if len(shapes) < 2:
            return []
        names = [str(v) for v in (getattr(self.model, "output_names", None) or [])]
        ys = _as_list(self.data.y) if self.data.y is not None else []
        heads = []
        for i, shape in enumerate(shapes):
            name = names[i] if i < len(names) else f"output_{i}"
            loss = self.loss.identifiers[i] if i < len(self.loss.identifiers) else None
            y = np.asarray(ys[i]) if i < len(ys) else None
            if y is not None and len(y) != self.data.n:
                raise ProbeError(f"the labels of output {name!r} hold {len(y)} rows but the "
                                 f"probe has {self.data.n} samples; pass one label per sample")
            kind = label_kind(loss, shape, y) if i > 0 else self.labels
            width = int(np.prod([d or 1 for d in shape[1:]])) if len(shape) > 1 else 1
            heads.append(OutputHead(name, width, kind, y, loss is not None))
        clash = [c for h in heads for c in h.columns() if c in self.metadata.columns]
        if clash:
            raise MetadataError(f"metadata columns {clash} clash with the columns of the model's "
                                "outputs (<output>_pred, _loss, _correct, _label); rename them")
        return heads

    def _signature(self) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "n_samples": self.data.n,
            "layers": [b.name for b in self.probe.blocks],
            "inputs": [list(s.shape[1:]) for s in self._specs],
            "probe": probe_fingerprint(self.data),
        }

    def _label_column(self) -> np.ndarray:
        y = self.data.first_y
        if y is None:
            return np.full(self.data.n, -1, dtype=np.int64)
        if self.labels.kind == "onehot":
            return y.argmax(-1).astype(np.int64)
        if self.labels.kind == "multilabel":  # no single class: see the label_<name> columns
            return np.full(self.data.n, -1, dtype=np.int64)
        if self.labels.kind in ("sparse", "binary"):
            return y.reshape(len(y)).astype(np.int64)
        return y.reshape(len(y), -1)[:, 0].astype(np.float64)

    def _samples_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"sample_id": np.arange(self.data.n), "label": self._label_column()})
        return pd.concat([frame, self.metadata], axis=1)

    def close(self) -> None:
        """Release the run directory for another writer (done anyway when the process ends)."""
        self._writer.close()

    @property
    def run(self) -> Run:
        """The run directory this perceiver writes, opened for reading."""
        return Run(self.run_dir)

    def callback(self, every: int = 1, on: str = "epoch_end", at_train_begin: bool = True
                 ) -> keras.callbacks.Callback:
        """A Keras callback that captures a snapshot at train begin and every ``every`` epochs."""
        from .callback import PerceiverCallback

        return PerceiverCallback(self, every=every, on=on, at_train_begin=at_train_begin)

    def capture(self, epoch: int | None = None, logs: dict[str, Any] | None = None) -> Snapshot:
        """Record a snapshot now (default epoch number: the number of epochs trained)."""
        epoch = self.epochs_trained if epoch is None else int(epoch)
        started = time.perf_counter()
        n, dim = self.data.n, self.probe.dim
        self._resolve_loss()
        writer = self._writer.begin_epoch(epoch, n, dim)
        try:
            outputs, loss, col_sum, col_sq = self._record(writer.vectors)
            if self._bad_inputs is not None:  # whatever the model made of NaN inputs
                outputs = np.asarray(outputs, np.float64).copy()
                outputs[self._bad_inputs] = np.nan
                loss = np.where(self._bad_inputs, np.nan, loss)
            nonfinite = self._standardise(writer.vectors, col_sum, col_sq)
            self._save_layout(writer, epoch)
            table = self._table(outputs, loss)
            meta = {
                "epoch": epoch,
                "logs": {k: float(v) for k, v in (logs or {}).items()
                         if np.isscalar(v) or np.ndim(v) == 0},
                "layout": [b.as_dict() for b in self.probe.blocks],
                "n_samples": n,
                "dim": dim,
                "nonfinite_features": nonfinite,
                "nonfinite_loss": int((~np.isfinite(loss)).sum()),
                "capture_seconds": time.perf_counter() - started,
                "class_names": self.class_names,
                "probe": probe_summary(table),  # the history reads no table
            }
            meta["weights"] = self._save_weights(writer, epoch)  # after capture_seconds
            writer.commit(table, meta)
        except BaseException:
            writer.abort()
            raise
        diverged = meta["nonfinite_loss"] - (0 if self._bad_inputs is None else
                                             int(self._bad_inputs.sum()))
        if diverged > 0 and self.labels.kind != "none":  # NaN inputs were warned of already
            warnings.warn(
                f"nbperceive: {diverged} of {n} probe samples have a non-finite "
                f"loss at epoch {epoch} (recorded as NaN); the model may be diverging.",
                RuntimeWarning, stacklevel=2,
            )
        self.epoch = epoch
        return self.run.snapshot(epoch)

    def _save_layout(self, writer: EpochWriter, epoch: int) -> None:
        """Save the epoch's PCA layout with it, made from the vectors in memory (the first
        view of the run then reads 8 bytes a sample, not its vectors). Never raises: without
        it, the layout is made when first asked for."""
        try:
            from .projection.runs import cache_name, pca_at_capture

            coords = pca_at_capture(self.run_dir, _list_epochs(self.run_dir), epoch,
                                    writer.vectors)
            if coords is not None:
                writer.add_file(cache_name("pca"),
                                lambda path: np.save(path, coords, allow_pickle=False))
        except Exception as err:  # noqa: BLE001 - a layout later instead, never a lost epoch
            log.debug("nbperceive: epoch %d saved without its PCA layout: %s", epoch, err)

    def _save_weights(self, writer: EpochWriter, epoch: int) -> dict[str, Any]:
        """Save the model's weights into the epoch being written, within the budget. Never
        raises: a failure is a warning, and the epoch is recorded without weights."""
        budget = self._weights_budget
        if budget == 0:
            return {"skipped": "keep_weights=False"}
        estimate = max(self._last_weights, sum(  # the last file's size, once there is one
            int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in self.model.weights))
        if budget is not None and self._weights_bytes + estimate > budget:
            reason = (f"the weights budget of {budget / 2**20:.0f} MB is spent "
                      f"({self._weights_bytes / 2**20:.1f} MB kept, {estimate / 2**20:.1f} MB "
                      "per epoch)")
            if not self._budget_warned:
                self._budget_warned = True
                warnings.warn(
                    f"nbperceive: epoch {epoch} and later are recorded without model weights: "
                    f"{reason}. Pass keep_weights=<bytes> or keep_weights=True to keep more, "
                    "keep_weights=False to keep none.", RuntimeWarning, stacklevel=3)
            return {"skipped": reason}
        started = time.perf_counter()
        try:
            size = writer.add_file(WEIGHTS_FILE, lambda path: save_weights(self.model, path))
        except Exception as err:  # the user's training must go on, and so does the capture
            reason = f"saving failed: {type(err).__name__}: {err}"
            warnings.warn(f"nbperceive: epoch {epoch} is recorded without model weights; "
                          f"{reason}", RuntimeWarning, stacklevel=3)
            return {"skipped": reason}
        self._weights_bytes += size
        self._last_weights = size
        return {"file": WEIGHTS_FILE, "bytes": size,
                "seconds": time.perf_counter() - started}

    def _new_capturer(self) -> Capturer:
        if self.data.dataset is not None:
            return Capturer(self.probe, self.loss)
        x_spec = self._specs if len(self._specs) > 1 else self._specs[0]
        return Capturer(self.probe, self.loss, x_spec, batch_spec(self.data.y))

    def _resolve_loss(self) -> None:
        """Use the loss the model is compiled with *now* (it may be compiled, or recompiled,
        after the Perceiver was made)."""
        if self.data.y is not None and compiled_loss(self.model) is None:
            raise ModelError(_NOT_COMPILED.format(name=self.model.name))
        spec = loss_spec(self.model, self.probe.n_outputs)
        same = len(spec.identifiers) == len(self.loss.identifiers) and all(
            a is b or (isinstance(a, str) and a == b)
            for a, b in zip(spec.identifiers, self.loss.identifiers)
        ) and spec.weights == self.loss.weights
        if not same:
            self.loss = spec
            self._capturer = self._new_capturer()

    def _record(self, vectors: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Stream raw features into ``vectors``; outputs, loss and per-column sums/squares."""
        n = self.data.n
        outputs: np.ndarray | None = None
        loss = np.empty(n, dtype=np.float32)
        col_sum = np.zeros(vectors.shape[1], dtype=np.float64)
        col_sq = np.zeros(vectors.shape[1], dtype=np.float64)
        start = 0
        for batch in self._capturer.run(self.data.batches()):
            stop = start + len(batch.features)
            if stop > n:
                raise ProbeError("the probe dataset yielded more samples than at wrap time; "
                                 "pass a finite, deterministic dataset (no shuffle/repeat).")
            if outputs is None:
                outputs = np.empty((n, batch.outputs.reshape(len(batch.outputs), -1).shape[1]),
                                   dtype=np.float32)
                if batch.output_loss is not None:
                    self._output_loss = np.empty((n, batch.output_loss.shape[1]), np.float32)
            feats = batch.features
            vectors[start:stop] = feats
            finite = np.where(np.isfinite(feats), feats, 0.0).astype(np.float64)
            col_sum += finite.sum(0)
            col_sq += (finite**2).sum(0)
            outputs[start:stop] = batch.outputs.reshape(len(batch.outputs), -1)
            if batch.output_loss is not None:
                self._output_loss[start:stop] = batch.output_loss
            loss[start:stop] = batch.loss
            start = stop
        if start != n or outputs is None:
            raise ProbeError(f"the probe yielded {start} samples, expected {n}; pass a "
                             "finite, deterministic dataset (no shuffle/repeat).")
        return outputs, loss, col_sum, col_sq

    def _standardise(self, vectors: np.ndarray, col_sum: np.ndarray, col_sq: np.ndarray) -> int:
        """Per-column z-score, then weight each layer's block so layers count equally."""
        n = self.data.n
        mean = col_sum / n
        std = np.sqrt(np.maximum(col_sq / n - mean**2, 0.0))
        std[std < 1e-12] = 1.0
        weight = np.empty_like(mean)
        for block in self.probe.blocks:
            weight[block.start:block.stop] = 1.0 / np.sqrt(block.stop - block.start)
        scale = (weight / std).astype(np.float32)
        shift = mean.astype(np.float32)
        nonfinite = 0
        for start in range(0, n, _CHUNK):
            chunk = vectors[start:start + _CHUNK]
            chunk = (chunk - shift) * scale
            bad = ~np.isfinite(chunk)
            if bad.any():
                nonfinite += int(bad.sum())
                chunk[bad] = 0.0
            vectors[start:start + _CHUNK] = chunk
        return nonfinite

    def _probabilities(self, outputs: np.ndarray) -> np.ndarray:
        if self.labels.kind == "regression":
            return outputs
        if self.labels.kind == "multilabel":  # one independent sigmoid per label
            return 1.0 / (1.0 + np.exp(-outputs)) if self.loss.from_logits else outputs
        if outputs.shape[1] == 1:
            p = outputs[:, 0]
            if self.loss.from_logits:
                p = 1.0 / (1.0 + np.exp(-p))
            return np.stack([1.0 - p, p], axis=1)
        if self.loss.from_logits:
            z = outputs - outputs.max(1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(1, keepdims=True)
        return outputs

    def _table(self, outputs: np.ndarray, loss: np.ndarray) -> pd.DataFrame:
        if self.heads:  # outputs side by side: the first one's columns, then each head's
            widths = np.cumsum([0, *(h.width for h in self.heads)])
            table = self._first_table(outputs[:, : widths[1]], loss)
            per_loss = self._output_loss
            if self._bad_inputs is not None:
                per_loss = np.where(self._bad_inputs[:, None], np.nan, per_loss)
            for i, head in enumerate(self.heads):
                flag = from_logits(self.loss.identifiers[i]) \
                    if i < len(self.loss.identifiers) else False
                cols = head.table(outputs[:, widths[i]: widths[i + 1]], per_loss[:, i], flag,
                                  first=i == 0)
                for name, values in cols.items():
                    table[name] = values
            return table
        return self._first_table(outputs, loss)

    def _first_table(self, outputs: np.ndarray, loss: np.ndarray) -> pd.DataFrame:
        label = self._label_column()
        table = pd.DataFrame({"sample_id": np.arange(self.data.n), "label": label})
        probs = self._probabilities(outputs)
        kind = self.labels.kind
        extra: dict[str, np.ndarray] = {}
        if kind == "regression":
            table["pred"] = probs[:, 0]
            table["correct"] = np.nan
            if self.data.y is not None:
                truth = self.data.first_y.reshape(self.data.n, -1).astype(np.float64)
                residual = probs[:, : truth.shape[1]] - truth
                extra["residual"] = residual[:, 0]
                if residual.shape[1] > 1:
                    for j in range(residual.shape[1]):
                        extra[f"pred_{j}"] = probs[:, j]
                        extra[f"label_{j}"] = truth[:, j]
                        extra[f"residual_{j}"] = residual[:, j]
        elif kind == "multilabel":
            truth = self.data.first_y.reshape(self.data.n, -1).astype(bool)
            hits = (probs >= 0.5) == truth
            table["pred"] = np.full(self.data.n, -1, dtype=np.int64)
            table["correct"] = hits.all(axis=1)  # exact match: every label right
            extra["hamming_accuracy"] = hits.mean(axis=1)
            for i, name in enumerate(self.class_names):
                extra[f"label_{name}"] = truth[:, i].astype(np.int8)
        else:
            pred = probs.argmax(1).astype(np.int64)
            pred[~np.isfinite(probs).all(1)] = -1  # no prediction (e.g. NaN inputs)
            table["pred"] = pred
            table["correct"] = (pred == label) if kind != "none" else np.nan
        table["loss"] = loss
        for name, values in extra.items():
            table[name] = values
        if kind != "regression":
            for i, name in enumerate(self.class_names):
                table[f"prob_{name}"] = probs[:, i].astype(np.float32)
        return table
