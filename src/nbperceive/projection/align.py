"""Geometry of 2-D layouts: the [-1, 1] box, Procrustes alignment, displacement measures."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import ProjectionError


def to_box(coords: np.ndarray) -> np.ndarray:
    """Centre on the bounding box and scale uniformly so the longer side spans [-1, 1]."""
    coords = np.asarray(coords, dtype=np.float64)
    if len(coords) == 0:
        return coords.astype(np.float32)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    half = float(np.max(hi - lo)) / 2
    out = coords - (lo + hi) / 2
    if half > 0:
        out /= half
    return out.astype(np.float32)


def procrustes_align(coords: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rotate/reflect, scale uniformly and shift ``coords`` to best match ``reference``."""
    x = np.asarray(coords, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    mx, my = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - mx, y - my
    norm = float((xc**2).sum())
    if norm == 0:
        return np.broadcast_to(my, x.shape).copy()
    u, s, vt = np.linalg.svd(xc.T @ yc)
    rotation = u @ vt
    scale = float(s.sum()) / norm
    return scale * xc @ rotation + my


def _normalised(coords: np.ndarray) -> np.ndarray:
    c = np.asarray(coords, dtype=np.float64)
    c = c - c.mean(axis=0)
    rms = float(np.sqrt((c**2).sum(axis=1).mean()))
    return c / rms if rms > 0 else c


def median_displacement(a: np.ndarray, b: np.ndarray) -> float:
    """Median distance a point travels from layout ``a`` to ``b``, both first centred and scaled
    to unit root-mean-square radius (so layouts of any scale compare)."""
    return float(np.median(np.linalg.norm(_normalised(a) - _normalised(b), axis=1)))


def aligned_displacement(layouts: Iterable[np.ndarray]) -> float:
    """Mean over consecutive pairs of :func:`median_displacement` for a sequence of layouts."""
    seq = list(layouts)
    if len(seq) < 2:
        raise ProjectionError("need at least two layouts to measure how far points move.")
    pairs = zip(seq[:-1], seq[1:], strict=True)
    return float(np.mean([median_displacement(a, b) for a, b in pairs]))
