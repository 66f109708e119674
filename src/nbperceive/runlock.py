"""One writer per run directory: an ``flock`` on ``run_dir/.writer.lock``.

The kernel drops an flock when its holder dies (kill -9 included), so a crashed writer never
leaves the run locked. Readers never take it. Not on Windows (no ``fcntl``): there, one
writer per run is up to the user.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import RunError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".writer.lock"
_FILE_MODE = 0o666  # os.open applies the umask


@contextlib.contextmanager
def flock(path: Path, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive flock on ``path`` for the block; yields False if not taken."""
    if fcntl is None:
        yield True
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


class WriterLock:
    """One writer per run directory: an ``flock`` on ``.writer.lock`` held while a
    :class:`RunWriter` lives, released by the kernel when the process dies (even by kill -9).
    Readers never take it. Inside one process the newest writer takes the lock over (a
    notebook cell re-run makes a new Perceiver while the old one still exists); the older
    writer then refuses to write."""

    _held: dict[str, WriterLock] = {}
    _guard = threading.RLock()  # re-entrant: a collected writer releases from inside acquire

    def __init__(self, key: str, fd: int | None):
        self.key = key
        self.fd = fd
        self.owner: object | None = None  # the holding writer's token (not the writer itself)

    @classmethod
    def acquire(cls, run_dir: Path, token: object) -> WriterLock:
        key = os.path.realpath(run_dir)
        with cls._guard:
            while True:
                lock = cls._held.get(key)
                if lock is None:
                    lock = cls(key, cls._take(run_dir))
                    cls._held[key] = lock
                lock.owner = token
                if cls._held.get(key) is lock:  # not released by a collected writer meanwhile
                    return lock

    @staticmethod
    def _take(run_dir: Path) -> int | None:
        if fcntl is None:
            return None
        path = run_dir / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise held_elsewhere(run_dir, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    @classmethod
    def holder_elsewhere(cls, run_dir: Path) -> str | None:
        """The pid another process holding ``run_dir``'s lock wrote, else None. Reads only."""
        path = run_dir / LOCK_NAME
        if fcntl is None or cls.held_here(run_dir) or not path.is_file():
            return None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            return os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        finally:
            os.close(fd)

    def holds(self, token: object) -> bool:
        return self.owner is token and self._held.get(self.key) is self

    def release(self, token: object) -> None:
        with self._guard:
            if not self.holds(token):
                return
            del self._held[self.key]
            self.owner = None
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None

    @classmethod
    def held_here(cls, run_dir: Path) -> bool:
        return os.path.realpath(run_dir) in cls._held


def held_elsewhere(run_dir: Path, holder: str) -> RunError:
    return RunError(
        f"{run_dir} is being recorded by another process (pid {holder}, holding "
        f"{run_dir / LOCK_NAME}); a run has one writer. Wait for it to finish or stop it, or "
        "choose another run_dir. Reading the run (open_run) works meanwhile."
    )
