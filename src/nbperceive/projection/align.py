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
    columns = np.ascontiguousarray(coords.T)  # reductions over (n, 2) rows are 10x slower
    lo, hi = columns.min(axis=1), columns.max(axis=1)
    half = float(np.max(hi - lo)) / 2
    out = coords - (lo + hi) / 2
    if half > 0:
        out /= half
    return out.astype(np.float32)


FIT_ROWS = 50_000  # PCA directions and alignments are fitted on at most this many rows


def fit_rows(n: int) -> slice | np.ndarray:
    """The rows of ``n`` to fit on: all up to :data:`FIT_ROWS`, else a seeded sorted sample."""
    if n <= FIT_ROWS:
        return slice(None)
    return np.sort(np.random.default_rng(0).choice(n, FIT_ROWS, replace=False))


def procrustes_align(coords: np.ndarray, reference: np.ndarray,
                     rows: slice | np.ndarray | None = None) -> np.ndarray:
    """Rotate/reflect, scale uniformly and shift ``coords`` to best match ``reference``.

    The transform (4 degrees of freedom in 2-D) is fitted on ``rows`` of ``coords`` (default
    :func:`fit_rows`), where ``reference`` holds every point or, with ``rows`` given, just
    those rows; it is applied to every point."""
    n = len(coords)
    if rows is None:
        rows = fit_rows(n)
        reference = reference[rows]
    x = np.asarray(coords[rows], dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    mx, my = x.mean(axis=0), y.mean(axis=0)
    xc = x - mx
    norm = float((xc**2).sum())
    if norm == 0:
        return np.broadcast_to(my, (n, x.shape[1])).copy()
    u, s, vt = np.linalg.svd(xc.T @ (y - my))
    rotation = u @ vt
    scale = float(s.sum()) / norm
    return scale * (np.asarray(coords, dtype=np.float64) - mx) @ rotation + my


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
