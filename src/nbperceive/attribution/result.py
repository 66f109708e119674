"""The result object every attribution method returns (the Inspector codes against it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LabelError, ModelError, ProbeError

INPUT_KINDS = ("image", "tokens", "vector")


@dataclass
class Explanation:
    """Heatmaps for every candidate depth x explained label, upsampled to the input.

    ``heatmaps`` has shape ``(N, L, K, *input_axes)``: ``(N, L, K, H, W)`` for images,
    ``(N, L, K, T)`` for tokens, ``(N, L, K, F)`` for flat vectors. ``layers``/``depths`` run
    shallow -> deep. Methods without layers (saliency, SmoothGrad) use ``L = 1`` with
    ``layers = [input_name]`` and ``depths = [0]``.
    """

    method: str
    heatmaps: np.ndarray
    layers: list[str]
    depths: list[int]
    labels: list[int]
    input_name: str
    input_kind: str
    probabilities: np.ndarray
    faithfulness: np.ndarray | None = None
    panels: dict[str, np.ndarray] | None = None
    # each depth's map axes at its layer's own resolution, before upsampling (None: not known,
    # or the input's); the Inspector ships maps at that size and the page upsamples them
    map_axes: list[tuple[int, ...]] | None = None
    # the ``panels`` entry holding the signed map of a method whose ``heatmaps`` keep only
    # its positive part (integrated gradients, occlusion, baseline-delta); None: unsigned
    signed_panel: str | None = None
    # set by ``explain``: scores the maps against the model (faithfulness.Scorer)
    scorer: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.heatmaps = np.asarray(self.heatmaps, dtype=np.float32)
        self.probabilities = np.asarray(self.probabilities, dtype=np.float32)
        if self.heatmaps.ndim < 4:
            raise ValueError(
                f"heatmaps must be (N, L, K, *input_axes); got shape {self.heatmaps.shape}"
            )
        n, n_layers, n_labels = self.heatmaps.shape[:3]
        if len(self.layers) != n_layers or len(self.depths) != n_layers:
            raise ValueError(
                f"{n_layers} depths in heatmaps but {len(self.layers)} layer names and "
                f"{len(self.depths)} depths"
            )
        if len(self.labels) != n_labels:
            raise ValueError(f"{n_labels} labels in heatmaps but labels has {len(self.labels)}")
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, not {self.input_kind!r}")
        if self.faithfulness is not None:
            self.faithfulness = np.asarray(self.faithfulness, dtype=np.float32)

    @property
    def n_samples(self) -> int:
        return int(self.heatmaps.shape[0])

    def signed(self) -> np.ndarray | None:
        """The signed maps ``(N, L, K, *input_axes)`` (> 0: evidence for the label, < 0:
        against it) of a signed method, else None (the maps are unsigned)."""
        if self.signed_panel is None or not self.panels or self.signed_panel not in self.panels:
            return None
        signed = np.asarray(self.panels[self.signed_panel], dtype=np.float32)
        return signed if signed.ndim == self.heatmaps.ndim else signed[:, None]

    def normalized(self) -> np.ndarray:
        """Every map divided by its own maximum, clipped to [0, 1].

        Negative values become 0; an all-zero (or all-negative) map stays all zero.
        """
        h = self.heatmaps
        axes = tuple(range(3, h.ndim))
        peak = np.max(h, axis=axes, keepdims=True)
        safe = np.where(peak > 0, peak, 1.0)
        return np.clip(h / safe, 0.0, 1.0).astype(np.float32)

    def scores(
        self,
        metric: str = "deletion",
        sample: int | None = None,
        depth: int | None = None,
        label: int | None = None,
        **settings: Any,
    ) -> np.ndarray:
        """Faithfulness of the maps: ``"deletion"`` AUC (lower is better), ``"insertion"``
        AUC or ``"mufidelity"`` (higher is better); see docs/attribution.md.

        ``sample`` / ``depth`` (index into ``layers``) / ``label`` (class index) pick one;
        None takes all, so the default is ``(N, L, K)``; a given one drops its axis. Computed
        in batched passes on first use and cached per (sample, depth, label, settings).
        ``settings``: ``steps`` (10), ``baseline`` ("mean" or a number), ``grid`` (9),
        ``subset`` (0.2), ``n_subsets`` (200), ``seed`` (0).
        """
        from .faithfulness import Settings

        scorer = self._need_scorer()
        samples, depths, ks = self._pick(sample, depth, label)
        try:
            chosen = Settings(**settings)
        except TypeError as err:
            raise ModelError(f"unknown faithfulness setting: {err}") from err
        out = scorer.scores(metric, self.heatmaps, self.labels, samples, depths, ks, chosen)
        squeeze = tuple(i for i, v in enumerate((sample, depth, label)) if v is not None)
        return out.squeeze(axis=squeeze) if squeeze else out

    def curve(
        self, metric: str = "deletion", sample: int = 0, depth: int = -1,
        label: int | None = None, **settings: Any,
    ) -> np.ndarray:
        """The ``steps + 1`` probabilities of a deletion or insertion curve of one map."""
        from .faithfulness import Settings

        samples, depths, ks = self._pick(sample, depth, label)
        return self._need_scorer().curves(
            metric, self.heatmaps, self.labels, samples[0], depths[0],
            ks[0] if label is not None else 0, Settings(**settings),
        )

    def _need_scorer(self) -> Any:
        if self.scorer is None:
            raise ModelError(
                "this Explanation has no model to score its maps with; compute it with "
                "nbp.explain(model, x, ...) to get faithfulness scores"
            )
        return self.scorer

    def _pick(self, sample: int | None, depth: int | None, label: int | None) -> tuple:
        n_layers = len(self.layers)
        if sample is not None and not -self.n_samples <= sample < self.n_samples:
            raise ProbeError(
                f"sample {sample} out of range: this explanation holds {self.n_samples} samples"
            )
        if depth is not None and not -n_layers <= depth < n_layers:
            raise ProbeError(
                f"depth index {depth} out of range: {n_layers} candidate layers {self.layers}"
            )
        if label is not None and label not in self.labels:
            raise LabelError(
                f"label {label} was not explained; pick one of {self.labels} or call explain() "
                f"with labels=[{label}]"
            )
        samples = [sample % self.n_samples] if sample is not None else list(range(self.n_samples))
        depths = [depth % n_layers] if depth is not None else list(range(n_layers))
        ks = [self.labels.index(label)] if label is not None else list(range(len(self.labels)))
        return samples, depths, ks

    def map(self, sample: int = 0, label: int | None = None, depth: int = -1) -> np.ndarray:
        """One heatmap (input axes only).

        ``label`` is a class index from ``self.labels`` (None: the first explained label).
        ``depth`` indexes ``self.layers`` (default -1: the deepest candidate).
        """
        if not -self.n_samples <= sample < self.n_samples:
            raise ProbeError(
                f"sample {sample} out of range: this explanation holds {self.n_samples} samples"
            )
        if label is None:
            k = 0
        elif label in self.labels:
            k = self.labels.index(label)
        else:
            raise LabelError(
                f"label {label} was not explained; pick one of {self.labels} or call explain() "
                f"with labels=[{label}]"
            )
        n_layers = len(self.layers)
        if not -n_layers <= depth < n_layers:
            raise ProbeError(
                f"depth index {depth} out of range: {n_layers} candidate layers {self.layers}"
            )
        return self.heatmaps[sample, depth, k]
