"""The command line: the demo trains and reports; info summarises a run."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np

import nbperceive as nbp
from nbperceive import cli


def test_demo_trains_records_and_writes_the_report(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "nbperceive.cli", "demo", "--epochs", "1", "--probe", "300",
         "--out", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=900, check=True,
    ).stdout
    assert "epochs [0, 1]" in out
    assert "300 samples" in out
    run = nbp.open_run(tmp_path / "demo" / "run")
    assert run.history().probe_accuracy.iloc[-1] > 0.5  # it really trained
    assert "ink" in run.snapshot().table.columns
    assert nbp.load_model(tmp_path / "demo" / "best.keras").count_params() > 0
    pictures = {p.name for p in (tmp_path / "demo" / "pictures").glob("*.png")}
    assert {"confusion-epoch-00.png", "confusion-epoch-01.png", "projection-epoch-01.png",
            "baseline-delta.png", "class-models.png"} <= pictures
    from PIL import Image

    panels = np.asarray(Image.open(tmp_path / "demo" / "pictures" / "baseline-delta.png"))
    assert panels.std() > 20  # real pictures, not blank canvases
    report = (tmp_path / "demo" / "report.html").read_text()
    assert "nbperceive demo" in report
    assert re.search(r"""(src|href)=["']https?:""", report) is None  # self-contained


def test_info_on_a_missing_run_says_so(tmp_path, capsys):
    assert cli.main(["info", str(tmp_path)]) == 2
    assert "not an nbperceive run" in capsys.readouterr().err
