"""Is a heatmap faithful? Deletion, Insertion (curves + AUC) and MuFidelity of every map.

All three read the model's *probability* of the explained label on perturbed copies of the
sample (removed positions take the baseline: a number, or ``"mean"``, the sample's mean value;
token ids become padding 0). See docs/attribution.md for the definitions:

* **Deletion** (Petsiuk et al. 2018): remove positions hottest first, ``steps`` equal chunks
  (``floor(linspace(0, positions, steps + 1))`` removed), record the probability after each
  chunk; AUC by the trapezoid rule over the removed fraction 0..1. **Lower is better.**
* **Insertion**: start from the baseline and put the sample's values back hottest first;
  same curve and AUC. **Higher is better.**
* **MuFidelity** (Bhatt et al. 2020): ``n_subsets`` random subsets (cells of a ``grid`` x
  ``grid`` grid for images, single positions otherwise, each removed with probability
  ``subset``); Spearman correlation between the probability drop and the heat inside the
  removed subset. In [-1, 1], **higher is better**.

The forward passes are batched through the engine's compiled forward pass: one batch of
``(steps + 1)`` copies per map for the curves, one shared set of ``n_subsets`` copies per sample
for MuFidelity (it serves every depth and label). :class:`Scorer` caches each value per
(sample, depth, label, settings); an :class:`~.result.Explanation` from ``explain`` holds one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf
from scipy.stats import rankdata

from ..errors import ModelError
from .perturbation import perturbed_probabilities

METRICS = ("deletion", "insertion", "mufidelity")
HIGHER_IS_BETTER = {"deletion": False, "insertion": True, "mufidelity": True}


@dataclass(frozen=True)
class Settings:
    """How the scores are measured (part of every cache key)."""

    steps: int = 10
    baseline: float | str = "mean"
    grid: int = 9
    subset: float = 0.2
    n_subsets: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.n_subsets < 2 or self.grid < 1 or not 0 < self.subset < 1:
            raise ModelError(
                "faithfulness needs steps >= 1, n_subsets >= 2, grid >= 1 and 0 < subset < 1"
            )
        if isinstance(self.baseline, str) and self.baseline != "mean":
            raise ModelError(f"baseline must be a number or 'mean', not {self.baseline!r}")


def deletion_masks(heat: np.ndarray, steps: int) -> np.ndarray:
    """(M, *axes) heatmaps -> (M, steps + 1, *axes) keep-masks (1 keep, 0 deleted)."""
    m = heat.shape[0]
    flat = heat.reshape(m, -1)
    size = flat.shape[1]
    order = np.argsort(-flat, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(m)[:, None], order] = np.arange(size)[None]
    cut = np.floor(np.linspace(0, size, steps + 1)).astype(int)  # positions removed per step
    keep = rank[:, None, :] >= cut[None, :, None]
    return keep.reshape(m, steps + 1, *heat.shape[1:]).astype(np.float32)


def auc(curves: np.ndarray) -> np.ndarray:
    """Trapezoid-rule area of curves sampled at equal steps over [0, 1] (last axis)."""
    steps = curves.shape[-1] - 1
    return ((curves[..., 1:] + curves[..., :-1]).sum(-1) / (2.0 * steps)).astype(np.float32)


def subset_masks(axes: tuple[int, ...], kind: str, settings: Settings) -> np.ndarray:
    """(n_subsets, *axes) keep masks for MuFidelity (0 marks the removed subset)."""
    rng = np.random.default_rng(settings.seed)
    n = settings.n_subsets
    if kind == "image" and len(axes) == 2:
        g = settings.grid
        keep = (rng.random((n, g, g, 1)) > settings.subset).astype(np.float32)
        return tf.image.resize(keep, axes, method="nearest").numpy()[..., 0]
    return (rng.random((n, *axes)) > settings.subset).astype(np.float32)


def spearman_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each column pair of ``a`` and ``b`` (S, M); constant -> 0."""
    ra = rankdata(a, axis=0) - (a.shape[0] + 1) / 2.0
    rb = rankdata(b, axis=0) - (b.shape[0] + 1) / 2.0
    den = np.sqrt((ra**2).sum(0) * (rb**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (ra * rb).sum(0) / den
    return np.where(den > 0, r, 0.0).astype(np.float32)


class Scorer:
    """Faithfulness of one explanation's maps, computed on demand and cached."""

    def __init__(self, engine: Any, xs: list[np.ndarray]) -> None:
        self.engine = engine
        self.xs = xs
        self._values: dict[tuple, float] = {}
        self._curves: dict[tuple, np.ndarray] = {}
        self._subsets: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def scores(
        self,
        metric: str,
        heat: np.ndarray,
        labels: list[int],
        samples: list[int],
        depths: list[int],
        ks: list[int],
        settings: Settings,
    ) -> np.ndarray:
        """(len(samples), len(depths), len(ks)) scores of ``heat[s, d, k]`` (N, L, K, *axes)."""
        if metric not in METRICS:
            raise ModelError(f"unknown faithfulness metric {metric!r}; choose one of {METRICS}")
        out = np.zeros((len(samples), len(depths), len(ks)), np.float32)
        for si, s in enumerate(samples):
            want = [(d, k) for d in depths for k in ks]
            missing = [(d, k) for d, k in want if (metric, settings, s, d, k) not in self._values]
            if missing:
                self._compute(metric, heat, labels, s, missing, settings)
            for di, d in enumerate(depths):
                for ki, k in enumerate(ks):
                    out[si, di, ki] = self._values[(metric, settings, s, d, k)]
        return out

    def curves(
        self, metric: str, heat: np.ndarray, labels: list[int], sample: int, depth: int,
        k: int, settings: Settings,
    ) -> np.ndarray:
        if metric not in ("deletion", "insertion"):
            raise ModelError(f"only 'deletion' and 'insertion' have curves, not {metric!r}")
        self.scores(metric, heat, labels, [sample], [depth], [k], settings)
        return self._curves[(metric, settings, sample, depth, k)]

    def _compute(
        self, metric: str, heat: np.ndarray, labels: list[int], s: int,
        pairs: list[tuple[int, int]], settings: Settings,
    ) -> None:
        maps = np.stack([heat[s, d, k] for d, k in pairs])  # (M, *axes)
        label = np.asarray([labels[k] for _, k in pairs])
        if metric == "mufidelity":
            values = self._mufidelity(s, maps, label, settings)
        else:
            curves = self._curve(s, maps, label, settings, insertion=metric == "insertion")
            values = auc(curves)
            for (d, k), c in zip(pairs, curves):
                self._curves[(metric, settings, s, d, k)] = c
        for (d, k), v in zip(pairs, values):
            self._values[(metric, settings, s, d, k)] = float(v)

    def _curve(
        self, s: int, maps: np.ndarray, label: np.ndarray, settings: Settings, insertion: bool
    ) -> np.ndarray:
        axes = maps.shape[1:]
        keep = deletion_masks(maps, settings.steps)  # (M, S+1, *axes)
        if insertion:
            keep = 1.0 - keep
        probs = perturbed_probabilities(
            self.engine, self.xs, s, keep.reshape(-1, *axes), settings.baseline
        ).reshape(len(maps), settings.steps + 1, -1)
        return probs[np.arange(len(maps)), :, label]  # (M, S+1)

    def _mufidelity(
        self, s: int, maps: np.ndarray, label: np.ndarray, settings: Settings
    ) -> np.ndarray:
        st = self.engine.structure
        key = (settings, s)
        if key not in self._subsets:
            keep = subset_masks(st.input_axes, st.input_kind, settings)
            probs = perturbed_probabilities(self.engine, self.xs, s, keep, settings.baseline)
            base = self.engine.probabilities([x[s : s + 1] for x in self.xs])[0]
            self._subsets[key] = (keep, base[None, :] - probs)  # (S, *axes), (S, C) drops
        keep, drops = self._subsets[key]
        removed = (1.0 - keep).reshape(len(keep), -1)
        attribution = removed @ maps.reshape(len(maps), -1).T  # (S, M)
        return spearman_columns(drops[:, label], attribution)


def deletion_auc(
    engine: Any, xs: list[np.ndarray], explanation: Any, steps: int = 10
) -> np.ndarray:
    """(N, L, K) deletion AUC for every heatmap of ``explanation`` (sample-mean baseline)."""
    heat = explanation.heatmaps
    n, n_layers, n_labels = heat.shape[:3]
    return Scorer(engine, xs).scores(
        "deletion", heat, list(explanation.labels), list(range(n)), list(range(n_layers)),
        list(range(n_labels)), Settings(steps=steps),
    )
