"""Vanilla saliency (Simonyan et al. 2014): |d logit / d input|, max over channels.

For token inputs the gradient is taken at the Embedding output and reduced over the embedding
features the same way (max |gradient|), one value per token.
"""

from __future__ import annotations

import tensorflow as tf

from .base import Method


def saliency(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    del activations
    return tf.reduce_max(tf.abs(gradients), axis=-1)


class Saliency(Method):
    name = "saliency"
    layerwise = False

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return saliency(activations, gradients)
