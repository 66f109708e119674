"""A child process for the GIL-holding analyses: UMAP and t-SNE fits, NN-descent graphs.

numba compiles UMAP's and pynndescent's code on their first use in a process and holds the GIL
while it does (stalls of seconds measured on the kernel's main thread, even with the work on a
background thread); openTSNE's gradient steps hold it too. So these run in one long-lived
child process per kernel, started on first use, that keeps its compiled code for the next
job; the kernel only waits on a pipe.

Protocol: one JSON object per line. The parent writes ``{"op", "args"}`` to the child's stdin;
the child answers on its own copy of stdout (its ``sys.stdout`` goes to stderr, so a library's
prints cannot break the protocol) with ``{"progress", "stage"}`` lines and then one
``{"done": result}`` or ``{"error", "type"}``. A progress callback returning True (cancel)
ends the child mid-job (the next job starts a new one) and raises ``fit._Cancelled``. Arrays
never travel through the pipe: the child reads the run directory, writes its results there
(the same atomic ``.npy`` caches as in process), and bare arrays (``embed``) go through
``.npy`` files in a temporary directory. No pickle anywhere.

The child is started with ``sys.executable -m nbperceive.projection.worker`` (not a fork: the
kernel may hold TensorFlow's threads), with TensorFlow blocked so ``import umap`` does not pull
it in (it would for ParametricUMAP: 4.5 s, 0.5 GB). It exits when the kernel closes its stdin
(at exit, or when the kernel dies). It runs at a lower priority (``NICENESS``), so clicks in
the page and the kernel answering them do not queue behind a fit for the CPU.

``ENABLED = False`` (module attribute) runs everything in the calling process instead, as
before (the benchmark measures both).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import errors

ENABLED = True
# the child's scheduling priority below the kernel's: on a busy machine (a 2-core laptop, a
# Binder pod) the pages and the kernel answering them come first, the background fit after
NICENESS = 10
_CHILD_ENV = "NBPERCEIVE_WORKER_PROCESS"
warmed = False  # a UMAP fit finished in the worker process (its numba code is compiled)


def in_child() -> bool:
    """True inside the worker process."""
    return os.environ.get(_CHILD_ENV) == "1"


def active() -> bool:
    """Whether numba-heavy work should go to the worker process from here."""
    return ENABLED and not in_child()


def jsonable(params: dict[str, Any]) -> bool:
    """Whether ``params`` survive JSON unchanged (arrays, callables: run in process)."""
    try:
        return json.loads(json.dumps(params)) == params
    except (TypeError, ValueError):
        return False


class _Child:
    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        src = str(Path(__file__).resolve().parents[2])  # the folder holding nbperceive/
        env = dict(os.environ)
        env[_CHILD_ENV] = "1"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return subprocess.Popen(
            [sys.executable, "-m", "nbperceive.projection.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env, text=True, bufsize=1)

    def call(self, op: str, args: dict[str, Any],
             progress: Callable[[float, str | None], bool | None] | None) -> Any:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self.proc = self._start()
            proc = self.proc
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
                proc.stdin.flush()
            except OSError:
                pass  # died: reported below, from its exit code
            for line in proc.stdout:  # a blocking read releases the GIL
                msg = json.loads(line)
                if "progress" in msg:
                    if progress is not None and progress(float(msg["progress"]),
                                                         msg.get("stage")):
                        proc.kill()  # cancelled: the job has no other way to stop
                        self.close()
                        from .fit import _Cancelled

                        raise _Cancelled
                elif "done" in msg:
                    return msg["done"]
                else:
                    kind = getattr(errors, msg.get("type", ""), None)
                    if not (isinstance(kind, type) and issubclass(kind, errors.NbPerceiveError)):
                        kind = errors.ProjectionError
                    raise kind(msg["error"])
            code = proc.wait()
            self.proc = None
            raise errors.ProjectionError(
                f"the nbperceive worker process ended (exit code {code}) during {op}, e.g. "
                "out of memory; its output is in the kernel's log. Try again, or set "
                "nbperceive.projection.worker.ENABLED = False to run in the kernel.")

    def close(self) -> None:
        """End the child: EOF ends it between jobs; one still working is killed."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_child = _Child()
atexit.register(_child.close)


def call(op: str, progress: Callable[[float, str | None], bool | None] | None = None,
         **args: Any) -> Any:
    """Run ``op`` (see ``_OPS``) in the worker process, waiting for it; ``progress(fraction,
    stage)`` receives its reports (True back cancels). Its errors are raised here with their
    nbperceive type."""
    global warmed
    out = _child.call(op, args, progress)
    if op in ("layout", "embed") and args.get("method") == "umap":
        warmed = True
    return out


# --- the child's side ------------------------------------------------------------------------


def _layout(report: Callable[[float, str | None], None], run: str, epoch: int, method: str,
            layer: str | None, recompute: bool, params: dict[str, Any]) -> str:
    from .runs import cache_name, project_run

    project_run(run, epoch, method, layer, recompute=recompute,
                report=lambda f, stage=None: report(f, stage) or False, **params)
    from ..store import epoch_dirname

    return str(Path(run) / epoch_dirname(epoch) / cache_name(method, layer, **params))


def _graph(report: Callable[[float, str | None], None], run: str, epoch: int,
           layer: str | None, k: int, pre_dims: int | None, method: str,
           recompute: bool) -> str:
    from ..neighbours import run_graph
    from ..store import Run

    return run_graph(Run(run), epoch, layer, k=k, pre_dims=pre_dims, method=method,
                     recompute=recompute).method


def _embed(report: Callable[[float, str | None], None], folder: str, method: str,
           params: dict[str, Any]) -> None:
    from .fit import embed

    path = Path(folder)
    init = np.load(path / "init.npy", allow_pickle=False) if (path / "init.npy").is_file() \
        else None
    out = embed(np.load(path / "x.npy", allow_pickle=False), method, init=init,
                report=lambda f: report(f) or False, **params)
    np.save(path / "out.npy", out, allow_pickle=False)


_OPS = {"layout": _layout, "graph": _graph, "embed": _embed}


def embed_in_child(x: np.ndarray, method: str, init: np.ndarray | None,
                   params: dict[str, Any],
                   progress: Callable[[float, str | None], bool | None] | None = None
                   ) -> np.ndarray:
    """:func:`nbperceive.projection.embed` in the worker process (arrays through .npy files)."""
    with tempfile.TemporaryDirectory(prefix="nbp-embed-") as folder:
        np.save(Path(folder) / "x.npy", np.asarray(x, np.float32), allow_pickle=False)
        if init is not None:
            np.save(Path(folder) / "init.npy", np.asarray(init, np.float32), allow_pickle=False)
        call("embed", progress, folder=folder, method=method, params=params)
        return np.load(Path(folder) / "out.npy", allow_pickle=False)


def lower_priority() -> None:
    """The calling thread (and the threads and processes it starts) at ``NICENESS`` or
    below; on Linux a thread has a priority of its own, elsewhere the process has one (not on
    Windows: there it runs at the kernel's priority)."""
    if hasattr(os, "setpriority"):  # absolute: a worker started by a lowered thread stays 10
        if sys.platform.startswith("linux"):
            me = threading.get_native_id()
        elif threading.current_thread() is threading.main_thread():
            me = 0  # the whole process: only a process of its own (the worker) lowers it
        else:
            return
        try:
            os.setpriority(os.PRIO_PROCESS, me, max(os.getpriority(os.PRIO_PROCESS, me),
                                                    NICENESS))
        except OSError:
            pass


def main() -> None:
    """The worker process's loop (``python -m nbperceive.projection.worker``)."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # prints of the libraries go to stderr, not into the protocol
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]  # umap: no TF
    lower_priority()

    def send(msg: dict[str, Any]) -> None:
        proto.write(json.dumps(msg) + "\n")

    def report(fraction: float, stage: str | None = None) -> None:
        send({"progress": fraction, "stage": stage})

    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = _OPS[request["op"]](report, **request["args"])
        except Exception as err:  # to the parent, with its type when it is ours
            send({"error": str(err), "type": type(err).__name__})
        else:
            send({"done": result})


if __name__ == "__main__":
    main()
