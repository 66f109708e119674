"""Integrated Gradients, Occlusion, RISE and the Deletion / Insertion / MuFidelity scores
against xplique on the same trained model, samples and maps.

xplique lives outside the project's environment (it needs tf-keras, which would replace
tensorflow-cpu): scripts/setup.sh installs it with --no-deps into XPLIQUE_TARGET
(default /opt/xplique-ref) and tests/attribution/xplique_side.py runs it in a subprocess.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

import nbperceive as nbp
from nbperceive.attribution.clone import linear_functional
from nbperceive.attribution.explain import engine_for
from nbperceive.attribution.faithfulness import Settings, subset_masks
from nbperceive.attribution.integrated_gradients import (
    FIRST_POINT,
    _PathGradients,
    trapezoid_weights,
)

from .conftest import cnn

TARGET = Path(os.environ.get("XPLIQUE_TARGET", "/opt/xplique-ref"))
SIDE = Path(__file__).with_name("xplique_side.py")
LABELS = [0, 2]
ZERO = {"baseline": 0.0}  # xplique's default baseline

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (TARGET / "xplique").is_dir(),
    reason=f"xplique reference target {TARGET} is missing: run scripts/setup.sh (it installs "
    "xplique with --no-deps there, outside .venv) or set XPLIQUE_TARGET",
)]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A CNN trained on digits 0-2 (upsampled to 16x16), 4 held-out samples, our results and
    xplique's on the same inputs."""
    digits = load_digits()
    keep = digits.target < 3
    x = np.kron(digits.images[keep] / 16.0, np.ones((2, 2)))[..., None].astype("float32")
    y = digits.target[keep]
    model = cnn(seed=5)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x[:-4], y[:-4], epochs=25, batch_size=32, verbose=0)
    xs = x[-4:]
    ours = {
        "ig": nbp.explain(model, xs, method="integrated_gradients", labels=LABELS, steps=32),
        "occlusion": nbp.explain(model, xs, method="occlusion", labels=LABELS, size=3,
                                 stride=3, **ZERO),
        "saliency": nbp.explain(model, xs, method="saliency", labels=LABELS),
    }
    predicted = model.predict(xs, verbose=0).argmax(-1)
    for key, seed in (("rise", 0), ("rise_redrawn", 1)):  # the second: Monte Carlo noise
        ours[key] = nbp.explain(model, xs, method="rise", labels=[0, 1, 2], n_masks=4000,
                                grid=7, keep=0.5, seed=seed, **ZERO)
    folder = tmp_path_factory.mktemp("xplique")
    model.save(folder / "softmax.keras")
    structure = engine_for(model, [xs], 0).structure
    linear_functional(model, structure).save(folder / "logits.keras")
    settings = Settings(n_subsets=200, **ZERO)
    np.savez(folder / "case.npz", x=xs, labels=np.array(LABELS), n_classes=3,
             predicted=predicted, maps=ours["saliency"].heatmaps[:, 0],
             subset_masks=subset_masks((16, 16), "image", settings))
    run = subprocess.run([sys.executable, str(SIDE), str(TARGET), str(folder)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = dict(np.load(folder / "xplique.npz"))
    return model, xs, ours, theirs


def test_integrated_gradients_equal_xplique(case):
    """Same trapezoid rule on the same 32 points, except that we take the first point at
    a = 1e-4 instead of 0 (at the all-zero input every max-pool window is a tie, so the
    gradient there is degenerate). Put xplique's first point back and the two are equal."""
    model, xs, ours, theirs = case
    engine = engine_for(model, [xs], 0)
    at_zero, _ = engine.run(_PathGradients(), [np.zeros_like(xs)], LABELS)
    near_zero, _ = engine.run(_PathGradients(), [FIRST_POINT * xs], LABELS)
    endpoint = trapezoid_weights(32)[0] * xs[:, None, :, :, 0] * (at_zero - near_zero)[:, 0]
    for ki, k in enumerate(LABELS):
        got, want = ours["ig"].panels["signed"][:, ki], theirs[f"ig_{k}"]
        top = np.abs(want).max()
        assert top > 1e-3
        np.testing.assert_allclose(got + endpoint[:, ki], want, atol=1e-5 * top + 1e-7)
        np.testing.assert_allclose(ours["ig"].heatmaps[:, 0, ki], np.maximum(got, 0))


def test_occlusion_equals_xplique(case):
    _, _, ours, theirs = case
    for ki, k in enumerate(LABELS):
        got, want = ours["occlusion"].panels["signed"][:, ki], theirs[f"occlusion_{k}"]
        assert np.abs(want).max() > 1e-3
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_rise_agrees_with_xplique_up_to_monte_carlo_noise(case):
    """Both draw 4,000 random masks (different draws; xplique crops each batch of masks at
    one shared offset, here 80 batches of 50; at 8 batches of 500 its correlation with ours
    falls to 0.89 on one sample): the maps estimate the same quantity. Ours is stable under
    another draw of masks, so what differs from xplique is its estimator's noise."""
    _, _, ours, theirs = case
    rows = np.arange(4), 0, theirs["predicted"]  # each sample's class
    got, redrawn, want = ours["rise"].heatmaps[rows], ours["rise_redrawn"].heatmaps[rows], \
        theirs["rise"]

    def corr(a, b):
        return np.array([np.corrcoef(g.ravel(), w.ravel())[0, 1] for g, w in zip(a, b)])

    with_theirs, noise = corr(got, want), corr(got, redrawn)
    print("RISE correlation per sample, with xplique:", with_theirs.round(3),
          "with another draw of ours:", noise.round(3))
    assert noise.min() > 0.95  # 4,000 masks make a stable estimate
    assert with_theirs.min() > 0.9
    assert np.abs(got - want).max() < 0.15 * want.max()


@pytest.mark.parametrize("metric", ["deletion", "insertion", "mufidelity"])
def test_faithfulness_scores_equal_xplique(case, metric):
    _, xs, ours, theirs = case
    e = ours["saliency"]
    maps = e.heatmaps[:, 0]
    assert all(len(np.unique(m)) == m.size for m in maps.reshape(-1, 256)), "no ties in order"
    got = e.scores(metric, depth=0, n_subsets=200, **ZERO)  # (N, K)
    want = np.array([[theirs[f"{metric}_{i}_{k}"] for k in LABELS] for i in range(len(xs))])
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.ptp(want) > 0.01, "the samples and labels score differently"
    if metric != "mufidelity":
        for i in range(len(xs)):
            for k in LABELS:
                np.testing.assert_allclose(e.curve(metric, i, 0, k, **ZERO),
                                           theirs[f"{metric}_curve_{i}_{k}"], atol=1e-5)
