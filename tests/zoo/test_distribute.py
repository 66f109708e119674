"""Capture and explain inside tf.distribute.MirroredStrategy (two logical CPU devices)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_mirrored_strategy_gives_the_results_of_no_strategy(tmp_path):
    script = Path(__file__).with_name("distributed_check.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["replicas"] == 2 and not result["failures"]
    assert result["epochs"] == [0, 1]
    assert result["vectors"] < 1e-4 and result["loss"] < 1e-5
    assert result["gradcam_max"] > 0 and result["gradcam"] < 1e-5
    assert result["activation_max"] < 1e-4
