"""RISE (Petsiuk et al. 2018): the label's probability averaged over random masks.

``n_masks`` random binary grids (``grid`` x ``grid`` cells, each kept with probability
``keep``) are upsampled bilinearly to the input plus one cell and cropped at a random offset
(smooth masks with sub-cell shifts; 1-D grids along the token axis; vectors use one Bernoulli
draw per feature). Each masked sample (removed parts take the baseline: a number or
``"mean"``; token ids become padding 0) gives the probability ``p_k`` of each label, and

    map_k = sum_i p_k(x * M_i) M_i / sum_i M_i

(xplique's normalisation: per position, over the masks that keep it). Non-negative. Seeded by
``seed``; one set of forward passes serves every label, batched through the engine's compiled
forward pass.
"""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from ..errors import ModelError
from .base import Method
from .perturbation import perturbed_probabilities

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation

EPSILON = 1e-4


def rise_masks(
    axes: tuple[int, ...], kind: str, n: int, grid: int, keep: float, seed: int
) -> np.ndarray:
    """(n, *axes) float32 masks in [0, 1]."""
    rng = np.random.default_rng(seed)
    if kind == "vector":
        return (rng.random((n, *axes)) < keep).astype(np.float32)
    dims = axes if len(axes) == 2 else (axes[0], 1)
    cells = (min(grid, dims[0]), min(grid, dims[1]) if len(axes) == 2 else 1)
    low = (rng.random((n, *cells, 1)) < keep).astype(np.float32)
    step = [ceil(d / c) for d, c in zip(dims, cells)]
    big = [c * st + st for c, st in zip(cells, step)]  # one cell more than the grid covers
    up = tf.image.resize(low, big, method="bilinear").numpy()[..., 0]  # (n, BH, BW)
    dy = rng.integers(0, step[0], n)
    dx = rng.integers(0, step[1], n) if len(axes) == 2 else np.zeros(n, int)
    rows = dy[:, None] + np.arange(dims[0])[None]
    cols = dx[:, None] + np.arange(dims[1])[None]
    out = up[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(n, *axes).astype(np.float32)


class Rise(Method):
    name = "rise"
    layerwise = False

    def __init__(
        self,
        n_masks: int = 2000,
        grid: int = 7,
        keep: float = 0.5,
        baseline: float | str = "mean",
        seed: int = 0,
    ) -> None:
        if int(n_masks) < 1 or int(grid) < 1 or not 0.0 < keep < 1.0:
            raise ModelError("rise needs n_masks >= 1, grid >= 1 and 0 < keep < 1")
        self.n_masks, self.grid, self.keep = int(n_masks), int(grid), float(keep)
        self.baseline, self.seed = baseline, int(seed)

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        self.check_input(engine)
        s = engine.structure
        masks = rise_masks(s.input_axes, s.input_kind, self.n_masks, self.grid, self.keep,
                           self.seed)
        if np.issubdtype(xs[s.input_index].dtype, np.integer):
            masks = (masks >= 0.5).astype(np.float32)  # a token is kept or replaced, not mixed
        flat = masks.reshape(len(masks), -1)
        coverage = flat.sum(axis=0) + EPSILON
        lab = np.asarray(labels)
        n = len(xs[0])
        heat = np.zeros((n, len(labels), flat.shape[1]), np.float32)
        for i in range(n):
            p = perturbed_probabilities(engine, xs, i, masks, self.baseline)[:, lab]  # (M, K)
            heat[i] = (p.T @ flat) / coverage
        heat = heat.reshape(n, 1, len(labels), *s.input_axes)
        return engine.explanation(self, heat, engine.probabilities(xs), labels)
