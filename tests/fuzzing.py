"""Hostile input to every strategy, fuzzed with hypothesis over real sockets: the shared parts.

The tests: tests/test_fuzz_contract.py (contract shapes, edge values) and
tests/test_fuzz_http.py (hostile HTTP); the `fuzzed` fixture is in conftest.py.

Three tests per strategy cover the contract (CONTRACT.md):

* ``test_fuzz_contract[fault]``: requests of the contract's shapes with one
  part fuzzed (or none, or a mix) — keys (negative, huge, leading zeros, not
  digits), methods, query strings, field values (wrong types, huge and
  negative numbers, floats, NaN), bodies (malformed and truncated JSON,
  non-UTF-8, UTF-16, deep nesting, 5000-digit literals, at and over 64 KiB)
  — sent whole, in pieces with pauses, or pipelined on one connection. Each
  answer is checked against an oracle written here from CONTRACT.md,
  independently of servers/core/contract.py.
* ``test_edges``: every boundary value in every numeric field and key, sent
  in full: hypothesis does not pick evenly among a list, so single values
  (0, 1001, KEYS, ...) are not left to chance.
* ``test_fuzz_hostile_http[kind]``: garbage bytes, truncated requests, bad
  and conflicting ``Content-Length``, header floods, unknown methods and
  routes, odd request lines and headers, ``Transfer-Encoding``, ``Expect``,
  oversized bodies: no 5xx, and a 4xx where the contract demands one.

Faults and kinds are pytest parameters, not hypothesis draws, for the same
reason: every category gets its examples on every run.

When may a server close without answering? Only when the client never sent a
whole request: garbage with no request in it, a request cut short (we send
EOF after it), a body shorter than its Content-Length. A whole request,
however hostile, must be answered, unless the server rejected it early and
closed while we were still sending: the kernel then resets the connection
and may destroy the answer in flight (TCP's doing, not the server's).

A ledger follows every 200 (requests go one at a time, so it is exact even
for ``unsafe``): after every example /stats must show sum == incr_applied ==
the increments clients were acknowledged, so an increment applied without an
answer (e.g. from a truncated body) fails the example that caused it. At the
end every server must still answer /health. Examples are derandomized (the
same requests on every run) and bounded; the counts are printed per strategy.
"""
from __future__ import annotations

import json
import socket
import string
import time
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from loadtests.machine.client import Client
from loadtests.machine.server import ServerProcess

KEYS = 64
MAX_BODY = 64 * 1024
MAX_KEY_CHARS = 12      # servers/core/contract.py refuses longer keys (cheap int() on hostile input)
ANSWER_TIMEOUT_S = 5.0  # a whole request unanswered this long is a failure


def fuzz(examples: int) -> settings:
    """Reproducible and bounded: the same requests on every run, no example database."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


COUNTS: dict[str, Counter] = {}  # strategy -> fuzzed requests sent, per test


# --- the ledger: what clients were told ------------------------------------------

@dataclass
class Ledger:
    stateful: bool
    values: list[int] = field(default_factory=lambda: [0] * KEYS)
    acked: int = 0  # sum of the increments answered with 200

    def observe(self, body: bytes, by: int | None) -> None:
        """Follow one 200. ``by``: the increment this request must show (0 for a
        read), or None if the request's meaning is not known (then 0 or 1..1000)."""
        doc = json.loads(body)
        if not self.stateful or not isinstance(doc, dict):
            return
        if "from_value" in doc:  # the ledger follows the server first, then judges it
            src, dst, amount = doc["from"], doc["to"], doc["amount"]
            want = (self.values[src] - amount, self.values[dst] + amount)
            self.values[src], self.values[dst] = doc["from_value"], doc["to_value"]
            assert (doc["from_value"], doc["to_value"]) == want, f"expected {want}: {doc}"
        elif "key" in doc and "value" in doc:
            delta = doc["value"] - self.values[doc["key"]]
            self.values[doc["key"]] = doc["value"]
            self.acked += delta
            if by is None:
                assert delta == 0 or 1 <= delta <= 1000, f"key moved by {delta}: {doc}"
            else:
                assert delta == by, f"expected a change of {by}, saw {delta}: {doc}"


@dataclass(repr=False)  # hypothesis prints it with every failing example
class Fuzzed:
    name: str
    server: ServerProcess
    stats_client: Client
    ledger: Ledger
    counts: Counter

    def __repr__(self) -> str:
        return f"<{self.name} on port {self.server.port}>"

    def check_stats(self) -> None:
        """After every example: the server answers, and nothing changed unacknowledged."""
        status, doc = self.stats_client.get("/stats")
        assert status == 200, (status, doc)
        if not self.ledger.stateful:
            return
        problem = ""
        if doc["sum"] != doc["incr_applied"]:
            problem = "sum != incr_applied"
        elif (doc["incr_applied"], doc["sum"]) != (self.ledger.acked, sum(self.ledger.values)):
            problem = (f"applied {doc['incr_applied']}, acknowledged {self.ledger.acked} "
                       f"(ledger sum {sum(self.ledger.values)})")
        if problem:
            self.resync(doc)  # so that only the example that did it fails, not every later one
            raise AssertionError(f"{problem}: {doc}")

    def resync(self, stats: dict) -> None:
        for key in range(KEYS):
            self.ledger.values[key] = self.stats_client.get(f"/kv/{key}")[1]["value"]
        self.ledger.acked = stats["incr_applied"]


# --- sending and reading ---------------------------------------------------------

Response = tuple[int, bytes]  # status, body


def parse_responses(raw: bytes) -> tuple[list[Response], bool]:
    """Final responses in ``raw`` (1xx skipped); True if it ends mid-response."""
    found: list[Response] = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            return found, True
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        assert len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit(), \
            f"not an HTTP response: {raw[:120]!r}"
        status, length = int(parts[1]), 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if 100 <= status < 200:
            raw = rest
            continue
        found.append((status, rest[:length]))
        if len(rest) < length:
            return found, True
        raw = rest[length:]
    return found, False


@dataclass
class Exchange:
    responses: list[Response]
    cut: bool  # the server reset the connection while we were still sending


def exchange(port: int, pieces: list[bytes], want: int, finish: bool,
             pause: float = 0.0) -> Exchange:
    """Send ``pieces`` (``pause`` s apart), EOF after them if ``finish``; read until
    ``want`` final responses arrived or the server closed."""
    cut = False
    raw = b""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_S) as sock:
        try:
            for index, piece in enumerate(pieces):
                if index and pause:
                    time.sleep(pause)
                sock.sendall(piece)
            if finish:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            cut = True
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            except TimeoutError:
                raise AssertionError(f"no answer, connection still open after "
                                     f"{ANSWER_TIMEOUT_S}s; have {raw[:200]!r}") from None
            if not chunk:
                break
            raw += chunk
            responses, partial = parse_responses(raw)
            if len(responses) >= want and not partial:
                break
    return Exchange(parse_responses(raw)[0], cut)


def request(method: bytes, target: bytes, body: bytes = b"", headers: tuple[bytes, ...] = (),
            close: bool = True, version: bytes = b"HTTP/1.1", length: bool = True) -> bytes:
    lines = [b"%s %s %s" % (method, target, version), b"Host: 127.0.0.1"]
    if body or method in (b"POST", b"PUT", b"PATCH"):
        lines.append(b"Content-Type: application/json")
        if length:
            lines.append(b"Content-Length: %d" % len(body))
    lines += headers
    lines.append(b"Connection: close" if close else b"Connection: keep-alive")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# --- contract-shaped requests and their oracle -----------------------------------

INVALID = object()  # a body that is not JSON at all
PCHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"  # legal in a path segment
KNOWN_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]


@dataclass(frozen=True)
class Shaped:
    method: str
    target: str
    body: bytes
    expect: frozenset[int]  # the statuses CONTRACT.md allows for it
    by: int | None          # the change a 200 must show at its key (0: a read); None: n/a

    def raw(self, close: bool = True, **kwargs) -> bytes:
        return request(self.method.encode(), self.target.encode(), self.body, close=close, **kwargs)


def key_ok(segment: str) -> bool:
    return (segment.isascii() and segment.isdigit() and len(segment) <= MAX_KEY_CHARS
            and int(segment) < KEYS)


def amount_ok(value: object) -> bool:
    return type(value) is int and 1 <= value <= 1000  # bool is not an int here, nor 1.0


def body_key_errors(value: object) -> set[int]:
    if type(value) is not int:
        return {400}
    return set() if 0 <= value < KEYS else {404}


def mostly(valid: st.SearchStrategy, hostile: st.SearchStrategy) -> st.SearchStrategy:
    """``valid`` four times in five: most requests carry one fault, not all at once."""
    return st.integers(0, 4).flatmap(lambda n: hostile if n == 4 else valid)


def part(fault: str | None, name: str, valid: st.SearchStrategy,
         hostile: st.SearchStrategy) -> st.SearchStrategy:
    """One part of a request: hostile if it is the fault asked for; either if no fault
    was asked for (a random mix); else valid."""
    if fault is None:
        return mostly(valid, hostile)
    return hostile if fault == name else valid


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                         st.text(max_size=6))
EDGE_NUMBERS = st.sampled_from([0, -1, 1001, -1000, 2**31, 2**63, -(2**63), 10**30, -(10**30)])
KEY_SEGMENTS = st.integers(0, KEYS - 1).map(str)
BAD_SEGMENTS = st.one_of(
    st.tuples(st.integers(1, 14), st.integers(0, KEYS - 1)).map(lambda t: "0" * t[0] + str(t[1])),
    st.integers(-10**30, 10**30).map(str), st.integers(KEYS, 10**12).map(str),
    st.sampled_from(["", "-0", "-1", "+1", "1.0", "1e3", "0x1", str(KEYS), str(2**64)]),
    st.text(PCHARS, max_size=16))
AMOUNTS = st.integers(1, 1000)
BAD_AMOUNTS = st.one_of(
    EDGE_NUMBERS, EDGE_NUMBERS, st.integers(), st.integers(1, 1000).map(float), st.floats(),
    st.integers(1, 1000).map(str), st.booleans(), st.none(),
    st.lists(st.integers(1, 1000), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
BODY_KEYS = st.integers(0, KEYS - 1)
BAD_BODY_KEYS = st.one_of(EDGE_NUMBERS, st.sampled_from([KEYS, -1]), st.integers(),
                          st.integers(0, 9).map(str), st.integers(0, 9).map(float),
                          JSON_SCALARS)
QUERIES = st.text(PCHARS + "/?%=&", max_size=12).map("?{}".format)
BODY_FAULTS = ["non-object", "truncated", "non-utf8", "utf16", "nested", "huge-literal",
               "empty", "at-limit", "oversized"]

Fields = dict[str, tuple[st.SearchStrategy, st.SearchStrategy]]  # name -> (valid, hostile)
INCR_FIELDS: Fields = {"by": (AMOUNTS, BAD_AMOUNTS)}
TRANSFER_FIELDS: Fields = {"from": (BODY_KEYS, BAD_BODY_KEYS), "to": (BODY_KEYS, BAD_BODY_KEYS),
                           "amount": (AMOUNTS, BAD_AMOUNTS)}


@st.composite
def documents(draw, fields: Fields, fault: str | None) -> dict:
    """A JSON object, with strangers beside the fields. With fault "value" one field
    is wrong-valued or missing; with no fault asked for, any may be."""
    doc = draw(st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=2))
    bad = draw(st.sampled_from(sorted(fields))) if fault == "value" else None
    for name, (valid, hostile) in fields.items():
        doc.pop(name, None)
        if name == bad:
            if draw(st.integers(0, 5)):
                doc[name] = draw(hostile)
        elif fault is not None or draw(st.integers(0, 7)):
            doc[name] = draw(valid if fault is not None else mostly(valid, hostile))
    return doc


@st.composite
def bodies(draw, fields: Fields, fault: str | None) -> tuple[bytes, object]:
    """(bytes, what they decode to, or INVALID): a body and its meaning for the oracle."""
    doc = draw(documents(fields, fault))
    text = json.dumps(doc)
    kind = draw(part(fault, "body", st.just("object"), st.sampled_from(BODY_FAULTS)))
    if kind == "object":
        return text.encode(), doc
    if kind == "non-object":
        other = draw(st.one_of(JSON_SCALARS, st.lists(BAD_AMOUNTS, max_size=3)))
        return json.dumps(other).encode(), other
    if kind == "truncated":  # a strict prefix of an object's text is never JSON
        return text[:draw(st.integers(0, len(text) - 1))].encode(), INVALID
    if kind == "non-utf8":  # one byte >= 0x80 among ASCII is never UTF-8
        at = draw(st.integers(0, len(text)))
        byte = bytes([draw(st.integers(0x80, 0xFF))])
        return text[:at].encode() + byte + text[at:].encode(), INVALID
    if kind == "utf16":
        return text.encode("utf-16"), INVALID
    if kind == "nested":
        depth = draw(st.integers(2_000, 30_000))
        return b"[" * depth + b"]" * depth, INVALID  # too deep to parse, or not an object
    if kind == "huge-literal":  # over Python's 4300-digit int limit, or just out of range
        digits = b"9" * draw(st.integers(4_000, 6_000))
        return b'{"by":%s,"from":1,"to":2,"amount":%s}' % (digits, digits), INVALID
    if kind == "empty":
        return b"", INVALID
    # a valid-looking object padded to exactly the limit (allowed) or past it
    size = MAX_BODY - draw(st.integers(0, 1)) if kind == "at-limit" else \
        MAX_BODY + draw(st.integers(1, 3 * MAX_BODY))
    doc = {**doc, "pad": ""}
    doc["pad"] = "x" * (size - len(json.dumps(doc)))
    return json.dumps(doc).encode(), doc


def expected_statuses(errors: set[int], body: bytes) -> frozenset[int]:
    if len(body) > MAX_BODY:
        return frozenset({413})
    return frozenset(errors or {200})


def incr_shaped(method: str, segment: str, query: str, body: bytes, doc: object) -> Shaped:
    wrong = {405} if method != "POST" else set()
    errors = (set() if key_ok(segment) else {404}) | wrong  # the key is checked first
    by = doc.get("by") if isinstance(doc, dict) else None
    if not wrong and not amount_ok(by):
        errors.add(400)
    return Shaped(method, f"/kv/{segment}/incr{query}", body, expected_statuses(errors, body),
                  by if amount_ok(by) else None)


def transfer_shaped(method: str, query: str, body: bytes, doc: object) -> Shaped:
    errors = {405} if method != "POST" else set()
    if not errors:
        if not isinstance(doc, dict):
            errors.add(400)
        else:
            src, dst = doc.get("from", INVALID), doc.get("to", INVALID)
            errors |= body_key_errors(src) | body_key_errors(dst)
            if not amount_ok(doc.get("amount")) or src == dst:
                errors.add(400)
    return Shaped(method, f"/transfer{query}", body, expected_statuses(errors, body), None)


ALL_ROUTES = ["get", "incr", "incr", "transfer", "transfer", "health", "stats"]
FAULTS = {  # the part made hostile -> the routes that have that part
    "none": ALL_ROUTES, "key": ["get", "incr"], "method": ALL_ROUTES, "query": ALL_ROUTES,
    "value": ["incr", "transfer"], "body": ["get", "incr", "transfer"]}


@st.composite
def shaped(draw, fault: str | None = None) -> Shaped:
    """A request of the contract's shapes with ``fault`` the hostile part (None: any mix)."""
    route = draw(st.sampled_from(FAULTS.get(fault, ALL_ROUTES)))
    right = "GET" if route in ("get", "health", "stats") else "POST"
    method = draw(part(fault, "method", st.just(right),
                       st.sampled_from([m for m in KNOWN_METHODS if m != right])))
    query = draw(part(fault, "query", st.just(""), QUERIES))
    if route == "incr":
        segment = draw(part(fault, "key", KEY_SEGMENTS, BAD_SEGMENTS))
        return incr_shaped(method, segment, query, *draw(bodies(INCR_FIELDS, fault)))
    if route == "transfer":
        return transfer_shaped(method, query, *draw(bodies(TRANSFER_FIELDS, fault)))
    wrong = {405} if method != right else set()
    if route in ("health", "stats"):
        return Shaped(method, f"/{route}{query}", b"", expected_statuses(wrong, b""), None)
    segment = draw(part(fault, "key", KEY_SEGMENTS, BAD_SEGMENTS))
    body = draw(bodies(INCR_FIELDS, fault))[0] if fault == "body" and method != "HEAD" else b""
    errors = wrong | (set() if key_ok(segment) else {404})  # a GET's body is ignored
    return Shaped(method, f"/kv/{segment}{query}", body, expected_statuses(errors, body), 0)


@st.composite
def posts(draw) -> Shaped:
    """POST to incr or transfer, a JSON object body (mostly valid) within the limit."""
    if draw(st.booleans()):
        doc = draw(documents(INCR_FIELDS, None))
        return incr_shaped("POST", draw(mostly(KEY_SEGMENTS, BAD_SEGMENTS)), "",
                     json.dumps(doc).encode(), doc)
    doc = draw(documents(TRANSFER_FIELDS, None))
    return transfer_shaped("POST", "", json.dumps(doc).encode(), doc)


def check_answers(fz: Fuzzed, sent: list[Shaped], answers: list[Response]) -> None:
    for req, (status, body) in zip(sent, answers):  # the ledger first, as in the hostile test
        if status == 200 and req.method != "HEAD":
            fz.ledger.observe(body, req.by)
    fz.check_stats()
    for req, (status, body) in zip(sent, answers):
        assert status in req.expect, f"{req.method} {req.target[:60]} {req.body[:80]!r}" \
            f"{'...' if len(req.body) > 80 else ''}: expected {sorted(req.expect)}, got " \
            f"{status} {body[:200]!r}"


def assert_still_serving(fz: Fuzzed) -> None:
    """/health answers, the books balance, nothing crashed inside (the ``fuzzed`` fixture
    checks it when a module is done with its server)."""
    status, doc = fz.stats_client.get("/health")
    assert (status, doc.get("status")) == (200, "ok"), (status, doc)
    fz.check_stats()
    assert fz.server.alive()
    tail = fz.server.stderr_tail(400)
    for marker in ("internal error", "ipc op"):  # a strategy raised, or an IPC frame failed
        assert marker not in tail, f"{fz.name} logged {marker!r}:\n{tail[-3000:]}"
    print(f"{fz.name}: {sum(fz.counts.values())} fuzzed requests {dict(fz.counts)}; "
          f"acknowledged increments {fz.ledger.acked}")
