"""Which layers of a Keras model to capture, and how to reach their outputs symbolically.

Nested sub-models (Sequential, Functional or subclassed models used as a layer) are opened
up: their inner layers are candidates too. :class:`Recorder` runs the model through its own
``call`` and sees the output of every leaf layer it passes (weights are shared, nothing is
copied); capture, attribution and the flat copy for tf-keras-vis all go through it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
from keras.src import tree
from keras.src.backend.common.masking import get_keras_mask, set_keras_mask

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
    """A container (Sequential, Functional or subclassed model used as a layer)."""
    return isinstance(layer, keras.Model)


def leaves(model: keras.Model) -> list[tuple[str, keras.layers.Layer]]:
    """Every leaf layer with its path (``"inner/conv"``), descending into nested models of
    any kind (Sequential, Functional, subclassed): Keras tracks the layers a model holds."""
    found: list[tuple[str, keras.layers.Layer]] = []
    seen: set[int] = set()

    def walk(container: keras.Model, prefix: str) -> None:
        for layer in container.layers:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if is_nested_model(layer):
                walk(layer, f"{prefix}{layer.name}/")
            else:
                found.append((f"{prefix}{layer.name}", layer))

    walk(model, "")
    return found


def iter_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """All leaf layers of ``model``, descending into nested models."""
    return [layer for _, layer in leaves(model)]


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
    """The model's symbolic inputs; a clear error when the model has none.

    Subclassed models have no symbolic inputs even when built; callers that can take the
    input shapes from data use :func:`declared_inputs` instead."""
    inputs = declared_inputs(model)
    if not inputs:
        raise ModelError(
            f"model {model.name!r} is not built, so its layers have no shapes yet. Build it "
            "first: give it a keras.Input, call model.build(input_shape), or call it once on "
            "a batch (model(x[:1]))."
        )
    return inputs


def declared_inputs(model: keras.Model) -> list[Any] | None:
    """``model.inputs`` of a Functional/Sequential model; None for a subclassed model."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    return list(inputs) if inputs else None


# -- recording every leaf call while the model's own ``call`` runs -------------------------
#
# One mechanism serves capture, attribution and the flat copy for tf-keras-vis: while a
# ``Recorder`` is active, every leaf layer of the model (also inside nested Sequential,
# Functional and subclassed models) has its class temporarily swapped for a subclass whose
# ``__call__`` goes through the recorder. The model then runs as Keras runs it (its own
# ``call``, masks, autocasting, training flags), and the recorder sees each leaf's output,
# may replace it (a tensor watched on a tape, noise), and counts its depth.

_RECORDED: dict[type, type] = {}


def _recorded_call(self: Any, *args: Any, **kwargs: Any) -> Any:
    recorder = self.__dict__.get("_nbp_recorder")
    base = type(self)._nbp_base
    if recorder is None:
        return base.__call__(self, *args, **kwargs)
    return recorder._leaf(self, base, args, kwargs)


def _direct_call(self: Any, *args: Any, **kwargs: Any) -> Any:
    """A container called straight through its ``call`` (symbolic rebuilding)."""
    import inspect

    accepted = inspect.signature(self.call).parameters
    kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    return self.call(*args, **kwargs)


def _swap(obj: Any, call: Any, recorder: Recorder) -> Any:
    """Route ``obj``'s calls through ``recorder``; returns the recorder it replaced (when a
    recorder is already active on ``obj``, e.g. an explanation computed during a capture)."""
    cls = type(obj)
    if hasattr(cls, "_nbp_base"):
        previous = obj.__dict__.get("_nbp_recorder")
        object.__setattr__(obj, "_nbp_recorder", recorder)
        return previous
    key = (cls, call)
    sub = _RECORDED.get(key)  # type: ignore[call-overload]
    if sub is None:
        sub = type(cls.__name__, (cls,), {"__call__": call, "_nbp_base": cls,
                                          "__module__": cls.__module__,
                                          "__qualname__": cls.__qualname__})
        _RECORDED[key] = sub  # type: ignore[index]
    object.__setattr__(obj, "_nbp_recorder", recorder)
    object.__setattr__(obj, "__class__", sub)
    return None


def _unswap(obj: Any, previous: Any = None) -> None:
    if previous is not None:
        object.__setattr__(obj, "_nbp_recorder", previous)
        return
    base = getattr(type(obj), "_nbp_base", None)
    if base is not None:
        object.__setattr__(obj, "__class__", base)
    obj.__dict__.pop("_nbp_recorder", None)


@dataclass
class LeafCall:
    """One executed leaf layer call."""

    path: str
    layer: Any
    output: Any
    depth: int | None  # layers between the chosen input and this output; None: not downstream


SQUASH_NAMES = ("softmax", "sigmoid")


def _activation_name(fn: Any) -> str:
    return getattr(fn, "__name__", "") if fn is not None else ""


def head_squash(head: Any) -> tuple[str, str]:
    """(squash, how): squash is "softmax", "sigmoid" or "" (none found); how is
    "activation" (a layer with that activation) or "layer" (a Softmax/Activation layer)."""
    if head is None:
        return "", ""
    if isinstance(head, keras.layers.Softmax):
        return "softmax", "layer"
    if isinstance(head, keras.layers.Activation):
        name = _activation_name(head.activation)
        return (name, "layer") if name in SQUASH_NAMES else ("", "")
    name = _activation_name(getattr(head, "activation", None))
    if name in SQUASH_NAMES:
        return name, "activation"
    return "", ""


OutputHook = Callable[[str, Any, Any], Any]
LeafReplacement = Callable[[Any, tuple, dict], Any]


class Recorder:
    """Runs a model through its own ``call`` while seeing every leaf layer's output.

    ``hook(path, layer, output) -> output`` sees each leaf output (the first tensor of a
    layer returning several) and may return a replacement. ``linear_head`` names the leaf
    whose softmax/sigmoid is skipped (so the model returns logits). ``replace(layer, args,
    kwargs)`` computes a leaf's output instead of the layer (used to rebuild the model
    from copies); with ``direct=True`` nested models are entered through their ``call`` so
    symbolic inputs reach the leaves. ``calls`` lists every leaf call, in execution order,
    with paths made unique (``conv``, ``conv#2`` for a layer called twice) and, with
    ``depths=True``, its depth from the input passed as ``source`` to :meth:`run`.
    """

    def __init__(self, model: keras.Model, hook: OutputHook | None = None,
                 linear_head: str | None = None, replace: LeafReplacement | None = None,
                 direct: bool = False, depths: bool = False, record: bool = True):
        self.model = model
        self.hook = hook
        self.linear_head = linear_head
        self.replace = replace
        self.direct = direct
        self.track_depth = depths
        self.record = record
        self.calls: list[LeafCall] = []
        self._paths = {id(layer): path for path, layer in leaves(model)}
        self._containers = _containers(model) if direct else []
        self._counts: dict[str, int] = {}
        self._depth: dict[Any, int | None] = {}
        self._keep: list[Any] = []

    # -- public -------------------------------------------------------------------------
    def __enter__(self) -> Recorder:
        self.calls, self._counts = [], {}
        targets = [(layer, _recorded_call) for _, layer in leaves(self.model)]
        targets += [(container, _direct_call) for container in self._containers]
        self._swapped: list[tuple[Any, Any]] = []
        try:
            for obj, call in targets:
                self._swapped.append((obj, _swap(obj, call, self)))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        for obj, previous in reversed(self._swapped):
            _unswap(obj, previous)
        self._swapped = []

    def run(self, inputs: Sequence[Any], source: int | None = 0, training: bool = False
            ) -> Any:
        """Call the model on a list of inputs (``model.inputs`` order) and return its output
        as the model gives it; depths count from ``inputs[source]``."""
        for i, x in enumerate(inputs):
            self._set_depth(x, 0 if i == source else None)
        args = inputs[0] if len(inputs) == 1 else list(inputs)
        with self:
            if self.direct:
                return self.model.call(args)
            return self.model(args, training=training)

    def depth_of(self, value: Any) -> int | None:
        """Layers between the source input and ``value`` (a tensor, or nested tensors)."""
        known = [d for d in (self._tensor_depth(t) for t in tree.flatten(value)) if d is not None]
        return max(known) if known else None

    def nearest_call(self, value: Any) -> LeafCall | None:
        """The last leaf call whose output ``value`` is, or is computed from by ops that are
        no layer (``tf.nn.softmax(self.dense(x))`` in a subclassed ``call``)."""
        by_output = {_key(c.output): i for i, c in enumerate(self.calls)}
        best = -1
        stack = list(tree.flatten(value))
        seen: set[Any] = set()
        while stack:
            t = stack.pop()
            k = _key(t)
            if k in seen:
                continue
            seen.add(k)
            if k in by_output:
                best = max(best, by_output[k])
                continue
            op = getattr(t, "op", None) if _in_graph(t) else None
            if op is not None:
                stack.extend(op.inputs)
        return self.calls[best] if best >= 0 else None

    # -- internals ----------------------------------------------------------------------
    def _set_depth(self, t: Any, depth: int | None) -> None:
        self._keep.append(t)
        self._depth[_key(t)] = depth

    def _tensor_depth(self, t: Any) -> int | None:
        key = _key(t)
        if key in self._depth:
            return self._depth[key]
        if not _in_graph(t):
            return None
        # An op that is no layer (tf.concat, x + 1 in a subclassed call, a keras.ops node of
        # a Functional model): the depth of the nearest recorded tensors it is computed from.
        stack = [t]
        while stack:
            cur = stack[-1]
            if _key(cur) in self._depth:
                stack.pop()
                continue
            pending = [i for i in cur.op.inputs if _key(i) not in self._depth]
            if pending:
                stack.extend(pending)
                continue
            known = [d for d in (self._depth[_key(i)] for i in cur.op.inputs) if d is not None]
            self._depth[_key(cur)] = max(known) if known else None
            stack.pop()
        return self._depth[key]

    def _unique(self, path: str) -> str:
        n = self._counts.get(path, 0) + 1
        self._counts[path] = n
        return path if n == 1 else f"{path}#{n}"

    def _leaf(self, layer: Any, base: type, args: tuple, kwargs: dict) -> Any:
        path = self._unique(self._paths.get(id(layer), layer.name))
        depth_in = self.depth_of((args, kwargs)) if self.track_depth else None
        squash, how = head_squash(layer) if path == self.linear_head else ("", "")
        if squash and how == "layer":
            out = args[0]
        elif self.replace is not None:
            out = self.replace(layer, args, {**kwargs, "_nbp_linear": bool(squash)})
        elif squash:
            saved = layer.activation
            layer.activation = keras.activations.linear
            try:
                out = base.__call__(layer, *args, **kwargs)
            finally:
                layer.activation = saved
        else:
            out = base.__call__(layer, *args, **kwargs)
        flat = tree.flatten(out)
        if not flat:
            return out
        first = flat[0]
        if self.hook is not None:
            new = self.hook(path, layer, first)
            if new is not None and new is not first:
                mask = get_keras_mask(first)
                if mask is not None:
                    set_keras_mask(new, mask)
                flat = [new, *flat[1:]]
                out = tree.pack_sequence_as(out, flat)
                first = new
        depth = None if depth_in is None else depth_in + 1
        if self.track_depth:
            for t in flat:
                self._set_depth(t, depth)
        if self.record:
            self.calls.append(LeafCall(path, layer, first, depth))
        return out


def _containers(model: keras.Model) -> list[keras.Model]:
    found = []

    def walk(container: keras.Model) -> None:
        for layer in container.layers:
            if is_nested_model(layer) and layer not in found:
                found.append(layer)
                walk(layer)

    walk(model)
    return found


def _in_graph(t: Any) -> bool:
    """A symbolic tf.Tensor of a traced function (its producing op can be walked)."""
    return hasattr(t, "op") and hasattr(t, "graph") and not hasattr(t, "numpy")


def _key(t: Any) -> Any:
    return t.name if _in_graph(t) else id(t)
