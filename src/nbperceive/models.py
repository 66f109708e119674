"""Loading saved Keras models safely.

Every path passes ``safe_mode=True`` (no arbitrary code from the file), and nbperceive refuses
what older Keras releases let through: it needs a Keras that honours ``safe_mode`` for legacy
``.h5`` files (3.11.3) and has fixed path traversal in ``.keras`` archives (3.12), and it looks
for ``Lambda`` layers in ``.h5`` configs itself.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import keras

from .errors import ModelError
from .layers import iter_layers

MIN_KERAS = (3, 12, 0)

_UNSAFE_ADVICE = (
    "nbperceive loads only models whose file holds no code. If you trust this file, load it "
    "yourself with keras.models.load_model(path, safe_mode=False) and pass the model to "
    "nbperceive; better, replace Lambda layers by a custom layer class registered with "
    "@keras.saving.register_keras_serializable() and pass it in custom_objects={...}."
)


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def require_safe_keras(version: str | None = None) -> None:
    """Refuse a Keras release with known model-loading holes."""
    version = version or keras.__version__
    if _version(version) < MIN_KERAS:
        raise ModelError(
            f"Keras {version} has known model-loading holes (legacy .h5 files ignore safe_mode "
            "before 3.11.3; path traversal in .keras archives is fixed in 3.12). Upgrade: "
            f"pip install 'keras>={'.'.join(map(str, MIN_KERAS))}'."
        )


def _lambda_layers(config: Any) -> list[str]:
    """Names of every Lambda layer in a (nested) model config."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "Lambda":
                inner = node.get("config", {})
                found.append(str(inner.get("name", "?")) if isinstance(inner, dict) else "?")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def _h5_config(path: Path) -> Any:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
    except OSError as err:
        raise ModelError(f"{path.name} is not a readable HDF5 model file ({err}).") from err
    if raw is None:
        raise ModelError(f"{path.name} holds weights only (no model config); build the model "
                         "in code and call model.load_weights(path).")
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


def load_model(path: str | os.PathLike, custom_objects: dict | None = None) -> keras.Model:
    """Load a ``.keras`` or legacy ``.h5`` model with ``safe_mode=True`` (no code from the
    file); Lambda layers and Keras' own refusals become a :class:`ModelError` with advice."""
    require_safe_keras()
    path = Path(path)
    if not path.exists():
        raise ModelError(f"no model file at {path}.")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        lambdas = _lambda_layers(_h5_config(path))
        if lambdas:
            raise ModelError(f"{path.name} holds Lambda layer(s) {lambdas}, which run code "
                             f"stored in the file. {_UNSAFE_ADVICE}")
    elif suffix != ".keras":
        raise ModelError(
            f"cannot load {path.name}: nbperceive loads Keras' .keras files and legacy .h5 "
            "files. Save with model.save('model.keras'). SavedModel folders and pickles are "
            "not accepted."
        )
    try:
        return keras.models.load_model(path, custom_objects=custom_objects, safe_mode=True,
                                       compile=True)
    except ValueError as err:
        message = str(err)
        if "safe_mode" in message or "Lambda" in message or "unsafe" in message.lower():
            raise ModelError(f"Keras refused to load {path.name} safely: it holds code "
                             f"(e.g. a Lambda layer). {_UNSAFE_ADVICE}") from err
        if "Unknown" in message or "custom_objects" in message:
            raise ModelError(
                f"{path.name} uses a layer, loss or metric Keras does not know ({message[:200]}). "
                "Pass its class: nbp.load_model(path, custom_objects={'Name': Name})."
            ) from err
        raise ModelError(f"cannot load {path.name}: {message[:300]}") from err


WEIGHTS_SUFFIX = ".weights.h5"


def save_weights(model: keras.Model, path: str | os.PathLike) -> None:
    """Write ``model``'s weights to ``path`` (``.weights.h5``, Keras' weights-only HDF5)
    without its optimizer's slots (Adam's would triple the file): what a model needs to
    predict and be explained, not to resume training."""
    with warnings.catch_warnings():
        # h5py/Keras' own NumPy 2 deprecation notices are theirs, not the user's to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            try:
                from keras.src.saving import saving_lib

                saving_lib.save_weights_only(model, str(path), objects_to_skip=[optimizer])
                return
            except (ImportError, AttributeError, TypeError):  # another Keras: the public way
                Path(path).unlink(missing_ok=True)
        model.save_weights(path)


def load_weights(model: keras.Model, path: str | os.PathLike) -> keras.Model:
    """Load a weights-only ``.weights.h5`` file (``model.save_weights``) into ``model``, in
    place. Such a file holds arrays and no config, so no code from it runs; any other file
    (a pickle, a full model) is refused. The architecture must match the one saved."""
    require_safe_keras()
    path = Path(path)
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise ModelError(f"{path.name} is not a Keras weights file ({WEIGHTS_SUFFIX}); "
                         "nbperceive loads weights only from files written by "
                         "model.save_weights (use nbp.load_model for whole models).")
    if not path.is_file():
        raise ModelError(f"no weights file at {path}.")
    try:
        with warnings.catch_warnings():  # the file may hold optimizer slots the copy lacks
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(path)
    except (ValueError, KeyError, OSError) as err:
        raise ModelError(
            f"cannot load {path} into model {model.name!r} ({type(err).__name__}: "
            f"{str(err)[:200]}): the file is damaged, or the model's layers differ from the "
            "recorded one's; pass the model that was recorded, or re-record the run.") from err
    return model


_LOOKUP_LAYERS = (keras.layers.TextVectorization, keras.layers.StringLookup,
                  keras.layers.IntegerLookup)


def clone(model: keras.Model) -> keras.Model:
    """A new model with ``model``'s architecture and its own variables
    (``keras.models.clone_model``; a subclassed model from its config); the weights are
    copied too."""
    def clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        # a lookup layer's vocabulary is a table, not a weight: a rebuilt one is empty
        # ("Table not initialized" on a string-input model); it trains nothing, so share it
        if isinstance(layer, _LOOKUP_LAYERS):
            return layer
        return layer.__class__.from_config(layer.get_config())

    graph = isinstance(model, keras.Sequential) or type(model).__name__ == "Functional"
    try:
        if graph:
            copy = keras.models.clone_model(model, clone_function=clone_layer)
        elif any(isinstance(layer, _LOOKUP_LAYERS) for layer in iter_layers(model)):
            # a subclassed model is rebuilt from its config, lookup layers and all, and
            # clone_model takes no clone_function for it: their tables would come back empty
            raise ValueError("its lookup layers' vocabularies would not be copied")
        else:  # rebuilt from its config (clone_function is for graph models only)
            copy = keras.models.clone_model(model)
        # a subclassed model rebuilt from an incomplete get_config() (its constructor's
        # arguments left out) comes back with other shapes: refused here, not half-copied
        copy.set_weights(model.get_weights())
    except Exception as err:  # subclassed models carry no config to rebuild from
        raise ModelError(
            f"model {model.name!r} cannot be copied ({type(err).__name__}: {str(err)[:160]}); "
            "build a fresh instance of it yourself and load the epoch's weights into it "
            "with nbp.models.load_weights(fresh, run.weights_path(epoch)).") from err
    return copy


def model_at(model: keras.Model, path: str | os.PathLike) -> keras.Model:
    """A copy of ``model`` holding the weights saved at ``path`` (``model`` is untouched)."""
    return load_weights(clone(model), path)


class EpochModels:
    """``model`` as it was after each recorded epoch of ``run`` that kept weights.

    The model in memory stands for ``final_epoch`` (default: the run's last epoch). Other
    epochs load into one copy of it, made once: swapping weights into the same variables
    keeps every compiled pass traced for that copy (the attribution engine's included),
    instead of tracing a new model per epoch.
    """

    def __init__(self, run: Any, model: keras.Model, final_epoch: int | None = None):
        self.run = run
        self.model = model
        self.final_epoch = int(run.epochs[-1] if final_epoch is None else final_epoch)
        self._copy: keras.Model | None = None
        self._loaded: int | None = None

    @classmethod
    def matching(cls, run: Any, model: keras.Model, x: Any, n: int = 16) -> EpochModels:
        """Like the constructor, with the epoch of ``model`` found from its predictions: the
        latest epoch whose recorded probabilities of the first ``n`` probe samples ``x``
        it reproduces (a ``save_best_only`` checkpoint is not the last epoch); the last
        epoch when none matches or the run records no probabilities."""
        import numpy as np

        first = [v[:n] for v in x] if isinstance(x, (list, tuple)) else (
            {k: v[:n] for k, v in x.items()} if isinstance(x, dict) else x[:n])
        try:
            out = model(first, training=False)
            probs = np.asarray(out[0] if isinstance(out, (list, tuple)) else out, np.float64)
        except Exception:  # a model that cannot run on the probe as given: assume the last
            return cls(run, model)
        for epoch in reversed(run.epochs):
            recorded = run.probabilities(epoch, rows=len(probs))
            if recorded is None:
                break
            if recorded.shape == probs.shape and np.allclose(probs, recorded, atol=1e-4):
                return cls(run, model, epoch)
        return cls(run, model)

    @property
    def epochs(self) -> list[int]:
        """Epochs whose model can be had: those with saved weights, and the final one."""
        return sorted({*self.run.weight_epochs, self.final_epoch})

    def at(self, epoch: int) -> keras.Model | None:
        """The model after ``epoch`` (the one in memory for the final epoch), or None when
        the run kept no weights for it."""
        epoch = int(epoch)
        if epoch == self.final_epoch:
            return self.model
        if epoch not in self.run.weight_epochs:
            return None
        if self._copy is None:
            self._copy = clone(self.model)
        if self._loaded != epoch:
            self._loaded = None  # a failed load leaves the copy's weights undefined
            load_weights(self._copy, self.run.weights_path(epoch))
            self._loaded = epoch
        return self._copy
