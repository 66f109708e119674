"""Tiny models shared by the attribution tests (random weights unless a test trains them)."""

import keras
import numpy as np
import pytest


def cnn(seed: int = 0, n_classes: int = 3, size: int = 16) -> keras.Model:
    keras.utils.set_random_seed(seed)
    x = keras.Input((size, size, 1), name="img")
    h = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="c1")(x)
    h = keras.layers.MaxPooling2D(name="p1")(h)
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="c2")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    out = keras.layers.Dense(n_classes, activation="softmax", name="out")(h)
    return keras.Model(x, out, name="cnn")


def token_model(seed: int = 0, vocab: int = 30, length: int = 10) -> keras.Model:
    keras.utils.set_random_seed(seed)
    x = keras.Input((length,), dtype="int32", name="tokens")
    e = keras.layers.Embedding(vocab, 8, name="emb")(x)
    h = keras.layers.Conv1D(8, 3, padding="same", activation="relu", name="conv")(e)
    h = keras.layers.LSTM(8, return_sequences=True, name="lstm")(h)
    h = keras.layers.MultiHeadAttention(2, 4, name="mha")(h, h)
    h = keras.layers.Dense(8, activation="relu", name="td_dense")(h)
    h = keras.layers.GlobalAveragePooling1D(name="gap")(h)
    out = keras.layers.Dense(2, activation="softmax", name="out")(h)
    return keras.Model(x, out, name="text")


@pytest.fixture(scope="session")
def image_model():
    return cnn()


@pytest.fixture(scope="session")
def images():
    return np.random.default_rng(0).random((4, 16, 16, 1)).astype("float32")


@pytest.fixture(scope="session")
def text_model():
    return token_model()


@pytest.fixture(scope="session")
def tokens():
    return np.random.default_rng(1).integers(1, 30, size=(4, 10)).astype("int32")
