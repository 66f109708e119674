"""Fixtures for browser tests: real Debian Chromium (Playwright) against real Voila and Lab.

How to use (see tests/browser/test_population.py for examples)::

    pytestmark = pytest.mark.browser

    def test_x(page, voila, tmp_path):
        url = voila(["import nbperceive as nbp", "view = ...", "view"])   # serves, returns URL
        page.goto(url)

    def test_y(page, lab):
        lab(["...cells..."])             # opens the notebook in Lab, waits idle, runs all
        lab.eval_json("view.selected")   # evaluates Python in that kernel (see servers.lab_eval)

Another browser (other flags, e.g. no WebGL): ``launch_browser(["--disable-webgl"])``.

Reading traits back from the kernel:
* JupyterLab: ``lab.eval(code) -> stdout`` / ``lab.eval_json(expr) -> value`` send an
  execute request through ``window.jupyterapp`` (Lab runs with expose_app_in_browser).
* Voila: the page exposes no kernel API, so the notebook records traits itself: add the cell
  ``servers.trait_recorder_source("view", ["selected"], path)`` and poll the JSON file with
  ``servers.wait_for_file_json(path, predicate)``.

Servers listen on free ports on 127.0.0.1 only, are started with this interpreter
(``sys.executable -m voila`` / ``-m jupyter lab``) and are always stopped (with their kernels)
when the test ends. Screenshots go to test-artifacts/ via ``servers.screenshot(page, name)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import servers

# Playwright must never download its own browser; we always pass executable_path.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """The Playwright driver (sync API), one per session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def launch_browser(playwright: Any) -> Iterator[Any]:
    """``launch_browser(extra_args=[]) -> Browser``: another Chromium (e.g. without WebGL).

    Closed at the end of the session.
    """
    launched: list[Any] = []

    def launch(extra_args: list[str] | None = None) -> Any:
        b = playwright.chromium.launch(executable_path=servers.CHROMIUM, headless=True,
                                       args=servers.CHROMIUM_ARGS + list(extra_args or []))
        launched.append(b)
        return b

    yield launch
    for b in launched:
        b.close()


@pytest.fixture(scope="session")
def browser(launch_browser: Any) -> Any:
    """One headless Debian Chromium for the whole session (WebGL via SwiftShader)."""
    return launch_browser()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (1280x900). Console errors are kept in ``page.console_errors``.

    On failure a screenshot is saved to test-artifacts/<test name>-FAILED.png.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        try:
            servers.screenshot(pg, f"{request.node.name}-FAILED")
        except Exception:  # noqa: BLE001 - best effort only
            pass
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def voila(tmp_path: Path) -> Iterator[Any]:
    """``voila(cells, name="nb.ipynb") -> url``: write a notebook, serve it with Voila.

    The server (and the kernel of every page load) is stopped when the test ends.
    """
    started: list[servers.Server] = []

    def serve(cells: list[str], name: str = "nb.ipynb") -> str:
        nb = servers.write_notebook(tmp_path, cells, name)
        server = servers.voila_server(nb)
        started.append(server)
        server.start()
        return server.url + "/"

    yield serve
    for server in started:
        server.stop()


class LabSession:
    """A JupyterLab server in a temp dir plus helpers bound to one Playwright page."""

    def __init__(self, directory: Path, page: Any):
        self.directory, self.page = directory, page
        self.server: servers.Server | None = None

    def __call__(self, cells: list[str], name: str = "nb.ipynb", timeout: float = 90) -> None:
        """Write the notebook, open it in Lab, wait for an idle kernel, run all cells."""
        servers.write_notebook(self.directory, cells, name)
        if self.server is None:
            self.server = servers.lab_server(self.directory)
            self.server.start()
        servers.lab_open_and_run(self.page, self.server, name, timeout=timeout)

    def eval(self, code: str) -> str:
        """Run Python in the notebook's kernel; return its stdout."""
        return servers.lab_eval(self.page, code)

    def eval_json(self, expr: str) -> Any:
        """Evaluate a Python expression in the kernel; return its value (through JSON)."""
        return servers.lab_eval_json(self.page, expr)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def lab(tmp_path: Path, page: Any) -> Iterator[LabSession]:
    """A :class:`LabSession`: ``lab(cells)`` runs a notebook in real JupyterLab on ``page``."""
    session = LabSession(tmp_path, page)
    yield session
    session.stop()
