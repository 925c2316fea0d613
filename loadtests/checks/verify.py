"""Verify a live server against the contract (CONTRACT.md) before it is measured.

As in TechEmpower's toolset, nothing is benchmarked that has not passed these
checks; the test suite runs the same checks, one test per check per strategy.
Each check is a function registered in CHECKS; it raises AssertionError with a
message that says what the server did wrong.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from loadtests.machine.client import Client, raw_exchange, status_of
from loadtests.machine.server import ServerError, ServerProcess

KEYS = 64  # the keyspace verification servers are started with


@dataclass
class Target:
    client: Client
    host: str
    port: int
    keys: int
    strategy: str
    stateful: bool

    def stats(self) -> dict:
        status, doc = self.client.get("/stats")
        assert status == 200, f"/stats answered {status}: {doc}"
        return doc


CHECKS: dict[str, Callable[[Target], None]] = {}


def contract_check(fn: Callable[[Target], None]) -> Callable[[Target], None]:
    CHECKS[fn.__name__] = fn
    return fn


def _expect(target: Target, method: str, path: str, body, status: int) -> dict:
    got, doc = target.client.request(method, path, body,
                                     {"Content-Type": "application/json"} if body is not None else {})
    assert got == status, f"{method} {path} {body!r:.60}: expected {status}, got {got} {doc}"
    return doc


@contract_check
def health(t: Target) -> None:
    doc = _expect(t, "GET", "/health", None, 200)
    assert doc.get("status") == "ok", doc
    assert doc.get("strategy") == t.strategy, f"strategy {doc.get('strategy')!r} != {t.strategy!r}"
    assert isinstance(doc.get("workers"), int) and doc["workers"] >= 1, doc
    assert isinstance(doc.get("pid"), int) and doc["pid"] > 0, doc
    if doc.get("language", "python") == "python":  # a server in another language names it instead
        assert re.fullmatch(r"\d+\.\d+\.\d+\S*", str(doc.get("python"))), doc
        assert isinstance(doc.get("gil_enabled"), bool), doc
    else:
        assert isinstance(doc["language"], str) and "gil_enabled" not in doc, doc


@contract_check
def get_starts_at_zero(t: Target) -> None:
    for key in (0, t.keys - 1):
        doc = _expect(t, "GET", f"/kv/{key}", None, 200)
        assert doc == {"key": key, "value": 0}, doc


@contract_check
def incr_is_read_modify_write(t: Target) -> None:
    key = 5
    first = _expect(t, "POST", f"/kv/{key}/incr", {"by": 7}, 200)
    second = _expect(t, "POST", f"/kv/{key}/incr", {"by": 1000}, 200)
    read = _expect(t, "GET", f"/kv/{key}", None, 200)
    assert set(first) == {"key", "value"} and first["key"] == key, first
    if t.stateful:
        assert (first["value"], second["value"], read["value"]) == (7, 1007, 1007), \
            (first, second, read)


@contract_check
def transfer_moves_both_values(t: Target) -> None:
    doc = _expect(t, "POST", "/transfer", {"from": 10, "to": 11, "amount": 30}, 200)
    assert {"from", "to", "amount", "from_value", "to_value"} <= set(doc), doc
    assert (doc["from"], doc["to"], doc["amount"]) == (10, 11, 30), doc
    if t.stateful:
        assert (doc["from_value"], doc["to_value"]) == (-30, 30), doc
        back = _expect(t, "POST", "/transfer", {"from": 11, "to": 10, "amount": 30}, 200)
        assert (back["from_value"], back["to_value"]) == (0, 0), back


@contract_check
def stats_track_requests(t: Target) -> None:
    before = t.stats()
    for name in ("sum", "incr_applied", "transfers", "requests"):
        assert isinstance(before.get(name), int), f"/stats field {name!r}: {before}"
    _expect(t, "POST", "/kv/20/incr", {"by": 3}, 200)
    _expect(t, "POST", "/transfer", {"from": 20, "to": 21, "amount": 2}, 200)
    _expect(t, "GET", "/kv/999999", None, 404)  # errors are requests too
    after = t.stats()
    assert after["requests"] - before["requests"] == 4, (before, after)
    if t.stateful:
        assert after["sum"] - before["sum"] == 3, (before, after)
        assert after["incr_applied"] - before["incr_applied"] == 3, (before, after)
        assert after["transfers"] - before["transfers"] == 1, (before, after)
        assert after["sum"] == after["incr_applied"], after
    else:
        assert after.get("stateless") is True, after


def _error_cases(keys: int) -> list[tuple[str, str, object, int]]:
    big = b'{"by": 1, "pad": "' + b"x" * (64 * 1024) + b'"}'
    return [
        ("GET", "/nope", None, 404), ("GET", "/", None, 404), ("GET", "/kv", None, 404),
        ("GET", f"/kv/{keys}", None, 404), ("GET", "/kv/-1", None, 404),
        ("GET", "/kv/abc", None, 404), ("GET", "/kv/1.5", None, 404),
        ("GET", "/kv/99999999999999999999", None, 404),
        ("POST", f"/kv/{keys}/incr", {"by": 1}, 404),
        ("POST", "/kv/0", None, 405), ("GET", "/kv/0/incr", None, 405),
        ("GET", "/transfer", None, 405), ("POST", "/health", None, 405),
        ("DELETE", "/stats", None, 405), ("PUT", "/kv/0", None, 405),
        ("POST", "/kv/0/incr", b"", 400), ("POST", "/kv/0/incr", b"{", 400),
        ("POST", "/kv/0/incr", b"[1]", 400), ("POST", "/kv/0/incr", b"\xff\xfe{}", 400),
        ("POST", "/kv/0/incr", {"by": "1"}, 400), ("POST", "/kv/0/incr", {"by": 1.0}, 400),
        ("POST", "/kv/0/incr", {"by": True}, 400), ("POST", "/kv/0/incr", {"by": None}, 400),
        ("POST", "/kv/0/incr", {"by": 0}, 400), ("POST", "/kv/0/incr", {"by": 1001}, 400),
        ("POST", "/kv/0/incr", {"by": -5}, 400), ("POST", "/kv/0/incr", {}, 400),
        ("POST", "/kv/0/incr", {"by": 10 ** 30}, 400),
        ("POST", "/transfer", {"from": 1, "to": 1, "amount": 5}, 400),
        ("POST", "/transfer", {"from": 1, "to": 2, "amount": 0}, 400),
        ("POST", "/transfer", {"from": 1, "to": 2, "amount": 1001}, 400),
        ("POST", "/transfer", {"from": 1, "to": 2}, 400),
        ("POST", "/transfer", {"from": "1", "to": 2, "amount": 5}, 400),
        ("POST", "/transfer", {"from": 1, "to": keys, "amount": 5}, 404),
        ("POST", "/transfer", {"from": -1, "to": 2, "amount": 5}, 404),
        ("POST", "/kv/0/incr", big, 413),
    ]


@contract_check
def errors_are_json_4xx(t: Target) -> None:
    before = t.stats()
    for method, path, body, status in _error_cases(t.keys):
        doc = _expect(t, method, path, body, status)
        assert isinstance(doc.get("error"), str) and doc["error"], \
            f"{method} {path}: error body must be JSON with 'error': {doc}"
    after = t.stats()
    assert (after["sum"], after["incr_applied"]) == (before["sum"], before["incr_applied"]), \
        f"a rejected request changed the state: {before} -> {after}"


@contract_check
def method_not_allowed_says_allow(t: Target) -> None:
    answer = raw_exchange(t.host, t.port, b"POST /health HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: 0\r\nConnection: close\r\n\r\n", half_close=False)
    assert status_of(answer) == 405, answer[:200]
    assert b"\r\nallow: get\r\n" in answer.lower(), f"no 'Allow: GET' header: {answer[:300]!r}"


@contract_check
def malformed_http_is_not_5xx(t: Target) -> None:
    payloads = [b"garbage\r\n\r\n", b"GET /health HTTP/9.9\r\n\r\n",
                b"POST /kv/0/incr HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                b"POST /kv/0/incr HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"by\"",
                b"GET /health HTTP/1.1\r\n" + b"X-Flood: y\r\n" * 200 + b"\r\n",
                b"\x00\xff\xfe\r\n\r\n"]
    for payload in payloads:
        status = status_of(raw_exchange(t.host, t.port, payload))
        assert status is None or status < 500, f"{payload[:40]!r} answered {status}"
    doc = _expect(t, "GET", "/health", None, 200)
    assert doc["status"] == "ok"


def verify_target(host: str, port: int, strategy: str, stateful: bool,
                  keys: int = KEYS) -> list[str]:
    """Run every check against a running server; return the failures, empty if none."""
    client = Client(host, port)
    target = Target(client, host, port, keys, strategy, stateful)
    failures = []
    try:
        for name, fn in CHECKS.items():
            try:
                fn(target)
            except AssertionError as exc:
                failures.append(f"{name}: {exc}")
            except OSError as exc:
                failures.append(f"{name}: connection failed: {exc}")
                client.close()
    finally:
        client.close()
    return failures


def verify_strategy(name: str, **server_kwargs) -> list[str]:
    """Start ``name`` on a free loopback port, verify it, stop it."""
    from servers import discover  # the registry says whether values are meaningful
    stateful = discover()[name].stateful if name in discover() else True
    try:
        with ServerProcess(name, ["--keys", str(KEYS)], **server_kwargs) as server:
            return verify_target(server.host, server.port, name, stateful)
    except ServerError as exc:
        return [f"server: {exc}"]
