"""Deletion-curve faithfulness (Petsiuk et al. 2018, "RISE").

For one heatmap: delete the input positions in order of decreasing heat, ``steps`` equal chunks
at a time (a deleted pixel or feature takes the sample's mean value, a deleted token the padding
id 0), and record the probability of the explained label after each chunk. The score is the
area under that curve (trapezoid rule, x from 0 to 1 = fraction deleted), in [0, 1].
**Lower is better**: a faithful map points at what the model needs, so deleting it first makes
the probability fall fast.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def deletion_masks(heat: np.ndarray, steps: int) -> np.ndarray:
    """(M, *axes) heatmaps -> (M, steps + 1, *axes) keep-masks (1 keep, 0 deleted)."""
    m = heat.shape[0]
    flat = heat.reshape(m, -1)
    size = flat.shape[1]
    order = np.argsort(-flat, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(m)[:, None], order] = np.arange(size)[None]
    cut = np.round(np.linspace(0, size, steps + 1)).astype(int)  # positions deleted per step
    keep = rank[:, None, :] >= cut[None, :, None]
    return keep.reshape(m, steps + 1, *heat.shape[1:]).astype(np.float32)


def _fill_value(x: np.ndarray, kind: str) -> float:
    """What a deleted position becomes: token id 0 (padding); else the sample's mean value."""
    if kind == "tokens" and np.issubdtype(x.dtype, np.integer):
        return 0
    return float(np.mean(x))


def deletion_auc(
    engine: Any, xs: list[np.ndarray], explanation: Any, steps: int = 10
) -> np.ndarray:
    """(N, L, K) deletion AUC for every heatmap of ``explanation``."""
    s = engine.structure
    heat = explanation.heatmaps
    n, n_layers, n_labels = heat.shape[:3]
    label_index = np.asarray(explanation.labels)
    out = np.zeros((n, n_layers, n_labels), np.float32)
    xi = xs[s.input_index]
    for i in range(n):
        masks = deletion_masks(heat[i].reshape(-1, *s.input_axes), steps)  # (L*K, S+1, *axes)
        masks = masks.reshape(-1, *s.input_axes)
        base = np.repeat(xi[i : i + 1], len(masks), axis=0)
        if base.ndim > masks.ndim:  # channel axis
            masks = masks[..., None]
        fill = _fill_value(xi[i], s.input_kind)
        perturbed = (base * masks + fill * (1 - masks)).astype(xi.dtype)
        batch = [np.repeat(x[i : i + 1], len(perturbed), axis=0) for x in xs]
        batch[s.input_index] = perturbed
        probs = engine.probabilities(batch).reshape(n_layers, n_labels, steps + 1, -1)
        curve = np.take_along_axis(
            probs, np.broadcast_to(label_index[None, :, None, None], probs.shape[:3] + (1,)), -1
        )[..., 0]
        out[i] = (curve[..., 1:] + curve[..., :-1]).sum(-1) / (2.0 * steps)
    return out
