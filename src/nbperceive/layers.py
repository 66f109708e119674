"""Which layers of a Keras model to capture, and how to reach their outputs symbolically.

Nested sub-models (Sequential or Functional used as a layer) are opened up: their inner layers
are candidates too. :func:`trace` re-runs a model's graph on fresh symbolic inputs, calling the
very same layer objects (weights are shared, nothing is copied) and records the output of every
layer it passes, including layers inside nested models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras

from .errors import ModelError

# Layers that only move values around: nothing learned, nothing worth a perception block.
_SKIPPED = (
    "InputLayer",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Reshape",
    "Flatten",
    "Permute",
    "RepeatVector",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "Rescaling",
    "Masking",
)


def is_nested_model(layer: Any) -> bool:
    return isinstance(layer, keras.Model) and hasattr(layer, "layers")


def iter_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """All leaf layers of ``model`` in graph order, descending into nested models."""
    found: list[keras.layers.Layer] = []
    for layer in model.layers:
        if is_nested_model(layer):
            found.extend(iter_layers(layer))
        else:
            found.append(layer)
    return found


def _has_activation(layer: keras.layers.Layer) -> bool:
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    return activation is not None and name not in (None, "linear")


def is_capturable(layer: keras.layers.Layer) -> bool:
    """Default choice: layers with weights or a non-trivial activation, minus reshaping ones."""
    if type(layer).__name__ in _SKIPPED:
        return False
    if layer.weights:
        return True
    if _has_activation(layer) or type(layer).__name__ in ("Activation", "ReLU", "LeakyReLU",
                                                          "PReLU", "ELU", "Softmax"):
        return True
    # Pooling and merge layers carry no weights but summarise learned features. Global pooling
    # is left out: its output is what capture's own pooling of the layer before gives.
    return type(layer).__name__.startswith(("MaxPooling", "AveragePooling")) or \
        type(layer).__name__ in ("Add", "Concatenate", "Multiply", "Average", "Maximum")


def choose_layers(model: keras.Model, layers: Sequence[str | keras.layers.Layer] | None = None
                  ) -> list[keras.layers.Layer]:
    """The layers whose outputs make up the perception vector, in graph order."""
    leaves = iter_layers(model)
    if layers is None:
        chosen = [layer for layer in leaves if is_capturable(layer)]
    else:
        by_name = {layer.name: layer for layer in leaves}
        chosen = []
        for item in layers:
            name = item if isinstance(item, str) else getattr(item, "name", None)
            if name not in by_name:
                raise ModelError(
                    f"layer {name!r} is not in model {model.name!r}; its layers are "
                    f"{list(by_name)}. Pass names from model.summary()."
                )
            chosen.append(by_name[name])
    if not chosen:
        raise ModelError(
            f"model {model.name!r} has no layer to capture (no layer with weights or an "
            "activation). Pass layers=[...] with the names of the layers to record."
        )
    return chosen


def model_inputs(model: keras.Model) -> list[Any]:
    """The model's symbolic inputs; a clear error when the model was never built."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ModelError(
            f"model {model.name!r} is not built, so its layers have no shapes yet. Build it "
            "first: give it a keras.Input, call model.build(input_shape), or call it once on "
            "a batch (model(x[:1]))."
        )
    return list(inputs)


def trace(model: keras.Model, inputs: list[Any],
          on_output: Callable[[keras.layers.Layer, Any], None]) -> Any:
    """Call ``model``'s layers on ``inputs`` again; ``on_output(layer, out)`` sees every leaf."""

    def call(layer: Any, *args: Any, **kwargs: Any) -> Any:
        if is_nested_model(layer):
            return _trace_nested(layer, args, kwargs)
        out = layer(*args, **kwargs)
        on_output(layer, out)
        return out

    def _trace_nested(sub: keras.Model, args: tuple, kwargs: dict) -> Any:
        if isinstance(sub, keras.Sequential):
            x = args[0] if args else kwargs.get("inputs")
            for layer in sub.layers:
                x = call(layer, x)
            return x
        if not hasattr(sub, "_run_through_graph"):
            raise ModelError(
                f"nested model {sub.name!r} is a subclassed model; nbperceive can open up "
                "Sequential and Functional models only. Pass layers=[...] naming outer layers."
            )
        sub_inputs = args[0] if len(args) == 1 else list(args)
        return sub._run_through_graph(sub_inputs, operation_fn=lambda op: op, call_fn=call)

    return _trace_nested(model, (inputs if len(inputs) > 1 else inputs[0],), {})
