"""Exceptions raised by nbperceive. Each message says what to do about it."""

from __future__ import annotations


class NbPerceiveError(Exception):
    """Base class of every error nbperceive raises on purpose."""


class ProbeError(NbPerceiveError, ValueError):
    """The probe set (x, y) does not fit itself or the model."""


class MetadataError(NbPerceiveError, ValueError):
    """Metadata does not line up with the probe samples."""


class ModelError(NbPerceiveError, ValueError):
    """The model cannot be analysed as given (unbuilt, nothing to capture, wrong file)."""


class LabelError(NbPerceiveError, ValueError):
    """Labels do not fit the model's loss or outputs."""


class RunError(NbPerceiveError, ValueError):
    """A run directory is missing, incomplete, or belongs to another model."""


class DataUnavailableError(NbPerceiveError, RuntimeError):
    """A data set could be loaded neither online nor from an offline source."""


class ProjectionError(NbPerceiveError, ValueError):
    """A 2-D layout cannot be computed as asked (unknown method, too few samples, bad values)."""


class ReportError(NbPerceiveError, RuntimeError):
    """A report cannot be written (not a widget, or a loader or widget library is missing)."""
