"""binder/ alone makes a working environment: what repo2docker would build, then a notebook.

repo2docker installs binder/requirements.txt, then runs binder/postBuild from the repository
root. This test does the same in a fresh virtual environment and a copy of the repository,
then executes the report notebook (training, capture, the explorer) with that environment's
kernel. Every notebook runs in the developer environment in test_notebooks.py; here one shows
that the binder files alone are complete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tracked_copy(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None, reason="postBuild needs npm (Node.js)")
def test_binder_files_alone_build_an_environment_that_runs_the_notebooks(tmp_path):
    repo, venv = tmp_path / "repo", tmp_path / "venv"
    _tracked_copy(repo)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "VIRTUAL_ENV": str(venv), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("PYTHONPATH", None)
    run = lambda *cmd: subprocess.run(cmd, cwd=repo, env=env, check=True,  # noqa: E731
                                      capture_output=True, text=True, timeout=1200)
    run("pip", "install", "-q", "-r", "binder/requirements.txt")
    run("bash", "binder/postBuild")
    imported = run("python", "-c", "import nbperceive, sys; print(nbperceive.__file__)").stdout
    assert str(repo) in imported  # the copy's package, not the developer's
    run("python", "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.timeout=600", "--output-dir", str(tmp_path),
        "notebooks/05_report.ipynb")
    assert (tmp_path / "05_report.ipynb").stat().st_size > 0
