"""Zoo fixtures: digits (and movie-review sentences for the string model), and the model x step
table every zoo test fills in, written at the end of the session (printed by tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

from nbperceive import datasets

from . import table


@pytest.fixture(scope="session")
def zoo_digits():
    data = datasets.digits()
    return data.x[..., None].astype(np.float32), data.y


@pytest.fixture(scope="session")
def zoo_reviews():
    data = datasets.movie_reviews()
    texts = np.asarray(data.x, dtype=object)  # Keras fit takes str objects, not numpy "<U"
    return texts[:1200], data.y[:1200]


def pytest_sessionfinish(session):
    """Keep the table as an artefact; under pytest-xdist the worker that ran the zoo writes it
    and the controller prints it (tests/conftest.py)."""
    if table.RESULTS:
        table.ARTEFACT.parent.mkdir(exist_ok=True)
        table.ARTEFACT.write_text(table.render() + "\n", encoding="utf-8")
