"""LayerCAM (Jiang et al. 2021): every position weighted by its own positive gradient."""

from __future__ import annotations

import tensorflow as tf

from .base import Method


def layercam(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    """ReLU(sum_c ReLU(dS/dA) * A)."""
    return tf.nn.relu(tf.reduce_sum(tf.nn.relu(gradients) * activations[:, None], axis=-1))


class LayerCAM(Method):
    name = "layercam"

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return layercam(activations, gradients)
