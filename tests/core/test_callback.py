"""The callback contract: when it captures, and that it never kills training."""

from __future__ import annotations

import shutil
import warnings

import keras
import numpy as np
import pytest

import nbperceive as nbp

from . import models


def test_every_k_epochs_and_the_last_one(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    perceiver = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "r")
    model.fit(x[:300], y[:300], epochs=5, verbose=0, callbacks=[perceiver.callback(every=2)])
    assert perceiver.run.epochs == [0, 2, 4, 5]


def test_train_end_only(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    perceiver = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "r")
    cb = perceiver.callback(on="train_end", at_train_begin=False)
    model.fit(x[:300], y[:300], epochs=3, verbose=0, callbacks=[cb])
    assert perceiver.run.epochs == [3]
    assert perceiver.run.snapshot(3).meta["logs"]["loss"] > 0


def test_a_second_fit_continues_the_epoch_numbers(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    perceiver = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "r")
    cb = perceiver.callback()
    model.fit(x[:300], y[:300], epochs=2, verbose=0, callbacks=[cb])
    model.fit(x[:300], y[:300], epochs=1, verbose=0, callbacks=[cb])
    assert perceiver.run.epochs == [0, 1, 2, 3]


def test_bad_callback_options(digits, tmp_path):
    x, y = digits
    perceiver = nbp.Perceiver(models.sequential_cnn(), probe=(x[:10], y[:10]),
                              run_dir=tmp_path / "r")
    with pytest.raises(ValueError, match="every"):
        perceiver.callback(every=0)
    with pytest.raises(ValueError, match="on must be"):
        perceiver.callback(on="batch")


class _DeleteRunDir(keras.callbacks.Callback):
    """Pulls the run directory away under the perceiver, as a user's cleanup script might."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            shutil.rmtree(self.path)


def test_a_failing_capture_warns_and_training_goes_on(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    perceiver = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "r")
    cb = perceiver.callback()
    with pytest.warns(RuntimeWarning, match="capturing epoch 2 failed .* training goes on"):
        history = model.fit(x[:300], y[:300], epochs=4, verbose=0,
                            callbacks=[_DeleteRunDir(tmp_path / "r"), cb])
    assert len(history.history["loss"]) == 4  # all epochs trained
    assert cb.failures and "FileNotFoundError" in cb.failures[0]


def test_nonfinite_loss_is_recorded_and_warned(digits, tmp_path):
    x, y = digits
    model = models.sequential_cnn()
    x_bad = x[:50].copy().astype(np.float32)
    x_bad[:3] = 3e38  # finite inputs the model overflows on: a diverging model's symptom
    perceiver = nbp.Perceiver(model, probe=(x_bad, y[:50]), run_dir=tmp_path / "r")
    with pytest.warns(RuntimeWarning, match="3 of 50 probe samples have a non-finite loss"):
        snap = perceiver.capture()
    assert snap.table["loss"].isna().sum() == 3
    assert np.isfinite(snap.vectors).all()


def test_nan_inputs_record_no_loss_and_no_prediction(digits, tmp_path):
    """Whatever the model makes of a NaN input (oneDNN's ReLU makes it 0, so a plausible
    loss), the sample's loss is NaN and its pred -1, as the warning up front says; capture
    does not then call it divergence."""
    x, y = digits
    x_bad = x[:50].copy().astype(np.float32)
    x_bad[[0, 7, 9]] = np.nan
    with pytest.warns(RuntimeWarning, match="3 of 50 probe samples have NaN or inf inputs"):
        perceiver = nbp.Perceiver(models.sequential_cnn(), probe=(x_bad, y[:50]),
                                  run_dir=tmp_path / "r")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        table = perceiver.capture().table
    assert sorted(np.flatnonzero(table["loss"].isna())) == [0, 7, 9]
    assert (table["pred"].to_numpy()[[0, 7, 9]] == -1).all()
    assert not table["correct"].to_numpy()[[0, 7, 9]].any()
    assert (table["pred"].drop(index=[0, 7, 9]) >= 0).all()


def test_a_superseded_perceivers_callback_warns_and_training_goes_on(digits, tmp_path):
    """A notebook cell re-run makes a new Perceiver on the same run dir while an old callback
    is still in a fit call: the old one must not interleave epochs, and must not stop fit."""
    x, y = digits
    model = models.sequential_cnn()
    old = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "r")
    new = nbp.Perceiver(model, probe=(x[:100], y[:100]), run_dir=tmp_path / "r", resume=True)
    with pytest.warns(RuntimeWarning, match="another Perceiver in this process now records"):
        history = model.fit(x[:300], y[:300], epochs=2, verbose=0, callbacks=[old.callback()])
    assert len(history.history["loss"]) == 2
    assert new.run.epochs == []  # the old writer wrote nothing
    new.capture(0)
    assert new.run.epochs == [0]
