"""The capture engine: one forward pass per batch yields pooled layer features, loss, output.

The probe is the user's model run through its own ``call`` under a
:class:`~nbperceive.layers.Recorder` inside one ``tf.function``: every chosen layer's output
is pooled *inside the graph* (mean over every axis but batch and features) and, when wider than
``max_width``, reduced by a fixed seeded random projection. It is the user's model itself, so
a capture after epoch k sees epoch k's weights without copying anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras.src import tree

from .errors import LabelError, ModelError
from .layers import Recorder, choose_layers, declared_inputs, model_inputs


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


@dataclass
class ProbeModel:
    """The user's model run through a :class:`~nbperceive.layers.Recorder`: its outputs and
    the chosen layers' pooled (and, when wide, projected) outputs, from one forward pass."""

    model: keras.Model
    layers: list[Any]  # the recorded layers, in block order
    blocks: list[LayerBlock]
    n_outputs: int
    output_shapes: list[tuple]
    matrices: list[np.ndarray | None]

    @property
    def dim(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    def __call__(self, x: Any) -> tuple[list[Any], list[Any]]:
        """(model outputs, float32 feature blocks) for one batch; call inside tf.function."""
        outputs, pooled = _forward(self.model, self.layers, x)
        features = []
        for layer, matrix in zip(self.layers, self.matrices):
            block = pooled[id(layer)]
            if matrix is not None:
                block = keras.ops.matmul(block, keras.ops.convert_to_tensor(matrix))
            features.append(block)
        return outputs, features


def _forward(model: keras.Model, layers: Sequence[Any], x: Any
             ) -> tuple[list[Any], dict[int, Any]]:
    """Run ``model`` on ``x``; its flat outputs and each layer's first output, pooled."""
    wanted = {id(layer) for layer in layers}
    pooled: dict[int, Any] = {}
    order: list[int] = []

    def hook(path: str, layer: Any, out: Any) -> None:
        if id(layer) in wanted and id(layer) not in pooled:
            dtype = getattr(out, "dtype", None)
            if dtype is None or not tf.as_dtype(dtype).is_floating:
                return  # ids, strings, masks: nothing to pool
            pooled[id(layer)] = _pool(keras.ops.cast(out, "float32"))
            order.append(id(layer))

    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    out = Recorder(model, hook=hook, record=False).run(xs, source=None)
    ordered = {key: pooled[key] for key in order}
    return list(tree.flatten(out)), ordered


def batch_spec(values: Any) -> Any:
    """TensorSpec (batch axis None) of an array, or a list of them (several inputs/outputs)."""
    if values is None:
        return None
    if isinstance(values, (list, tuple)):
        specs = [batch_spec(v) for v in values]
        return specs if len(specs) > 1 else specs[0]
    a = np.asarray(values)
    dtype = tf.string if a.dtype.kind in ("U", "S", "O") else tf.as_dtype(a.dtype)
    return tf.TensorSpec((None, *a.shape[1:]), dtype)


def input_specs(model: keras.Model, shapes: Sequence[tuple] | None = None,
                dtypes: Sequence[Any] | None = None) -> list[tf.TensorSpec]:
    """One TensorSpec per model input (batch axis None): the model's declared inputs, or for a
    subclassed model the probe's sample shapes and dtypes."""
    declared = declared_inputs(model)
    if declared:
        return [tf.TensorSpec((None, *t.shape[1:]), tf.as_dtype(t.dtype)) for t in declared]
    if shapes is None:
        model_inputs(model)  # raises the "not built" error
    return [tf.TensorSpec((None, *s), tf.as_dtype(d)) for s, d in zip(shapes, dtypes)]


def build_probe(model: keras.Model, specs: Sequence[tf.TensorSpec],
                layers: Sequence[Any] | None = None, max_width: int = 256,
                seed: int = 0) -> ProbeModel:
    """Trace ``model`` once on ``specs`` to lay out the chosen layers' pooled outputs."""
    chosen = choose_layers(model, layers)
    shapes: dict[int, int] = {}
    found: list[int] = []
    out_shapes: list[tuple] = []

    def trace(*xs: Any) -> Any:
        outputs, pooled = _forward(model, chosen, list(xs))
        found[:] = list(pooled)
        shapes.update({key: p.shape[-1] for key, p in pooled.items()})
        out_shapes[:] = [tuple(o.shape) for o in outputs]
        return outputs

    tf.function(trace, autograph=False).get_concrete_function(*specs)
    by_id = {id(layer): layer for layer in chosen}
    rng = np.random.default_rng(seed)
    recorded, blocks, matrices, start = [], [], [], 0
    for key in found:  # execution order
        layer = by_id[key]
        width = int(shapes[key])
        projected = width > max_width
        matrix = None
        if projected:
            matrix = (rng.standard_normal((width, max_width)) / np.sqrt(max_width)
                      ).astype(np.float32)
        out_width = max_width if projected else width
        recorded.append(layer)
        matrices.append(matrix)
        blocks.append(LayerBlock(layer.name, start, start + out_width, width, projected))
        start += out_width
    if not blocks:
        raise ModelError(
            f"none of the chosen layers of model {model.name!r} produced a float output "
            "when the model ran; pass layers=[...] naming layers on the path from its inputs."
        )
    return ProbeModel(model=model, layers=recorded, blocks=blocks, n_outputs=len(out_shapes),
                      output_shapes=out_shapes, matrices=matrices)


def _as_loss(identifier: Any, y: Any, p: Any) -> Any:
    """The Loss object Keras' compile makes of ``identifier`` (strings and functions are
    wrapped in a LossFunctionWrapper, which aligns ranks like ``fit`` does)."""
    try:
        from keras.src.trainers.compile_utils import get_loss
    except ImportError:  # pragma: no cover - a Keras without this helper
        get_loss = None
    if get_loss is not None:
        return get_loss(identifier, y, p)
    obj = keras.losses.get(identifier) if isinstance(identifier, (str, dict)) else identifier
    if isinstance(obj, keras.losses.Loss):
        return obj
    return keras.losses.LossFunctionWrapper(obj)


@dataclass
class LossSpec:
    """How to turn (y_true, y_pred) into one loss value per sample, like the compiled loss."""

    identifiers: list[Any]  # the model's loss per output, as compiled (None: no loss)
    weights: list[float]
    from_logits: bool

    def per_output(self, ys: list[Any], preds: list[Any]) -> list[Any]:
        """Each output's own per-sample loss, unweighted (None: no loss for that output)."""
        out = []
        for ident, y, p in zip(self.identifiers, ys, preds, strict=False):
            if ident is None:
                out.append(None)
                continue
            obj = _as_loss(ident, y, p)
            dtype = obj.dtype or "float32"
            value = obj.call(keras.ops.cast(y, dtype), keras.ops.cast(p, dtype))
            rank = len(value.shape)
            if rank > 1:
                value = keras.ops.mean(value, axis=tuple(range(1, rank)))
            out.append(keras.ops.cast(value, "float32"))
        return out


def from_logits(loss: Any) -> bool:
    """The Keras loss object takes logits (``from_logits=True``); strings and functions do not."""
    if loss is None:
        return False
    if isinstance(loss, str):
        return False
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        return bool(getattr(loss, "from_logits", False) or config.get("from_logits", False))
    if callable(loss):
        return False
    raise LabelError(f"cannot use the model's loss {loss!r}; compile the model with a Keras loss.")


def compiled_loss(model: keras.Model) -> Any:
    """The loss the model is compiled with now (None when it is not compiled)."""
    return getattr(model, "loss", None)


def first_loss(model: keras.Model) -> Any:
    """The compiled loss of the model's (first) output (None when it is not compiled)."""
    loss = compiled_loss(model)
    if isinstance(loss, dict):
        return next(iter(loss.values()), None)
    if isinstance(loss, (list, tuple)):
        return loss[0] if loss else None
    return loss


def loss_spec(model: keras.Model, n_outputs: int) -> LossSpec:
    """Per-sample version of ``model``'s compiled loss (one per output, with weights)."""
    loss = compiled_loss(model)
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
    flags = [from_logits(item) for item in losses]
    return LossSpec(identifiers=losses, weights=[float(w) for w in weights],
                    from_logits=bool(flags and flags[0]))


@dataclass
class BatchResult:
    features: np.ndarray  # float32 (B, D), raw (before standardisation)
    outputs: np.ndarray   # float32 (B, C1 + C2 + ...) every model output, flattened, side by side
    loss: np.ndarray      # float32 (B,) per-sample loss (NaN when no loss)
    # float32 (B, H) each output's own unweighted loss (NaN: none), for models of H >= 2
    # outputs; None for one output
    output_loss: np.ndarray | None = None


class Capturer:
    """Runs the probe model batch by batch under the caller's device placement."""

    def __init__(self, probe: ProbeModel, spec: LossSpec, x_spec: Any = None, y_spec: Any = None):
        self.probe = probe
        self.spec = spec
        if x_spec is None:  # shapes generalised from the batches seen
            self._step = tf.function(self._forward, reduce_retracing=True)
        elif y_spec is None:
            self._step_x = tf.function(lambda x: self._forward(x, None), input_signature=[x_spec])
            self._step = lambda x, y: self._step_x(x)
        else:  # one trace for every batch size, labels keep their rank
            self._step = tf.function(self._forward, input_signature=[x_spec, y_spec])

    def _forward(self, x: Any, y: Any) -> tuple[Any, Any, Any, Any]:
        outputs, features = self.probe(x)
        flat = keras.ops.concatenate(features, axis=-1) if len(features) > 1 else features[0]
        rows = tf.shape(flat)[0]
        nan = tf.fill([rows], float("nan"))
        ys = list(y) if isinstance(y, (list, tuple)) else [y]
        each = self.spec.per_output(ys, outputs) if y is not None else []
        loss = None
        for value, w in zip(each, self.spec.weights, strict=False):
            if value is not None:
                loss = value * w if loss is None else loss + value * w
        loss = nan if loss is None else loss
        heads = [keras.ops.reshape(keras.ops.cast(o, "float32"), (rows, -1)) for o in outputs]
        out = keras.ops.concatenate(heads, axis=-1) if len(heads) > 1 else heads[0]
        if len(outputs) < 2:
            return flat, out, loss, tf.zeros([rows, 0])
        per = [each[i] if i < len(each) and each[i] is not None else nan
               for i in range(len(outputs))]
        return flat, out, loss, keras.ops.stack(per, axis=1)

    def run(self, batches: Iterator[tuple[Any, Any]]) -> Iterator[BatchResult]:
        for x, y in batches:
            flat, out, loss, per = self._step(x, y)
            per = np.asarray(per)
            yield BatchResult(np.asarray(flat), np.asarray(out), np.asarray(loss),
                              per if per.shape[1] else None)
