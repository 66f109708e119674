"""Check and normalise what the user passes to ``explain``: x, the chosen input, labels."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from ..errors import LabelError, ModelError, ProbeError

MAX_ALL_CLASSES = 20


def declared(model: Any) -> list[Any] | None:
    """The symbolic inputs of a Functional/Sequential model; None for a subclassed one."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return list(inputs) if inputs else None


def check_model(model: Any) -> None:
    if not isinstance(model, keras.Model):
        raise ModelError(
            "explain needs a keras.Model (Sequential, Functional or subclassed), not "
            f"{type(model).__name__}"
        )
    if not getattr(model, "built", False) and not declared(model):
        raise ModelError(
            "the model is not built: give it a keras.Input (or call it once on data, "
            "model(x[:1])) before explaining it"
        )
    # a model of several outputs: explain(output=...) picks one (see depth.analyse)


def input_names(model: Any, n: int = 1) -> list[str]:
    """Names of the model's inputs: their InputLayer names (``keras.Input(name=...)``); for a
    subclassed model (no declared inputs) ``"input"`` or ``"input_0"``, ... for ``n`` of them."""
    inputs = declared(model)
    if inputs is None:
        return ["input"] if n == 1 else [f"input_{i}" for i in range(n)]
    names = []
    for t in inputs:
        history = getattr(t, "_keras_history", None)
        op = getattr(history, "operation", None)
        names.append(getattr(op, "name", None) or t.name)
    return names


def as_input_list(model: Any, x: Any) -> list[np.ndarray]:
    """x (array, list/tuple in ``model.inputs`` order, or dict by input name) -> arrays."""
    if declared(model) is None:
        return _subclassed_inputs(x)
    names = input_names(model)
    if isinstance(x, Mapping):
        keys = [n if n in x else t.name for n, t in zip(names, model.inputs)]
        missing = [n for n, k in zip(names, keys) if k not in x]
        if missing:
            raise ProbeError(f"x has no entry for input(s) {missing}; the model's inputs: {names}")
        arrays = [x[k] for k in keys]
    elif isinstance(x, Sequence) and not isinstance(x, str | bytes) and len(names) > 1:
        if len(x) != len(names):
            raise ProbeError(
                f"x holds {len(x)} arrays but the model has {len(names)} inputs {names}; pass "
                "one array per input (list in that order, or a dict by name)"
            )
        arrays = list(x)
    elif len(names) > 1:
        raise ProbeError(
            f"the model has {len(names)} inputs {names}; pass x as a list or dict of arrays"
        )
    else:
        arrays = [x[0] if isinstance(x, list | tuple) and len(x) == 1 else x]
    out = []
    for name, spec, a in zip(names, model.inputs, arrays):
        out.append(_check_array(name, spec, a))
    sizes = {len(a) for a in out}
    if len(sizes) != 1:
        raise ProbeError(f"the inputs hold different numbers of samples: {sorted(sizes)}")
    if not len(out[0]):
        raise ProbeError("x holds no samples")
    return out


def _subclassed_inputs(x: Any) -> list[np.ndarray]:
    """A subclassed model declares no inputs: one array, or a list/tuple of arrays."""
    if isinstance(x, Mapping):
        raise ProbeError("a subclassed model takes x as an array or a list of arrays, not a dict")
    several = isinstance(x, list | tuple) and len(x) > 1 and all(
        isinstance(a, np.ndarray) for a in x)
    arrays = [np.asarray(a) for a in (x if several else [x])]
    out = [a.astype(np.float32) if a.dtype == np.float64 else a for a in arrays]
    if len({len(a) for a in out}) != 1:
        raise ProbeError(f"the inputs hold different numbers of samples: {[len(a) for a in out]}")
    if not len(out[0]):
        raise ProbeError("x holds no samples")
    return out


def _check_array(name: str, spec: Any, a: Any) -> np.ndarray:
    a = np.asarray(a)
    want = tuple(spec.shape)
    if a.ndim == len(want) - 1 and _fits(a.shape, want[1:]):
        a = a[None]  # one sample without batch axis
    if a.ndim != len(want) or not _fits(a.shape[1:], want[1:]):
        raise ProbeError(
            f"x for input {name!r} has shape {a.shape}, but the model expects "
            f"(batch, {', '.join('any' if d is None else str(d) for d in want[1:])})"
        )
    if spec.dtype == "string":
        if a.dtype.kind not in ("U", "S", "O"):
            raise ProbeError(f"input {name!r} takes texts (strings), but x holds {a.dtype}")
        return a
    dtype = np.dtype(spec.dtype)
    if np.issubdtype(dtype, np.integer):
        if not np.issubdtype(a.dtype, np.integer):
            if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
                raise ProbeError(
                    f"input {name!r} takes integer token ids, but x holds non-integer values"
                )
    elif not np.issubdtype(a.dtype, np.number) and a.dtype != np.bool_:
        raise ProbeError(f"x for input {name!r} must be numeric, not {a.dtype}")
    return a.astype(dtype, copy=False)


def _fits(shape: tuple, want: tuple) -> bool:
    return all(w is None or int(s) == int(w) for s, w in zip(shape, want))


def choose_input(model: Any, xs: list[np.ndarray], name: str | None) -> int:
    names = input_names(model, len(xs))
    if name is not None:
        if name not in names:
            raise ModelError(f"the model has no input named {name!r}; its inputs are {names}")
        return names.index(name)
    for i, a in enumerate(xs):  # default: the first image or token input
        if a.ndim >= 3 or a.dtype.kind in ("i", "u", "U", "S", "O"):
            return i
    return 0


def resolve_labels(labels: Any, n_classes: int, probs: np.ndarray | None) -> list[int]:
    """labels=None: every class when there are at most 20, else the classes predicted for the
    samples (top-1 of each; one class for a single sample)."""
    if labels is None:
        if n_classes <= MAX_ALL_CLASSES:
            return list(range(n_classes))
        assert probs is not None
        top = sorted({int(i) for i in np.argmax(probs, axis=-1)})
        if len(top) > MAX_ALL_CLASSES:
            raise LabelError(
                f"the samples are predicted as {len(top)} different classes; pass labels= "
                f"(at most {MAX_ALL_CLASSES} class indices) to choose which to explain"
            )
        return top
    values = [labels] if np.isscalar(labels) else list(np.asarray(labels).ravel())
    if not values:
        raise LabelError("labels is empty; pass class indices, or None for the default")
    out: list[int] = []
    for v in values:
        if not float(v).is_integer():
            raise LabelError(f"label {v!r} is not a class index")
        v = int(v)
        if not 0 <= v < n_classes:
            raise LabelError(
                f"label {v} is out of range: the model has {n_classes} classes (0..{n_classes - 1})"
            )
        if v not in out:
            out.append(v)
    return out


def text_tokens(model: Any, texts: Any) -> Callable[[int], list[str]] | None:
    """A function giving the tokens the model's own TextVectorization layer makes of text
    ``i`` of ``texts`` (trailing padding dropped), one text at a time when asked (tokenising
    every probe text up front took 0.7 s at 10k); None when the model has no such layer."""
    from ..layers import iter_layers

    vec = next((layer for layer in iter_layers(model)
                if isinstance(layer, keras.layers.TextVectorization)), None)
    if vec is None:
        return None
    vocab: list[str] = []
    texts = np.asarray(texts).reshape(-1)

    def tokens(i: int) -> list[str]:
        if not vocab:
            vocab.extend(str(v) for v in vec.get_vocabulary())
        r = np.asarray(vec(texts[i : i + 1])).astype(np.int64).reshape(-1)
        last = int(np.max(np.nonzero(r)[0])) + 1 if np.any(r) else 0
        return [vocab[k] if 0 <= k < len(vocab) else f"[{k}]" for k in r[:last]]

    return tokens
