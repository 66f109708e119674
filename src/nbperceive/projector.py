"""Export a run for TensorBoard's embedding projector (``tensorboard --logdir``).

Writes, per exported epoch, ``epoch-NNNN.tsv`` (the vectors) and ``epoch-NNNN-metadata.tsv``
(one row per sample, header row), an optional ``sprite.png`` of image thumbnails, and
``projector_config.pbtxt`` naming them, at the top of ``logdir``.
No TensorFlow checkpoint is needed: the projector reads TSV tensors named in the config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .store import Run


def _tsv_cell(value: object) -> str:
    return str(value).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def sprite(images: np.ndarray, thumb: int = 28) -> tuple[np.ndarray, int]:
    """A square uint8 sprite sheet of ``images`` (N, H, W[, C]) and the thumbnail side."""
    from PIL import Image


    n = len(images)
    side = int(np.ceil(np.sqrt(n)))
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


def to_projector(run: Run, logdir: str | os.PathLike, epochs: list[int] | None = None,
                 images: np.ndarray | None = None, columns: list[str] | None = None) -> Path:
    """Write ``run``'s perception vectors (default: every epoch) for TensorBoard's projector."""
    from PIL import Image

    from .errors import MetadataError
    from .store import atomic_file

    epochs = run.epochs if epochs is None else epochs
    n = len(run.samples)
    if images is not None and len(images) != n:
        raise MetadataError(f"images has {len(images)} images but the run has {n} samples; "
                            "pass one image per probe sample, in probe order.")
    logdir = Path(logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    config = []
    sprite_name = None
    if images is not None:
        sheet, thumb = sprite(images)
        sprite_name = "sprite.png"
        with atomic_file(logdir / sprite_name) as f:
            Image.fromarray(sheet).save(f, format="PNG")
    for epoch in epochs:
        snap = run.snapshot(epoch)
        table = snap.table
        cols = columns or [c for c in table.columns if not c.startswith("prob_")]
        name = f"epoch-{epoch:04d}"
        with atomic_file(logdir / f"{name}.tsv") as f:
            np.savetxt(f, np.asarray(snap.vectors), delimiter="\t", fmt="%.5g")
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
