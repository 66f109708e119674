"""Integrated Gradients (Sundararajan et al. 2017) of the label's logit at the input.

``IG_c(x) = (x_c - b) * integral_0^1 dz_k/dx_c (b + a (x - b)) da`` with a constant baseline
``b`` (``baseline``, default 0), approximated by the trapezoid rule on ``steps`` equally spaced
points from the baseline to the sample (as xplique does). The map sums ``IG_c`` over channels
(completeness: the map sums to ``z_k(x) - z_k(b)``); ``heatmaps`` keep its positive part (the
evidence *for* the label), ``panels["signed"]`` ``(N, K, *axes)`` the signed sum.

All ``N x steps`` path points go through the engine's compiled pass in its batches; the path
point ``a = 0`` is evaluated at ``a = 1e-4`` (the same gradient for all practical purposes),
so ``(a - b) dz/da`` divided by ``a`` recovers ``(x - b) dz/dx`` without a second pass.
Token inputs are not handled: the path would run through embedding space.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from ..errors import ModelError
from .base import Method

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation

FIRST_POINT = 1e-4


class _PathProducts(Method):
    """sum_c a_c * dz/da_c at a path point (the input itself is the watched tensor)."""

    name = "integrated_gradients"
    layerwise = False

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(activations[:, None] * gradients, axis=-1)


class _PathGradients(Method):
    """sum_c dz/da_c at a path point (only needed for a non-zero baseline)."""

    name = "integrated_gradients"
    layerwise = False

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        del activations
        return tf.reduce_sum(gradients, axis=-1)


def trapezoid_weights(steps: int) -> np.ndarray:
    w = np.full(steps, 1.0 / (steps - 1))
    w[[0, -1]] *= 0.5
    return w


class IntegratedGradients(Method):
    name = "integrated_gradients"
    layerwise = False
    signed_panel = "signed"
    input_kinds = ("image", "vector")

    def __init__(self, steps: int = 32, baseline: float = 0.0) -> None:
        if int(steps) < 2:
            raise ModelError("integrated_gradients needs steps >= 2")
        self.steps = int(steps)
        self.baseline = float(baseline)

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        self.check_input(engine)
        s = engine.structure
        x = xs[s.input_index].astype(np.float32)
        n, m, b = len(x), self.steps, self.baseline
        alphas = np.linspace(0.0, 1.0, m)
        alphas[0] = FIRST_POINT
        shape = (1, m) + (1,) * (x.ndim - 1)
        path = b + alphas.reshape(shape) * (x[:, None] - b)  # (N, m, *input_shape)
        batch = [np.repeat(a, m, axis=0) for a in xs]
        batch[s.input_index] = path.reshape(n * m, *x.shape[1:]).astype(np.float32)
        products, _ = engine.run(_PathProducts(), batch, labels)  # (N*m, 1, K, *axes)
        per_point = products
        if b != 0.0:
            gradients, _ = engine.run(_PathGradients(), batch, labels)
            per_point = products - b * gradients  # sum_c (a_c - b) dz/da_c
        per_point = per_point.reshape(n, m, len(labels), *s.input_axes)
        weights = (trapezoid_weights(m) / alphas).reshape(1, m, 1, *(1,) * len(s.input_axes))
        signed = (per_point * weights).sum(axis=1).astype(np.float32)  # (N, K, *axes)
        probs = engine.probabilities(xs)
        heat = np.maximum(signed, 0.0)[:, None]
        return engine.explanation(self, heat, probs, labels, panels={"signed": signed})
