"""Faults run for real: kill -9 at random moments, a full filesystem, two writers, bad files.

Children are plain ``python -c`` processes with this checkout first on the path; the ones that
need no model import no TensorFlow, so a kill trial costs about a second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

TESTS = str(Path(__file__).resolve().parents[1])


def child_env() -> dict[str, str]:
    import nbperceive

    env = dict(os.environ)
    src = str(Path(nbperceive.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, TESTS, env.get("PYTHONPATH", "")])
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def spawn(script: str, **fmt: object) -> subprocess.Popen:
    """Start ``script`` (``{name}`` filled from ``fmt`` if given, dedented) in a fresh
    interpreter, with this checkout and the tests folder on its path."""
    code = textwrap.dedent(script.format(**fmt) if fmt else script)
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env())


def wait_for_line(proc: subprocess.Popen, prefix: str) -> str:
    """The first line of ``proc``'s output starting with ``prefix`` (fails if it exits first)."""
    for line in proc.stdout:
        if line.startswith(prefix):
            return line
    proc.wait()
    pytest.fail(f"child exited ({proc.returncode}) before printing {prefix!r}:\n"
                f"{proc.stderr.read()[-3000:]}")


@pytest.fixture(scope="session")
def digits():
    from nbperceive import datasets

    data = datasets.digits()
    return data.x[..., None], data.y


@pytest.fixture(scope="session")
def recorded_run(tmp_path_factory):
    """A real run: small CNN trained 2 epochs on digits, 300 probe samples, 3 epochs on disk."""
    from core.models import record_digits_run

    return record_digits_run(tmp_path_factory.mktemp("faults") / "run", epochs=2, n_probe=300)


@pytest.fixture
def run_copy(recorded_run, tmp_path):
    """A private copy of :func:`recorded_run` that a test may damage."""
    target = tmp_path / "run"
    shutil.copytree(recorded_run, target)
    return target


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 320 KiB tmpfs mounted for this test (needs root and mount), unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; run as root to test a full disk")
    mount_point = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not available here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
