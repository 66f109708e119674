"""The xplique side of tests/attribution/test_xplique_reference.py, run in a subprocess.

xplique needs tf-keras, which must not enter the project's environment, so it lives in a
separate target (scripts/setup.sh installs it into /opt/xplique-ref) that only this process
puts on its path. Usage: python xplique_side.py TARGET DIR; reads DIR/case.npz and the two
models DIR/softmax.keras and DIR/logits.keras, writes DIR/xplique.npz.
"""

import sys

sys.path.insert(0, sys.argv[1])

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from xplique.attributions import IntegratedGradients, Occlusion, Rise  # noqa: E402
from xplique.metrics import Deletion, Insertion, MuFidelity  # noqa: E402

folder = sys.argv[2]
case = dict(np.load(f"{folder}/case.npz"))
softmax = keras.models.load_model(f"{folder}/softmax.keras")
logits = keras.models.load_model(f"{folder}/logits.keras")
x, labels, n_classes = case["x"], case["labels"], int(case["n_classes"])
n = len(x)
out = {}


def onehot(k, count):
    return np.eye(n_classes, dtype=np.float32)[[int(k)] * count]


for k in labels:
    ig = IntegratedGradients(logits, steps=32, baseline_value=0.0, batch_size=256)
    out[f"ig_{k}"] = np.asarray(ig.explain(x, onehot(k, n)))[..., 0]
    occ = Occlusion(softmax, patch_size=3, patch_stride=3, occlusion_value=0.0, batch_size=256)
    out[f"occlusion_{k}"] = np.asarray(occ.explain(x, onehot(k, n)))[..., 0]
predicted = case["predicted"]
out["predicted"] = predicted
tf.random.set_seed(0)
# xplique crops each batch of masks at one shared offset: batches of 50 give 80 offsets
rise = Rise(softmax, nb_samples=4000, grid_size=7, preservation_probability=0.5,
            mask_value=0.0, batch_size=50)
out["rise"] = np.asarray(rise.explain(x, np.eye(n_classes, dtype=np.float32)[predicted]))[..., 0]

maps, masks = case["maps"], case["subset_masks"]  # (N, K, H, W), (S, H, W)


class SameSubsets(MuFidelity):
    """xplique's MuFidelity with the random subsets nbperceive drew (same draws, same score)."""

    def _perturb_samples(self, inputs, nb_perturbations):
        keep = tf.constant(masks[:nb_perturbations, :, :, None])
        subset = tf.repeat(keep[tf.newaxis], repeats=inputs.shape[0], axis=0)
        repeated = tf.repeat(inputs[:, tf.newaxis], repeats=nb_perturbations, axis=1)
        perturbed = repeated * subset + (1.0 - subset) * self.baseline_mode
        return tf.reshape(perturbed, (-1, *self.inputs.shape[1:])), subset


for i in range(n):
    for ki, k in enumerate(labels):
        xi, yi, phi = x[i : i + 1], onehot(k, 1), maps[i : i + 1, ki]
        for name, cls in (("deletion", Deletion), ("insertion", Insertion)):
            metric = cls(softmax, xi, yi, steps=10, baseline_mode=0.0, batch_size=64)
            out[f"{name}_{i}_{k}"] = np.float32(metric.evaluate(phi))
            out[f"{name}_curve_{i}_{k}"] = np.asarray(
                list(metric.detailed_evaluate(phi).values()), np.float32)
        mu = SameSubsets(softmax, xi, yi, grid_size=9, subset_percent=0.2, baseline_mode=0.0,
                         nb_samples=len(masks), batch_size=len(masks))
        out[f"mufidelity_{i}_{k}"] = np.float32(mu.evaluate(phi))
np.savez(f"{folder}/xplique.npz", **out)
