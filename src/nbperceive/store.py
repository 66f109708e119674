"""The run directory: one folder per captured epoch, like TensorBoard's logdir.

Layout (no pickle anywhere; arrays are ``.npy`` read with ``allow_pickle=False``)::

    run_dir/
      run.json            model signature, class names, format version
      samples.parquet     sample_id, label and the user's metadata columns
      epoch-0003/         one complete snapshot
        table.parquet     sample_id, label, pred, correct, loss, prob_<class>...
        vectors.npy       float32 (N, D) perception vectors
        meta.json         epoch, Keras logs, probe loss and accuracy, layer layout of D,
                          timings
        model.weights.h5  the model's weights after that epoch (Keras' own format, no
                          pickle; when the Perceiver keeps weights: see ``keep_weights``)
        proj-*.npy        cached 2-D projections (written by nbperceive.projection)

      .writer.lock        held (flock) by the one process that records into the run

An epoch is written under a hidden temporary name and renamed when complete, so readers
(another process, while training runs) never see half an epoch, and a killed writer leaves
every finished epoch readable. Re-capturing an epoch moves the old folder aside
(``.replaced-epoch-NNNN``) before the new one is renamed in; the next open puts it back if
the writer died in between. The vectors file is reserved on disk before it is mapped, so a
full disk fails the capture with ``OSError`` instead of killing the process with SIGBUS.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import MetadataError, RunError
from .projector import PROJECTOR_MAX_SAMPLES
from .runlock import LOCK_NAME, WriterLock, flock, held_elsewhere

FORMAT_VERSION = 1
_EPOCH_RE = re.compile(r"^epoch-(\d{4,})$")
_ASIDE_RE = re.compile(r"^\.(?:replaced-|tmp-old-)(epoch-\d{4,})(?:-\d+)?$")  # tmp-old: v0.1
_SAMPLES_LOCK = ".samples.lock"
WEIGHTS_FILE = "model.weights.h5"  # Keras' weights-only HDF5 (model.save_weights): no code
STALE_SECONDS = 60  # a temporary *file* older than this has no live writer (writes take ms)

RESERVED_COLUMNS = ("sample_id", "label", "pred", "correct", "loss", "residual",
                    "hamming_accuracy", "x", "y")
# per-class / per-label / per-output columns the table may carry
RESERVED_PREFIXES = ("prob_", "label_", "pred_", "residual_")
"""Column names the store and the views own (``x``/``y``: layout coordinates): metadata
may not use them."""


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
        _fsync_dir(path.parent)
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


def _fsync_dir(path: Path) -> None:
    """Make renames inside ``path`` durable (a power cut keeps them); best effort."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- reading, with errors that name the file ---------------------------------------------

def _damaged(path: Path, err: BaseException, what: str = "") -> RunError:
    return RunError(
        f"{path} is damaged or truncated and cannot be read ({type(err).__name__}: {err}). "
        f"{what or 'Delete that epoch folder or re-record the run.'}"
    )


def read_json(path: Path, what: str = "") -> dict[str, Any]:
    """A JSON object from ``path``; a damaged file raises :class:`RunError` naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as err:
        raise _damaged(path, err, what) from err
    if not isinstance(data, dict):
        raise _damaged(path, ValueError("not a JSON object"), what)
    return data


def read_parquet(path: Path, columns: list[str] | None = None, what: str = "") -> pd.DataFrame:
    """A table from ``path``; a damaged file raises :class:`RunError` naming it."""
    try:
        return pd.read_parquet(path, columns=columns)
    except FileNotFoundError:
        raise
    except Exception as err:  # pyarrow raises its own ArrowInvalid/OSError zoo
        raise _damaged(path, err, what) from err


# --- metadata: the one place that knows which names and values a column may have --------

def check_column_name(name: Any) -> str:
    """``name`` as a metadata column name, or :class:`MetadataError` if the store owns it."""
    name = str(name)
    if not name.strip():
        raise MetadataError("a metadata column needs a non-empty name.")
    if name in RESERVED_COLUMNS or name.startswith(RESERVED_PREFIXES):
        raise MetadataError(
            f"metadata column {name!r} clashes with a column nbperceive records or lays out "
            f"({', '.join(RESERVED_COLUMNS)}, prob_<class>); rename it."
        )
    return name


_NOT_SCALAR = (list, tuple, dict, set, frozenset, np.ndarray, pd.Series)


def _check_scalars(name: str, items: Any) -> None:
    for i, v in enumerate(items):
        if isinstance(v, _NOT_SCALAR):
            raise MetadataError(
                f"metadata column {name!r} holds a {type(v).__name__} for sample {i} "
                f"({str(v)[:40]}); give one scalar per sample, e.g. join the items into a "
                "string or spread them over several columns."
            )


def metadata_values(name: str, values: Any, n: int) -> pd.Series:
    """``values`` checked as one metadata column of ``n`` scalars (numbers, strings, bools,
    dates; missing values allowed); raises :class:`MetadataError` naming the column."""
    if isinstance(values, pd.Series):
        series = values.reset_index(drop=True)
    elif isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise MetadataError(
                f"metadata column {name!r} has shape {values.shape}; give one scalar per "
                "probe sample (split a vector into several columns, or join it to a string)."
            )
        series = pd.Series(values)
    else:  # a list: look at the items before numpy turns nested ones into a 2-D array
        items = list(values)
        _check_scalars(name, items)
        series = pd.Series(items, dtype=object if not items else None)
    if len(series) != n:
        raise MetadataError(f"metadata column {name!r} has {len(series)} values but the probe "
                            f"has {n} samples; give one value per probe sample, in probe order.")
    if series.dtype.kind == "c":
        raise MetadataError(f"metadata column {name!r} holds complex numbers; store the real "
                            "and imaginary parts (or abs/angle) as two columns.")
    if series.dtype == object:
        _check_scalars(name, series)
    import pyarrow as pa

    try:
        pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as err:
        raise MetadataError(
            f"metadata column {name!r} cannot be stored ({err}); give values of one kind "
            f"(e.g. values.astype(str) for mixed types)."
        ) from err
    return series


def metadata_frame(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """Every column of ``frame`` checked as metadata (names, values, one row per sample)."""
    names = [check_column_name(c) for c in frame.columns]
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise MetadataError(f"metadata has several columns named {dupes}; names must be unique.")
    columns = {name: metadata_values(name, frame.iloc[:, i], n) for i, name in enumerate(names)}
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def add_metadata(run: Run | str | os.PathLike, name: str, values: Any) -> pd.Series:
    """Add (or replace) the metadata column ``name`` of a run: one value per probe sample.

    The one writer of ``samples.parquet`` after a run is created: checks the name against the
    reserved columns and the values (scalars, one per sample), then rewrites the file
    atomically under a short lock, so two processes adding columns lose neither. A training
    process may hold the run meanwhile. Returns the stored column."""
    run = run if isinstance(run, Run) else Run(run)
    name = check_column_name(name)
    path = run.path / "samples.parquet"
    with flock(run.path / _SAMPLES_LOCK):
        samples = run.samples
        series = metadata_values(name, values, len(samples))
        samples[name] = series.to_numpy() if series.dtype == object else series
        _write_parquet_atomic(samples, path)
    return series


def _list_epochs(path: Path) -> list[int]:
    found = []
    for child in path.iterdir():
        m = _EPOCH_RE.match(child.name)
        if m and (child / "meta.json").is_file():
            found.append(int(m.group(1)))
    return sorted(found)


def _recover(path: Path) -> list[int]:
    """Undo a re-capture killed between its two renames: put each set-aside epoch back when
    its folder is missing, drop it when the new one made it. Call only under the writer lock.
    Returns the epochs restored."""
    restored = []
    for child in list(path.iterdir()):
        m = _ASIDE_RE.match(child.name)
        if not m or not child.is_dir():
            continue
        final = path / m.group(1)
        if not final.exists() and (child / "meta.json").is_file():
            os.replace(child, final)
            restored.append(int(final.name.split("-")[1]))
        else:
            shutil.rmtree(child, ignore_errors=True)
    if restored:
        _fsync_dir(path)
    return restored


def _has_aside(path: Path) -> bool:
    try:
        return any(_ASIDE_RE.match(c.name) for c in path.iterdir())
    except OSError:
        return False


@dataclass
class Snapshot:
    """Everything recorded for one epoch: per-sample table, vectors and their layout."""

    epoch: int
    path: Path
    table: pd.DataFrame | None  # None where only the vectors were read (Run.vectors)
    meta: dict[str, Any]
    _vectors: np.ndarray | None = field(default=None, repr=False)

    @property
    def vectors(self) -> np.ndarray:
        """float32 (N, D) perception vectors (memory-mapped, read-only)."""
        if self._vectors is None:
            path = self.path / "vectors.npy"
            try:
                vectors = np.load(path, mmap_mode="r", allow_pickle=False)
            except FileNotFoundError as err:
                raise _damaged(path, err) from err
            except (OSError, ValueError, EOFError) as err:
                raise _damaged(path, err) from err
            rows = self.meta.get("n_samples", len(self.table) if self.table is not None else None)
            dim = self.meta.get("dim")
            if vectors.ndim != 2 or (rows is not None and vectors.shape[0] != rows) or (
                    dim is not None and vectors.shape[1] != dim):
                raise _damaged(path, ValueError(
                    f"shape {vectors.shape}, meta.json says ({rows}, {dim})"))
            self._vectors = vectors
        return self._vectors

    @property
    def weights_path(self) -> Path | None:
        """The model's weights after this epoch (``model.weights.h5``), or None when the run
        kept none for it (``keep_weights`` off or its budget spent, or saving failed)."""
        path = self.path / WEIGHTS_FILE
        return path if path.is_file() else None

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
        info_path = self.path / "run.json"
        if not info_path.is_file():
            raise RunError(
                f"{self.path} is not an nbperceive run (no run.json). Pass the run_dir you gave "
                "to Perceiver, or record one with Perceiver(...).callback()."
            )
        self.info: dict[str, Any] = read_json(
            info_path, "Re-record the run, or pass overwrite=True to the Perceiver.")
        if self.info.get("format", 0) > FORMAT_VERSION:
            raise RunError(
                f"{self.path} was written by a newer nbperceive (format {self.info['format']}); "
                "upgrade nbperceive to read it."
            )
        if _has_aside(self.path) and not WriterLock.held_here(self.path):
            self._recover_if_free()

    def _recover_if_free(self) -> None:
        """A writer killed mid-commit left an epoch aside: put it back, unless a live writer
        (which finishes its own commit) holds the run, or the folder is read-only."""
        try:
            with flock(self.path / LOCK_NAME, blocking=False) as free:
                if free:
                    _recover(self.path)
        except OSError:
            pass

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, epochs={self.epochs})"

    @property
    def epochs(self) -> list[int]:
        """Completed epochs, ascending (0 = before training)."""
        return _list_epochs(self.path)

    @property
    def class_names(self) -> list[str]:
        return list(self.info.get("class_names", []))

    @property
    def samples(self) -> pd.DataFrame:
        """sample_id, label and metadata columns, one row per probe sample."""
        return read_parquet(self.path / "samples.parquet",
                            what="Re-record the run, or restore samples.parquet from a copy.")

    def epoch_path(self, epoch: int) -> Path:
        path = self.path / epoch_dirname(epoch)
        if not (path / "meta.json").is_file():
            raise RunError(
                f"epoch {epoch} is not in {self.path}; recorded epochs are {self.epochs}."
            )
        return path

    @property
    def weight_epochs(self) -> list[int]:
        """The recorded epochs whose model weights the run kept, ascending."""
        return [e for e in self.epochs if (self.path / epoch_dirname(e) / WEIGHTS_FILE).is_file()]

    def weights_path(self, epoch: int) -> Path:
        """The weights file of ``epoch`` (``model.weights.h5``); :class:`RunError` saying why
        when the run kept none for it."""
        path = self.epoch_path(epoch) / WEIGHTS_FILE
        if not path.is_file():
            meta = read_json(self.epoch_path(epoch) / "meta.json")
            why = (meta.get("weights") or {}).get("skipped") or \
                "the run was recorded with keep_weights=False"
            raise RunError(
                f"epoch {epoch} of {self.path} has no saved weights ({why}); epochs with "
                f"weights: {self.weight_epochs}. Record with Perceiver(..., keep_weights=True) "
                "to keep every epoch's weights.")
        return path

    def model_at(self, epoch: int, model: Any) -> Any:
        """A copy of ``model`` (same architecture, e.g. the one you trained) holding the
        weights it had after ``epoch``; ``model`` itself is untouched. See
        :func:`nbperceive.models.model_at`."""
        from .models import model_at

        return model_at(model, self.weights_path(epoch))

    def resolve_epoch(self, epoch: int | None = None) -> int:
        """The recorded epoch ``epoch`` names: None or -1 is the latest, -2 the one before."""
        epochs = self.epochs
        if epoch is None:
            if not epochs:
                raise RunError(f"{self.path} holds no completed epoch yet.")
            return epochs[-1]
        if epoch < 0:
            if -epoch > len(epochs):
                raise RunError(f"epoch {epoch} is out of range; recorded epochs are {epochs}.")
            return epochs[epoch]
        return int(epoch)

    def vectors(self, epoch: int | None = None, layer: str | None = None) -> np.ndarray:
        """float32 perception vectors of ``epoch`` (memory-mapped), all layers or one layer's
        block, checked against meta.json, without reading the per-sample table."""
        epoch = self.resolve_epoch(epoch)
        path = self.epoch_path(epoch)
        snap = Snapshot(epoch=epoch, path=path, table=None, meta=read_json(path / "meta.json"))
        return snap.vectors if layer is None else snap.layer_vectors(layer)

    def snapshot(self, epoch: int | None = None, metadata: bool = True) -> Snapshot:
        """The snapshot of ``epoch`` (default: the latest), with metadata columns joined
        (``metadata=False``: the recorded table alone, e.g. for rankings that need none)."""
        epoch = self.resolve_epoch(epoch)
        path = self.epoch_path(epoch)
        meta = read_json(path / "meta.json")
        table = read_parquet(path / "table.parquet")
        rows = meta.get("n_samples")
        if rows is not None and len(table) != rows:
            raise _damaged(path / "table.parquet",
                           ValueError(f"{len(table)} rows, meta.json says {rows}"))
        if not metadata:
            return Snapshot(epoch=epoch, path=path, table=table, meta=meta)
        samples = self.samples
        if len(samples) != len(table):
            raise RunError(
                f"{self.path / 'samples.parquet'} has {len(samples)} rows but epoch {epoch} "
                f"has {len(table)} samples, so rows cannot be matched; the run was mixed with "
                "another probe. Re-record it."
            )
        extra = [c for c in samples.columns if c not in table.columns]
        if extra:
            table = table.join(samples[extra].reset_index(drop=True))
        return Snapshot(epoch=epoch, path=path, table=table, meta=meta)

    def probabilities(self, epoch: int | None = None, rows: int | None = None
                      ) -> np.ndarray | None:
        """The ``prob_*`` columns ``epoch`` recorded, (N, C) float64 (the first ``rows``
        only, if given), read alone from its table; None when it recorded none (a
        regression)."""
        import pyarrow.parquet as pq

        epoch = self.resolve_epoch(epoch)
        path = self.epoch_path(epoch) / "table.parquet"
        try:
            table = pq.ParquetFile(path)
            cols = [c for c in table.schema_arrow.names if c.startswith("prob_")]
            if not cols:
                return None
            if rows is None:
                part = table.read(columns=cols)
            else:
                part = next(table.iter_batches(batch_size=max(1, rows), columns=cols), None)
                if part is None:
                    return np.zeros((0, len(cols)))
        except FileNotFoundError:
            raise
        except Exception as err:  # pyarrow's own error zoo: a damaged file
            raise _damaged(path, err) from err
        return np.column_stack([part.column(c).to_numpy(zero_copy_only=False)
                                for c in cols]).astype(np.float64)

    def history(self) -> pd.DataFrame:
        """One row per epoch: probe loss and accuracy, plus the Keras logs of training.
        Read from each epoch's meta.json (the capture sums its table up there; a run recorded
        before that reads the table's two columns). A damaged epoch is left out with a
        warning; the others stay readable."""
        rows = []
        for epoch in self.epochs:
            path = self.path / epoch_dirname(epoch)
            try:
                meta = read_json(path / "meta.json")
                summary = meta.get("probe")
                if not isinstance(summary, dict):
                    summary = probe_summary(read_parquet(path / "table.parquet",
                                                         columns=["loss", "correct"]))
            except (RunError, FileNotFoundError) as err:
                warnings.warn(f"nbperceive: epoch {epoch} left out of the history: {err}",
                              RuntimeWarning, stacklevel=2)
                continue
            loss = summary.get("loss")
            row = {"epoch": epoch, "probe_loss": float("nan") if loss is None else float(loss)}
            if summary.get("accuracy") is not None:
                row["probe_accuracy"] = float(summary["accuracy"])
            row.update({f"train_{k}": v for k, v in (meta.get("logs") or {}).items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def add_metadata(self, name: str, values: Any) -> pd.Series:
        """Add a metadata column to the run (see :func:`nbperceive.store.add_metadata`)."""
        return add_metadata(self, name, values)

    def confusion_matrix(self, epoch: int | None = None) -> np.ndarray:
        """int64 (C, C) counts of (given label, prediction) at ``epoch`` (default: latest)."""
        from .metrics import confusion_matrix

        return confusion_matrix(self.snapshot(epoch).table, len(self.class_names))

    def suspects(self, k: int = 15, layer: str | None = None, epochs: list[int] | None = None,
                 neighbour_search: str = "auto") -> pd.DataFrame:
        """Probe samples ranked by how likely their label is wrong; see nbperceive.metrics."""
        from .metrics import suspects

        return suspects(self, k=k, layer=layer, epochs=epochs, neighbour_search=neighbour_search)

    def to_projector(self, logdir: str | os.PathLike, epochs: list[int] | None = None,
                     images: np.ndarray | None = None,
                     max_samples: int | None = PROJECTOR_MAX_SAMPLES) -> Path:
        """Export for TensorBoard's projector (vectors, metadata TSV, sprite for images); a
        run larger than ``max_samples`` exports a seeded random share of that many
        (:func:`nbperceive.projector.to_projector`)."""
        from .projector import to_projector

        return to_projector(self, logdir, epochs=epochs, images=images,
                            max_samples=max_samples)

    def project(
        self, epoch: int | None = None, method: str = "pca", layer: str | None = None, **kwargs: Any
    ) -> np.ndarray:
        """float32 (N, 2) layout of ``epoch``'s vectors; see :mod:`nbperceive.projection`."""
        from . import projection

        return projection.project_run(self, epoch, method=method, layer=layer, **kwargs)


def probe_summary(table: pd.DataFrame) -> dict[str, float | None]:
    """An epoch's probe loss and accuracy (means over the samples that have them; None when
    none has), as its meta.json keeps them for :meth:`Run.history`."""
    loss = table["loss"].mean()
    correct = table["correct"]
    return {"loss": float(loss) if pd.notna(loss) else None,
            "accuracy": float(correct.mean()) if correct.notna().any() else None}


def open_run(path: str | os.PathLike) -> Run:
    """Open a run directory written by a :class:`~nbperceive.Perceiver` callback."""
    return Run(path)


def _reserve(fd: int, size: int) -> None:
    """Allocate ``size`` bytes of the file on disk now, so writing through a memory map can
    never hit a full disk (that is SIGBUS, which kills the process); raises OSError(ENOSPC)."""
    if size <= 0:
        return
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(fd, 0, size)
            return
        except OSError as err:
            if err.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
    block = b"\0" * (1 << 20)  # no fallocate here: write the zeros ourselves
    header = os.pread(fd, 4096, 0)
    for start in range(0, size, len(block)):
        os.pwrite(fd, block[: min(len(block), size - start)], start)
    os.pwrite(fd, header, 0)


class EpochWriter:
    """Writes one epoch into a hidden temporary folder; :meth:`commit` makes it visible."""

    def __init__(self, run_dir: Path, epoch: int, n_samples: int, dim: int):
        self.run_dir = run_dir
        self.epoch = epoch
        self.extra: list[str] = []  # files added by add_file, fsynced at commit
        self.tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{epoch_dirname(epoch)}-", dir=run_dir))
        try:
            os.chmod(self.tmp, DIR_MODE)
            path = self.tmp / "vectors.npy"
            self.vectors = np.lib.format.open_memmap(
                path, mode="w+", dtype=np.float32, shape=(n_samples, dim))
            with open(path, "r+b") as f:
                _reserve(f.fileno(), os.fstat(f.fileno()).st_size)
        except BaseException:
            self.abort()
            raise

    def add_file(self, name: str, write: Callable[[Path], None]) -> int:
        """Let ``write(path)`` create the file ``name`` of this epoch (e.g. the model's
        weights); it becomes visible with the epoch at :meth:`commit`. If ``write`` fails,
        whatever it left is removed and the error raised (the epoch can still be committed).
        Returns the file's size in bytes."""
        path = self.tmp / name
        try:
            write(path)
            size = path.stat().st_size
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        self.extra.append(name)
        return size

    def commit(self, table: pd.DataFrame, meta: dict[str, Any]) -> Path:
        self.vectors.flush()
        del self.vectors
        table.to_parquet(self.tmp / "table.parquet", index=False)
        with open(self.tmp / "meta.json", "w") as f:
            json.dump(meta, f, indent=1, default=_json_default)
        for name in ("vectors.npy", "table.parquet", "meta.json", *self.extra):
            with open(self.tmp / name, "rb") as f:
                os.fsync(f.fileno())
        final = self.run_dir / epoch_dirname(self.epoch)
        if final.exists():  # re-capture: old aside, new in, old dropped; _recover undoes a kill
            aside = self.run_dir / f".replaced-{final.name}"
            if aside.exists():
                shutil.rmtree(aside)
            os.replace(final, aside)
            os.replace(self.tmp, final)
            _fsync_dir(self.run_dir)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(self.tmp, final)
            _fsync_dir(self.run_dir)
        return final

    def abort(self) -> None:
        try:
            del self.vectors
        except AttributeError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def _signature_changes(recorded: dict[str, Any], signature: dict[str, Any]) -> list[str]:
    """Keys in which ``signature`` differs from ``recorded``. A key the recorded run lacks
    (written before it existed, like ``probe``) is not held against it."""
    return [k for k, v in signature.items() if k in recorded and recorded[k] != v] + [
        k for k in recorded if k not in signature]


class RunWriter:
    """Creates or resumes a run directory for one model and probe set.

    Every check runs before anything is written (a refused writer leaves the folder as it
    was), then again under the writer lock. ``resume`` continues after the recorded epochs
    and keeps the metadata columns recorded before (columns in ``samples`` replace those of
    the same name); ``overwrite`` deletes the recorded epochs and metadata."""

    def __init__(
        self,
        path: str | os.PathLike,
        signature: dict[str, Any],
        samples: pd.DataFrame,
        class_names: list[str],
        overwrite: bool = False,
        resume: bool = False,
    ):
        self.path = Path(path)
        self._check(signature, overwrite, resume)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._token = object()
            self._lock = WriterLock.acquire(self.path, self._token)
        except OSError as err:
            raise RunError(f"cannot create the run directory {self.path}: {err.strerror}. "
                           "Free space, fix its permissions, or choose another run_dir.") from err
        try:
            _recover(self.path)
            kept = self._check(signature, overwrite, resume)
            self._clean_stale_temporaries()
            if overwrite:
                self.clear_epochs()
            elif kept is not None:
                extra = [c for c in kept.columns if c not in samples.columns]
                samples = pd.concat([samples, kept[extra].reset_index(drop=True)], axis=1)
            with flock(self.path / _SAMPLES_LOCK):
                _write_parquet_atomic(samples, self.path / "samples.parquet")
            _write_json_atomic(self.path / "run.json", {
                "format": FORMAT_VERSION,
                "signature": signature,
                "class_names": class_names,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            })
        except OSError as err:
            self.close()
            raise RunError(f"cannot write the run directory {self.path}: {err.strerror}. "
                           "Free space, fix its permissions, or choose another run_dir.") from err
        except BaseException:
            self.close()
            raise
        self.epochs = _list_epochs(self.path)

    def _check(self, signature: dict[str, Any], overwrite: bool, resume: bool
               ) -> pd.DataFrame | None:
        """Raise unless this writer may write ``path``; return the recorded samples whose
        metadata a resume keeps (None for a new run). Reads only."""
        if not self.path.is_dir():
            return None
        holder = WriterLock.holder_elsewhere(self.path)
        if holder is not None:
            raise held_elsewhere(self.path, holder)
        epochs = _list_epochs(self.path) + [
            int(m.group(1).split("-")[1]) for m in map(_ASIDE_RE.match, os.listdir(self.path))
            if m]
        info_path = self.path / "run.json"
        if overwrite:
            return None
        if info_path.is_file():
            info = read_json(info_path, "Pass overwrite=True to start the run over.")
            recorded = info.get("signature") or {}
            changed = _signature_changes(recorded, signature)
            if changed:
                raise RunError(
                    f"{self.path} holds the run of another model or probe set (recorded "
                    f"{recorded.get('model')!r} with {recorded.get('n_samples')} samples; "
                    f"differs in {', '.join(changed)}). Choose a new run_dir, or pass "
                    "overwrite=True to replace it."
                )
        elif epochs:
            raise RunError(f"{self.path} holds epoch folders but no run.json, so whose they "
                           "are is unknown; pass overwrite=True or choose another run_dir.")
        else:
            return None
        if epochs and not resume:
            raise RunError(
                f"{self.path} already holds epochs {sorted(set(epochs))} of this model. Pass "
                "resume=True to continue numbering after them, overwrite=True to start over, "
                "or choose another run_dir."
            )
        samples_path = self.path / "samples.parquet"
        if not samples_path.is_file():
            return None
        return read_parquet(samples_path, what="Pass overwrite=True to start the run over.")

    def clear_epochs(self) -> None:
        for child in self.path.iterdir():
            if _EPOCH_RE.match(child.name) or _ASIDE_RE.match(child.name) or \
                    child.name.startswith(".tmp-"):
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)

    def _clean_stale_temporaries(self) -> None:
        """Remove what a killed writer left behind (never visible to readers anyway): temporary
        epoch folders (only the lock holder makes those), and temporary files at the top and
        in epoch folders (projection caches, added metadata) older than a minute."""
        now = time.time()
        for folder in [self.path, *(self.path / epoch_dirname(e) for e in _list_epochs(self.path))]:
            for child in folder.glob(".tmp-*"):
                with contextlib.suppress(OSError):
                    if child.is_dir():
                        if folder == self.path:
                            shutil.rmtree(child, ignore_errors=True)
                    elif now - child.stat().st_mtime > STALE_SECONDS:
                        child.unlink(missing_ok=True)

    def begin_epoch(self, epoch: int, n_samples: int, dim: int) -> EpochWriter:
        if not self._lock.holds(self._token):
            raise RunError(
                f"another Perceiver in this process now records {self.path}; capture with that "
                "one (a run has one writer)."
            )
        return EpochWriter(self.path, epoch, n_samples, dim)

    def close(self) -> None:
        """Release the run for other writers (also done when the process ends)."""
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release(self._token)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
