"""Run in a fresh process (logical devices must be set before TensorFlow initialises): a model
built and trained inside a two-replica MirroredStrategy is captured and explained like the same
weights without a strategy. Prints one JSON line of the differences."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import nbperceive as nbp  # noqa: E402


def build() -> keras.Model:
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.GlobalAveragePooling2D(name="gap"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ], name="mirrored")
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def main(out_dir: Path) -> dict:
    data = nbp.datasets.digits()
    x, y = data.x[..., None].astype(np.float32), data.y
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = build()
        perceiver = nbp.Perceiver(model, probe=(x[:128], y[:128]), run_dir=out_dir / "m")
        callback = perceiver.callback()
        model.fit(x[:256], y[:256], epochs=1, batch_size=64, verbose=0, callbacks=[callback])
        snap = perceiver.run.snapshot()
        grad = nbp.explain(model, x[:2], method="gradcam", labels=[0, 3])
        amax = nbp.explain(model, x[:1], method="activation_max", labels=[3], steps=3)
    plain = build()
    plain.set_weights(model.get_weights())
    ref = nbp.Perceiver(plain, probe=(x[:128], y[:128]), run_dir=out_dir / "p").capture()
    grad_ref = nbp.explain(plain, x[:2], method="gradcam", labels=[0, 3])
    amax_ref = nbp.explain(plain, x[:1], method="activation_max", labels=[3], steps=3)
    return {
        "replicas": strategy.num_replicas_in_sync,
        "failures": callback.failures,
        "epochs": perceiver.run.epochs,
        "vectors": float(np.abs(snap.vectors - ref.vectors).max()),
        "loss": float(np.abs(snap.table["loss"] - ref.table["loss"]).max()),
        "gradcam": float(np.abs(grad.heatmaps - grad_ref.heatmaps).max()),
        "gradcam_max": float(grad.heatmaps.max()),
        "activation_max": float(np.abs(amax.panels["images"] - amax_ref.panels["images"]).max()),
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print("RESULT " + json.dumps(main(Path(sys.argv[1] if len(sys.argv) > 1 else tmp))))
