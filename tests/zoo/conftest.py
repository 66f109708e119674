"""Zoo fixtures: digits (and movie-review sentences for the string model), and the model x step
table every zoo test fills in, printed at the end of the session."""

from __future__ import annotations

from pathlib import Path

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


TABLE = Path(__file__).resolve().parents[2] / "test-artifacts" / "zoo-table.txt"


def pytest_sessionfinish(session):
    """Keep the table as an artefact; under pytest-xdist the worker that ran the zoo writes it
    and the controller prints it."""
    if table.RESULTS:
        TABLE.parent.mkdir(exist_ok=True)
        TABLE.write_text(table.render() + "\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter):
    started = getattr(terminalreporter, "_sessionstarttime", 0.0)
    if TABLE.exists() and TABLE.stat().st_mtime >= started:
        terminalreporter.write_sep("=", "model zoo: model x step")
        terminalreporter.write_line(TABLE.read_text(encoding="utf-8").rstrip())
