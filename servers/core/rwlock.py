"""A readers–writer lock, written once: many readers at a time, or one writer alone.

Writer-preferring, as Rust's `std::sync::RwLock` is on Linux: once a writer is
waiting, new readers wait behind it, so a steady stream of readers (the
read-heavy workload's 95% gets) can never starve the writes. The price is the
other way round: a steady stream of writers can hold readers off, which a
workload of mostly reads never produces.

Under CPython's GIL only one thread runs Python at a time, so readers "in
parallel" overlap only where they wait (for the GIL, or in I/O); and every
acquire and release takes a Condition's lock besides, twice a plain Lock's
work. Whether sharing reads pays for that is what the `rwlock` strategy
measures, not something this module assumes.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0            # readers inside
        self._writer = False         # a writer inside
        self._writers_waiting = 0    # writers queued: new readers wait behind them

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()  # a waiting writer may go

    def acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()  # the next writer, or every reader held back

    @contextmanager
    def read(self) -> Iterator[None]:
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write(self) -> Iterator[None]:
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()
