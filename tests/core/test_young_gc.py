"""young_gc: a worker's garbage collections spare the heap alive when it began, lose nothing,
and leave a process's own frozen objects frozen."""

import gc
import threading
import time
import weakref

import pytest

from nbperceive import young_gc
from nbperceive.young_gc import young_collections


@pytest.fixture(autouse=True)
def no_worker_of_an_earlier_test():
    """A worker an earlier test in this process started (an explorer's inspector job) may
    still be inside young_collections(): these tests count freezes, so they wait it out."""
    deadline = time.monotonic() + 120
    while young_gc._holders and time.monotonic() < deadline:
        time.sleep(0.05)  # a thread of another test: there is no event of its end to wait on
    assert young_gc._holders == 0, "a background worker of an earlier test never ended"


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


def seen(obj) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_old_objects_are_not_walked_and_old_garbage_is_collected_afterwards():
    old = Node()
    freed = threading.Event()
    weakref.finalize(old, freed.set)
    ref = weakref.ref(old)
    with young_collections():
        assert not seen(old)  # a collection now does not walk it
        young = Node()
        young_freed = threading.Event()
        weakref.finalize(young, young_freed.set)
        assert seen(young)
        del young
        gc.collect()
        assert young_freed.is_set()  # new garbage is collected as ever
        del old
        gc.collect()
        assert ref() is not None and not freed.is_set()  # old garbage waits...
    gc.collect()
    assert freed.is_set()  # ...and is collected once the worker is done: nothing lost


def test_shared_between_workers_until_the_last_ends():
    old = Node()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    during = []

    def first():
        with young_collections():
            first_in.set()
            second_in.wait(30)
        first_out.set()

    def second():
        first_in.wait(30)
        with young_collections():
            second_in.set()
            first_out.wait(30)
            during.append(seen(old))  # still spared after the first worker left

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert during == [False]
    assert seen(old) and gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with young_collections():
            pass
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()
