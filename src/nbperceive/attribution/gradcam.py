"""Grad-CAM (Selvaraju et al. 2017): channel weights = spatial mean of the gradient."""

from __future__ import annotations

import tensorflow as tf

from .base import Method, spatial_axes


def gradcam(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    """ReLU(sum_c mean_xy(dS/dA) * A)."""
    weights = tf.reduce_mean(gradients, axis=spatial_axes(gradients))  # (N, K, C)
    shape = tf.shape(activations)
    flat = tf.reshape(activations, [shape[0], -1, shape[-1]])  # (N, P, C)
    cam = tf.matmul(weights, flat, transpose_b=True)  # (N, K, P)
    out_shape = tf.concat([tf.shape(gradients)[:2], shape[1:-1]], axis=0)
    return tf.nn.relu(tf.reshape(cam, out_shape))


class GradCAM(Method):
    name = "gradcam"

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return gradcam(activations, gradients)
