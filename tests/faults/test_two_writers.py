"""One writer per run: a second process is refused with the holder's pid, readers stay free,
and the lock dies with its holder (kill -9 included)."""

from __future__ import annotations

import os
import signal

import pytest

import nbperceive as nbp

from .conftest import spawn, wait_for_line

HOLDER = """
    import sys
    import numpy as np
    import nbperceive as nbp
    from faults.models import named_cnn
    d = nbp.datasets.digits()
    p = nbp.Perceiver(named_cnn(), probe=(d.x[:300, ..., None], d.y[:300]),
                      run_dir={run!r})
    p.capture(0)
    p.capture(1)
    print("ready", flush=True)
    sys.stdin.read()            # holds the run until killed
"""


def test_a_second_writer_is_refused_and_readers_are_not(tmp_path, digits):
    from faults.models import named_cnn

    x, y = digits
    run_dir = tmp_path / "run"
    proc = spawn(HOLDER, run=str(run_dir))
    try:
        wait_for_line(proc, "ready")
        files = {name: (run_dir / name).read_bytes() for name in ("run.json", "samples.parquet")}
        for resume in (False, True):
            with pytest.raises(nbp.RunError, match=rf"another process \(pid {proc.pid}"):
                nbp.Perceiver(named_cnn(), probe=(x[:300], y[:300]),
                              run_dir=run_dir, resume=resume)
        assert {n: (run_dir / n).read_bytes() for n in files} == files  # nothing written
        run = nbp.open_run(run_dir)  # reading needs no lock
        assert len(run.snapshot(0).table) == 300
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    recorded = nbp.open_run(run_dir).epochs
    assert recorded == [0, 1]  # the holder's epochs, nothing from the refused writer
    p = nbp.Perceiver(named_cnn(), probe=(x[:300], y[:300]), run_dir=run_dir,
                      resume=True)  # the holder died: its lock went with it
    assert p.capture().epoch == recorded[-1]  # continues numbering (epochs_trained)
    p.close()
