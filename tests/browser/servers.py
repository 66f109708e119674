"""Real Jupyter servers for browser tests: Voila and JupyterLab on 127.0.0.1, always stopped.

Used through the fixtures in ``conftest.py``; importable on its own for benchmarks.

* :func:`write_notebook` writes a notebook from a list of code-cell sources.
* :class:`Server` starts ``sys.executable -m voila|jupyter lab`` on a free port, waits until it
  answers HTTP, and on exit stops it together with every kernel it started.
* :func:`lab_open_and_run` opens a notebook in JupyterLab, waits for the kernel to be idle and
  runs all cells; :func:`lab_eval` evaluates Python in that notebook's kernel and returns what it
  printed (stdout), so a test can read widget traits from the kernel.
* :func:`wait_for_file_json` polls a JSON file written by the kernel (the way to read traits back
  in Voila, which exposes no kernel API to the page): see :func:`trait_recorder_source`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import nbformat
import psutil

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_notebook(directory: Path, cells: list[str], name: str = "nb.ipynb") -> Path:
    """Write a Python 3 notebook whose code cells are ``cells``; return its path."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    path = Path(directory) / name
    nbformat.write(nb, path)
    return path


class Server:
    """A Jupyter server process (Voila or Lab) on 127.0.0.1; a context manager."""

    def __init__(self, argv: list[str], cwd: Path, port: int, env: dict[str, str] | None = None,
                 ready_path: str = "/", log_name: str = "server"):
        self.argv, self.cwd, self.port = argv, Path(cwd), port
        self.url = f"http://127.0.0.1:{port}"
        self.ready_path = ready_path
        self.env = {**os.environ, **(env or {})}
        self.log_path = Path(cwd) / f"{log_name}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[2]} exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2):
                    return
            except urllib.error.HTTPError:  # it answers: ready (e.g. 404 on a probe path)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"{self.argv[2]} did not answer in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM the server (it shuts its kernels down), then kill anything left of it."""
        if self.proc is None:
            return
        try:
            family = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for child in family:  # kernels run in their own sessions: end them one by one
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc = None
        self._log.close()


def voila_server(notebook: Path, timeout: float = 60, python: str | None = None,
                 preheat: bool = False) -> Server:
    """A (not yet started) Voila server for ``notebook``; open ``server.url + '/'``.

    ``python``: another environment's interpreter (benchmarks against other libraries).
    ``preheat``: Voila runs the notebook in a pooled kernel before anyone asks for the page
    (``--preheat_kernel``), as a deployed report would; the kernel a visit takes is not
    replaced for an hour (a test opens one page, and a second run of the notebook beside it
    would take a core from what is measured).
    """
    port = free_port()
    argv = [python or sys.executable, "-m", "voila", notebook.name, "--no-browser",
            f"--port={port}", "--Voila.ip=127.0.0.1",
            "--Voila.tornado_settings={'autoreload': False}"]
    if preheat:
        argv += ["--preheat_kernel=True", "--pool_size=1",
                 "--VoilaKernelManager.fill_delay=3600"]
    return Server(argv, notebook.parent, port, env=_jupyter_env(notebook.parent),
                  ready_path="/nbperceive-ready-probe", log_name="voila")


def lab_server(directory: Path) -> Server:
    """A (not yet started) JupyterLab server rooted at ``directory`` (token off, app exposed)."""
    port = free_port()
    argv = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
            f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
            "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
            "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--ServerApp.root_dir={directory}"]
    return Server(argv, directory, port, env=_jupyter_env(directory), ready_path="/api",
                  log_name="lab")


def _jupyter_env(directory: Path) -> dict[str, str]:
    state = Path(directory) / ".jupyter-state"
    for sub in ("runtime", "workspaces", "settings"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    news = state / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)  # no "get notified about news?" toast over widgets
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    return {
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "PYTHONUNBUFFERED": "1",
    }


def lab_open_and_run(page: Any, server: Server, notebook: str, timeout: float = 90) -> None:
    """Open ``notebook`` in Lab (fresh workspace), wait for an idle kernel, run all cells."""
    workspace = "w" + uuid.uuid4().hex[:10]
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{notebook}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout * 1000)
    page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for(timeout=timeout * 1000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


_LAB_EVAL_JS = """async (code) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, store_history: false, silent: false});
  let out = "";
  future.onIOPub = (msg) => {
    const t = msg.header.msg_type;
    if (t === "stream") out += msg.content.text;
    if (t === "error") out += "\\nKERNEL ERROR " + msg.content.ename + ": " + msg.content.evalue;
  };
  await future.done;
  return out;
}"""


def lab_eval(page: Any, code: str) -> str:
    """Run ``code`` in the kernel of the notebook open in Lab; return its stdout.

    Runs after any cells queued before it (the kernel executes requests in order).
    Raises AssertionError if the code raised.
    """
    out = page.evaluate(_LAB_EVAL_JS, code)
    assert "KERNEL ERROR" not in out, out
    return out


def lab_eval_json(page: Any, expr: str) -> Any:
    """Evaluate the Python expression ``expr`` in the Lab kernel and return it via JSON."""
    out = lab_eval(page, f"import json as _j; print(_j.dumps({expr}))")
    return json.loads(out.strip().splitlines()[-1])


def trait_recorder_source(widget: str, traits: list[str], path: Path) -> str:
    """Cell source that writes ``{trait: value}`` of ``widget`` to ``path`` on every change.

    For Voila, where the page cannot run kernel code: put this after the cell that creates the
    widget and read the file with :func:`wait_for_file_json`. Values must be JSON-able
    (numpy arrays are written as lists).
    """
    return (
        "import json as _j, pathlib as _p, numpy as _np\n"
        f"def _record(change=None, _w={widget}):\n"
        "    def _plain(v):\n"
        "        return v.tolist() if isinstance(v, _np.ndarray) else v\n"
        f"    data = {{t: _plain(getattr(_w, t)) for t in {traits!r}}}\n"
        f"    tmp = _p.Path({str(path)!r} + '.tmp')\n"
        "    tmp.write_text(_j.dumps(data))\n"
        f"    tmp.replace({str(path)!r})\n"
        f"{widget}.observe(_record, names={traits!r})\n"
        "_record()\n"
    )


def wait_for_file_json(path: Path, predicate=lambda data: True, timeout: float = 20) -> Any:
    """Poll ``path`` until it holds JSON for which ``predicate`` is true; return it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = json.loads(Path(path).read_text())
            if predicate(last):
                return last
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{path} never satisfied the condition; last content: {last!r}")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/NAME.png (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_error_events(page: Any) -> None:
    """Return once an image error event queued now has fired: by then an ``onerror`` that a
    page's markup (e.g. injected sample text) queued earlier has had its turn."""
    page.evaluate("""() => new Promise((done) => {
        const probe = new Image();
        probe.onerror = () => done();
        probe.src = "data:image/png;base64,broken";
    })""")


def wait_for_frames(page: Any, frames: int = 2) -> None:
    """Return after the page has painted ``frames`` more animation frames."""
    page.evaluate("""(n) => new Promise((done) => {
        const step = () => (n-- <= 0 ? done() : requestAnimationFrame(step));
        requestAnimationFrame(step);
    })""", frames)


def kernel_sees(eval_json: Any, expr: str, want: Any, timeout: float = 15.0) -> Any:
    """``expr`` evaluated in the kernel until it equals ``want`` (a change made in the page
    reaches the kernel a message later) or ``timeout`` seconds pass; returns the last value."""
    deadline = time.monotonic() + timeout
    while (got := eval_json(expr)) != want and time.monotonic() < deadline:
        pass  # each evaluation is a round trip to the kernel
    return got
