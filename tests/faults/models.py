"""A small CNN whose layers carry fixed names, so a child process and the test build models
with the same run signature (Keras numbers unnamed layers per process)."""

from __future__ import annotations

import keras


def named_cnn() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, activation="relu", padding="same", name="conv1"),
        keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same", name="conv2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ], name="named_cnn")
    model.compile("adam", "sparse_categorical_crossentropy")
    return model
