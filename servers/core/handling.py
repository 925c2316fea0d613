"""One request, start to finish, minus the socket: parse, work knobs, store, body.

The two entry points differ only in how they call the store (directly, or
awaited) and how they wait for --io-ms (blocking, or awaited).
"""
from __future__ import annotations

import itertools
import os
import platform
import sys

from . import contract, gcstats
from .contract import Call, HttpError
from .heap import Heap
from .registry import Strategy
from .work import Work

Response = tuple[int, bytes, str]  # status, JSON body, Allow header ("" if none)


class App:
    def __init__(self, spec: Strategy, store, work: Work, keys: int, workers: int,
                 gc_slots: list | None = None, gc_mode: str = "default",
                 heap: Heap | None = None) -> None:
        self.spec, self.store, self.work, self.keys, self.workers = spec, store, work, keys, workers
        # This process's live heap (--live-objects): built before the server is, read
        # and churned by every state request.
        self.heap = heap or Heap()
        # The slots gcstats.Monitor writes this server's collections into (one per
        # process); None: no monitor, and /stats has no "gc".
        self.gc_slots, self.gc_mode = gc_slots, gc_mode
        # next() on itertools.count is one C call, atomic under the GIL: the
        # request counter adds no lock of its own to any strategy.
        self._requests = itertools.count(1)
        # Which interpreter serves, and whether its GIL is on: a free-threaded build
        # (3.13t) may still enable it, e.g. for an extension that needs it.
        self._python = platform.python_version()
        is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
        self._gil_enabled = bool(is_gil_enabled()) if is_gil_enabled else True

    def health(self) -> bytes:
        doc = {"status": "ok", "strategy": self.spec.name, "workers": self.workers,
               "pid": os.getpid(), "python": self._python, "gil_enabled": self._gil_enabled,
               "heap": self.heap.describe()}
        # An external store's own CPU, so the harness can tell it from the workers'; here
        # and not in /stats because it is read under load, and /stats reads every value.
        store_cpu = getattr(self.store, "cpu_seconds", None)
        seconds = store_cpu() if callable(store_cpu) else None
        if seconds is not None:
            doc["store_cpu_s"] = seconds
        return contract.dumps(doc)

    def stats(self, totals, requests: int) -> bytes:
        doc = {"sum": totals.sum, "incr_applied": totals.incr_applied,
               "transfers": totals.transfers, "requests": requests}
        if not self.spec.stateful:
            doc["stateless"] = True
        if self.gc_slots is not None:
            doc["gc"] = gcstats.summary(self.gc_slots, self.gc_mode)
        return contract.dumps(doc)

    def _count(self) -> int:
        """Count this request; the number is what /stats reports as requests."""
        return next(self._requests)

    def _begin(self, method: str, target: str, body: bytes) -> tuple[Call, int]:
        count = self._count()  # this request included
        return contract.parse(method, target, body, self.keys), count

    def handle(self, method: str, target: str, body: bytes) -> Response:
        try:
            call, count = self._begin(method, target, body)
            if call.op in contract.STATE_OPS:
                self.work.cpu()
                self.work.litter()
                self.heap.touch()
                self.work.io()
                result = getattr(self.store, call.op)(*call.args)
                return 200, contract.result_body(call, result), ""
            if call.op == "stats":
                return 200, self.stats(self.store.totals(), count), ""
            return 200, self.health(), ""
        except HttpError as err:
            return err.status, contract.error_body(err), err.allow

    async def handle_async(self, method: str, target: str, body: bytes) -> Response:
        try:
            call, count = self._begin(method, target, body)
            if call.op in contract.STATE_OPS:
                self.work.cpu()
                self.work.litter()
                self.heap.touch()
                await self.work.aio()
                result = await getattr(self.store, call.op)(*call.args)
                return 200, contract.result_body(call, result), ""
            if call.op == "stats":
                return 200, self.stats(await self.store.totals(), count), ""
            return 200, self.health(), ""
        except HttpError as err:
            return err.status, contract.error_body(err), err.allow
