"""The run directory: one folder per captured epoch, like TensorBoard's logdir.

Layout (no pickle anywhere; arrays are ``.npy`` read with ``allow_pickle=False``)::

    run_dir/
      run.json            model signature, class names, format version
      samples.parquet     sample_id, label and the user's metadata columns
      epoch-0003/         one complete snapshot
        table.parquet     sample_id, label, pred, correct, loss, prob_<class>...
        vectors.npy       float32 (N, D) perception vectors
        meta.json         epoch, Keras logs, layer layout of D, timings
        proj-*.npy        cached 2-D projections (written by nbperceive.projection)

An epoch is written under a hidden temporary name and renamed when complete, so readers
(another process, while training runs) never see half an epoch, and a killed writer leaves
every finished epoch readable.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import RunError

FORMAT_VERSION = 1
_EPOCH_RE = re.compile(r"^epoch-(\d{4,})$")


def epoch_dirname(epoch: int) -> str:
    return f"epoch-{epoch:04d}"


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask can only be read by setting it
FILE_MODE = 0o666 & ~_UMASK  # what open() would give: mkstemp/mkdtemp make 0600/0700
DIR_MODE = 0o777 & ~_UMASK


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write ``path`` so that readers see all of it or none: a temporary file beside it
    (``.tmp-*``, normal permissions), flushed and renamed when the block ends, removed if
    the block fails."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        os.chmod(tmp, FILE_MODE)
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_json_atomic(path: Path, data: Any) -> None:
    with atomic_file(path, "w") as f:
        json.dump(data, f, indent=1, default=_json_default)


def _write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as f:
        df.to_parquet(f, index=False)


def save_array_atomic(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (.npy) so that readers see all of it or none."""
    with atomic_file(path) as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


@dataclass
class Snapshot:
    """Everything recorded for one epoch: per-sample table, vectors and their layout."""

    epoch: int
    path: Path
    table: pd.DataFrame
    meta: dict[str, Any]
    _vectors: np.ndarray | None = field(default=None, repr=False)

    @property
    def vectors(self) -> np.ndarray:
        """float32 (N, D) perception vectors (memory-mapped, read-only)."""
        if self._vectors is None:
            self._vectors = np.load(self.path / "vectors.npy", mmap_mode="r", allow_pickle=False)
        return self._vectors

    @property
    def layout(self) -> list[dict[str, Any]]:
        """Which columns of ``vectors`` belong to which layer: name, start, stop, width."""
        return list(self.meta.get("layout", []))

    def layer_vectors(self, layer: str) -> np.ndarray:
        """The block of ``vectors`` that belongs to one captured layer."""
        for block in self.layout:
            if block["name"] == layer:
                return self.vectors[:, block["start"] : block["stop"]]
        names = [b["name"] for b in self.layout]
        raise RunError(f"layer {layer!r} was not captured in this run; captured layers: {names}")


class Run:
    """A run directory opened for reading. Cheap to create; re-reads the folder on access."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not (self.path / "run.json").is_file():
            raise RunError(
                f"{self.path} is not an nbperceive run (no run.json). Pass the run_dir you gave "
                "to Perceiver, or record one with Perceiver(...).callback()."
            )
        self.info: dict[str, Any] = json.loads((self.path / "run.json").read_text())
        if self.info.get("format", 0) > FORMAT_VERSION:
            raise RunError(
                f"{self.path} was written by a newer nbperceive (format {self.info['format']}); "
                "upgrade nbperceive to read it."
            )

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, epochs={self.epochs})"

    @property
    def epochs(self) -> list[int]:
        """Completed epochs, ascending (0 = before training)."""
        found = []
        for child in self.path.iterdir():
            m = _EPOCH_RE.match(child.name)
            if m and (child / "meta.json").is_file():
                found.append(int(m.group(1)))
        return sorted(found)

    @property
    def class_names(self) -> list[str]:
        return list(self.info.get("class_names", []))

    @property
    def samples(self) -> pd.DataFrame:
        """sample_id, label and metadata columns, one row per probe sample."""
        return pd.read_parquet(self.path / "samples.parquet")

    def epoch_path(self, epoch: int) -> Path:
        path = self.path / epoch_dirname(epoch)
        if not (path / "meta.json").is_file():
            raise RunError(
                f"epoch {epoch} is not in {self.path}; recorded epochs are {self.epochs}."
            )
        return path

    def snapshot(self, epoch: int | None = None) -> Snapshot:
        """The snapshot of ``epoch`` (default: the latest), with metadata columns joined."""
        epochs = self.epochs
        if epoch is None:
            if not epochs:
                raise RunError(f"{self.path} holds no completed epoch yet.")
            epoch = epochs[-1]
        if epoch < 0:
            if -epoch > len(epochs):
                raise RunError(f"epoch {epoch} is out of range; recorded epochs are {epochs}.")
            epoch = epochs[epoch]
        path = self.epoch_path(epoch)
        meta = json.loads((path / "meta.json").read_text())
        table = pd.read_parquet(path / "table.parquet")
        samples = self.samples
        extra = [c for c in samples.columns if c not in table.columns]
        if extra:
            table = table.join(samples[extra].reset_index(drop=True))
        return Snapshot(epoch=epoch, path=path, table=table, meta=meta)

    def history(self) -> pd.DataFrame:
        """One row per epoch: probe loss and accuracy, plus the Keras logs of training."""
        rows = []
        for epoch in self.epochs:
            path = self.path / epoch_dirname(epoch)
            meta = json.loads((path / "meta.json").read_text())
            table = pd.read_parquet(path / "table.parquet", columns=["loss", "correct"])
            row = {"epoch": epoch, "probe_loss": float(table["loss"].mean())}  # NaN: no labels
            if table["correct"].notna().any():
                row["probe_accuracy"] = float(table["correct"].mean())
            row.update({f"train_{k}": v for k, v in (meta.get("logs") or {}).items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def confusion_matrix(self, epoch: int | None = None) -> np.ndarray:
        """int64 (C, C) counts of (given label, prediction) at ``epoch`` (default: latest)."""
        from .metrics import confusion_matrix

        return confusion_matrix(self.snapshot(epoch).table, len(self.class_names))

    def suspects(self, k: int = 50, layer: str | None = None) -> pd.DataFrame:
        """Probe samples ranked by how likely their label is wrong; see nbperceive.metrics."""
        from .metrics import suspects

        return suspects(self, k=k, layer=layer)

    def to_projector(self, logdir: str | os.PathLike, epochs: list[int] | None = None,
                     images: np.ndarray | None = None) -> Path:
        """Export for TensorBoard's projector (vectors, metadata TSV, sprite for images)."""
        from .projector import to_projector

        return to_projector(self, logdir, epochs=epochs, images=images)

    def project(
        self, epoch: int | None = None, method: str = "pca", layer: str | None = None, **kwargs: Any
    ) -> np.ndarray:
        """float32 (N, 2) layout of ``epoch``'s vectors; see :mod:`nbperceive.projection`."""
        from . import projection

        return projection.project_run(self, epoch, method=method, layer=layer, **kwargs)


def open_run(path: str | os.PathLike) -> Run:
    """Open a run directory written by a :class:`~nbperceive.Perceiver` callback."""
    return Run(path)


class EpochWriter:
    """Writes one epoch into a hidden temporary folder; :meth:`commit` makes it visible."""

    def __init__(self, run_dir: Path, epoch: int, n_samples: int, dim: int):
        self.run_dir = run_dir
        self.epoch = epoch
        self.tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{epoch_dirname(epoch)}-", dir=run_dir))
        os.chmod(self.tmp, DIR_MODE)
        self.vectors = np.lib.format.open_memmap(
            self.tmp / "vectors.npy", mode="w+", dtype=np.float32, shape=(n_samples, dim)
        )

    def commit(self, table: pd.DataFrame, meta: dict[str, Any]) -> Path:
        self.vectors.flush()
        del self.vectors
        table.to_parquet(self.tmp / "table.parquet", index=False)
        with open(self.tmp / "meta.json", "w") as f:
            json.dump(meta, f, indent=1, default=_json_default)
        for name in ("vectors.npy", "table.parquet", "meta.json"):
            with open(self.tmp / name, "rb") as f:
                os.fsync(f.fileno())
        final = self.run_dir / epoch_dirname(self.epoch)
        if final.exists():  # re-capture of the same epoch: swap, then drop the old one
            old = self.run_dir / f".tmp-old-{final.name}-{time.time_ns()}"
            os.replace(final, old)
            os.replace(self.tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, final)
        return final

    def abort(self) -> None:
        try:
            del self.vectors
        except AttributeError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


class RunWriter:
    """Creates or resumes a run directory for one model and probe set."""

    def __init__(
        self,
        path: str | os.PathLike,
        signature: dict[str, Any],
        samples: pd.DataFrame,
        class_names: list[str],
        overwrite: bool = False,
    ):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        info_path = self.path / "run.json"
        if info_path.is_file():
            info = json.loads(info_path.read_text())
            if info.get("signature") != signature and not overwrite:
                raise RunError(
                    f"{self.path} holds the run of another model or probe set "
                    f"(recorded {info.get('signature', {}).get('model')!r} with "
                    f"{info.get('signature', {}).get('n_samples')} samples). Choose a new "
                    "run_dir, or pass overwrite=True to replace it."
                )
            if overwrite and info.get("signature") != signature:
                self.clear_epochs()
        self._clean_stale_temporaries()
        _write_parquet_atomic(samples, self.path / "samples.parquet")
        _write_json_atomic(
            info_path,
            {
                "format": FORMAT_VERSION,
                "signature": signature,
                "class_names": class_names,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )

    def clear_epochs(self) -> None:
        for child in self.path.iterdir():
            if _EPOCH_RE.match(child.name) or child.name.startswith(".tmp-"):
                shutil.rmtree(child, ignore_errors=True)

    def _clean_stale_temporaries(self) -> None:
        """Remove what a killed writer left behind (never visible to readers anyway)."""
        for child in self.path.glob(".tmp-*"):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def begin_epoch(self, epoch: int, n_samples: int, dim: int) -> EpochWriter:
        return EpochWriter(self.path, epoch, n_samples, dim)
