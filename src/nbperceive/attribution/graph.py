"""Run a Keras model leaf layer by leaf layer, seeing every layer's output.

Keras 3 cannot expose the outputs of layers inside a nested sub-model as outputs of the outer
model (they belong to another graph), so instead of building a multi-output model we *execute*
the graph ourselves: Functional models node by node, Sequential models layer by layer, nested
models recursively. Every leaf layer call goes through :meth:`Tracer.call_leaf`, which
records the output under a path name (``"inner/conv"``), counts its depth from the chosen
input, lets a hook replace it (to watch it on a gradient tape or add noise), and swaps the
last layer's softmax/sigmoid for a linear activation so we differentiate logits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
from keras.src import tree
from keras.src.backend.common.masking import get_keras_mask, set_keras_mask

Hook = Callable[[str, Any], Any]

SQUASH_NAMES = ("softmax", "sigmoid")


@dataclass
class LeafCall:
    """One executed leaf layer call."""

    path: str
    layer: Any
    output: Any
    depth: int | None  # layers between the chosen input and this output; None: not downstream


def _is_model(op: Any) -> bool:
    return isinstance(op, keras.Model)


def _activation_name(fn: Any) -> str:
    return getattr(fn, "__name__", "") if fn is not None else ""


def find_head(model: Any) -> Any:
    """The leaf layer that produces the model's (single) output."""
    if isinstance(model, keras.Sequential):
        return find_head(model.layers[-1]) if _is_model(model.layers[-1]) else model.layers[-1]
    outputs = model.outputs
    op = outputs[0]._keras_history.operation
    return find_head(op) if _is_model(op) else op


def head_squash(head: Any) -> tuple[str, str]:
    """(squash, how): squash is "softmax", "sigmoid" or "" (none found); how is
    "activation" (a layer with that activation), "layer" (a Softmax/Activation layer)."""
    if isinstance(head, keras.layers.Softmax):
        return "softmax", "layer"
    if isinstance(head, keras.layers.Activation):
        name = _activation_name(head.activation)
        return (name, "layer") if name in SQUASH_NAMES else ("", "")
    name = _activation_name(getattr(head, "activation", None))
    if name in SQUASH_NAMES:
        return name, "activation"
    return "", ""


@dataclass
class Tracer:
    """Executes a model while recording leaf calls.

    ``source`` is the index of the chosen input among ``model.inputs``; depths are counted from
    it. ``hook(path, tensor) -> tensor`` sees every leaf output. With ``linear_head`` the
    head's softmax/sigmoid is skipped, so the model returns logits.
    """

    model: Any
    source: int = 0
    hook: Hook | None = None
    linear_head: bool = True
    record: bool = True
    call_leaf: Callable[..., Any] | None = None  # replaces ``layer(*args, **kwargs)``
    calls: list[LeafCall] = field(default_factory=list)
    _depth: dict[int, int | None] = field(default_factory=dict)
    _keep: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.head = find_head(self.model)
        self.squash, self.squash_how = head_squash(self.head)

    # -- public -------------------------------------------------------------------------
    def run(self, inputs: Sequence[Any]) -> Any:
        """Run the model on a list of input tensors (order of ``model.inputs``)."""
        self.calls = []
        self._depth = {}
        self._keep = []
        for i, x in enumerate(inputs):
            self._set_depth(x, 0 if i == self.source else None)
        out = self._run_model(self.model, list(inputs), prefix="")
        flat = tree.flatten(out)
        if len(flat) != 1:
            raise ValueError("expected a single output")
        return flat[0]

    # -- internals ----------------------------------------------------------------------
    def _set_depth(self, t: Any, depth: int | None) -> None:
        self._keep.append(t)
        self._depth[id(t)] = depth

    def _depth_of(self, values: Any) -> int | None:
        depths = [self._depth.get(id(t)) for t in tree.flatten(values)]
        known = [d for d in depths if d is not None]
        return max(known) if known else None

    def _run_model(self, model: Any, inputs: list[Any], prefix: str) -> Any:
        if isinstance(model, keras.Sequential):
            return self._run_sequential(model, inputs, prefix)
        return self._run_functional(model, inputs, prefix)

    def _run_sequential(self, model: Any, inputs: list[Any], prefix: str) -> Any:
        x = inputs[0] if len(inputs) == 1 else inputs
        mask = get_keras_mask(x) if len(inputs) == 1 else None
        for layer in model.layers:
            kwargs: dict[str, Any] = {}
            if not _is_model(layer):
                if layer._call_has_mask_arg:
                    kwargs["mask"] = mask
                if layer._call_has_training_arg:
                    kwargs["training"] = False
            x = self._call(layer, (x,), kwargs, prefix)
            flat = tree.flatten(x)
            mask = get_keras_mask(flat[0]) if len(flat) == 1 else None
        return x

    def _run_functional(self, model: Any, inputs: list[Any], prefix: str) -> Any:
        def operation_fn(op: Any) -> Callable[..., Any]:
            def call(*args: Any, **kwargs: Any) -> Any:
                if not _is_model(op) and "training" in getattr(op, "_call_context_args", {}):
                    kwargs["training"] = False
                return self._call(op, args, kwargs, prefix)

            return call

        outputs = tree.flatten(model._run_through_graph(inputs, operation_fn=operation_fn))
        return outputs[0] if len(outputs) == 1 else outputs

    def _call(self, op: Any, args: tuple, kwargs: dict, prefix: str) -> Any:
        name = getattr(op, "name", type(op).__name__)
        path = f"{prefix}{name}"
        if _is_model(op):
            flat = tree.flatten((args, {k: v for k, v in kwargs.items() if k != "mask"}))
            return self._run_model(op, [t for t in flat if t is not None], prefix=f"{path}/")
        depth_in = self._depth_of((args, kwargs))
        out = self._call_leaf(op, args, kwargs)
        is_layer = isinstance(op, keras.layers.Layer)
        depth = None if depth_in is None else depth_in + (1 if is_layer else 0)
        flat = tree.flatten(out)
        if self.hook is not None and is_layer and len(flat) >= 1:
            first = flat[0]
            new = self.hook(path, first)
            if new is not first:
                mask = get_keras_mask(first)
                if mask is not None:
                    set_keras_mask(new, mask)
                flat = [new, *flat[1:]]
                out = tree.pack_sequence_as(out, flat)
        for t in flat:
            self._set_depth(t, depth)
        if self.record and is_layer:
            self.calls.append(LeafCall(path, op, flat[0], depth))
        return out

    def _call_leaf(self, op: Any, args: tuple, kwargs: dict) -> Any:
        if self.call_leaf is not None and isinstance(op, keras.layers.Layer):
            return self.call_leaf(self, op, args, kwargs)
        if not (self.linear_head and op is self.head and self.squash):
            return op(*args, **kwargs)
        if self.squash_how == "layer":
            return args[0]
        saved = op.activation
        op.activation = keras.activations.linear
        try:
            return op(*args, **kwargs)
        finally:
            op.activation = saved
