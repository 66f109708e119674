"""Bad input gets a specific nbperceive error whose message says what to do."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

import nbperceive as nbp

from . import models


@pytest.fixture()
def model():
    return models.sequential_cnn()


def test_x_and_y_lengths_differ(model, digits, tmp_path):
    x, y = digits
    with pytest.raises(nbp.ProbeError, match="equal length"):
        nbp.Perceiver(model, probe=(x[:100], y[:90]), run_dir=tmp_path / "r")


def test_x_shape_does_not_fit_the_model(model, digits, tmp_path):
    x, y = digits
    with pytest.raises(nbp.ProbeError, match=r"expects \(8, 8, 1\)"):
        nbp.Perceiver(model, probe=(x[:100, ..., 0], y[:100]), run_dir=tmp_path / "r")


def test_metadata_length_and_index(model, digits, tmp_path):
    x, y = digits
    with pytest.raises(nbp.MetadataError, match="one row per probe sample"):
        nbp.Perceiver(model, probe=(x[:100], y[:100]), metadata=pd.DataFrame({"a": range(99)}),
                      run_dir=tmp_path / "r")
    shifted = pd.DataFrame({"a": range(100)}, index=range(5, 105))
    with pytest.raises(nbp.MetadataError, match="reset_index"):
        nbp.Perceiver(model, probe=(x[:100], y[:100]), metadata=shifted, run_dir=tmp_path / "r")
    with pytest.raises(nbp.MetadataError, match="rename"):
        nbp.Perceiver(model, probe=(x[:100], y[:100]), metadata={"loss": np.zeros(100)},
                      run_dir=tmp_path / "r")


def test_unbuilt_model(digits, tmp_path):
    x, y = digits
    unbuilt = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
    unbuilt.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(nbp.ModelError, match="not built"):
        nbp.Perceiver(unbuilt, probe=(x[:10], y[:10]), run_dir=tmp_path / "r")


def test_no_capturable_layer(digits, tmp_path):
    x, _ = digits
    flat = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
    with pytest.raises(nbp.ModelError, match="layers="):
        nbp.Perceiver(flat, probe=x[:10], run_dir=tmp_path / "r")


def test_unknown_layer_name(model, digits, tmp_path):
    x, y = digits
    with pytest.raises(nbp.ModelError, match="model.summary"):
        nbp.Perceiver(model, probe=(x[:10], y[:10]), layers=["nope"], run_dir=tmp_path / "r")


def test_labels_incompatible_with_the_loss(model, digits, tmp_path):
    x, y = digits
    onehot = keras.utils.to_categorical(y[:50], 10)
    with pytest.raises(nbp.LabelError, match="argmax"):
        nbp.Perceiver(model, probe=(x[:50], onehot), run_dir=tmp_path / "r")
    with pytest.raises(nbp.LabelError, match="outputs 10 classes"):
        nbp.Perceiver(model, probe=(x[:50], y[:50] + 5), run_dir=tmp_path / "r")
    cat = models.sequential_cnn()
    cat.compile("adam", "categorical_crossentropy")
    with pytest.raises(nbp.LabelError, match="to_categorical"):
        nbp.Perceiver(cat, probe=(x[:50], y[:50]), run_dir=tmp_path / "r")


def test_run_dir_of_another_model(digits, tmp_path):
    x, y = digits
    nbp.Perceiver(models.sequential_cnn(), probe=(x[:50], y[:50]), run_dir=tmp_path / "r")
    with pytest.raises(nbp.RunError, match="another model"):
        nbp.Perceiver(models.branched(), probe=(x[:50], y[:50]), run_dir=tmp_path / "r")
    # asked for explicitly, the old run is replaced
    nbp.Perceiver(models.branched(), probe=(x[:50], y[:50]), run_dir=tmp_path / "r",
                  overwrite=True).capture()
    assert nbp.open_run(tmp_path / "r").info["signature"]["model"] == "branched"


def test_same_model_run_dir_needs_resume_or_overwrite(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    nbp.Perceiver(model, probe=(x[:50], y[:50]), run_dir=tmp_path / "r").capture()
    with pytest.raises(nbp.RunError, match="resume=True"):
        nbp.Perceiver(model, probe=(x[:50], y[:50]), run_dir=tmp_path / "r")
    resumed = nbp.Perceiver(model, probe=(x[:50], y[:50]), run_dir=tmp_path / "r", resume=True)
    model.fit(x[:50], y[:50], epochs=1, verbose=0, callbacks=[resumed.callback()])
    assert nbp.open_run(tmp_path / "r").epochs == [0, 1]


def test_open_run_errors(tmp_path):
    with pytest.raises(nbp.RunError, match="not an nbperceive run"):
        nbp.open_run(tmp_path)


def test_unknown_epoch(model, digits, tmp_path):
    x, y = digits
    nbp.Perceiver(model, probe=(x[:20], y[:20]), run_dir=tmp_path / "r").capture()
    with pytest.raises(nbp.RunError, match=r"recorded epochs are \[0\]"):
        nbp.open_run(tmp_path / "r").snapshot(7)


def _lambda_model():
    x = keras.Input((4,))
    h = keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)
    return keras.Model(x, keras.layers.Dense(2)(h))


def test_load_model_refuses_code_in_the_file_with_advice_we_can_follow(tmp_path):
    model = _lambda_model()
    model.save(tmp_path / "lam.keras")
    model.save(tmp_path / "lam.h5")
    for name in ("lam.keras", "lam.h5"):
        with pytest.raises(nbp.ModelError, match=r"safe_mode=False\) and pass the model"):
            nbp.load_model(tmp_path / name)
    with pytest.raises(nbp.ModelError, match=r"holds Lambda layer\(s\) \['double'\]"):
        nbp.load_model(tmp_path / "lam.h5")  # found by nbperceive itself, before Keras runs


def test_load_model_needs_a_keras_without_the_loading_holes():
    from nbperceive.models import require_safe_keras

    require_safe_keras("3.12.0")
    for old in ("3.11.2", "3.8.0"):
        with pytest.raises(nbp.ModelError, match=r"pip install 'keras>=3.12.0'"):
            require_safe_keras(old)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_another_keras_backend_is_named_at_import(backend, tmp_path):
    import subprocess
    import sys

    code = ("import warnings\n"
            "with warnings.catch_warnings(record=True) as seen:\n"
            "    warnings.simplefilter('always')\n"
            "    import nbperceive as nbp\n"
            "print(seen[0].message)\n"
            "nbp.open_run  # reading runs needs no TensorFlow\n"
            "try:\n"
            "    nbp.Perceiver\n"
            "except ImportError as err:\n"
            "    print('refused:', err)\n")
    env = {**__import__("os").environ, "KERAS_BACKEND": backend}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert f"Keras is set to {backend!r}" in out and "KERAS_BACKEND=tensorflow" in out
    assert "refused: nbperceive needs Keras' TensorFlow backend" in out
