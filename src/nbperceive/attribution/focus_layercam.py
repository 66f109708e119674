"""Focus LayerCAM (nbperceive's own): LayerCAM of the label's margin over the alternatives.

The score differentiated for label k is ``m_k = z_k - log sum_{j != k} exp(z_j)`` (z: logits),
i.e. the log-odds of k against all other classes together. Its gradient is
``dz_k - sum_{j != k} softmax_{-k}(z)_j dz_j``: evidence for k minus the evidence for the
alternatives the model currently finds likely, so the map keeps what *separates* k from them
and drops features every class uses. See docs/attribution.md.
"""

from __future__ import annotations

import tensorflow as tf

from .base import Method
from .layercam import layercam


def margin(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """(N, K): logit of each label minus log-sum-exp of the other logits."""
    n_classes = tf.shape(logits)[-1]
    own = tf.gather(logits, labels, axis=1)  # (N, K)
    is_own = tf.one_hot(labels, n_classes, dtype=logits.dtype) > 0.5  # (K, C)
    others = tf.where(is_own[None], tf.constant(-float("inf"), logits.dtype), logits[:, None, :])
    return own - tf.reduce_logsumexp(others, axis=-1)


class FocusLayerCAM(Method):
    name = "focus_layercam"
    target = "margin"

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        return layercam(activations, gradients)
