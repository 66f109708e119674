"""Loading saved Keras models safely."""

from __future__ import annotations

import os
from pathlib import Path

import keras

from .errors import ModelError


def load_model(path: str | os.PathLike, custom_objects: dict | None = None) -> keras.Model:
    """Load a ``.keras`` (with ``safe_mode=True``: no arbitrary code) or legacy ``.h5`` model."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"no model file at {path}.")
    suffix = path.suffix.lower()
    if suffix == ".keras":
        return keras.models.load_model(path, custom_objects=custom_objects, safe_mode=True,
                                       compile=True)
    if suffix in (".h5", ".hdf5"):
        return keras.models.load_model(path, custom_objects=custom_objects, compile=True)
    raise ModelError(
        f"cannot load {path.name}: nbperceive loads Keras' .keras files (safe mode) and legacy "
        ".h5 files. Save with model.save('model.keras'). SavedModel folders and pickles are "
        "not accepted."
    )
