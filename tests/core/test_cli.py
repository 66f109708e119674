"""The command line: the demo trains and reports; info summarises a run."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np

import nbperceive as nbp
from nbperceive import cli

DEMO_REPORT_BUDGET = 3_000_000  # bytes of the demo's report (issue 9: was 6.07 MB)


def test_demo_trains_records_and_writes_the_report(tmp_path):
    out = subprocess.run(  # the demo as shipped: 3 epochs, 1,000 probe samples
        [sys.executable, "-m", "nbperceive.cli", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=900, check=True,
    ).stdout
    assert "epochs [0, 1, 2, 3]" in out
    assert "1000 samples" in out
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
    assert _saved_heatmaps(report) >= 20  # the suspects' heatmaps travel with the report
    # ... within the report's budget (maps at their layers' own size, compressed state)
    assert (tmp_path / "demo" / "report.html").stat().st_size <= DEMO_REPORT_BUDGET

    # the report again from the run directory, the saved model and the probe inputs
    demo = tmp_path / "demo"
    out = tmp_path / "again.html"
    assert cli.main(["report", str(demo / "run"), "--model", str(demo / "best.keras"),
                     "--inputs", str(demo / "probe.npy"), "--out", str(out)]) == 0
    assert _saved_heatmaps(out.read_text()) >= 20
    # without the model: population, details, curves, no inspector
    assert cli.main(["report", str(demo / "run"), "--out", str(tmp_path / "bare.html")]) == 0
    assert _saved_heatmaps((tmp_path / "bare.html").read_text()) == 0
    assert not list(tmp_path.glob(".tmp-*"))  # nothing half-written left behind


def _saved_heatmaps(page: str) -> int:
    """How many samples' heatmaps the report's inspector carries."""
    from nbperceive.report import read_state

    models = read_state(page)["state"].values()
    return sum(len(m["state"].get("saved", {})) for m in models)


def test_report_needs_model_and_inputs_together(tmp_path, capsys):
    from .models import record_digits_run

    run_dir = record_digits_run(tmp_path / "run")
    assert cli.main(["report", str(run_dir), "--model", "m.keras"]) == 2
    assert "--model and --inputs together" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path / "nothing")]) == 2
    assert "not an nbperceive run" in capsys.readouterr().err


def test_info_on_a_missing_run_says_so(tmp_path, capsys):
    assert cli.main(["info", str(tmp_path)]) == 2
    assert "not an nbperceive run" in capsys.readouterr().err
