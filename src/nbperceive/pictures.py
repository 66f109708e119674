"""PNG pictures for headless reports, drawn with Pillow: matrices, scatters, image grids."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Tableau 10: distinct, colour-blind-friendlier than a rainbow
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac"]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _save(img: Image.Image, path: str | os.PathLike) -> Path:
    from .store import atomic_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as f:
        img.save(f, format="PNG")
    return path


def confusion_png(cm: np.ndarray, class_names: Sequence[str], path: str | os.PathLike,
                  title: str = "", cell: int = 36) -> Path:
    """A confusion matrix (rows: label, columns: prediction) with counts in the cells."""
    n = len(cm)
    margin, top = 90, 40
    img = Image.new("RGB", (margin + n * cell + 10, top + n * cell + 70), "white")
    draw = ImageDraw.Draw(img)
    draw.text((margin, 8), title, fill="black")
    peak = max(int(cm.max()), 1)
    for r in range(n):
        draw.text((4, top + r * cell + cell // 3), str(class_names[r])[:12], fill="black")
        for c in range(n):
            share = cm[r, c] / peak
            shade = tuple(int(255 - share * (255 - v)) for v in (8, 48, 107))
            box = (margin + c * cell, top + r * cell, margin + (c + 1) * cell, top + (r + 1) * cell)
            draw.rectangle(box, fill=shade, outline="#dddddd")
            draw.text((box[0] + 4, box[1] + cell // 3), str(int(cm[r, c])),
                      fill="white" if share > 0.5 else "black")
    for c in range(n):
        draw.text((margin + c * cell + 4, top + n * cell + 6), str(class_names[c])[:5],
                  fill="black")
    draw.text((4, top - 14), "given label", fill="black")
    draw.text((margin, top + n * cell + 24), "predicted class ->", fill="black")
    return _save(img, path)


def precision_recall_png(precision: np.ndarray, recall: np.ndarray,
                         class_names: Sequence[str], epochs: Sequence[int],
                         path: str | os.PathLike, title: str = "", cell: int = 44) -> Path:
    """Two tables, precision and recall ``(epochs, classes)``: one row per class (its name),
    one column per epoch, the value in each cell (shaded: dark = 1); NaN shows as "-"."""
    n_epochs, n = precision.shape
    left, top, gap = 90, 62, 30
    width = n_epochs * cell
    img = Image.new("RGB", (left + 2 * width + gap + 10, top + n * 22 + 40), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 6), title, fill="black")
    heads = [("precision = TP / (TP + FP)", "of those predicted as the class"),
             ("recall = TP / (TP + FN)", "of the class's samples")]
    for t, (values, (name, note)) in enumerate(zip((precision, recall), heads)):
        x0 = left + t * (width + gap)
        draw.text((x0, 22), name, fill="black")
        draw.text((x0, 34), note, fill="#555555")
        for e, epoch in enumerate(epochs):
            draw.text((x0 + e * cell + 4, top - 14), f"ep {epoch}", fill="black")
        for r in range(n):
            if t == 0:
                draw.text((4, top + r * 22 + 5), str(class_names[r])[:12], fill="black")
            for e in range(n_epochs):
                v = float(values[e, r])
                share = 0.0 if np.isnan(v) else v
                shade = tuple(int(255 - share * (255 - c)) for c in (8, 48, 107))
                box = (x0 + e * cell, top + r * 22, x0 + (e + 1) * cell, top + (r + 1) * 22)
                draw.rectangle(box, fill=shade, outline="#dddddd")
                draw.text((box[0] + 6, box[1] + 5), "-" if np.isnan(v) else f"{v:.2f}",
                          fill="white" if share > 0.5 else "black")
        draw.text((x0, top + n * 22 + 6), "epoch ->", fill="black")
    draw.text((4, top - 14), "class", fill="black")
    return _save(img, path)


def scatter_png(xy: np.ndarray, labels: np.ndarray, path: str | os.PathLike, title: str = "",
                size: int = 520, class_names: Sequence[str] | None = None) -> Path:
    """2-D points coloured by integer label, with a legend."""
    img = Image.new("RGB", (size + 130, size + 30), "white")
    draw = ImageDraw.Draw(img)
    draw.text((8, 6), title, fill="black")
    lo, hi = xy.min(0), xy.max(0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    pts = (xy - lo) / span * (size - 20) + 10
    for (px, py), lab in zip(pts, labels):
        colour = _rgb(PALETTE[int(lab) % len(PALETTE)])
        draw.ellipse((px - 2, size + 20 - py - 2, px + 2, size + 20 - py + 2), fill=colour)
    for k in sorted(set(int(v) for v in labels)):
        y = 30 + 18 * k
        draw.rectangle((size + 15, y, size + 27, y + 12), fill=_rgb(PALETTE[k % len(PALETTE)]))
        name = class_names[k] if class_names and k < len(class_names) else str(k)
        draw.text((size + 32, y), str(name)[:14], fill="black")
    return _save(img, path)


def _to_tile(a: np.ndarray, side: int, signed: bool = False) -> Image.Image:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3:
        a = a.mean(-1)
    if signed:  # blue (negative) - white - red (positive)
        m = np.abs(a).max() or 1.0
        v = a / m
        rgb = np.stack([np.where(v > 0, 255, 255 * (1 + v)), 255 * (1 - np.abs(v)),
                        np.where(v < 0, 255, 255 * (1 - v))], -1)
        tile = Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")
    else:
        lo, hi = a.min(), a.max()
        g = ((a - lo) / (hi - lo) * 255) if hi > lo else np.zeros_like(a)
        tile = Image.fromarray(g.astype(np.uint8), "L").convert("RGB")
    return tile.resize((side, side), Image.NEAREST)


def grid_png(rows: Sequence[Sequence[np.ndarray]], path: str | os.PathLike,
             col_titles: Sequence[str] = (), row_titles: Sequence[str] = (),
             signed_cols: Sequence[int] = (), side: int = 84, title: str = "") -> Path:
    """Rows of 2-D arrays as tiles (grey, or blue-white-red for ``signed_cols``)."""
    n_cols = max(len(r) for r in rows)
    left, top = 110, 40
    img = Image.new("RGB", (left + n_cols * (side + 6), top + len(rows) * (side + 6)), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 4), title, fill="black")
    for c, name in enumerate(col_titles):
        draw.text((left + c * (side + 6), 22), str(name)[:14], fill="black")
    for r, row in enumerate(rows):
        if r < len(row_titles):
            draw.text((4, top + r * (side + 6) + side // 2), str(row_titles[r])[:16],
                      fill="black")
        for c, a in enumerate(row):
            img.paste(_to_tile(a, side, signed=c in signed_cols),
                      (left + c * (side + 6), top + r * (side + 6)))
    return _save(img, path)
