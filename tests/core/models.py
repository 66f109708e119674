"""Small real Keras models of every shape the capture engine must handle."""

from __future__ import annotations

import keras


def sequential_cnn(input_shape=(8, 8, 1), classes=10) -> keras.Model:
    model = keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(8, 3, activation="relu", padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, activation="relu", padding="same"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="seq_cnn")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def multi_io(classes=10) -> keras.Model:
    """Two inputs (image, side vector), two outputs (class, regression of the mean pixel)."""
    img = keras.Input((8, 8, 1), name="image")
    side = keras.Input((4,), name="side")
    h = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(img)
    h = keras.layers.Flatten()(h)
    s = keras.layers.Dense(8, activation="relu", name="side_dense")(side)
    h = keras.layers.Concatenate(name="merge")([h, s])
    cls = keras.layers.Dense(classes, activation="softmax", name="cls")(h)
    reg = keras.layers.Dense(1, name="reg")(h)
    model = keras.Model([img, side], [cls, reg], name="multi_io")
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])
    return model


def branched(classes=10) -> keras.Model:
    """Residual block with BatchNorm; logits output with a from_logits loss."""
    x = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(x)
    r = keras.layers.Conv2D(8, 3, padding="same", name="res_conv")(h)
    r = keras.layers.BatchNormalization(name="res_bn")(r)
    h = keras.layers.Add(name="skip")([h, r])
    h = keras.layers.Activation("relu", name="post")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    out = keras.layers.Dense(classes, name="logits")(h)
    model = keras.Model(x, out, name="branched")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def nested(classes=10) -> keras.Model:
    """A Sequential feature extractor inside a Functional model."""
    backbone = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, activation="relu", name="inner_conv"),
        keras.layers.Conv2D(8, 3, activation="relu", name="inner_conv2"),
        keras.layers.Flatten(),
    ], name="backbone")
    x = keras.Input((8, 8, 1))
    h = backbone(x)
    out = keras.layers.Dense(classes, activation="softmax", name="head")(h)
    model = keras.Model(x, out, name="nested")
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def mnist_cnn() -> keras.Model:
    """The demo's MNIST CNN: two conv blocks and one hidden dense layer named "hidden"."""
    from nbperceive.pipeline import mnist_cnn as demo_cnn

    return demo_cnn()


def digits_perceiver(run_dir, *, widths=(8,), epochs: int = 2, n_probe: int = 300,
                     learning_rate: float = 0.001, metadata=None, preview: bool = False,
                     flatten: bool = False):
    """A real recorded run: a small CNN (one 3x3 conv per entry of ``widths``) trained on
    sklearn digits, the first ``n_probe`` samples recorded every epoch; returns the Perceiver.

    ``flatten``: Flatten instead of global average pooling before the head, which keeps where
    the strokes are and so learns digits in a few epochs (~90 % after 3 at learning rate 0.01);
    the default head barely learns in 2 (fast tests that need a run, not a good model)."""
    import numpy as np

    import nbperceive as nbp

    data = nbp.datasets.digits()  # already in [0, 1]
    x = data.x[..., None]
    keras.utils.set_random_seed(0)
    convs = [keras.layers.Conv2D(w, 3, activation="relu", padding="same", name=f"conv{i + 1}")
             for i, w in enumerate(widths)]
    model = keras.Sequential([keras.Input((8, 8, 1)), *convs,
                              keras.layers.Flatten() if flatten
                              else keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10, activation="softmax", name="out")])
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    images = nbp.images((data.x[:n_probe] * 255).astype(np.uint8)) if preview else None
    perceiver = nbp.Perceiver(model, probe=(x[:n_probe], data.y[:n_probe]), metadata=metadata,
                              preview=images, run_dir=run_dir, class_names=data.class_names)
    model.fit(x, data.y, epochs=epochs, batch_size=64, verbose=0,
              callbacks=[perceiver.callback()])
    return perceiver


def record_digits_run(run_dir, epochs: int = 2, n_probe: int = 300):
    """A real run on disk (see :func:`digits_perceiver`); returns its directory."""
    digits_perceiver(run_dir, epochs=epochs, n_probe=n_probe)
    return run_dir


def digits_regression_perceiver(run_dir, epochs: int = 1):
    """A real regression run: a Dense net trained (mse) to predict the digit as a value, its
    300 probe samples recorded; returns (perceiver, model, x, y)."""
    import numpy as np

    import nbperceive as nbp

    d = nbp.datasets.digits()
    x, y = d.x[:300].reshape(300, -1).astype(np.float32), d.y[:300].astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile("adam", "mse")
    p = nbp.Perceiver(model, probe=(x, y), run_dir=run_dir)
    model.fit(x, y, epochs=epochs, verbose=0, callbacks=[p.callback()])
    return p, model, x, y


LABEL_NAMES = ["small", "even", "loop"]  # digit < 5, even digit, digit with a loop


def digits_multilabel():
    """Digits with three independent labels (LABEL_NAMES) and a sigmoid CNN for them, not yet
    trained; returns (x, y multi-hot, model)."""
    import numpy as np

    import nbperceive as nbp

    d = nbp.datasets.digits()
    x = d.x[..., None].astype("float32")
    y = np.stack([d.y < 5, d.y % 2 == 0, np.isin(d.y, [0, 6, 8, 9])], 1).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(3, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    return x, y, model


class SubclassedNet(keras.Model):
    """A subclassed model: layers made in __init__, used in call (with a plain tf op)."""

    def __init__(self, classes=10, head_activation="softmax", **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(8, 3, activation="relu", padding="same", name="sub_conv")
        self.pool = keras.layers.GlobalAveragePooling2D(name="sub_gap")
        self.hidden = keras.layers.Dense(16, activation="relu", name="sub_hidden")
        self.head = keras.layers.Dense(classes, activation=head_activation, name="sub_head")

    def call(self, x, training=False):
        h = self.conv(x)
        h = keras.ops.relu(h - 0.01)  # an op that is no layer, between two layers
        return self.head(self.hidden(self.pool(h)))


def subclassed(classes=10) -> keras.Model:
    keras.utils.set_random_seed(1)
    model = SubclassedNet(classes, name="subnet")
    model(keras.ops.zeros((1, 8, 8, 1)))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def subclassed_in_functional(classes=10) -> keras.Model:
    """A subclassed model used as a layer of a Functional model."""
    keras.utils.set_random_seed(2)
    inner = SubclassedNet(16, head_activation="relu", name="inner_net")
    x = keras.Input((8, 8, 1), name="img")
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="stem")(x)
    out = keras.layers.Dense(classes, activation="softmax", name="outer_head")(inner(h))
    model = keras.Model(x, out, name="sub_in_func")
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


class HoldsFunctional(keras.Model):
    """A subclassed model whose feature extractor is a Functional block."""

    def __init__(self, classes=10, **kwargs):
        super().__init__(**kwargs)
        x = keras.Input((8, 8, 1))
        h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="blk_conv")(x)
        h = keras.layers.MaxPooling2D(name="blk_pool")(h)
        self.block = keras.Model(x, h, name="block")
        self.gap = keras.layers.GlobalAveragePooling2D(name="hf_gap")
        self.head = keras.layers.Dense(classes, activation="softmax", name="hf_head")

    def call(self, x):
        return self.head(self.gap(self.block(x)))


def holds_functional(classes=10) -> keras.Model:
    keras.utils.set_random_seed(3)
    model = HoldsFunctional(classes, name="holds_func")
    model(keras.ops.zeros((1, 8, 8, 1)))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def binary_mlp() -> keras.Model:
    """One sigmoid unit on flattened digits (is the digit < 5?)."""
    keras.utils.set_random_seed(4)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ], name="binary_mlp")
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model
