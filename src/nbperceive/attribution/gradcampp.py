"""Grad-CAM++ (Chattopadhyay et al. 2018), closed form with exponential-score derivatives.

Same formula as tf-keras-vis's GradcamPlusPlus, except that the positive per-sample factor
exp(score) is left out (it only rescales the map and overflows for large logits).
"""

from __future__ import annotations

import tensorflow as tf

from .base import Method, spatial_axes


def gradcampp(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    axes = spatial_axes(gradients)
    a = activations[:, None]
    g2 = gradients**2
    g3 = g2 * gradients
    total = tf.reduce_sum(a, axis=axes, keepdims=True)
    denom = 2.0 * g2 + g3 * total
    denom = denom + tf.cast(g2 == 0.0, denom.dtype)
    alphas = g2 / denom
    norm = tf.reduce_sum(alphas, axis=axes, keepdims=True)
    alphas = alphas / (norm + tf.cast(norm == 0.0, norm.dtype))
    weights = tf.reduce_sum(tf.nn.relu(gradients) * alphas, axis=axes, keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * a, axis=-1))


class GradCAMPlusPlus(Method):
    name = "gradcam++"

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return gradcampp(activations, gradients)
