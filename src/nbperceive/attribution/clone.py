"""A flat Functional copy of a model with a linear head (for tf-keras-vis).

tf-keras-vis needs a Functional model whose layers it can find by name, and its
``ReplaceToLinear`` fails on Keras 3 Sequential models. We rebuild the graph ourselves: fresh
``keras.Input``s, the model's own ``call`` run under a :class:`~nbperceive.layers.Recorder`
that re-creates every leaf layer (also those inside nested sub-models) from its config with the
original weights, the head's softmax/sigmoid replaced by a linear activation,
and the output turned into logits the same way the engine does.
"""

from __future__ import annotations

from typing import Any

import keras
from keras.src import tree

from ..errors import ModelError
from ..layers import Recorder
from .depth import Structure
from .engine import to_logits
from .inputs import input_names


def _fresh(layer: Any, linear: bool) -> Any:
    config = layer.get_config()
    if linear:
        config["activation"] = "linear"
    return type(layer).from_config(config)


def linear_functional(model: Any, structure: Structure) -> keras.Model:
    """Functional model: same inputs, outputs the engine's logits; leaf layers are copies."""
    copies: dict[int, Any] = {}

    def replace(layer: Any, args: tuple, kwargs: dict) -> Any:
        linear = kwargs.pop("_nbp_linear", False)
        if id(layer) not in copies:
            new = _fresh(layer, linear=linear)
            out = new(*args, **kwargs)
            new.set_weights(layer.get_weights())
            copies[id(layer)] = new
            return out
        return copies[id(layer)](*args, **kwargs)

    names = input_names(model, len(structure.input_specs))
    inputs = [keras.Input(shape=shape, dtype=dtype, name=name)
              for (shape, dtype), name in zip(structure.input_specs, names)]
    recorder = Recorder(model, linear_head=structure.linear_head, replace=replace,
                        direct=True, record=False)
    try:
        out = tree.flatten(recorder.run(inputs, source=None))[0]
    except Exception as err:
        raise ModelError(
            f"{model.name!r} could not be rebuilt layer by layer for tf-keras-vis "
            f"({type(err).__name__}: {err}); its call uses operations that need real "
            "tensors. Use a gradient method ('gradcam', 'layercam', 'saliency') instead."
        ) from err
    logits = to_logits(out, structure.output_kind)
    return keras.Model(inputs, logits, name=f"{model.name}_logits")


def layer_name(path: str) -> str:
    """Name of the copied layer for a candidate path (``"inner/conv#2"`` -> ``"conv"``)."""
    return path.rsplit("/", 1)[-1].split("#", 1)[0]


def outside_strategy(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` outside the caller's ``tf.distribute`` scope. tf-keras-vis makes its own
    variables (the optimised input, its optimiser's slots) and reads their handles, which
    distributed variables refuse outside a replica context; a strategy scope is per thread,
    so a worker thread runs with the default one."""
    import tensorflow as tf

    if not tf.distribute.has_strategy():
        return fn(*args, **kwargs)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()
