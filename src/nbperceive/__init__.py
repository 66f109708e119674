"""nbperceive: how a Keras model perceives its samples, inline in Jupyter.

Importing the package is cheap; TensorFlow is imported only by the parts that need it.
"""

from __future__ import annotations

import importlib
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


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'nbperceive' has no attribute {name!r}")
    module = _LAZY[name]
    if module is None:
        return importlib.import_module(f".{name}", __name__)
    return getattr(importlib.import_module(f".{module}", __name__), name)
