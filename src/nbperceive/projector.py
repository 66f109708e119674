"""Export a run for TensorBoard's embedding projector (``tensorboard --logdir``).

Writes, per exported epoch, ``epoch-NNNN.tsv`` (the vectors) and ``epoch-NNNN-metadata.tsv``
(one row per sample, header row), an optional ``sprite.png`` of image thumbnails, and
``projector_config.pbtxt`` naming them, at the top of ``logdir``.
No TensorFlow checkpoint is needed: the projector reads TSV tensors named in the config.

The projector has limits of its own: TensorBoard parses every TSV row in Python, the page
refuses a sprite larger than 8192 px a side (``MAX_SPRITE_IMAGE_SIZE_PX``), so a larger run
exports a seeded random share of its samples (``max_samples``; the metadata's ``sample_id``
says which) with thumbnails shrunk to fit the sprite.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .store import Run


PROJECTOR_MAX_SAMPLES = 100_000  # samples exported by default (TSV ~225 MB an epoch at 276 dims)
SPRITE_MAX_PX = 8192  # the projector's page refuses a larger sprite sheet
THUMB_PX = 28  # a sprite tile's side, shrunk when the sheet would pass SPRITE_MAX_PX


def _tsv_cell(value: object) -> str:
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def sprite(images: np.ndarray, thumb: int = THUMB_PX) -> tuple[np.ndarray, int]:
    """A square uint8 sprite sheet of ``images`` (N, H, W[, C]) and the thumbnail side
    (``thumb``, or smaller so the sheet stays within :data:`SPRITE_MAX_PX`)."""
    from PIL import Image

    n = len(images)
    side = max(1, int(np.ceil(np.sqrt(n))))
    thumb = max(1, min(int(thumb), SPRITE_MAX_PX // side))
    imgs = np.asarray(images)
    if imgs.dtype != np.uint8:
        lo, hi = float(imgs.min()), float(imgs.max())
        imgs = ((imgs - lo) / (hi - lo + 1e-12) * 255).astype(np.uint8)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    mode = "L" if imgs.ndim == 3 else "RGB"
    sheet = Image.new(mode, (side * thumb, side * thumb))
    for i, img in enumerate(imgs):
        tile = Image.fromarray(img, mode=mode).resize((thumb, thumb))
        sheet.paste(tile, ((i % side) * thumb, (i // side) * thumb))
    return np.asarray(sheet), thumb


def exported_samples(n: int, max_samples: int | None) -> np.ndarray:
    """The sample ids a projector export of ``n`` samples writes: all up to ``max_samples``
    (None: all), else a seeded random share of that many, in probe order."""
    if max_samples is None or n <= max_samples:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, int(max_samples), replace=False))


def to_projector(run: Run, logdir: str | os.PathLike, epochs: list[int] | None = None,
                 images: np.ndarray | None = None, columns: list[str] | None = None,
                 max_samples: int | None = PROJECTOR_MAX_SAMPLES) -> Path:
    """Write ``run``'s perception vectors (default: every epoch) for TensorBoard's projector.

    ``max_samples``: above this many samples, a seeded random share of that many is written
    (the metadata's ``sample_id`` names them; ``None``: all, which TensorBoard may not load).
    """
    from PIL import Image

    from .errors import MetadataError
    from .store import atomic_file

    epochs = run.epochs if epochs is None else epochs
    n = len(run.samples)
    if images is not None and len(images) != n:
        raise MetadataError(f"images has {len(images)} images but the run has {n} samples; "
                            "pass one image per probe sample, in probe order.")
    if max_samples is not None and (isinstance(max_samples, bool) or
                                    not isinstance(max_samples, (int, np.integer))
                                    or max_samples < 1):
        raise MetadataError(f"max_samples must be a positive number of samples or None (all), "
                            f"got {max_samples!r}.")
    ids = exported_samples(n, max_samples)
    logdir = Path(logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    config = []
    sprite_name = None
    if images is not None:
        sheet, thumb = sprite(np.asarray(images)[ids] if len(ids) < n else images)
        sprite_name = "sprite.png"
        with atomic_file(logdir / sprite_name) as f:
            Image.fromarray(sheet).save(f, format="PNG")
    for epoch in epochs:
        snap = run.snapshot(epoch)
        table = snap.table if len(ids) == n else snap.table.iloc[ids]
        cols = columns or [c for c in table.columns if not c.startswith("prob_")]
        name = f"epoch-{epoch:04d}"
        vectors = snap.vectors if len(ids) == n else snap.vectors[ids]
        with atomic_file(logdir / f"{name}.tsv") as f:
            np.savetxt(f, np.asarray(vectors), delimiter="\t", fmt="%.5g")
        with atomic_file(logdir / f"{name}-metadata.tsv", "w") as f:
            f.write("\t".join(_tsv_cell(c) for c in cols) + "\n")
            for row in table[cols].itertuples(index=False):
                f.write("\t".join(_tsv_cell(v) for v in row) + "\n")
        entry = [
            "embeddings {",
            f'  tensor_name: "{name}"',
            f'  tensor_path: "{name}.tsv"',
            f'  metadata_path: "{name}-metadata.tsv"',
        ]
        if sprite_name:
            entry += ["  sprite {", f'    image_path: "{sprite_name}"',
                      f"    single_image_dim: {thumb}", f"    single_image_dim: {thumb}", "  }"]
        config.append("\n".join(entry + ["}"]))
    # written last: TensorBoard finds nothing until every file it names is complete
    with atomic_file(logdir / "projector_config.pbtxt", "w") as f:
        f.write("\n".join(config) + "\n")
    return logdir
