"""Class-model visualisation: regularised activation maximisation (Simonyan et al. 2014,
with the regularisers of Olah et al. 2017, "Feature Visualization", and Lucid).

For each explained label ``k`` an input is optimised (Adam, ``steps`` steps, one compiled
``tf.function`` step for all samples x labels at once) to maximise the label's
*log-probability* ``z_k - logsumexp(z)`` (``score="log_prob"``, so other classes are pushed
down too; ``"logit"`` maximises ``z_k`` alone) minus penalties:

* **low-frequency parameterisation** (``parameterization="fourier"``): the image is the inverse
  real FFT of a spectrum whose coefficients are scaled by ``1 / frequency ** decay``, so
  gradient steps move smooth strokes, not single pixels; then squashed by a sigmoid into the
  input range ``[min(x), max(x)]`` (``"pixel"``: one free value per pixel);
* **jitter**: the image is rolled by a random shift of up to ``jitter`` pixels before each
  step (the class model must work at any small offset);
* **blur** (pixel parameterisation only; the Fourier one is smooth already): every
  ``blur_every`` steps the parameters are pulled halfway towards a 3x3 box-filtered copy;
* **total variation** (``tv_weight``) and **L2** (``l2_weight``, towards the input's minimum,
  i.e. the dark background of digits) penalties, on the image scaled to [0, 1].

The optimisation starts from each sample of ``x``; pass ``np.zeros_like(x[:1])`` for the
classic class model. ``heatmaps[n, 0, k]`` is the result (channel mean, scaled to [0, 1]),
``panels["images"]`` the raw optimised inputs ``(N, K, *input_shape)`` and
``panels["probabilities"]`` ``(N, K)`` the model's probability of label k for its class model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from ..errors import ModelError
from .base import Method
from .clone import linear_functional, outside_strategy

if TYPE_CHECKING:
    from .engine import Engine
    from .result import Explanation


def spectrum_scale(h: int, w: int, decay: float) -> np.ndarray:
    """(h, w // 2 + 1) amplitude of each rfft2 coefficient: 1 / frequency ** decay."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    freq = np.sqrt(fx**2 + fy**2)
    return (1.0 / np.maximum(freq, 1.0 / max(h, w)) ** decay).astype(np.float32)


class _Image:
    """Parameters -> images (B, H, W, C) in [0, 1] (before the input range is applied)."""

    def __init__(self, start: np.ndarray, fourier: bool, decay: float, seed: int) -> None:
        b, h, w, c = start.shape
        self.shape, self.fourier = (b, h, w, c), fourier
        rng = np.random.default_rng(seed)
        base = np.clip(start, 0.05, 0.95)
        self.base = tf.constant(np.log(base / (1 - base)), tf.float32)  # logit of the start
        if fourier:
            self.scale = tf.constant(spectrum_scale(h, w, decay)[None, None] * np.sqrt(h * w))
            raw = rng.normal(0, 0.01, (b, c, h, w // 2 + 1, 2))
        else:
            raw = rng.normal(0, 0.01, (b, h, w, c))
        self.raw = tf.Variable(raw.astype(np.float32))

    def __call__(self) -> tf.Tensor:
        if self.fourier:
            _, h, w, _ = self.shape
            spectrum = tf.complex(self.raw[..., 0], self.raw[..., 1]) * tf.cast(
                self.scale, tf.complex64)
            delta = tf.signal.irfft2d(spectrum, fft_length=[h, w]) / 4.0  # (B, C, H, W)
            delta = tf.transpose(delta, [0, 2, 3, 1])
        else:
            delta = self.raw
        return tf.sigmoid(self.base + delta)


class ActivationMax(Method):
    name = "activation_max"
    layerwise = False
    input_kinds = ("image", "vector")
    heatmap = False  # an optimised input per label, not a map of the sample

    def __init__(
        self,
        steps: int = 256,
        learning_rate: float = 0.05,
        parameterization: str = "fourier",
        decay: float = 1.0,
        jitter: int = 1,
        blur_every: int = 8,
        tv_weight: float = 0.5,
        l2_weight: float = 0.05,
        score: str = "log_prob",
        seed: int = 0,
    ) -> None:
        if parameterization not in ("fourier", "pixel"):
            raise ModelError("activation_max parameterization must be 'fourier' or 'pixel'")
        if score not in ("log_prob", "logit"):
            raise ModelError("activation_max score must be 'log_prob' or 'logit'")
        if int(steps) < 1:
            raise ModelError("activation_max needs steps >= 1")
        self.steps, self.learning_rate = int(steps), float(learning_rate)
        self.parameterization, self.decay = parameterization, float(decay)
        self.jitter, self.blur_every = int(jitter), int(blur_every)
        self.tv_weight, self.l2_weight = float(tv_weight), float(l2_weight)
        self.score, self.seed = score, int(seed)

    def explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        return outside_strategy(self._explain, engine, xs, labels)

    def _explain(self, engine: Engine, xs: list[Any], labels: list[int]) -> Explanation:
        self.check_input(engine)
        s = engine.structure
        model = linear_functional(engine.model, s)
        x = xs[s.input_index].astype(np.float32)
        lo, hi = float(x.min()), float(x.max())
        if hi <= lo:  # a constant start (e.g. zeros): optimise in [lo, lo + 1]
            hi = lo + 1.0
        n, k = len(x), len(labels)
        picture = x.reshape(n, *s.input_axes, -1) if s.input_kind == "image" else \
            x.reshape(n, 1, x.shape[1], 1)
        start = np.repeat((picture - lo) / (hi - lo), k, axis=0)  # (N*K, H, W, C)
        fourier = self.parameterization == "fourier" and s.input_kind == "image"
        image = _Image(start, fourier, self.decay, self.seed)
        targets = tf.constant(np.tile(np.asarray(labels, np.int32), n))
        others = [tf.constant(np.repeat(a, k, axis=0)) for a in xs]  # fixed other inputs
        final = self._optimise(model, image, targets, x.shape[1:], lo, hi, others,
                               s.input_index)
        images = (lo + (hi - lo) * final).reshape(n, k, *x.shape[1:]).astype(np.float32)
        scaled = final.reshape(n, k, *final.shape[1:]).mean(axis=-1)
        if s.input_kind != "image":
            scaled = scaled.reshape(n, k, *s.input_axes)
        low = scaled.min(axis=(2, 3) if scaled.ndim == 4 else 2, keepdims=True)
        span = scaled.max(axis=(2, 3) if scaled.ndim == 4 else 2, keepdims=True) - low
        heat = ((scaled - low) / np.where(span > 0, span, 1.0))[:, None]
        batch = [np.repeat(a, k, axis=0) for a in xs]
        batch[s.input_index] = images.reshape(n * k, *x.shape[1:])
        own = engine.probabilities(batch)
        own = own[np.arange(n * k), np.tile(labels, n)].reshape(n, k)
        return engine.explanation(
            self, heat.astype(np.float32), engine.probabilities(xs), labels,
            layers=[s.output_layer], depths=[s.output_depth],
            panels={"images": images, "probabilities": own.astype(np.float32)},
        )

    def _optimise(self, model: Any, image: _Image, targets: tf.Tensor, input_shape: tuple,
                  lo: float, hi: float, others: list, index: int) -> np.ndarray:
        var = image.raw
        m, v = tf.Variable(tf.zeros_like(var)), tf.Variable(tf.zeros_like(var))
        lr, b1, b2 = self.learning_rate, 0.9, 0.999
        is_2d = image.shape[1] > 1 and len(input_shape) >= 2
        jitter, log_prob = self.jitter if is_2d else 0, self.score == "log_prob"
        tv_w, l2_w = self.tv_weight, self.l2_weight
        box = tf.ones((3, 3, image.shape[3], 1)) / 9.0

        def as_input(img: tf.Tensor) -> Any:
            inputs = list(others)
            inputs[index] = tf.reshape(lo + (hi - lo) * img, (-1, *input_shape))
            return inputs if len(inputs) > 1 else inputs[0]

        @tf.function(autograph=False, reduce_retracing=True)
        def step(t: tf.Tensor, shift: tf.Tensor) -> None:
            with tf.GradientTape() as tape:
                img = image()
                moved = tf.roll(img, shift, axis=[1, 2]) if jitter else img
                z = model(as_input(moved), training=False)
                own = tf.gather(z, targets, axis=1, batch_dims=1)
                if log_prob:
                    own = own - tf.reduce_logsumexp(z, axis=-1)
                tv = tf.reduce_mean(tf.abs(img[:, 1:] - img[:, :-1])) if is_2d else 0.0
                if is_2d:
                    tv += tf.reduce_mean(tf.abs(img[:, :, 1:] - img[:, :, :-1]))
                loss = -tf.reduce_mean(own) + tv_w * tv + l2_w * tf.reduce_mean(img**2)
            g = tape.gradient(loss, var)
            m.assign(b1 * m + (1 - b1) * g)
            v.assign(b2 * v + (1 - b2) * g * g)
            mh, vh = m / (1 - b1**t), v / (1 - b2**t)
            var.assign_sub(lr * mh / (tf.sqrt(vh) + 1e-8))

        @tf.function(autograph=False)
        def blur() -> None:  # pull the parameters towards a smoothed image (pixel param only)
            smooth = tf.nn.depthwise_conv2d(var, box, [1, 1, 1, 1], "SAME")
            var.assign(0.5 * var + 0.5 * smooth)

        rng = np.random.default_rng(self.seed)
        for t in range(1, self.steps + 1):
            shift = rng.integers(-jitter, jitter + 1, 2) if jitter else np.zeros(2, int)
            step(tf.constant(float(t)), tf.constant(shift, tf.int32))
            if (self.blur_every and is_2d and not image.fourier and t % self.blur_every == 0
                    and t < self.steps):
                blur()
        return image().numpy()


def class_mean_correlations(models: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(K, C) Pearson correlation of each class model ``models[k]`` with the mean image of
    each class ``c`` of the samples ``x`` (labels ``y``): a class model that shows what the
    model looks for is closest to its own class's mean (row k peaks at column k)."""
    classes = np.unique(y)
    means = np.stack([x[y == c].reshape(-1, *x.shape[1:]).mean(0).ravel() for c in classes])
    flat = models.reshape(len(models), -1).astype(np.float64)
    a = flat - flat.mean(1, keepdims=True)
    b = means - means.mean(1, keepdims=True)
    den = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :]
    return (a @ b.T / np.where(den > 0, den, 1.0)).astype(np.float32)
