"""The contract every attribution method follows.

A gradient method is a small function of (activations, gradients):

* ``activations``: ``(N, *axes, C)`` — a layer's output (or the input / Embedding output);
* ``gradients``: ``(N, K, *axes, C)`` — d score_k / d activations, one slice per label;
* returns ``(N, K, *axes)`` maps.

``target`` says which score is differentiated (``"logit"``: the label's pre-softmax logit;
``"margin"``: logit minus log-sum-exp of the other logits). ``layerwise`` methods get one map
per candidate layer; the others one map at the input (Embedding output for tokens).
Methods that need more than one pass (SmoothGrad, baseline-delta, Integrated Gradients), only
forward passes on perturbed inputs (Occlusion, RISE) or another library (ScoreCAM, activation
maximisation) override :meth:`Method.explain`. ``input_kinds`` names the inputs a method
handles; ``heatmap`` is False for methods whose result is not a map over the input (the
Inspector offers only heatmap methods); ``signed_panel`` names the panel of a method's signed
map (the Inspector shows it signed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import tensorflow as tf

from ..errors import ModelError

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation


def spatial_axes(gradients: tf.Tensor) -> list[int]:
    """Axes of ``gradients`` (N, K, *axes, C) that are positions."""
    return list(range(2, len(gradients.shape) - 1))


class Method:
    """Base class: subclasses set ``name`` and implement :meth:`maps`."""

    name: ClassVar[str] = ""
    target: ClassVar[str] = "logit"
    layerwise: ClassVar[bool] = True
    non_negative: ClassVar[bool] = True
    input_kinds: ClassVar[tuple[str, ...]] = ("image", "tokens", "vector")
    heatmap: ClassVar[bool] = True
    # the ``Explanation.panels`` entry holding the signed map (evidence for the label > 0,
    # against it < 0), for methods whose ``heatmaps`` keep only the positive part
    signed_panel: ClassVar[str | None] = None

    def maps(self, activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def check_input(self, engine: Engine) -> None:
        """Raise ``ModelError`` when the engine's input is of a kind this method cannot use."""
        kind = engine.structure.input_kind
        if kind not in self.input_kinds:
            others = "'saliency', 'smoothgrad', 'occlusion' or 'rise'"
            raise ModelError(
                f"method {self.name!r} cannot explain {kind} inputs like "
                f"{engine.structure.input_name!r} (it handles {', '.join(self.input_kinds)}); "
                f"use {others} for them"
            )

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        """One compiled pass per batch through ``engine``."""
        heatmaps, probs = engine.run(self, xs, labels)
        return engine.explanation(self, heatmaps, probs, labels)
