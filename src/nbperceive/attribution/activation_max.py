"""Class-model visualisation (activation maximisation) through tf-keras-vis.

For each explained label, the chosen input is optimised (tf-keras-vis
``ActivationMaximization``, gradient ascent on the label's *logit*, with total-variation and
norm regularisers) starting from each sample of ``x``. Pass a zero array (e.g.
``np.zeros_like(x[:1])``) for the classic class model of Simonyan et al.

Result: ``heatmaps[n, 0, k]`` is the optimised input for sample n and label k (mean over
channels, shifted and scaled to [0, 1]); ``panels["images"]`` holds the raw optimised inputs
``(N, K, *input_shape)``; the single "layer" is the output layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .base import Method
from .clone import linear_functional, outside_strategy
from .scorecam import require_tfkv_input

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation


class ActivationMax(Method):
    name = "activation_max"
    layerwise = False

    def __init__(self, steps: int = 100, tv_weight: float = 1.0, norm_weight: float = 0.3):
        self.steps = int(steps)
        self.tv_weight = float(tv_weight)
        self.norm_weight = float(norm_weight)

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        return outside_strategy(self._explain, engine, xs, labels)

    def _explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        from tf_keras_vis.activation_maximization import ActivationMaximization
        from tf_keras_vis.activation_maximization.regularizers import Norm, TotalVariation2D
        from tf_keras_vis.utils.scores import CategoricalScore

        require_tfkv_input(engine, self.name)
        s = engine.structure
        model = linear_functional(engine.model, s)
        am = ActivationMaximization(model, clone=False)
        x = xs[s.input_index].astype(np.float32)
        lo, hi = float(x.min()), float(x.max())
        if hi <= lo:
            hi = lo + 1.0
        n = len(x)
        images = np.zeros((n, len(labels), *x.shape[1:]), np.float32)
        regularizers = [Norm(weight=self.norm_weight, p=1)]
        if s.input_kind == "image" and x.ndim == 4:
            regularizers.insert(0, TotalVariation2D(weight=self.tv_weight))
        for ki, label in enumerate(labels):
            seed = list(xs)
            seed[s.input_index] = x
            out = am(
                CategoricalScore([label] * n),
                seed_input=seed if len(seed) > 1 else seed[0],
                input_range=(lo, hi),
                input_modifiers=[],
                regularizers=regularizers,
                steps=self.steps,
            )
            out = out[s.input_index] if isinstance(out, list) else out
            images[:, ki] = np.asarray(out, np.float32).reshape(x.shape)
        shown = images.mean(axis=-1) if images.ndim == len(s.input_axes) + 3 else images
        axes = tuple(range(2, shown.ndim))
        low = shown.min(axis=axes, keepdims=True)
        span = shown.max(axis=axes, keepdims=True) - low
        heat = ((shown - low) / np.where(span > 0, span, 1.0))[:, None]
        probs = engine.probabilities(xs)
        return engine.explanation(
            self,
            heat.astype(np.float32),
            probs,
            labels,
            layers=[s.output_layer],
            depths=[s.output_depth],
            panels={"images": images},
        )
