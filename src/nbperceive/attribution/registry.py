"""Method names -> method classes."""

from __future__ import annotations

from typing import Any

from ..errors import ModelError
from .activation_max import ActivationMax
from .base import Method
from .baseline_delta import BaselineDelta
from .focus_layercam import FocusLayerCAM
from .gradcam import GradCAM
from .gradcampp import GradCAMPlusPlus
from .layercam import LayerCAM
from .saliency import Saliency
from .scorecam import ScoreCAM
from .smoothgrad import SmoothGrad

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (
        GradCAM,
        GradCAMPlusPlus,
        LayerCAM,
        FocusLayerCAM,
        Saliency,
        SmoothGrad,
        BaselineDelta,
        ScoreCAM,
        ActivationMax,
    )
}
ALIASES = {
    "gradcampp": "gradcam++",
    "gradcam_plus_plus": "gradcam++",
    "focus": "focus_layercam",
    "baseline": "baseline_delta",
    "class_model": "activation_max",
}


def get_method(name: str, **options: Any) -> Method:
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in METHODS:
        raise ModelError(
            f"unknown attribution method {name!r}; choose one of {sorted(METHODS)}"
        )
    try:
        return METHODS[key](**options)
    except TypeError as err:
        raise ModelError(f"method {key!r} does not take these options: {err}") from err
