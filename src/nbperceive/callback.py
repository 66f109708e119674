"""The Keras callback: captures snapshots during ``model.fit`` without ever stopping it."""

from __future__ import annotations

import errno
import traceback
import warnings
from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:
    from .perceiver import Perceiver

_WHEN = ("epoch_end", "train_end")


class PerceiverCallback(keras.callbacks.Callback):
    """Capture at train begin (epoch 0) and after every ``every``-th epoch.

    ``on="train_end"`` captures only once training ends. A failure inside a capture is
    reported as a warning (with its cause) and training goes on; nothing half-written stays.
    """

    def __init__(self, perceiver: Perceiver, every: int = 1, on: str = "epoch_end",
                 at_train_begin: bool = True):
        super().__init__()
        if on not in _WHEN:
            raise ValueError(f"on must be one of {_WHEN}, got {on!r}.")
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number >= 1, got {every!r}.")
        self.perceiver = perceiver
        self.every = every
        self.on = on
        self.at_train_begin = at_train_begin
        self.failures: list[str] = []

    def _safe_capture(self, epoch: int, logs: dict[str, Any] | None) -> None:
        try:
            self.perceiver.capture(epoch, logs)
        except Exception as err:  # the user's training must go on
            detail = "".join(traceback.format_exception_only(type(err), err)).strip()
            if isinstance(err, OSError) and err.errno == errno.ENOSPC:
                detail += (f" (the disk holding {self.perceiver.run_dir} is full: free space "
                           "and the next epochs are recorded again)")
            self.failures.append(detail)
            warnings.warn(
                f"nbperceive: capturing epoch {epoch} failed and was skipped; training goes "
                f"on. Cause: {detail}",
                RuntimeWarning,
                stacklevel=2,
            )

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        p = self.perceiver
        if self.at_train_begin and p.epoch < 0 and p.epochs_trained == 0:
            self._safe_capture(0, None)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        p = self.perceiver
        p.epochs_trained += 1
        if self.on == "epoch_end" and p.epochs_trained % self.every == 0:
            self._safe_capture(p.epochs_trained, logs)
        self._last_logs = logs

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        p = self.perceiver
        if p.epochs_trained > 0 and p.epoch != p.epochs_trained:
            self._safe_capture(p.epochs_trained, getattr(self, "_last_logs", logs))
