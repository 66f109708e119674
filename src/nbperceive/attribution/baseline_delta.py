"""Baseline-delta saliency (as in the MNIST tutorial): what a sample adds over an empty input.

Panels (``Explanation.panels``):

* ``source``   ``(N, *axes)``: the input (images: mean over channels; tokens: 1 where a token
  is not padding);
* ``baseline`` ``(N, K, *axes)``: saliency of an empty input (zeros; tokens: all padding id 0);
* ``saliency`` ``(N, K, *axes)``: saliency of the sample;
* ``delta``    ``(N, K, *axes)``: saliency - baseline (signed);
* ``overlay``  ``(N, K, *axes)``: delta x source.

``heatmaps`` holds ``max(delta, 0)``: where the sample is more salient than the empty input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .saliency import Saliency

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation


def source_panel(x: np.ndarray, kind: str, axes: tuple[int, ...]) -> np.ndarray:
    if kind == "tokens" and np.issubdtype(x.dtype, np.integer):
        return (x != 0).astype(np.float32)
    x = x.astype(np.float32)
    if x.ndim == len(axes) + 2:  # channel axis
        x = x.mean(axis=-1)
    return x


class BaselineDelta(Saliency):
    name = "baseline_delta"
    signed_panel = "delta"

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        s = engine.structure
        sal, probs = engine.run(self, xs, labels)
        empty = list(xs)
        empty[s.input_index] = np.zeros_like(xs[s.input_index])
        base, _ = engine.run(self, empty, labels)
        source = source_panel(xs[s.input_index], s.input_kind, s.input_axes)
        delta = sal[:, 0] - base[:, 0]
        panels = {
            "source": source,
            "baseline": base[:, 0],
            "saliency": sal[:, 0],
            "delta": delta,
            "overlay": delta * source[:, None],
        }
        heat = np.maximum(delta, 0.0)[:, None]
        return engine.explanation(self, heat, probs, labels, panels=panels)
