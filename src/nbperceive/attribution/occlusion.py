"""Occlusion sensitivity (Zeiler & Fergus 2014): slide a patch over the input, see what drops.

A ``size`` x ``size`` patch (``size`` tokens / features for 1-D inputs) moves by ``stride``;
each position's patch is set to the baseline (``baseline``: a number or ``"mean"``, the
sample's mean; token ids become padding 0) and the drop of the label's *probability* from the
unoccluded sample is added to every position the patch covers (as xplique's ``Occlusion``):
``map_k = sum_patches (p_k(x) - p_k(x with patch removed)) * patch``. ``heatmaps`` keep the
positive part (positions whose removal hurts the label), ``panels["signed"]`` the full map.
One set of forward passes serves every label; they run batched through the engine's compiled
forward pass.
"""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .base import Method
from .perturbation import perturbed_probabilities

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation


def patch_masks(axes: tuple[int, ...], size: int, stride: int) -> np.ndarray:
    """(P, *axes) boolean masks, True inside each patch position."""
    starts = [range(0, ceil((a - size + 1) / stride) * stride, stride) for a in axes]
    masks = []
    if len(axes) == 1:
        for s0 in starts[0]:
            m = np.zeros(axes, bool)
            m[s0 : s0 + size] = True
            masks.append(m)
    else:
        for s0 in starts[0]:
            for s1 in starts[1]:
                m = np.zeros(axes, bool)
                m[s0 : s0 + size, s1 : s1 + size] = True
                masks.append(m)
    if not masks:
        raise ModelError(f"occlusion patch size {size} is larger than the input axes {axes}")
    return np.stack(masks)


class Occlusion(Method):
    name = "occlusion"
    layerwise = False
    signed_panel = "signed"

    def __init__(self, size: int = 3, stride: int = 3, baseline: float | str = "mean") -> None:
        if int(size) < 1 or int(stride) < 1:
            raise ModelError("occlusion needs size >= 1 and stride >= 1")
        self.size, self.stride, self.baseline = int(size), int(stride), baseline

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        self.check_input(engine)
        s = engine.structure
        masks = patch_masks(s.input_axes, self.size, self.stride)  # (P, *axes)
        flat = masks.reshape(len(masks), -1).astype(np.float32)
        probs = engine.probabilities(xs)
        n, lab = len(probs), np.asarray(labels)
        signed = np.zeros((n, len(labels), flat.shape[1]), np.float32)
        for i in range(n):
            p = perturbed_probabilities(engine, xs, i, ~masks, self.baseline)  # (P, C)
            drop = probs[i, lab][None, :] - p[:, lab]  # (P, K)
            signed[i] = drop.T @ flat
        signed = signed.reshape(n, len(labels), *s.input_axes)
        heat = np.maximum(signed, 0.0)[:, None]
        return engine.explanation(self, heat, probs, labels, panels={"signed": signed})
