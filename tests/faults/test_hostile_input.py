"""Input that used to give silently wrong results or a later crash is refused up front."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

import nbperceive as nbp


@pytest.fixture(scope="module")
def dense():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")], name="dense")
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def test_duplicate_class_names(dense, digits, tmp_path):
    x, y = digits
    names = [str(i) for i in range(9)] + ["0"]
    with pytest.raises(nbp.ProbeError, match=r"class_names \['0'\] appear more than once"):
        nbp.Perceiver(dense, probe=(x[:50], y[:50]), class_names=names, run_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["x", "y", "loss", "prob_3", "sample_id"])
def test_metadata_named_like_a_recorded_or_layout_column(dense, digits, tmp_path, name):
    x, y = digits
    with pytest.raises(nbp.MetadataError, match=rf"{name!r} clashes"):
        nbp.Perceiver(dense, probe=(x[:50], y[:50]), metadata={name: np.arange(50)},
                      run_dir=tmp_path / "r")
    run = nbp.Perceiver(dense, probe=(x[:50], y[:50]), run_dir=tmp_path / "ok").run
    with pytest.raises(nbp.MetadataError, match=rf"{name!r} clashes"):
        run.add_metadata(name, np.arange(50))


BAD_VALUES = {
    "lists": ([[1, 2]] * 25 + [[3]] * 25, "holds a list for sample 0"),
    "arrays": (list(np.zeros((50, 3))), "holds a ndarray for sample 0"),
    "vectors": (np.zeros((50, 3)), r"has shape \(50, 3\)"),
    "complex": (np.arange(50) * 1j, "complex numbers"),
    "mixed": (np.array([1, "a"] * 25, dtype=object), "cannot be stored"),
    "short": (np.arange(49), "has 49 (values|rows) but the probe has 50"),
}


@pytest.mark.parametrize("kind", list(BAD_VALUES))
def test_metadata_values_that_are_not_one_scalar_per_sample(dense, digits, tmp_path, kind):
    x, y = digits
    values, message = BAD_VALUES[kind]
    p = nbp.Perceiver(dense, probe=(x[:50], y[:50]), run_dir=tmp_path / "r")
    before = (tmp_path / "r" / "samples.parquet").read_bytes()
    with pytest.raises(nbp.MetadataError, match=message):
        p.run.add_metadata("bad", values)
    assert (tmp_path / "r" / "samples.parquet").read_bytes() == before
    if kind != "vectors":  # a 2-D array is several columns to pandas
        with pytest.raises(nbp.MetadataError, match=message):
            nbp.Perceiver(dense, probe=(x[:50], y[:50]), metadata=pd.DataFrame({"bad": values})
                          if kind != "short" else {"bad": values}, run_dir=tmp_path / "r2")


def test_duplicate_metadata_columns(dense, digits, tmp_path):
    x, y = digits
    frame = pd.DataFrame(np.zeros((50, 2)), columns=["a", "a"])
    with pytest.raises(nbp.MetadataError, match=r"several columns named \['a'\]"):
        nbp.Perceiver(dense, probe=(x[:50], y[:50]), metadata=frame, run_dir=tmp_path / "r")


def test_explorer_add_metadata_uses_the_store_rule(dense, digits, tmp_path):
    x, y = digits
    p = nbp.Perceiver(dense, probe=(x[:50], y[:50]), run_dir=tmp_path / "r")
    p.capture()
    explorer = nbp.Explorer(p.run_dir)
    with pytest.raises(nbp.MetadataError, match="'x' clashes"):
        explorer.add_metadata("x", np.arange(50))
    with pytest.raises(nbp.MetadataError, match="holds a list"):
        explorer.add_metadata("tags", [["a"]] * 50)
    explorer.add_metadata("ink", x[:50].sum(axis=(1, 2, 3)))
    assert "ink" in nbp.open_run(p.run_dir).snapshot().table


def test_projector_column_names_and_thumbnails(dense, digits, tmp_path):
    x, y = digits
    p = nbp.Perceiver(dense, probe=(x[:50], y[:50]), run_dir=tmp_path / "r",
                      metadata={"two\twords": np.arange(50), "line\nbreak": ["a\tb"] * 50})
    p.capture()
    with pytest.raises(nbp.MetadataError, match="10 images but the run has 50 samples"):
        p.run.to_projector(tmp_path / "tb", images=x[:10, ..., 0])
    assert not (tmp_path / "tb" / "projector_config.pbtxt").exists()
    p.run.to_projector(tmp_path / "tb", images=x[:50, ..., 0])
    lines = (tmp_path / "tb" / "epoch-0000-metadata.tsv").read_text().splitlines()
    assert len(lines) == 51
    header = lines[0].split("\t")
    assert "two words" in header and "line break" in header
    assert all(len(line.split("\t")) == len(header) for line in lines)


def test_nonfinite_inputs_are_warned_with_their_count(dense, digits, tmp_path):
    x, y = digits
    x_bad = x[:50].copy()
    x_bad[[3, 7]] = np.nan
    x_bad[9, 0, 0, 0] = np.inf
    with pytest.warns(RuntimeWarning, match="3 of 50 probe samples have NaN or inf inputs"):
        nbp.Perceiver(dense, probe=(x_bad, y[:50]), run_dir=tmp_path / "r")
