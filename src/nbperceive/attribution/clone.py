"""A flat Functional copy of a model with a linear head (for tf-keras-vis).

tf-keras-vis needs a Functional model whose layers it can find by name, and its
``ReplaceToLinear`` fails on Keras 3 Sequential models. We rebuild the graph ourselves: fresh
``keras.Input``s, every leaf layer (also those inside nested sub-models) re-created from its
config with the original weights, the head's softmax/sigmoid replaced by a linear activation,
and the output turned into logits the same way the engine does.
"""

from __future__ import annotations

from typing import Any

import keras

from .depth import Structure
from .engine import to_logits
from .graph import Tracer


def _fresh(layer: Any, linear: bool) -> Any:
    config = layer.get_config()
    if linear:
        config["activation"] = "linear"
    return type(layer).from_config(config)


def linear_functional(model: Any, structure: Structure) -> keras.Model:
    """Functional model: same inputs, outputs the engine's logits; leaf layers are copies."""
    copies: dict[int, Any] = {}

    def call_leaf(tracer: Tracer, layer: Any, args: tuple, kwargs: dict) -> Any:
        is_head = layer is tracer.head and tracer.squash
        if is_head and tracer.squash_how == "layer":
            return args[0]
        if id(layer) not in copies:
            new = _fresh(layer, linear=bool(is_head))
            out = new(*args, **kwargs)
            new.set_weights(layer.get_weights())
            copies[id(layer)] = new
            return out
        return copies[id(layer)](*args, **kwargs)

    inputs = [
        keras.Input(shape=t.shape[1:], dtype=t.dtype, name=t.name) for t in model.inputs
    ]
    tracer = Tracer(model, source=structure.input_index, record=False, call_leaf=call_leaf)
    logits = to_logits(tracer.run(inputs), structure.output_kind)
    return keras.Model(inputs, logits, name=f"{model.name}_logits")


def layer_name(path: str) -> str:
    """Name of the copied layer for a candidate path (``"inner/conv#2"`` -> ``"conv"``)."""
    return path.rsplit("/", 1)[-1].split("#", 1)[0]
