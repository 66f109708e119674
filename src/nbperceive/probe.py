"""The probe set: validated (x, y) as arrays or a tf.data.Dataset, served batch by batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import LabelError, ProbeError


@dataclass
class LabelKind:
    """How labels relate to the first model output."""

    kind: str  # "sparse" | "onehot" | "binary" | "multilabel" | "regression" | "none"
    n_classes: int


HEAD_COLUMNS = ("pred", "label", "correct", "loss", "residual", "hamming_accuracy")


@dataclass
class OutputHead:
    """One output of a model with several: its columns in the table are named after it
    (``<name>_pred``, ``_label``, ``_correct``, ``_loss``, ``_residual``; the first output
    keeps ``label``, ``pred``, ``prob_*`` and adds only its own ``<name>_loss``, as ``loss``
    is the weighted sum over the outputs that ``fit`` minimises)."""

    name: str
    width: int  # values per sample
    kind: LabelKind
    y: np.ndarray | None
    has_loss: bool

    def columns(self) -> list[str]:
        return [f"{self.name}_{c}" for c in HEAD_COLUMNS]

    def table(self, out: np.ndarray, loss: np.ndarray, from_logits: bool, first: bool
              ) -> dict[str, np.ndarray]:
        """This output's columns, from its ``out`` (N, width) and its own ``loss`` (N,)."""
        n, col = len(out), (lambda c: f"{self.name}_{c}")
        cols: dict[str, np.ndarray] = {}
        if self.has_loss and self.y is not None:
            cols[col("loss")] = loss.astype(np.float32)
        if first:
            return cols
        kind = self.kind.kind
        finite = np.isfinite(out).all(1)
        if kind in ("sparse", "onehot", "binary"):
            if self.width == 1:
                p = 1.0 / (1.0 + np.exp(-out[:, 0])) if from_logits else out[:, 0]
                pred = (p >= 0.5).astype(np.int64)
            else:
                pred = out.argmax(1).astype(np.int64)
            pred[~finite] = -1
            y = self.y.reshape(n, -1)
            label = (y.argmax(1) if kind == "onehot" else y[:, 0]).astype(np.int64)
            cols.update({col("pred"): pred, col("label"): label, col("correct"): pred == label})
        elif kind == "multilabel":
            probs = 1.0 / (1.0 + np.exp(-out)) if from_logits else out
            hits = (probs >= 0.5) == self.y.reshape(n, -1).astype(bool)
            cols.update({col("correct"): hits.all(1), col("hamming_accuracy"): hits.mean(1)})
        elif kind == "regression":
            truth = self.y.reshape(n, -1).astype(np.float64)[:, 0]
            cols.update({col("pred"): out[:, 0].astype(np.float64), col("label"): truth,
                         col("residual"): out[:, 0] - truth})
        else:  # no labels: what the output says
            pred = out.argmax(1).astype(np.int64) if self.width > 1 else out[:, 0]
            if self.width > 1:
                pred[~finite] = -1
            cols[col("pred")] = pred
        return cols


def _as_list(x: Any) -> list[Any]:
    if isinstance(x, dict):
        return list(x.values())
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _shape_ok(expected: Sequence[int | None], got: Sequence[int]) -> bool:
    return len(expected) == len(got) and all(e is None or e == g for e, g in zip(expected, got))


def check_x_shapes(xs: list[np.ndarray], input_shapes: list[tuple] | None) -> None:
    if input_shapes is None:  # a subclassed model declares no inputs: its call decides
        return
    if len(xs) != len(input_shapes):
        raise ProbeError(
            f"the model takes {len(input_shapes)} input(s) but the probe gives {len(xs)}; pass "
            "x as a list (or dict) with one array per model input, in model.inputs order."
        )
    for i, (x, shape) in enumerate(zip(xs, input_shapes)):
        if not _shape_ok(shape[1:], x.shape[1:]):
            raise ProbeError(
                f"probe input {i} has sample shape {tuple(x.shape[1:])} but the model expects "
                f"{tuple(shape[1:])} (None = any). Reshape x, e.g. x[..., None] for a channel axis."
            )


def label_kind(loss: Any, output_shape: tuple, y: np.ndarray | None) -> LabelKind:
    """Decide how y reads against the first output; raise when they cannot fit."""
    units = output_shape[-1] if output_shape and output_shape[-1] is not None else 1
    if y is None:
        return LabelKind("none", units)
    name = loss if isinstance(loss, str) else (
        getattr(loss, "name", None) or getattr(loss, "__name__", "") or "")
    name = str(name).lower()
    y = np.asarray(y)
    if "sparse" in name:
        if y.ndim > 1 and y.shape[-1] != 1:
            raise LabelError(
                f"the model's loss {name!r} wants integer class ids, but y has shape {y.shape} "
                "(one-hot?). Pass y.argmax(-1), or compile with categorical_crossentropy."
            )
        ids = y.reshape(len(y))
        if not np.issubdtype(ids.dtype, np.integer) and not np.all(np.equal(np.mod(ids, 1), 0)):
            raise LabelError("sparse labels must be whole numbers (class ids 0..C-1).")
        if len(ids) and (ids.min() < 0 or ids.max() >= units):
            raise LabelError(
                f"labels run from {ids.min()} to {ids.max()} but the model outputs {units} "
                f"classes (0..{units - 1}). Fix the labels or the output layer's size."
            )
        return LabelKind("sparse", units)
    if "categorical" in name:
        if y.ndim < 2 or y.shape[-1] != units:
            raise LabelError(
                f"the model's loss {name!r} wants one-hot labels of width {units}, but y has "
                f"shape {y.shape}. Pass keras.utils.to_categorical(y, {units}), or compile with "
                "sparse_categorical_crossentropy."
            )
        return LabelKind("onehot", units)
    if "binary" in name or "hinge" in name:
        values = np.unique(y)
        if not np.all(np.isin(values, [0, 1])):
            raise LabelError(f"binary labels must be 0 or 1; found values {values[:10]}.")
        if units > 1:  # one sigmoid per label: multi-hot labels
            if y.ndim != 2 or y.shape[1] != units:
                raise LabelError(
                    f"the model has {units} sigmoid outputs (multi-label), so y must be "
                    f"multi-hot of shape (N, {units}); it has shape {y.shape}."
                )
            return LabelKind("multilabel", units)
        return LabelKind("binary", units)
    return LabelKind("regression", units)


@dataclass
class ProbeData:
    """The probe as the capture engine needs it: size, labels, and a batch iterator."""

    n: int
    y: Any  # np.ndarray or list of arrays (multi-output), or None
    batch_size: int
    x: list[np.ndarray] | None = None
    dataset: Any = None
    dataset_has_y: bool = True
    shapes: list[tuple] | None = None  # per input: one sample's shape
    dtypes: list[Any] | None = None  # per input: tf dtype name ("float32", "string", ...)

    def batches(self) -> Iterator[tuple[Any, Any]]:
        if self.dataset is not None:
            for element in self.dataset:
                yield (element[0], element[1]) if self.dataset_has_y else (element, None)
            return
        ys = _as_list(self.y) if self.y is not None else None
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            xb = [x[start:stop] for x in self.x]
            yb = None if ys is None else [y[start:stop] for y in ys]
            yield (xb if len(xb) > 1 else xb[0],
                   None if yb is None else (yb if len(yb) > 1 else yb[0]))

    @property
    def first_y(self) -> np.ndarray | None:
        return None if self.y is None else np.asarray(_as_list(self.y)[0])


def nonfinite_rows(xs: list[np.ndarray]) -> np.ndarray:
    """Which samples hold a NaN or inf in any (floating-point) input (bool per sample)."""
    bad = np.zeros(len(xs[0]), dtype=bool)
    for x in xs:
        if np.issubdtype(x.dtype, np.inexact):
            for start in range(0, len(x), 4096):  # chunks: no input-sized temporary
                chunk = x[start:start + 4096]
                bad[start:start + 4096] |= ~np.isfinite(chunk.reshape(len(chunk), -1)).all(1)
    return bad


def _dtype_name(dtype: Any) -> str:
    dtype = np.dtype(dtype) if not hasattr(dtype, "as_numpy_dtype") else dtype
    if getattr(dtype, "kind", "") in ("U", "S", "O"):
        return "string"
    return str(getattr(dtype, "name", dtype))


def from_arrays(x: Any, y: Any, input_shapes: list[tuple] | None, batch_size: int
                ) -> ProbeData:
    xs = [np.asarray(a) for a in _as_list(x)]
    n = len(xs[0])
    if any(len(a) != n for a in xs):
        raise ProbeError(f"probe inputs have different lengths {[len(a) for a in xs]}.")
    check_x_shapes(xs, input_shapes)
    if y is not None:
        ys = [np.asarray(a) for a in _as_list(y)]
        for a in ys:
            if len(a) != n:
                raise ProbeError(
                    f"probe x has {n} samples but y has {len(a)}; pass (x, y) of equal length."
                )
        y = ys if isinstance(y, (list, tuple, dict)) else ys[0]
    if n == 0:
        raise ProbeError("the probe set is empty; pass at least one sample.")
    return ProbeData(n=n, y=y, batch_size=batch_size, x=xs,
                     shapes=[tuple(a.shape[1:]) for a in xs],
                     dtypes=[_dtype_name(a.dtype) for a in xs])


def from_dataset(dataset: Any, input_shapes: list[tuple] | None, batch_size: int
                 ) -> ProbeData:
    """A tf.data.Dataset of (x, y) or x, batched or not; labels are gathered in one pass."""
    spec = dataset.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    first = _as_list(x_spec)[0]
    if input_shapes is not None and len(first.shape) == len(input_shapes[0]) - 1:  # unbatched
        dataset = dataset.batch(batch_size)
    has_y = isinstance(dataset.element_spec, tuple) and len(dataset.element_spec) >= 2
    n, ys = 0, []
    for element in dataset:
        xb, yb = (element[0], element[1]) if has_y else (element, None)
        xs = [np.asarray(a) for a in _as_list(xb)]
        check_x_shapes(xs, input_shapes)
        n += len(xs[0])
        if yb is not None:
            ys.append([np.asarray(a) for a in _as_list(yb)])
    if n == 0:
        raise ProbeError("the probe dataset is empty; pass at least one sample.")
    y = None
    if ys:
        cols = [np.concatenate(parts) for parts in zip(*ys)]
        y = cols if len(cols) > 1 else cols[0]
    x_specs = _as_list(dataset.element_spec[0] if has_y else dataset.element_spec)
    return ProbeData(n=n, y=y, batch_size=batch_size, dataset=dataset, dataset_has_y=has_y,
                     shapes=[tuple(t.shape[1:]) for t in x_specs],
                     dtypes=[t.dtype.name for t in x_specs])
