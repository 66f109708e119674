"""Heatmaps as the Inspector ships them: each depth at its layer's own resolution, uint8.

A panel's ``heatmaps`` is one flat uint8 array: depth by depth, a ``(K, *map_shapes[d])``
block (every explained label's map at that depth's size), each map scaled to its own 0..255;
``ranges`` ``(L, K, 2)`` float32 says what raw attribution values each map's lowest and highest
codes stand for, and a ``signed`` panel (integrated gradients, occlusion, baseline-delta) codes
0 as 128 so its sign survives.
The page upsamples a map to the input's axes when it draws it (``js/src/inspector/arrays.js``
``mapOf``), so a 1x1 map of a deep layer costs K bytes instead of K x H x W. A saved report
may carry fewer depths than the live view (:func:`pick_depths`, :func:`take_depths`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .serializers import array_from_json, array_to_json

REPORT_DEPTHS = 12  # depths a saved report carries by default (spread over the network)
REPORT_EPOCHS = 12  # recorded epochs a saved report's scrubber carries by default (spread)
SIGNED_ZERO = 128  # the code of 0 in a signed map (1: -a, 255: +a)


def quantize(maps: np.ndarray) -> np.ndarray:
    """Maps already scaled to [0, 1] as uint8 0..255."""
    return np.round(np.clip(np.nan_to_num(maps), 0.0, 1.0) * 255.0).astype(np.uint8)


def _upsampling(n: int, size: int) -> np.ndarray:
    """(size, n) matrix of a 1-D linear upsampling from ``n`` to ``size`` points with
    half-pixel centres and clamped ends: what ``tf.image.resize(..., "bilinear")`` does along
    one axis (and ``upsample`` in ``js/src/inspector/arrays.js``)."""
    at = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
    lo = np.floor(at).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    m = np.zeros((size, n))
    np.add.at(m, (np.arange(size), lo), 1 - (at - lo))
    np.add.at(m, (np.arange(size), hi), at - lo)
    return m


def _resample_axis(a: np.ndarray, axis: int, n: int) -> np.ndarray:
    """``a`` with ``axis`` brought back to the ``n`` points it was upsampled from: the least-
    squares inverse of :func:`_upsampling` (exact for maps that upsampling made)."""
    size = a.shape[axis]
    if size == n:
        return a
    inverse = np.linalg.pinv(_upsampling(n, size))  # (n, size)
    return np.moveaxis(np.tensordot(inverse, np.moveaxis(a, axis, 0), axes=1), 0, axis)


def native_maps(maps: np.ndarray, map_axes: Sequence[Sequence[int]] | None,
                signed: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
    """Raw ``(L, K, *input_axes)`` maps -> per depth ``(K, *map_axes[d])`` uint8 blocks, each
    map scaled on its own, and ``ranges`` ``(L, K, 2)`` float32: the raw values each map's
    lowest and highest code stand for (the page shows them on the colour bar).

    Unsigned: the positive part, 0 -> 0 and 255 -> the map's peak (``[0, peak]``; an all-zero
    map stays zero). ``signed``: 128 is 0 and 1 / 255 are -a / +a with ``a = max |v|``
    (``[-a, a]``), so the sign survives and 0 stays 0.
    """
    out = []
    ranges = np.zeros((maps.shape[0], maps.shape[1], 2), np.float32)
    for d in range(maps.shape[0]):
        m = np.nan_to_num(np.asarray(maps[d], np.float32))
        if not signed:
            m = np.maximum(m, 0.0)
        axes = tuple(map_axes[d]) if map_axes is not None else m.shape[1:]
        if len(axes) != m.ndim - 1 or any(a < 1 or a > s for a, s in zip(axes, m.shape[1:])):
            axes = m.shape[1:]  # not a downsampling of these maps: keep them as they are
        for i, n in enumerate(axes):
            m = _resample_axis(m, i + 1, int(n))
        flat = m.reshape(m.shape[0], -1)
        peak = (np.abs(flat) if signed else flat).max(axis=1)
        scale = np.where(peak > 0, peak, 1.0).reshape([-1] + [1] * (m.ndim - 1))
        if signed:
            ranges[d] = np.stack([-peak, peak], axis=1)
            out.append((SIGNED_ZERO + np.round(np.clip(m / scale, -1.0, 1.0) * 127.0))
                       .astype(np.uint8))
        else:
            ranges[d, :, 1] = peak
            out.append(quantize(m / scale))
    return out, ranges


def pack_maps(blocks: list[np.ndarray]) -> dict[str, Any]:
    """``{heatmaps, map_shapes}`` of a panel from per-depth ``(K, *axes)`` uint8 blocks."""
    shapes = [list(b.shape[1:]) for b in blocks]
    if all(s == shapes[0] for s in shapes):  # one size: the plain (L, K, *axes) block
        flat = np.stack(blocks) if blocks else np.zeros((0,), np.uint8)
    else:
        flat = np.concatenate([b.reshape(-1) for b in blocks])
    return {"heatmaps": array_to_json(np.ascontiguousarray(flat)), "map_shapes": shapes}


def unpack_maps(panel: dict[str, Any]) -> list[np.ndarray]:
    """A panel's per-depth ``(K, *axes)`` uint8 blocks (the inverse of :func:`pack_maps`)."""
    flat = array_from_json(panel["heatmaps"]).reshape(-1)
    k = len(panel["labels"])
    blocks, start = [], 0
    for shape in panel["map_shapes"]:
        size = k * int(np.prod(shape))
        blocks.append(flat[start : start + size].reshape([k, *shape]))
        start += size
    return blocks


def spread_indices(n: int, count: int | None, keep: Sequence[int] = ()) -> list[int]:
    """Indices of ``count`` of ``n`` items spread evenly from the first to the last (one:
    the last), plus those in ``keep``; ``None`` or ``count >= n``: all of them. What a saved
    page carries of a series: the network's depths, the recorded epochs."""
    if count is None or count >= n:
        return list(range(n))
    spread = (np.rint(np.linspace(0, n - 1, count)).astype(int).tolist() if count > 1
              else [n - 1] if count == 1 else [])
    return sorted(set(spread) | {int(d) for d in keep if 0 <= d < n})


def pick_depths(n: int, count: int | None, keep: Sequence[int] = ()) -> list[int]:
    """Indices of ``count`` depths of ``n`` spread evenly from the shallowest to the deepest,
    plus those in ``keep`` (e.g. the depth on screen); ``None``: all of them."""
    if count is not None and count < 1:
        from ..errors import ReportError

        raise ReportError(f"depths={count}: a report carries at least 1 depth per sample (or "
                          "depths=None for all of them)")
    return spread_indices(n, count, keep)


def take_depths(panel: dict[str, Any], chosen: Sequence[int]) -> dict[str, Any]:
    """A copy of ``panel`` that carries only the depths at indices ``chosen``."""
    if list(chosen) == list(range(len(panel["layers"]))):
        return panel
    blocks = unpack_maps(panel)
    out = {**panel, **pack_maps([blocks[d] for d in chosen])}
    out["layers"] = [panel["layers"][d] for d in chosen]
    out["depths"] = [panel["depths"][d] for d in chosen]
    if "ranges" in panel:  # (L, K, 2) float32
        out["ranges"] = array_to_json(array_from_json(panel["ranges"])[list(chosen)])
    if "faithfulness" in panel:  # {metric: (L, K) float32}
        out["faithfulness"] = {m: array_to_json(array_from_json(v)[list(chosen)])
                               for m, v in panel["faithfulness"].items()}
    return out
