"""Real data for the core tests: scikit-learn digits (fast) and MNIST-5k."""

from __future__ import annotations

import numpy as np
import pytest

from nbperceive import datasets


@pytest.fixture(scope="session")
def digits():
    data = datasets.digits()
    return data.x[..., None], data.y


@pytest.fixture(scope="session")
def mnist_5k():
    data = datasets.mnist()  # offline: 5,000 images sorted by class, so shuffle
    order = np.random.default_rng(0).permutation(len(data.y))[:5000]
    x = (data.x[order].astype(np.float32) / 255.0)[..., None]
    return x, data.y[order]
