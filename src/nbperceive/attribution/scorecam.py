"""Score-CAM (Wang et al. 2020) through tf-keras-vis, at the deepest candidate layer by default.

Gradient-free: each channel's upsampled activation masks the input and the label's logit on
the masked input weighs the channel. tf-keras-vis runs it on a flat Functional copy of the
model with a linear head (see :mod:`.clone`), so Sequential and nested models work too; token
inputs do not (masking integer ids is meaningless), and nbperceive says so.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError
from .base import Method
from .clone import layer_name, linear_functional, outside_strategy

log = logging.getLogger("nbperceive")

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
    """Score-CAM at the deepest candidate layer (``layers="all"`` for every depth, or a list
    of layer paths). Cost: one forward pass per channel (at most ``max_n``, clamped to each
    layer's channel count) per layer and label, on every sample; nbperceive logs the count
    before it starts. Keras' progress bars are silenced while it runs."""

    name = "scorecam"
    input_kinds = ("image", "vector")

    def __init__(self, max_n: int | None = None, batch_size: int = 32,
                 layers: str | list[str] = "deepest") -> None:
        if max_n is not None and int(max_n) < 1:
            raise ModelError(f"max_n must be a whole number >= 1 (or None), not {max_n!r}")
        if isinstance(layers, str) and layers not in ("deepest", "all"):
            layers = [layers]
        self.max_n = None if max_n is None else int(max_n)
        self.batch_size = int(batch_size)
        self.layers = layers

    def _paths(self, engine: Engine) -> list[str]:
        candidates = engine.sources(self)
        if self.layers == "all":
            return list(candidates)
        if self.layers == "deepest":
            return [candidates[-1]]
        unknown = [p for p in self.layers if p not in candidates]
        if unknown:
            raise ModelError(f"scorecam layers {unknown} are not candidate layers of this "
                             f"model; choose from {candidates}")
        return [p for p in candidates if p in self.layers]

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        return outside_strategy(self._explain, engine, xs, labels)

    def _explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        import keras
        from tf_keras_vis.scorecam import Scorecam
        from tf_keras_vis.utils.scores import CategoricalScore

        require_tfkv_input(engine, self.name)
        s = engine.structure
        paths = self._paths(engine)
        flat = linear_functional(engine.model, s)
        channels = [int(flat.get_layer(layer_name(p)).output.shape[-1]) for p in paths]
        per_layer = [c if self.max_n is None else min(self.max_n, c) for c in channels]
        n = len(xs[0])
        log.info("scorecam: %d forward passes of %d sample(s) (%s channels x %d label(s))",
                 sum(per_layer) * len(labels), n, "+".join(map(str, per_layer)), len(labels))
        scorecam = Scorecam(flat, clone=False)
        seed = xs if len(xs) > 1 else xs[0]
        depths = [engine.structure.depths[engine.structure.candidates.index(p)] for p in paths]
        heat = np.zeros((n, len(paths), len(labels), *s.input_axes), np.float32)
        interactive = keras.config.is_interactive_logging_enabled()
        keras.config.disable_interactive_logging()  # no progress bar per masked batch
        try:
            for li, (path, max_n) in enumerate(zip(paths, per_layer)):
                for ki, label in enumerate(labels):
                    cam = scorecam(
                        CategoricalScore([label] * n),
                        seed,
                        penultimate_layer=layer_name(path),
                        seek_penultimate_conv_layer=False,
                        batch_size=self.batch_size,
                        max_N=max_n if self.max_n is not None else None,
                        normalize_cam=False,
                    )
                    cam = cam[s.input_index] if isinstance(cam, list) else cam
                    heat[:, li, ki] = np.asarray(cam, np.float32).reshape(n, *s.input_axes)
        finally:
            if interactive:
                keras.config.enable_interactive_logging()
        return engine.explanation(self, heat, engine.probabilities(xs), labels,
                                  layers=paths, depths=depths)
