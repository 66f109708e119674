"""Garbage collections that spare the old heap while a background worker allocates.

CPython's cyclic collector holds the GIL for a whole pass. In a kernel that imported
TensorFlow, a full (generation 2) pass walks ~400k objects: ~250 ms on this machine, every
thread stopped. Tracing a large model on a worker thread makes enough objects to start such a
pass, so a click's message waited that long (issue 12: no main-thread stall over 200 ms).

:func:`young_collections` freezes the objects alive when the first worker starts
(``gc.freeze``): until the last one ends, collections look only at objects made since, and
then ``gc.unfreeze`` hands the old ones back to the oldest generation. Nothing is lost: a
cycle among old objects that became garbage meanwhile is collected by a later pass. A process
that froze objects itself (a pre-fork server) is left alone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0  # workers inside young_collections()
_ours = False  # the frozen objects are ours to unfreeze


@contextmanager
def young_collections() -> Iterator[None]:
    """While active (on any thread), collections look only at objects made since the first
    active one began; re-entrant and shared between threads."""
    global _holders, _ours
    with _lock:
        if _holders == 0:
            _ours = gc.get_freeze_count() == 0
            if _ours:
                gc.freeze()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _ours:
                gc.unfreeze()
                _ours = False
