"""One compiled forward+backward pass per batch: maps at every candidate layer x every label.

The pass runs the model's own ``call`` under a :class:`~nbperceive.layers.Recorder` inside a
``tf.function``: each candidate layer's output is watched on a gradient tape as it is
produced, the logits (pre-softmax) give one score per requested label, and one backward pass
per label yields the gradients at *all* candidate layers at once. The method's map function,
the upsampling to the input's axes and the stacking all happen inside the same graph, so a
call returns the finished ``(N, L, K, *input_axes)`` block. Nothing here chooses a device: the
pass runs wherever the caller's ``tf.device`` scope puts it.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import tensorflow as tf
from keras import ops
from keras.src import tree

from ..errors import ModelError
from ..layers import OutputHook, Recorder
from .base import Method
from .depth import Structure
from .focus_layercam import margin
from .result import Explanation

INPUT = "<input>"


def run_linear(model: Any, s: Structure, xs: list[Any], hook: OutputHook | None = None) -> Any:
    """The model's explained output with the head's softmax/sigmoid skipped; ``hook`` sees
    (and may replace) every leaf layer's output while the model's own ``call`` runs."""
    out = Recorder(model, hook=hook, linear_head=s.linear_head, record=False).run(
        list(xs), source=None)
    return tree.flatten(out)[s.output_index]


def to_logits(z: tf.Tensor, kind: str) -> tf.Tensor:
    """Pre-softmax scores from the model's raw (linear-head) output; see docs/attribution.md."""
    if kind == "probs":
        return ops.log(ops.maximum(z, 1e-12))
    if kind == "sigmoid_probs":
        p = ops.clip(z, 1e-7, 1.0 - 1e-7)
        z = ops.log(p) - ops.log1p(-p)
        kind = "sigmoid"
    if kind == "sigmoid" and z.shape[-1] == 1:
        return ops.concatenate([-0.5 * z, 0.5 * z], axis=-1)  # softmax of this = (1 - p, p)
    return z


def to_probabilities(logits: tf.Tensor, kind: str, n_outputs: int | None = None) -> tf.Tensor:
    """Probabilities (N, C); for a regression ("values") the output values themselves."""
    if kind == "values":
        return logits
    multi = n_outputs > 1 if n_outputs is not None else logits.shape[-1] != 2
    if kind in ("sigmoid", "sigmoid_probs") and multi:
        return tf.sigmoid(logits)  # multi-label sigmoid head
    return tf.nn.softmax(logits, axis=-1)


def upsample(maps: tf.Tensor, size: tuple[int, ...]) -> tf.Tensor:
    """(N, K, *axes) -> (N, K, *size), bilinear (linear for 1-D)."""
    if tuple(maps.shape[2:]) == tuple(size):
        return maps
    lead = tf.shape(maps)[:2]
    axes = maps.shape[2:]
    full = (size[0], size[1] if len(size) > 1 else 1)
    img = tf.reshape(maps, [-1, axes[0], axes[1] if len(axes) > 1 else 1, 1])  # (N*K, h, w, 1)
    out = tf.image.resize(img, full, method="bilinear")
    return tf.reshape(out, tf.concat([lead, size], axis=0))


def _join(parts: list[np.ndarray]) -> np.ndarray:
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return out.astype(np.float32, copy=False)


class Engine:
    """Compiled attribution passes for one model and one chosen input."""

    def __init__(self, model: Any, structure: Structure, batch_size: int = 64) -> None:
        # weak: engines are cached per model and must not keep it alive
        self._model = weakref.ref(model)
        self.structure = structure
        self.batch_size = int(batch_size)
        self._steps: dict[tuple, Any] = {}
        # each method's source layers' own map axes, (h, w) | (t,) | (f,), noted when traced
        self._map_axes: dict[type, list[tuple[int, ...]]] = {}

    @property
    def model(self) -> Any:
        model = self._model()
        if model is None:
            raise ModelError("the model of this explanation engine no longer exists")
        return model

    # -- which tensors are differentiated ------------------------------------------------
    def sources(self, method: Method) -> list[str]:
        s = self.structure
        if not method.layerwise:
            return [s.grad_source or INPUT]
        if not s.candidates:
            raise ModelError(
                f"no layer of this model keeps the {s.input_kind} axes of input "
                f"{s.input_name!r}, so {method.name!r} has no layer to explain; use "
                "method='saliency' (or 'smoothgrad') for a map at the input"
            )
        return s.candidates

    def layer_names(self, method: Method) -> tuple[list[str], list[int]]:
        s = self.structure
        if not method.layerwise:
            return [s.input_name], [0]
        return list(s.candidates), list(s.depths)

    # -- the compiled pass -------------------------------------------------------------
    def _step(self, method: Method, upsampled: bool, noisy_pass: bool) -> Any:
        """tf.function: (inputs, labels, noise) -> (maps, probabilities) for one method."""
        key = (type(method), method.target, upsampled, noisy_pass)
        if key not in self._steps:
            self._steps[key] = tf.function(
                self._make_step(method, upsampled, noisy_pass),
                reduce_retracing=True,
                autograph=False,
            )
        return self._steps[key]

    def _make_step(self, method: Method, upsampled: bool, noisy_pass: bool) -> Any:
        """One forward pass, then per label one backward pass reaching every source layer
        (a loop traced once and run K times) whose gradients turn into maps right away."""
        s = self.structure
        wanted = self.sources(method)
        index = s.input_index
        model_ref = self._model
        axes = s.input_axes

        def noisy(t: tf.Tensor, level: tf.Tensor) -> tf.Tensor:
            if not noisy_pass:
                return t
            dims = list(range(1, len(t.shape)))
            spread = tf.reduce_max(t, dims, keepdims=True) - tf.reduce_min(t, dims, keepdims=True)
            return t + tf.random.normal(tf.shape(t), dtype=t.dtype) * level * spread

        def step(inputs: list[tf.Tensor], labels: tf.Tensor, noise: tf.Tensor) -> Any:
            acts: dict[str, tf.Tensor] = {}
            with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
                xs = list(inputs)
                if INPUT in wanted:
                    xs[index] = noisy(xs[index], noise)
                    tape.watch(xs[index])
                    acts[INPUT] = xs[index]

                def hook(path: str, layer: Any, t: tf.Tensor) -> tf.Tensor:
                    if path in wanted:
                        if path == s.grad_source:
                            t = noisy(t, noise)
                        tape.watch(t)
                        acts[path] = t
                    return t

                z = ops.cast(run_linear(model_ref(), s, xs, hook), "float32")  # mixed precision
                logits = to_logits(z, s.output_kind)
                if method.target == "margin":
                    score = margin(logits, labels)
                else:
                    score = tf.gather(logits, labels, axis=1)
            sources = [acts[p] for p in wanted]
            found = [tuple(a.shape[1 : 1 + len(axes)]) for a in sources]
            if all(d is not None for f in found for d in f):  # static sizes only
                self._map_axes[type(method)] = [tuple(int(d) for d in f) for f in found]
            n_labels = tf.shape(labels)[0]

            def label_maps(k: tf.Tensor) -> list[tf.Tensor]:
                onehot = tf.one_hot(k, n_labels, dtype=score.dtype)[None, :] + 0 * score
                grads = tape.gradient(score, sources, output_gradients=onehot)
                out = []
                for a, g in zip(sources, grads):
                    # a gradient through a substituted source (token models) can lose its static
                    # shape inside map_fn; it always has the activation's shape
                    g = tf.ensure_shape(g, a.shape)
                    a, g = tf.cast(a, tf.float32), tf.cast(g, tf.float32)  # float16/bfloat16
                    g = g[:, None]  # (N, 1, *axes, C)
                    if len(a.shape) == 1 + len(axes):  # no channel axis: add one
                        a, g = a[..., None], g[..., None]
                    out.append(method.maps(a, g)[:, 0])
                return out

            signature = [
                tf.TensorSpec(a.shape if len(a.shape) == 1 + len(axes) else a.shape[:-1],
                              tf.float32)
                for a in sources
            ]
            per_layer = tf.map_fn(label_maps, tf.range(n_labels), fn_output_signature=signature)
            maps = []
            for m in per_layer:  # (K, N, *layer_axes)
                m = tf.transpose(m, [1, 0, *range(2, len(m.shape))])
                maps.append(upsample(m, axes) if upsampled else m)
            probs = to_probabilities(logits, s.output_kind, s.n_outputs)
            return (tf.stack(maps, axis=1) if upsampled else maps), probs

        return step

    def _pass(self, method: Method, batch: list, labels: tf.Tensor, noise: float, up: bool):
        step = self._step(method, up, noisy_pass=noise > 0)
        return step(batch, labels, tf.constant(noise, tf.float32))

    # -- batching -----------------------------------------------------------------------
    def _batches(self, xs: list[np.ndarray]) -> Any:
        """Batches of one fixed size (the last one padded), so the pass is traced once."""
        n = len(xs[0])
        size = min(self.batch_size, n)
        for start in range(0, n, size):
            batch = [x[start : start + size] for x in xs]
            real = len(batch[0])
            if real < size:
                batch = [np.concatenate([b, np.repeat(b[:1], size - real, 0)]) for b in batch]
            yield [tf.convert_to_tensor(b) for b in batch], real

    def run(
        self, method: Method, xs: list[np.ndarray], labels: list[int], noise: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Heatmaps ``(N, L, K, *input_axes)`` and probabilities ``(N, C)``."""
        lab = tf.constant(labels, tf.int32)
        maps, probs = [], []
        for batch, real in self._batches(xs):
            m, p = self._pass(method, batch, lab, noise, up=True)
            maps.append(m.numpy()[:real])
            probs.append(p.numpy()[:real])
        return _join(maps), _join(probs)

    def layer_maps(self, method: Method, xs: list[np.ndarray], labels: list[int]) -> list:
        """Maps at each source's own resolution, ``[(N, K, *layer_axes), ...]`` (for checks)."""
        lab = tf.constant(labels, tf.int32)
        out: list[list[np.ndarray]] = []
        for batch, real in self._batches(xs):
            maps, _ = self._pass(method, batch, lab, 0.0, up=False)
            out.append([m.numpy()[:real] for m in maps])
        return [np.concatenate(parts) for parts in zip(*out)]

    def _forward(self) -> Any:
        """tf.function: inputs -> probabilities (N, C), one trace per batch shape."""
        if "forward" not in self._steps:
            s, model_ref = self.structure, self._model

            def forward(inputs: list[tf.Tensor]) -> tf.Tensor:
                z = ops.cast(run_linear(model_ref(), s, list(inputs)), "float32")
                return to_probabilities(to_logits(z, s.output_kind), s.output_kind, s.n_outputs)

            self._steps["forward"] = tf.function(forward, reduce_retracing=True, autograph=False)
        return self._steps["forward"]

    def probabilities(self, xs: list[np.ndarray]) -> np.ndarray:
        """Model output probabilities (N, C) under the engine's output convention (compiled:
        perturbation methods and faithfulness metrics call this for many inputs)."""
        forward = self._forward()
        out = []
        for batch, real in self._batches(xs):
            out.append(forward(batch).numpy()[:real])
        return np.concatenate(out).astype(np.float32)

    def explanation(
        self,
        method: Method,
        heatmaps: np.ndarray,
        probs: np.ndarray,
        labels: list[int],
        layers: list[str] | None = None,
        depths: list[int] | None = None,
        panels: dict[str, np.ndarray] | None = None,
    ) -> Explanation:
        default_layers, default_depths = self.layer_names(method)
        s = self.structure
        axes = self._map_axes.get(type(method)) if layers is None else None
        return Explanation(
            method=method.name,
            heatmaps=heatmaps,
            layers=layers if layers is not None else default_layers,
            depths=depths if depths is not None else default_depths,
            labels=list(labels),
            input_name=s.input_name,
            input_kind=s.input_kind,
            probabilities=probs,
            panels=panels,
            signed_panel=method.signed_panel if panels and method.signed_panel in panels
            else None,
            map_axes=axes if axes is not None and len(axes) == heatmaps.shape[1] else None,
        )
