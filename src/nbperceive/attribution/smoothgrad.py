"""SmoothGrad (Smilkov et al. 2017): saliency averaged over noisy copies of the input.

Gaussian noise with standard deviation ``noise * (max - min)`` of each sample is added at the
input (at the Embedding output for tokens); the |gradient| maps of ``passes`` noisy copies are
averaged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .saliency import Saliency

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation


class SmoothGrad(Saliency):
    name = "smoothgrad"

    def __init__(self, passes: int = 20, noise: float = 0.2) -> None:
        if int(passes) < 1 or not noise > 0:
            raise ModelError("smoothgrad needs passes >= 1 and noise > 0")
        self.passes = int(passes)
        self.noise = float(noise)

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        total = None
        for _ in range(self.passes):
            maps, _ = engine.run(self, xs, labels, noise=self.noise)
            total = maps if total is None else total + maps
        probs = engine.probabilities(xs)
        return engine.explanation(self, (total / self.passes).astype(np.float32), probs, labels)
