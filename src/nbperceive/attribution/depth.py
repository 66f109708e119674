"""Which layers can be explained, at which depth, for a chosen input.

Depth = number of layers on the longest path from the chosen input to the layer (the input is
depth 0; layers inside nested sub-models count one each, the sub-model itself does not).
A layer is a *candidate* when its output keeps the input's spatial axes (images: a
``(N, h, w, c)`` map) or time axis (tokens / sequences: ``(N, t, d)``), with more than one
position.

Input kinds: integer ``(N, T)`` inputs are ``"tokens"`` (they must feed an Embedding, where
gradients are taken); float ``(N, H, W, C)`` inputs are ``"image"``; float ``(N, F)`` are
``"vector"``; float ``(N, A, B)`` inputs are an ``"image"`` (H x W, e.g. grayscale MNIST fed to
Flatten or Reshape) when the model never keeps them as a sequence, else a sequence explained
per time step (``"tokens"`` kind: heatmaps over the A axis).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..errors import ModelError
from .graph import Tracer
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
    grad_source: str | None  # path of the Embedding output for tokens; None: the input
    output_kind: str  # "softmax" | "sigmoid" | "probs" | "sigmoid_probs" | "logits"
    n_classes: int
    n_outputs: int  # raw output width (1 for a single sigmoid unit)
    output_layer: str = ""  # path of the layer producing the output
    output_depth: int = 0


def unique_paths(paths: list[str]) -> list[str]:
    """Make repeated paths (a layer called twice) unique: ``a``, ``a#2``, ..."""
    seen: Counter[str] = Counter()
    out = []
    for p in paths:
        seen[p] += 1
        out.append(p if seen[p] == 1 else f"{p}#{seen[p]}")
    return out


def _is_float(t: Any) -> bool:
    return tf.as_dtype(t.dtype).is_floating


def _output_kind(tracer: Tracer, model: Any, xs: list[np.ndarray], z: Any) -> str:
    if tracer.squash == "softmax":
        return "softmax"
    if tracer.squash == "sigmoid":
        return "sigmoid"
    probs = np.asarray(model(xs if len(xs) > 1 else xs[0], training=False), np.float64)
    in_unit = probs.min() >= 0.0 and probs.max() <= 1.0
    if in_unit and probs.shape[-1] > 1 and np.allclose(probs.sum(-1), 1.0, atol=1e-4):
        return "probs"
    if in_unit and probs.shape[-1] == 1:
        return "sigmoid_probs"
    return "logits"


def analyse(model: Any, xs: list[np.ndarray], input_index: int) -> Structure:
    """Probe the model once (eagerly, on a couple of samples) and describe it."""
    tracer = Tracer(model, source=input_index)
    probe = [tf.convert_to_tensor(x[:2]) for x in xs]
    try:
        z = tracer.run(probe)
    except ValueError as err:
        raise ModelError(
            f"nbperceive.explain needs a model with a single output; this one failed: {err}"
        ) from err
    if len(z.shape) != 2:
        raise ModelError(
            f"the model's output has shape {tuple(z.shape)}; explain needs (batch, classes) "
            "scores"
        )
    x = probe[input_index]
    name = input_names(model)[input_index]
    paths = unique_paths([c.path for c in tracer.calls])
    calls = list(zip(paths, tracer.calls))
    down = [(p, c) for p, c in calls if c.depth is not None and c.depth >= 1]
    grad_source = None
    if not _is_float(x):
        if x.shape.rank != 2:
            raise ModelError(
                f"integer input {name!r} has shape {tuple(x.shape)}; token inputs must be "
                "(batch, tokens)"
            )
        emb = [p for p, c in down if c.depth == 1 and isinstance(c.layer, keras.layers.Embedding)]
        if not emb:
            raise ModelError(
                f"integer input {name!r} does not feed an Embedding layer; nbperceive takes "
                "gradients at the Embedding output, so token inputs need one"
            )
        kind, grad_source, rank = "tokens", emb[0], 3
        axes: tuple[int, ...] = (int(x.shape[1]),)
    elif x.shape.rank == 4:
        kind, rank, axes = "image", 4, (int(x.shape[1]), int(x.shape[2]))
    elif x.shape.rank == 2:
        kind, rank, axes = "vector", 0, (int(x.shape[1]),)
    elif x.shape.rank == 3:
        keeps_sequence = any(c.output.shape.rank == 3 for _, c in down)
        as_image = any(c.output.shape.rank == 4 for _, c in down) or not keeps_sequence
        if as_image:
            kind, rank, axes = "image", 4, (int(x.shape[1]), int(x.shape[2]))
        else:
            kind, rank, axes = "tokens", 3, (int(x.shape[1]),)
    else:
        raise ModelError(
            f"input {name!r} has shape {tuple(x.shape)}; explain handles images (N,H,W[,C]), "
            "token ids (N,T), sequences (N,T,F) and vectors (N,F)"
        )
    head = tracer.head
    candidates = []
    for p, c in down:
        out = c.output
        if c.layer is head or out.shape.rank != rank or not _is_float(out):
            continue
        if int(np.prod(out.shape[1:-1])) <= 1:
            continue
        candidates.append((c.depth, p))
    candidates.sort(key=lambda dp: dp[0])  # stable: keeps execution order within a depth
    head_calls = [(p, c) for p, c in calls if c.layer is head]
    head_path = head_calls[-1][0] if head_calls else ""
    head_depth = int(head_calls[-1][1].depth or 0) if head_calls else 0
    out_kind = _output_kind(tracer, model, [x_[:2] for x_ in xs], z)
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
        output_layer=head_path,
        output_depth=head_depth,
    )
