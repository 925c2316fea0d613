"""The store's data and its read-modify-write steps, with no discipline at all.

Every strategy wraps a PlainState in its own sharing discipline (a lock, an
owner thread, an event loop, nothing). The ledgers are kept per key so that a
discipline that only guards the keys a request touches (ownership) also keeps
them exact: a single global counter would be a second piece of shared state.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Totals:
    sum: int
    incr_applied: int
    transfers: int


class PlainState:
    __slots__ = ("keys", "values", "applied", "sent", "_hold")

    def __init__(self, keys: int, hold: Callable[[], None]) -> None:
        self.keys = keys
        self.values = [0] * keys
        self.applied = [0] * keys  # sum of `by` applied to each key
        self.sent = [0] * keys     # transfers that left each key
        self._hold = hold

    @classmethod
    def over(cls, values, applied, sent, hold: Callable[[], None]) -> PlainState:
        """The same operations over arrays the caller provides (e.g. views of
        shared memory): a multi-process store keeps one layout and one set of ops."""
        state = cls.__new__(cls)
        state.keys = len(values)
        state.values, state.applied, state.sent, state._hold = values, applied, sent, hold
        return state

    def get(self, key: int) -> int:
        return self.values[key]

    def incr(self, key: int, by: int) -> int:
        value = self.values[key]
        self._hold()  # the window a missing discipline would let others into
        value += by
        self.values[key] = value
        self.applied[key] += by
        return value

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        a, b = self.values[src], self.values[dst]
        self._hold()
        a, b = a - amount, b + amount
        self.values[src], self.values[dst] = a, b
        self.sent[src] += 1
        return a, b

    # A transfer split in two halves, for a store whose two keys live apart
    # (ownership-mp): the caller holds both keys' locks across the halves and its
    # own hold, so each half needs no window of its own.
    def debit(self, key: int, amount: int) -> int:
        self.values[key] -= amount
        self.sent[key] += 1
        return self.values[key]

    def credit(self, key: int, amount: int) -> int:
        self.values[key] += amount
        return self.values[key]

    def totals(self) -> Totals:
        return Totals(sum(self.values), sum(self.applied), sum(self.sent))


class LockedState:
    """Plain state behind one lock: every operation holds ``_lock`` for its whole visit
    to ``_state``, so no two overlap inside it. The global lock's discipline, written
    once: global-lock gives it a thread lock, global-lock-mp a process-shared one over
    shared memory, and a variant overrides only the operations it changes."""
    _state: PlainState
    _lock: AbstractContextManager[Any]

    def __init__(self, state: PlainState, lock: AbstractContextManager[Any]) -> None:
        self._state, self._lock = state, lock

    def get(self, key: int) -> int:
        with self._lock:
            return self._state.get(key)

    def incr(self, key: int, by: int) -> int:
        with self._lock:
            return self._state.incr(key, by)

    def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        with self._lock:
            return self._state.transfer(src, dst, amount)

    def totals(self) -> Totals:
        with self._lock:
            return self._state.totals()


class LoopState:
    """Plain state on one event loop: no lock, because one task runs at a time and no
    operation awaits between its read and its write (an await there would let another
    task in: a lost update). The event loop's discipline, written once."""
    _state: PlainState

    def __init__(self, state: PlainState) -> None:
        self._state = state

    async def get(self, key: int) -> int:
        return self._state.get(key)

    async def incr(self, key: int, by: int) -> int:
        return self._state.incr(key, by)

    async def transfer(self, src: int, dst: int, amount: int) -> tuple[int, int]:
        return self._state.transfer(src, dst, amount)

    async def totals(self) -> Totals:
        return self._state.totals()
