"""Which layers can be explained, at which depth, for a chosen input.

Depth = number of layers on the longest path from the chosen input to the layer (the input is
depth 0; layers inside nested sub-models count one each, the sub-model itself does not).
A layer is a *candidate* when its output keeps the input's spatial axes (images: a
``(N, h, w, c)`` map) or time axis (tokens / sequences: ``(N, t, d)``), with more than one
position.

Depths come from tracing the model once under a :class:`~nbperceive.layers.Recorder`: a layer's
depth is one more than the deepest recorded tensor its inputs are computed from (through ops
that are no layer, e.g. ``x + 1`` in a subclassed ``call``).

Input kinds: integer ``(N, T)`` inputs and texts ``(N,)`` (a TextVectorization layer inside)
are ``"tokens"`` (they must feed an Embedding, where gradients are taken); float ``(N, H, W,
C)`` inputs are ``"image"``; float ``(N, F)`` are ``"vector"``; float ``(N, A, B)`` inputs are
an ``"image"`` (H x W, e.g. grayscale MNIST fed to Flatten or Reshape) when the model never
keeps them as a sequence, else a sequence explained per time step (``"tokens"`` kind: heatmaps
over the A axis).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras.src import tree

from ..errors import ModelError, NbPerceiveError
from ..layers import LeafCall, Recorder, head_squash
from .inputs import input_names


@dataclass
class Structure:
    """What the engine needs to know about a model for one chosen input."""

    input_index: int
    input_name: str
    input_kind: str  # "image" | "tokens" | "vector"
    input_axes: tuple[int, ...]  # heatmap axes: (H, W) | (T,) | (F,)
    candidates: list[str]  # leaf-call paths, shallow -> deep
    depths: list[int]
    grad_source: str | None  # where gradients start: the Embedding output for tokens, the
    # Rescaling (or other float cast) output of integer pixels; None: the input itself
    # "softmax" | "sigmoid" | "probs" | "sigmoid_probs" | "logits" | "values" (regression:
    # the maps explain each output unit itself)
    output_kind: str
    n_classes: int
    n_outputs: int  # raw output width (1 for a single sigmoid unit)
    output_layer: str = ""  # path of the layer producing the output
    output_depth: int = 0
    linear_head: str | None = None  # path of the head whose softmax/sigmoid is skipped
    input_specs: list[tuple[tuple, str]] = field(default_factory=list)  # per input
    output_index: int = 0  # the explained output, of a model with several


def _is_float(t: Any) -> bool:
    return tf.as_dtype(t.dtype).is_floating


def tensor_spec(x: np.ndarray) -> tf.TensorSpec:
    dtype = tf.string if x.dtype.kind in ("U", "S", "O") else tf.as_dtype(x.dtype)
    return tf.TensorSpec((None, *x.shape[1:]), dtype)


_REGRESSION_LOSSES = ("mse", "mae", "mape", "msle", "mean_squared", "mean_absolute", "huber",
                      "log_cosh", "logcosh", "poisson", "cosine")


def _first_loss(model: Any) -> tuple[Any, str]:
    """The compiled loss of the (first) output and its lower-case name."""
    from ..capture import first_loss

    loss = first_loss(model)
    name = loss if isinstance(loss, str) else (
        getattr(loss, "name", None) or getattr(loss, "__name__", "") or type(loss).__name__)
    return loss, str(name).lower()


def _is_regression(model: Any) -> bool:
    """Compiled with a loss of values (mse, mae, huber, ...), not of classes."""
    loss, name = _first_loss(model)
    return loss is not None and any(key in name for key in _REGRESSION_LOSSES)


def _binary_logits(model: Any) -> bool:
    """Compiled with a binary cross-entropy on logits: a linear output is a sigmoid's input."""
    from ..capture import from_logits

    loss, name = _first_loss(model)
    try:
        return "binary" in name and from_logits(loss)
    except NbPerceiveError:  # a loss capture refuses: not for explain to judge
        return False


def _output_kind(squash: str, model: Any, xs: list[np.ndarray]) -> str:
    if squash in ("softmax", "sigmoid"):
        return squash
    if _is_regression(model):
        return "values"
    if _binary_logits(model):
        return "sigmoid"  # the raw output is the logit (one unit: classes 0/1)
    probs = np.asarray(model(xs if len(xs) > 1 else xs[0], training=False), np.float64)
    in_unit = probs.min() >= 0.0 and probs.max() <= 1.0
    if in_unit and probs.shape[-1] > 1 and np.allclose(probs.sum(-1), 1.0, atol=1e-4):
        return "probs"
    if in_unit and probs.shape[-1] == 1:
        return "sigmoid_probs"
    return "logits"


def _is_output(call: LeafCall | None, z: Any) -> bool:
    """``z`` is ``call``'s output itself, or reached from it through Identity ops only."""
    if call is None:
        return False
    t = z
    while True:
        if t is call.output or getattr(t, "name", None) == getattr(call.output, "name", ""):
            return True
        op = getattr(t, "op", None)
        if op is None or op.type != "Identity" or not op.inputs:
            return False
        t = op.inputs[0]


def record_calls(model: Any, xs: list[np.ndarray], input_index: int
                 ) -> tuple[Recorder, list[Any]]:
    """Trace the model once (no data runs) and record every leaf call with its depth."""
    found: dict[str, Any] = {}

    def trace(*inputs: Any) -> Any:
        recorder = Recorder(model, depths=True)
        out = tree.flatten(recorder.run(list(inputs), source=input_index))
        found["recorder"], found["outputs"] = recorder, out
        return out

    try:
        tf.function(trace, autograph=False).get_concrete_function(*map(tensor_spec, xs))
    except (TypeError, ValueError) as err:
        raise ModelError(
            f"model {getattr(model, 'name', '')!r} could not be run on x "
            f"({type(err).__name__}: {err}); pass x as the model's call takes it"
        ) from err
    return found["recorder"], found["outputs"]


def _float_of(calls: list[Any], x: np.ndarray) -> Any:
    """The first call that turns integer input ``x`` into floats of the same shape (the
    Rescaling or Normalization of uint8 pixels): gradients start at its output. None when
    an Embedding comes first (token ids) or no such call exists."""
    for c in calls:
        if isinstance(c.layer, keras.layers.Embedding):
            return None
        if _is_float(c.output) and tuple(c.output.shape[1:]) == tuple(x.shape[1:]):
            return c
    return None


def analyse(model: Any, xs: list[np.ndarray], input_index: int,
            output: int | str | None = None) -> Structure:
    """Trace the model once and describe it for one chosen input and one of its outputs
    (``output``: index or name; None: the first, as the run's columns describe it)."""
    recorder, outputs = record_calls(model, xs, input_index)
    output_index = output_position(model, len(outputs), output)
    z = outputs[output_index]
    if len(z.shape) != 2:
        raise ModelError(
            f"the model's output has shape {tuple(z.shape)}; explain needs (batch, classes) "
            "scores"
        )
    x = xs[input_index]
    name = input_names(model, len(xs))[input_index]
    calls = recorder.calls
    down = [c for c in calls if c.depth is not None and c.depth >= 1]
    grad_source = None
    rank_x = x.ndim
    as_float = None if x.dtype.kind in ("U", "S", "O") or np.issubdtype(x.dtype, np.floating) \
        else _float_of(down, x)
    if as_float is not None:  # integer pixels or features, then Rescaling / Normalization
        grad_source = as_float.path
        down = [c for c in down if c is not as_float]
    if grad_source is None and (x.dtype.kind in ("U", "S", "O") or
                                not np.issubdtype(x.dtype, np.floating)):
        emb = [c.path for c in down if isinstance(c.layer, keras.layers.Embedding)]
        if not emb:
            raise ModelError(
                f"input {name!r} holds {'texts' if x.dtype.kind in 'USO' else 'integers'}, "
                "which have no gradient, and it feeds neither an Embedding layer nor a layer "
                "that turns it into floats of the same shape (Rescaling, Normalization); "
                "nbperceive takes gradients at that layer's output, so such inputs need one"
            )
        first = next(c for c in down if c.path == emb[0])
        if first.output.shape.rank != 3:
            raise ModelError(
                f"the Embedding fed by input {name!r} gives shape {tuple(first.output.shape)}; "
                "token inputs must become (batch, tokens, features)"
            )
        kind, grad_source, rank = "tokens", emb[0], 3
        axes: tuple[int, ...] = (int(first.output.shape[1]),)
        down = [c for c in down if c.depth >= first.depth]
    elif rank_x == 4:
        kind, rank, axes = "image", 4, (int(x.shape[1]), int(x.shape[2]))
    elif rank_x == 2:
        kind, rank, axes = "vector", 0, (int(x.shape[1]),)
    elif rank_x == 3:
        keeps_sequence = any(c.output.shape.rank == 3 for c in down)
        as_image = any(c.output.shape.rank == 4 for c in down) or not keeps_sequence
        if as_image:
            kind, rank, axes = "image", 4, (int(x.shape[1]), int(x.shape[2]))
        else:
            kind, rank, axes = "tokens", 3, (int(x.shape[1]),)
    else:
        raise ModelError(
            f"input {name!r} has shape {tuple(x.shape)}; explain handles images (N,H,W[,C]), "
            "token ids (N,T), texts (N,) with a TextVectorization layer, sequences (N,T,F) "
            "and vectors (N,F)"
        )
    head_call = recorder.nearest_call(z)
    head = head_call.layer if head_call is not None else None
    squash = head_squash(head)[0] if _is_output(head_call, z) else ""
    candidates = []
    for c in down:
        out = c.output
        if c is head_call or out.shape.rank != rank or not _is_float(out):
            continue
        if any(d is None for d in out.shape[1:-1]) or int(np.prod(out.shape[1:-1])) <= 1:
            continue
        candidates.append((c.depth, c.path))
    candidates.sort(key=lambda dp: dp[0])  # stable: keeps execution order within a depth
    sample = [x_[:2] for x_ in xs]
    out_kind = _output_kind(squash, model, sample)
    n_out = int(z.shape[-1])
    n_classes = 2 if out_kind in ("sigmoid", "sigmoid_probs") and n_out == 1 else n_out
    return Structure(
        input_index=input_index,
        input_name=name,
        input_kind=kind,
        input_axes=axes,
        candidates=[p for _, p in candidates],
        depths=[d for d, _ in candidates],
        grad_source=grad_source,
        output_kind=out_kind,
        n_classes=n_classes,
        n_outputs=n_out,
        output_layer=head_call.path if head_call is not None else "",
        output_depth=int(head_call.depth or 0) if head_call is not None else 0,
        linear_head=head_call.path if squash and head_call is not None else None,
        input_specs=[(tuple(a.shape[1:]), tensor_spec(a).dtype.name) for a in xs],
        output_index=output_index,
    )


def output_position(model: Any, count: int, output: int | str | None) -> int:
    """The index among the model's ``count`` outputs that ``output`` names (None: 0)."""
    names = [str(v) for v in (getattr(model, "output_names", None) or [])][:count]
    if output is None:
        return 0
    if isinstance(output, str):
        if output not in names:
            raise ModelError(f"the model has no output named {output!r}; its outputs are "
                             f"{names or count}")
        return names.index(output)
    if not 0 <= int(output) < count:
        raise ModelError(f"output {output} is out of range: the model has {count} output(s)"
                         + (f" ({names})" if names else ""))
    return int(output)
