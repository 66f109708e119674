"""The capture engine: one forward pass per batch yields pooled layer features, loss, output.

The probe model is the user's model re-traced with every chosen layer's output as an extra
output, each pooled *inside the graph* (mean over every axis but batch and features) and, when
wider than ``max_width``, reduced by a fixed seeded random projection. It shares the user's
weights, so a capture after epoch k sees epoch k's model without copying anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .errors import LabelError
from .layers import choose_layers, model_inputs, trace


@dataclass
class LayerBlock:
    """Where one captured layer lives in the perception vector."""

    name: str
    start: int
    stop: int
    width: int  # features before any random projection
    projected: bool

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start": self.start, "stop": self.stop,
                "width": self.width, "projected": self.projected}


def _pool(tensor: Any) -> Any:
    """Mean over every axis but the first (batch) and the last (features)."""
    rank = len(tensor.shape)
    if rank <= 2:
        return tensor if rank == 2 else keras.ops.expand_dims(tensor, -1)
    return keras.ops.mean(tensor, axis=tuple(range(1, rank - 1)))


class _Project(keras.layers.Layer):
    """Fixed random projection (not trainable); keeps the probe model serialisable-free."""

    def __init__(self, matrix: np.ndarray, **kwargs: Any):
        super().__init__(trainable=False, **kwargs)
        self.matrix = matrix

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(shape=self.matrix.shape, initializer="zeros",
                                      trainable=False, name="kernel")
        self.kernel.assign(self.matrix)

    def call(self, x: Any) -> Any:
        return keras.ops.matmul(keras.ops.cast(x, self.kernel.dtype), self.kernel)


@dataclass
class ProbeModel:
    """The compiled capture function and the layout of the vectors it produces."""

    model: keras.Model
    blocks: list[LayerBlock]
    n_outputs: int

    @property
    def dim(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0


def build_probe(model: keras.Model, layers: Sequence[Any] | None = None,
                max_width: int = 256, seed: int = 0) -> ProbeModel:
    """Re-trace ``model`` with the chosen layers' pooled outputs as extra outputs."""
    chosen = choose_layers(model, layers)
    wanted = {id(layer) for layer in chosen}
    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=f"probe_{i}")
              for i, t in enumerate(model_inputs(model))]
    recorded: dict[int, Any] = {}

    def on_output(layer: Any, out: Any) -> None:
        if id(layer) in wanted and id(layer) not in recorded:
            recorded[id(layer)] = out[0] if isinstance(out, (list, tuple)) else out

    outputs = trace(model, inputs, on_output)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    rng = np.random.default_rng(seed)
    features, blocks, start = [], [], 0
    for layer in chosen:
        if id(layer) not in recorded:  # layer not on the path from these inputs
            continue
        pooled = _pool(recorded[id(layer)])
        width = int(pooled.shape[-1])
        projected = width > max_width
        if projected:
            matrix = rng.standard_normal((width, max_width)).astype(np.float32)
            pooled = _Project(matrix / np.sqrt(max_width), name=f"nbp_proj_{layer.name}")(pooled)
        out_width = max_width if projected else width
        features.append(keras.ops.cast(pooled, "float32"))
        blocks.append(LayerBlock(layer.name, start, start + out_width, width, projected))
        start += out_width
    probe = keras.Model(inputs, [*outputs, *features], name=f"nbp_probe_{model.name}")
    return ProbeModel(model=probe, blocks=blocks, n_outputs=len(outputs))


@dataclass
class LossSpec:
    """How to turn (y_true, y_pred) into one loss value per sample, like the compiled loss."""

    fns: list[Callable[[Any, Any], Any] | None]
    weights: list[float]
    from_logits: bool

    def per_sample(self, ys: list[Any], preds: list[Any]) -> Any:
        total = None
        for fn, w, y, p in zip(self.fns, self.weights, ys, preds, strict=False):
            if fn is None:
                continue
            value = fn(y, p)
            rank = len(value.shape)
            if rank > 1:
                value = keras.ops.mean(value, axis=tuple(range(1, rank)))
            value = keras.ops.cast(value, "float32") * w
            total = value if total is None else total + value
        return total


def _loss_fn(loss: Any) -> tuple[Callable[[Any, Any], Any] | None, bool]:
    if loss is None:
        return None, False
    if isinstance(loss, str):
        loss = keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        from_logits = bool(getattr(loss, "from_logits", False)
                           or loss.get_config().get("from_logits", False))
        return loss.call, from_logits
    if callable(loss):
        return loss, False
    raise LabelError(f"cannot use the model's loss {loss!r}; compile the model with a Keras loss.")


def loss_spec(model: keras.Model, n_outputs: int) -> LossSpec:
    """Per-sample version of ``model``'s compiled loss (one fn per output, with weights)."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, dict):
        names = list(getattr(model, "output_names", []) or [])
        losses = [loss.get(name) for name in names] if names else list(loss.values())
    elif isinstance(loss, (list, tuple)):
        losses = list(loss)
    else:  # one loss for every output, as Keras does
        losses = [loss] * n_outputs
    compiled = getattr(model, "_compile_loss", None)  # Keras 3 keeps loss_weights here
    weights = getattr(model, "loss_weights", None) or getattr(compiled, "_user_loss_weights", None)
    if isinstance(weights, dict):
        weights = [weights.get(n, 1.0) for n in getattr(model, "output_names", [])]
    weights = list(weights) if weights else [1.0] * len(losses)
    pairs = [_loss_fn(item) for item in losses]
    return LossSpec(fns=[fn for fn, _ in pairs], weights=[float(w) for w in weights],
                    from_logits=bool(pairs and pairs[0][1]))


@dataclass
class BatchResult:
    features: np.ndarray  # float32 (B, D), raw (before standardisation)
    outputs: np.ndarray   # float32 (B, C) first model output
    loss: np.ndarray      # float32 (B,) per-sample loss (NaN when no loss)


class Capturer:
    """Runs the probe model batch by batch under the caller's device placement."""

    def __init__(self, probe: ProbeModel, spec: LossSpec):
        self.probe = probe
        self.spec = spec
        self._step = tf.function(self._forward, reduce_retracing=True)

    def _forward(self, x: Any, y: Any) -> tuple[Any, Any, Any]:
        results = self.probe.model(x, training=False)
        results = list(results) if isinstance(results, (list, tuple)) else [results]
        outputs = results[: self.probe.n_outputs]
        features = results[self.probe.n_outputs:]
        flat = keras.ops.concatenate(features, axis=-1) if len(features) > 1 else features[0]
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        loss = self.spec.per_sample(ys, outputs) if y is not None else None
        if loss is None:
            loss = tf.fill([tf.shape(flat)[0]], float("nan"))
        return flat, keras.ops.cast(outputs[0], "float32"), loss

    def run(self, batches: Iterator[tuple[Any, Any]]) -> Iterator[BatchResult]:
        for x, y in batches:
            flat, out, loss = self._step(x, y)
            yield BatchResult(np.asarray(flat), np.asarray(out), np.asarray(loss))
