"""Grad-CAM (Selvaraju et al. 2017): channel weights = spatial mean of the gradient."""

from __future__ import annotations

import tensorflow as tf

from .base import Method, spatial_axes


def gradcam(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    """ReLU(sum_c mean_xy(dS/dA) * A)."""
    weights = tf.reduce_mean(gradients, axis=spatial_axes(gradients), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * activations[:, None], axis=-1))


class GradCAM(Method):
    name = "gradcam"

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return gradcam(activations, gradients)
