"""The model zoo: every kind of Keras model a user brings, with a head for each task."""

from __future__ import annotations

import keras
import numpy as np

HEADS = {  # task -> (units, activation, loss)
    "multiclass": (10, "softmax", "sparse_categorical_crossentropy"),
    "onehot": (10, "softmax", "categorical_crossentropy"),
    "logits": (10, None, keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    "binary": (1, "sigmoid", "binary_crossentropy"),
    "binary_logits": (1, None, keras.losses.BinaryCrossentropy(from_logits=True)),
    "multilabel": (3, "sigmoid", "binary_crossentropy"),
    "regression": (1, None, "mse"),
    "regression2": (2, None, "huber"),
    "none": (10, "softmax", "sparse_categorical_crossentropy"),
}


def _head(task: str, name: str = "head") -> keras.layers.Layer:
    units, activation, _ = HEADS[task]
    return keras.layers.Dense(units, activation=activation, name=name)


def sequential(task: str) -> keras.Model:
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        _head(task),
    ], name="sequential")


def functional(task: str) -> keras.Model:
    """Residual block with BatchNorm."""
    x = keras.Input((8, 8, 1), name="img")
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(x)
    r = keras.layers.Conv2D(8, 3, padding="same", name="res_conv")(h)
    r = keras.layers.BatchNormalization(name="res_bn")(r)
    h = keras.layers.Activation("relu", name="post")(keras.layers.Add(name="skip")([h, r]))
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(x, _head(task)(h), name="functional")


def nested(task: str) -> keras.Model:
    backbone = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="inner_conv"),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="inner_conv2"),
    ], name="backbone")
    x = keras.Input((8, 8, 1), name="img")
    h = keras.layers.GlobalAveragePooling2D(name="gap")(backbone(x))
    return keras.Model(x, _head(task)(h), name="nested")


class Net(keras.Model):
    """Subclassed: layers made in __init__, used in call."""

    def __init__(self, task: str = "multiclass", head: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="sub_conv")
        self.conv2 = keras.layers.Conv2D(8, 3, padding="same", activation="relu",
                                         name="sub_conv2")
        self.gap = keras.layers.GlobalAveragePooling2D(name="sub_gap")
        self.head = _head(task, "sub_head") if head else None

    def call(self, x):
        h = self.conv2(keras.ops.relu(self.conv(x) - 0.01))
        return self.head(self.gap(h)) if self.head is not None else h


def subclassed(task: str) -> keras.Model:
    return Net(task, name="subclassed")


def sub_in_functional(task: str) -> keras.Model:
    x = keras.Input((8, 8, 1), name="img")
    h = Net(head=False, name="inner_net")(x)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(x, _head(task)(h), name="sub_in_functional")


class HoldsFunctional(keras.Model):
    def __init__(self, task: str, **kwargs):
        super().__init__(**kwargs)
        x = keras.Input((8, 8, 1))
        h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="blk_conv")(x)
        self.block = keras.Model(x, h, name="block")
        self.gap = keras.layers.GlobalAveragePooling2D(name="hf_gap")
        self.head = _head(task, "hf_head")

    def call(self, x):
        return self.head(self.gap(self.block(x)))


def holds_functional(task: str) -> keras.Model:
    return HoldsFunctional(task, name="holds_functional")


def rnn(task: str) -> keras.Model:
    """Digit rows as a sequence: LSTM, Bidirectional GRU."""
    x = keras.Input((8, 8), name="rows")
    h = keras.layers.LSTM(16, return_sequences=True, name="lstm")(x)
    h = keras.layers.Bidirectional(keras.layers.GRU(8, return_sequences=True), name="bigru")(h)
    h = keras.layers.GlobalAveragePooling1D(name="gap")(h)
    return keras.Model(x, _head(task)(h), name="rnn")


def transformer(task: str) -> keras.Model:
    x = keras.Input((8, 8), name="rows")
    h = keras.layers.Dense(16, name="embed")(x)
    a = keras.layers.MultiHeadAttention(2, 8, name="mha")(h, h)
    h = keras.layers.LayerNormalization(name="ln")(keras.layers.Add(name="res")([h, a]))
    h = keras.layers.GlobalAveragePooling1D(name="gap")(h)
    return keras.Model(x, _head(task)(h), name="transformer")


def text(task: str, vocabulary: list[str]) -> keras.Model:
    """String input: TextVectorization inside the model."""
    vec = keras.layers.TextVectorization(max_tokens=2000, output_sequence_length=24,
                                         vocabulary=vocabulary, name="vectorise")
    x = keras.Input((), dtype="string", name="text")
    h = keras.layers.Embedding(len(vocabulary) + 2, 16, name="emb")(vec(x))
    h = keras.layers.Conv1D(16, 3, padding="same", activation="relu", name="conv")(h)
    h = keras.layers.GlobalAveragePooling1D(name="gap")(h)
    return keras.Model(x, _head(task)(h), name="text")


def multi_io(task: str) -> keras.Model:
    """Two inputs (image, side vector) and two heads (the task's and a value)."""
    img = keras.Input((8, 8, 1), name="image")
    side = keras.Input((4,), name="side")
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(img)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    s = keras.layers.Dense(8, activation="relu", name="side_dense")(side)
    h = keras.layers.Concatenate(name="merge")([h, s])
    return keras.Model([img, side], [_head(task)(h), keras.layers.Dense(1, name="value")(h)],
                       name="multi_io")


def mobilenet(task: str) -> keras.Model:
    """A keras.applications backbone behind Rescaling and Normalization layers."""
    backbone = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35,
                                              input_shape=(32, 32, 3))
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Rescaling(1 / 16.0, name="rescale"),
        keras.layers.Normalization(mean=0.3, variance=0.1, name="normalise"),
        backbone,
        keras.layers.GlobalAveragePooling2D(name="gap"),
        _head(task),
    ], name="mobilenet")


def mixed(policy: str):
    """A Sequential CNN built under a mixed-precision policy (the policy is restored)."""

    def build(task: str) -> keras.Model:
        before = keras.mixed_precision.global_policy().name
        keras.mixed_precision.set_global_policy(policy)
        try:
            return sequential(task)
        finally:
            keras.mixed_precision.set_global_policy(before)

    return build


IMAGE_KINDS = {"sequential": sequential, "functional": functional, "nested": nested,
               "subclassed": subclassed, "sub_in_functional": sub_in_functional,
               "holds_functional": holds_functional}
SEQUENCE_KINDS = {"rnn": rnn, "transformer": transformer}
OTHER_KINDS = {"multi_io": multi_io, "mobilenet": mobilenet,
               "mixed_float16": mixed("mixed_float16"), "mixed_bfloat16": mixed("mixed_bfloat16")}


def labels_for(task: str, y: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """Labels of ``task`` made from digits (class ids ``y``, images ``x``)."""
    if task in ("multiclass", "logits"):
        return y
    if task == "onehot":
        return keras.utils.to_categorical(y, 10)
    if task in ("binary", "binary_logits"):
        return (y < 5).astype(np.int64)  # shape (N,), what fit accepts
    if task == "multilabel":  # small digit, even digit, digit with a loop
        return np.stack([y < 5, y % 2 == 0, np.isin(y, [0, 6, 8, 9])], 1).astype(np.float32)
    if task == "regression":
        return (y / 9.0).astype(np.float32)
    if task == "regression2":
        return np.stack([y / 9.0, x.reshape(len(x), -1).mean(1)], 1).astype(np.float32)
    return None
