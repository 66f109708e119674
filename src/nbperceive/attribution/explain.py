"""``nbperceive.explain``: heatmaps for every candidate depth x label in one call."""

from __future__ import annotations

import weakref
from typing import Any

from .depth import Structure, analyse
from .engine import Engine
from .faithfulness import Scorer
from .inputs import as_input_list, check_model, choose_input, resolve_labels
from .registry import get_method
from .result import Explanation

_ENGINES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def engine_for(model: Any, xs: list, input_index: int, batch_size: int = 64,
               output: int | str | None = None) -> Engine:
    """The (cached) engine of ``model`` for one input and one output; compiled passes are
    reused."""
    per_model = _ENGINES.setdefault(model, {})
    key = (input_index, output, tuple(x.shape[1:] for x in xs), tuple(str(x.dtype) for x in xs))
    engine = per_model.get(key)
    if engine is None:
        engine = Engine(model, analyse(model, xs, input_index, output), batch_size)
        per_model[key] = engine
    engine.batch_size = int(batch_size)
    return engine


def explain(
    model: Any,
    x: Any,
    method: str = "gradcam",
    labels: Any = None,
    input: str | None = None,
    *,
    output: int | str | None = None,
    batch_size: int = 64,
    faithfulness: bool = False,
    **options: Any,
) -> Explanation:
    """Explain ``model``'s decisions on samples ``x`` at every candidate layer.

    Args:
        model: a built Keras model (Sequential or Functional, nested sub-models allowed) with
            one ``(batch, classes)`` output (softmax, sigmoid or logits).
        x: samples: an array, or a list / dict of arrays for several inputs.
        method: "gradcam", "gradcam++", "layercam", "focus_layercam", "saliency",
            "smoothgrad", "baseline_delta", "integrated_gradients", "occlusion", "rise",
            "scorecam" or "activation_max" (``nbperceive.attribution.METHODS``).
        labels: class index or list of them. None: every class when the model has at most
            20, else the classes predicted for the samples.
        input: name of the input to explain (default: the first image or token input).
        output: the output to explain, by index or name, for a model with several (default:
            the first, whose predictions a run's ``label``/``pred``/``prob_*`` describe).
        batch_size: samples per compiled pass.
        faithfulness: also compute the deletion-curve AUC of every map now (slower); any
            score is also available later through ``Explanation.scores``.
        options: method options, e.g. ``passes``/``noise`` for smoothgrad, ``steps`` for
            activation_max, ``max_n`` for scorecam.

    Returns:
        An :class:`Explanation` with heatmaps ``(N, L, K, *input_axes)``.
    """
    chosen, xs, engine = _prepare(model, x, method, input, batch_size, options, output)
    probs = None
    if labels is None and engine.structure.n_classes > 20:
        probs = engine.probabilities(xs)
    label_list = resolve_labels(labels, engine.structure.n_classes, probs)
    result = chosen.explain(engine, xs, label_list)
    result.scorer = Scorer(engine, xs)  # e.scores(...): faithfulness on demand, cached
    if faithfulness:
        result.faithfulness = result.scores("deletion")
    return result


def check_explainable(model: Any, x: Any, method: str = "gradcam", input: str | None = None,
                      output: int | str | None = None, **options: Any) -> Structure:
    """Raise what :func:`explain` would raise about ``model``, ``x``, ``method`` and ``input``
    without computing a map (no gradient pass is traced); return the model's structure for
    the chosen input (its kind: image, tokens or vector). The engine it builds is cached, so a
    later :func:`explain` starts from it."""
    return _prepare(model, x, method, input, 64, options, output)[2].structure


def _prepare(model: Any, x: Any, method: str, input: str | None, batch_size: int,
             options: dict[str, Any], output: int | str | None = None
             ) -> tuple[Any, list, Engine]:
    """The method, the inputs as a list and the model's engine, every check passed."""
    check_model(model)
    chosen = get_method(method, **options)
    xs = as_input_list(model, x)
    index = choose_input(model, xs, input)
    engine = engine_for(model, xs, index, batch_size, output)
    engine.sources(chosen)  # fail early when the method has no layer to work on
    return chosen, xs, engine
