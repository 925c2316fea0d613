"""servers/core/rwlock.py: readers share, a writer is alone, and a waiting writer holds
new readers back (writer preference), so reads cannot starve writes."""
from __future__ import annotations

import threading

from servers.core.rwlock import ReadWriteLock

BLOCKED_S = 0.3   # long enough to see a thread stay blocked (it stays so: no race)
DONE_S = 10.0     # a thread that is free finishes long before this, even on a busy box


def _start(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_readers_share_and_a_writer_waits_for_them() -> None:
    lock = ReadWriteLock()
    lock.acquire_read()
    second = _start(lambda: (lock.acquire_read(), lock.release_read()))
    second.join(DONE_S)
    assert not second.is_alive(), "a second reader must not wait for the first"
    writer = _start(lambda: (lock.acquire_write(), lock.release_write()))
    writer.join(BLOCKED_S)
    assert writer.is_alive(), "a writer must wait while a reader is inside"
    lock.release_read()
    writer.join(DONE_S)
    assert not writer.is_alive()


def test_a_waiting_writer_holds_new_readers_back() -> None:
    lock = ReadWriteLock()
    order: list[str] = []
    lock.acquire_read()
    writer = _start(lambda: (lock.acquire_write(), order.append("writer"), lock.release_write()))
    writer.join(BLOCKED_S)
    assert writer.is_alive()
    reader = _start(lambda: (lock.acquire_read(), order.append("reader"), lock.release_read()))
    reader.join(BLOCKED_S)
    assert reader.is_alive(), "a new reader must queue behind a waiting writer"
    lock.release_read()
    for thread in (writer, reader):
        thread.join(DONE_S)
    assert order == ["writer", "reader"]


def test_writers_exclude_each_other_and_readers() -> None:
    lock = ReadWriteLock()
    with lock.write():
        others = [_start(lambda: (lock.acquire_write(), lock.release_write())),
                  _start(lambda: (lock.acquire_read(), lock.release_read()))]
        for thread in others:
            thread.join(BLOCKED_S)
        assert all(thread.is_alive() for thread in others)
    for thread in others:
        thread.join(DONE_S)
    assert not any(thread.is_alive() for thread in others)
