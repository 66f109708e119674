"""Shared test setup: quiet TensorFlow, one seed, and the order modules start in.

scripts/test.sh runs the suite on pytest-xdist workers with ``--dist loadfile``: each module
runs whole on one worker, so its module- and session-scoped fixtures (recorded runs, Voila and
JupyterLab servers) are made once. The slowest modules start first, so no worker is left with
a long one at the end.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYTHONHASHSEED", "0")

# the slowest modules of a whole run (pytest --durations), longest first
SLOWEST_FIRST = ["test_binder.py", "zoo/test_zoo.py", "test_notebooks.py",
                 "browser/test_explorer_lab.py", "browser/test_voila_report.py",
                 "browser/test_report.py", "attribution/test_xplique_reference.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        name = Path(str(item.fspath)).relative_to(here).as_posix()
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order inside a module and among the rest is kept


def pytest_configure(config: pytest.Config) -> None:
    config.started = time.time()  # an artefact older than this run is not this run's


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The model zoo's model x step table, written by the process that ran tests/zoo (a
    pytest-xdist worker, which prints nothing of its own)."""
    from zoo.table import ARTEFACT

    if ARTEFACT.exists() and ARTEFACT.stat().st_mtime >= terminalreporter.config.started:
        terminalreporter.write_sep("=", "model zoo: model x step")
        terminalreporter.write_line(ARTEFACT.read_text(encoding="utf-8").rstrip())
