"""The command line: the demo trains and reports; info summarises a run."""

from __future__ import annotations

import subprocess
import sys

import nbperceive as nbp
from nbperceive import cli


def test_demo_trains_and_reports_the_run(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "nbperceive.cli", "demo", "--epochs", "1", "--probe", "300",
         "--run-dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=600, check=True,
    ).stdout
    assert "epochs [0, 1]" in out
    assert "300 samples" in out
    run = nbp.open_run(tmp_path / "demo")
    assert run.history().probe_accuracy.iloc[-1] > 0.5  # it really trained
    assert "ink" in run.snapshot().table.columns


def test_info_on_a_missing_run_says_so(tmp_path, capsys):
    assert cli.main(["info", str(tmp_path)]) == 2
    assert "not an nbperceive run" in capsys.readouterr().err
