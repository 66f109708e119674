"""The result object every attribution method returns (the Inspector codes against it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LabelError, ProbeError

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

    def normalized(self) -> np.ndarray:
        """Every map divided by its own maximum, clipped to [0, 1].

        Negative values become 0; an all-zero (or all-negative) map stays all zero.
        """
        h = self.heatmaps
        axes = tuple(range(3, h.ndim))
        peak = np.max(h, axis=axes, keepdims=True)
        safe = np.where(peak > 0, peak, 1.0)
        return np.clip(h / safe, 0.0, 1.0).astype(np.float32)

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
