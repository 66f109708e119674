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
from .integrated_gradients import IntegratedGradients
from .layercam import LayerCAM
from .occlusion import Occlusion
from .rise import Rise
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
        IntegratedGradients,
        Occlusion,
        Rise,
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
    "ig": "integrated_gradients",
    "integrated_gradient": "integrated_gradients",
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


def heatmap_methods(input_kind: str) -> list[str]:
    """Registered methods that draw a heatmap over ``input_kind`` inputs (registry order)."""
    return [n for n, c in METHODS.items() if c.heatmap and input_kind in c.input_kinds]
