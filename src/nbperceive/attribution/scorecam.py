"""Score-CAM (Wang et al. 2020) through tf-keras-vis, at every candidate layer.

Gradient-free: each channel's upsampled activation masks the input and the label's logit on
the masked input weighs the channel. tf-keras-vis runs it on a flat Functional copy of the
model with a linear head (see :mod:`.clone`), so Sequential and nested models work too; token
inputs do not (masking integer ids is meaningless), and nbperceive says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .base import Method
from .clone import layer_name, linear_functional

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation


def require_tfkv_input(engine: Engine, method: str) -> None:
    s = engine.structure
    if s.input_kind == "tokens":
        raise ModelError(
            f"{method!r} runs through tf-keras-vis, which cannot handle token (integer) inputs "
            f"like {s.input_name!r}; use 'layercam', 'focus_layercam', 'gradcam' or "
            "'saliency' for text"
        )


class ScoreCAM(Method):
    name = "scorecam"
    input_kinds = ("image", "vector")

    def __init__(self, max_n: int | None = None, batch_size: int = 32) -> None:
        self.max_n = max_n
        self.batch_size = int(batch_size)

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        from tf_keras_vis.scorecam import Scorecam
        from tf_keras_vis.utils.scores import CategoricalScore

        require_tfkv_input(engine, self.name)
        s = engine.structure
        paths = engine.sources(self)
        scorecam = Scorecam(linear_functional(engine.model, s), clone=False)
        seed = xs if len(xs) > 1 else xs[0]
        n = len(xs[0])
        heat = np.zeros((n, len(paths), len(labels), *s.input_axes), np.float32)
        for li, path in enumerate(paths):
            for ki, label in enumerate(labels):
                cam = scorecam(
                    CategoricalScore([label] * n),
                    seed,
                    penultimate_layer=layer_name(path),
                    seek_penultimate_conv_layer=False,
                    batch_size=self.batch_size,
                    max_N=self.max_n,
                    normalize_cam=False,
                )
                cam = cam[s.input_index] if isinstance(cam, list) else cam
                heat[:, li, ki] = np.asarray(cam, np.float32).reshape(n, *s.input_axes)
        return engine.explanation(self, heat, engine.probabilities(xs), labels)
