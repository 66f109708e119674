"""Perturbed copies of one sample and the model's probabilities on them.

One mechanism for everything that replaces parts of an input and reads the model's answer:
Occlusion, RISE and the faithfulness metrics (Deletion, Insertion, MuFidelity). A *keep mask*
has the input's heatmap axes (``(H, W)`` images, ``(T,)`` tokens, ``(F,)`` vectors): 1 keeps
the sample's value, 0 puts the *baseline* there (fractions blend). The baseline is a number,
or ``"mean"`` (the sample's own mean value); token ids always become the padding id 0.
The forward passes go through the engine's compiled ``probabilities`` in its fixed batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ModelError

CHUNK = 1024  # perturbed copies built at once (bounds memory for many masks)


def fill_value(x: np.ndarray, kind: str, baseline: float | str) -> float:
    """What a removed position becomes for sample ``x``."""
    if np.issubdtype(x.dtype, np.integer):
        return 0.0  # token ids: padding
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ModelError(f"baseline must be a number or 'mean', not {baseline!r}")
        return float(np.mean(x))
    return float(baseline)


def apply_keep(x: np.ndarray, keep: np.ndarray, fill: float) -> np.ndarray:
    """One sample ``x`` (input shape) and keep masks ``(M, *axes)`` -> ``(M, *input_shape)``."""
    k = keep.astype(np.float32, copy=False)
    while k.ndim < x.ndim + 1:  # channel / feature axes after the heatmap axes
        k = k[..., None]
    out = x[None].astype(np.float32) * k + np.float32(fill) * (1.0 - k)
    if np.issubdtype(x.dtype, np.integer):
        out = np.rint(out)
    return out.astype(x.dtype, copy=False)


def perturbed_probabilities(
    engine: Any, xs: list[np.ndarray], i: int, keep: np.ndarray, baseline: float | str
) -> np.ndarray:
    """Probabilities ``(M, C)`` of sample ``i`` with each of the ``M`` keep masks applied to
    the engine's chosen input (the other inputs stay as they are)."""
    s = engine.structure
    x = xs[s.input_index][i]
    fill = fill_value(x, s.input_kind, baseline)
    out = []
    for start in range(0, len(keep), CHUNK):
        part = apply_keep(x, keep[start : start + CHUNK], fill)
        batch = [np.repeat(a[i : i + 1], len(part), axis=0) for a in xs]
        batch[s.input_index] = part
        out.append(engine.probabilities(batch))
    return np.concatenate(out).astype(np.float32)
