"""nbperceive: how a Keras model perceives its samples, inline in Jupyter.

Importing the package is cheap; TensorFlow is imported only by the parts that need it. Where
models cannot be analysed (another Keras backend, no TensorFlow), importing says so and what to
install, and the parts that need TensorFlow raise an ImportError with the same advice.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import warnings
from pathlib import Path
from typing import Any

from .errors import (
    DataUnavailableError,
    LabelError,
    MetadataError,
    ModelError,
    NbPerceiveError,
    ProbeError,
    ProjectionError,
    ReportError,
    RunError,
)

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {
    "Perceiver": "perceiver",
    "open_run": "store",
    "Run": "store",
    "Snapshot": "store",
    "datasets": None,
    "images": "samples",
    "texts": "samples",
    "explain": "attribution",
    "PopulationView": "widgets.population",
    "Inspector": "widgets.inspector",
    "Explorer": "widgets.explorer",
    "load_model": "models",
    "save_html": "report",
    "save_notebook_html": "notebook_html",
}

__all__ = [
    "DataUnavailableError",
    "LabelError",
    "MetadataError",
    "ModelError",
    "NbPerceiveError",
    "ProbeError",
    "ProjectionError",
    "ReportError",
    "RunError",
    *_LAZY,
]


# what works without TensorFlow: reading runs, their tables and projections, saved pages
_WITHOUT_TENSORFLOW = {"open_run", "Run", "Snapshot", "datasets"}


def _keras_backend() -> str:
    """The backend Keras will use: KERAS_BACKEND, else keras.json, else tensorflow."""
    backend = os.environ.get("KERAS_BACKEND")
    if backend:
        return backend.strip().lower()
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        return str(json.loads((home / "keras.json").read_text()).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def requirement_problem() -> str | None:
    """Why models cannot be analysed in this environment (None: they can)."""
    backend = _keras_backend()
    if backend != "tensorflow":
        return (f"nbperceive needs Keras' TensorFlow backend, but Keras is set to {backend!r} "
                "(KERAS_BACKEND or ~/.keras/keras.json). Set KERAS_BACKEND=tensorflow before "
                "importing keras or nbperceive; runs on disk can still be read (nbp.open_run).")
    if importlib.util.find_spec("tensorflow") is None:
        return ('nbperceive needs TensorFlow to analyse models and none is installed: '
                'pip install "nbperceive[cpu]" (or "nbperceive[gpu]", or your own tensorflow). '
                "Runs on disk can still be read (nbp.open_run).")
    return None


_PROBLEM = requirement_problem()
if _PROBLEM:
    warnings.warn(_PROBLEM, stacklevel=2)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'nbperceive' has no attribute {name!r}")
    if _PROBLEM and name not in _WITHOUT_TENSORFLOW:
        raise ImportError(_PROBLEM)
    module = _LAZY[name]
    if module is None:
        return importlib.import_module(f".{name}", __name__)
    return getattr(importlib.import_module(f".{module}", __name__), name)
