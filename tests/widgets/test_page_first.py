"""The page draws first: background jobs queued by a notebook cell wait for the cell to end,
then for every displayed view's first frame (the page sets ``painted``), a few seconds at most.

A real IPython shell in a fresh interpreter runs the cells (a notebook kernel's post_execute);
no page: the test sets ``painted`` as the page does.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import nbperceive as nbp
from nbperceive.projection import background

SHELL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
for code in json.loads(sys.argv[1]):
    result = shell.run_cell(code)
    assert result.success, result.error_in_exec or result.error_before_exec
"""

FIRST_CELL = """
import time, numpy as np, pandas as pd, nbperceive as nbp
from nbperceive.projection import background
background.PAGE_WAIT = {wait}
ran = []
df = pd.DataFrame({{"x": np.arange(10.0), "y": np.arange(10.0), "loss": np.ones(10)}})
view = nbp.PopulationView(df)
job = background.submit(("page-first", {wait}), "a test job",
                        lambda handle: ran.append(time.monotonic()) or "done")
# the cell goes on: the job waits for it to end
while job.stage != "waiting for the notebook cell that queued it to end":
    time.sleep(0.01)
assert not ran
view  # the cell's result: displayed as it ends
"""

PAINT = """
while job.stage != "waiting for the page to draw the points first":
    time.sleep(0.01)
assert not ran  # the page has not drawn the view yet
painted_at = time.monotonic()
view.painted = 10  # what the page sets after its first frame
"""

HEADLESS = """
painted_at = None  # no page ever comes: the job runs once the wait runs out
"""

LAST_CELL = """
assert job.result(timeout=30) == "done"
print("ran", ran[0] - painted_at if painted_at else "unpainted")
"""


def _run(wait: float, after: str) -> str:
    cells = [FIRST_CELL.format(wait=wait), after + LAST_CELL]
    out = subprocess.run([sys.executable, "-c", SHELL, json.dumps(cells)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_a_job_waits_for_its_cell_then_for_the_page_to_draw():
    out = _run(60.0, PAINT)  # a minute's cap: only the page's frame can release it in time
    assert float(out.split("ran ")[1]) >= 0  # after the page drew the view


def test_with_no_page_the_job_runs_once_the_wait_runs_out():
    assert "ran unpainted" in _run(0.5, HEADLESS)


def test_outside_a_notebook_jobs_do_not_wait():
    view = nbp.PopulationView(pd.DataFrame({"x": np.arange(5.0), "y": np.arange(5.0)}))
    try:
        assert background.pages_awaited() == 0
        job = background.submit(("page-first", "script"), "a script's job", lambda h: 7)
        assert job.result(timeout=30) == 7
        # a display outside IPython (a widget shown by hand) still waits for that view
        view._repr_mimebundle_()
        assert background.pages_awaited() == 1
        view.painted = 5
        assert background.pages_awaited() == 0
    finally:
        view.close()


KERNEL_SETUP = """
import time
from comm import get_comm_manager
from nbperceive.projection import background
background.PAGE_WAIT = 60.0  # longer than the check below waits
jobs, outside_a_cell = [], []

def on_open(comm, msg):
    @comm.on_msg
    def asked(msg):  # what a view does when the page asks for another layout
        outside_a_cell.append(background.cell_finished().is_set())
        jobs.append(background.submit(("from-the-page",), "a job the page asked for",
                                      lambda handle: "done"))

get_comm_manager().register_target("nbp-page-first-test", on_open)
"""


def test_a_job_the_page_asks_for_does_not_wait_for_a_cell():
    """A widget message (a layout switched in the page) runs outside any cell: its job starts
    at once, in a real kernel."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        assert kc.execute_interactive(KERNEL_SETUP, timeout=120)["content"]["status"] == "ok"
        for msg_type, content in (
                ("comm_open", {"comm_id": "c1", "target_name": "nbp-page-first-test",
                               "data": {}}),
                ("comm_msg", {"comm_id": "c1", "data": {}})):
            kc.shell_channel.send(kc.session.msg(msg_type, content))
        # the kernel handles the messages in order: the job was queued before this cell; no
        # cell ran while the page's message was handled, so the job waited for none
        out: list[str] = []
        reply = kc.execute_interactive(
            "print(outside_a_cell, jobs[0].result(timeout=20))", timeout=120,
            output_hook=lambda m: out.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
        assert "".join(out).strip() == "[True] done"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="a thread has a priority of its own on Linux only")
def test_background_jobs_yield_the_cores_to_the_kernel_and_the_page():
    """The worker thread runs below the kernel's main thread (the threads and processes it
    starts too, the worker process at NICENESS, not lowered twice): on a busy machine a
    click's round trip does not queue behind the label-error ranking."""
    import os
    import threading

    from nbperceive.projection import worker

    def priority(_handle):
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    ran = background.submit(("priority",), "reads its own priority", priority).result(30)
    assert ran == max(main, worker.NICENESS)  # 10 under a kernel at 0
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main  # unchanged
    child = subprocess.run([sys.executable, "-c", "import nbperceive.projection.worker as w, os;"
                            " w.lower_priority(); print(os.getpriority(os.PRIO_PROCESS, 0))"],
                           capture_output=True, text=True, check=True)
    assert int(child.stdout) == max(main, worker.NICENESS)
