"""Hostile input to every strategy, fuzzed with hypothesis over real sockets.

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
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadtests.client import Client
from loadtests.server import ServerProcess

from .conftest import STRATEGIES

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out

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


@pytest.fixture(scope="module", params=sorted(STRATEGIES))
def fuzzed(request) -> Iterator[Fuzzed]:
    name = request.param
    with ServerProcess(name, ["--keys", str(KEYS)]) as server:
        client = Client(server.host, server.port, timeout=ANSWER_TIMEOUT_S)
        yield Fuzzed(name, server, client, Ledger(STRATEGIES[name].stateful),
                     COUNTS.setdefault(name, Counter()))
        client.close()
        assert server.alive(), f"{name} died while fuzzed:\n{server.stderr_tail()}"


@pytest.fixture(scope="module", autouse=True)
def print_counts(request) -> Iterator[None]:
    """The number of fuzzed requests per strategy, on the terminal after the module."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not COUNTS:
        return
    with capture.global_and_fixture_disabled():  # fd capture would swallow it otherwise
        reporter.write_sep("-", "fuzzed requests per strategy")
        for name, counts in sorted(COUNTS.items()):
            detail = ", ".join(f"{test} {n}" for test, n in sorted(counts.items()))
            reporter.write_line(f"{name:<20} {sum(counts.values()):>5}  ({detail})")


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


def _expect(errors: set[int], body: bytes) -> frozenset[int]:
    if len(body) > MAX_BODY:
        return frozenset({413})
    return frozenset(errors or {200})


def _incr(method: str, segment: str, query: str, body: bytes, doc: object) -> Shaped:
    wrong = {405} if method != "POST" else set()
    errors = (set() if key_ok(segment) else {404}) | wrong  # the key is checked first
    by = doc.get("by") if isinstance(doc, dict) else None
    if not wrong and not amount_ok(by):
        errors.add(400)
    return Shaped(method, f"/kv/{segment}/incr{query}", body, _expect(errors, body),
                  by if amount_ok(by) else None)


def _transfer(method: str, query: str, body: bytes, doc: object) -> Shaped:
    errors = {405} if method != "POST" else set()
    if not errors:
        if not isinstance(doc, dict):
            errors.add(400)
        else:
            src, dst = doc.get("from", INVALID), doc.get("to", INVALID)
            errors |= body_key_errors(src) | body_key_errors(dst)
            if not amount_ok(doc.get("amount")) or src == dst:
                errors.add(400)
    return Shaped(method, f"/transfer{query}", body, _expect(errors, body), None)


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
        return _incr(method, segment, query, *draw(bodies(INCR_FIELDS, fault)))
    if route == "transfer":
        return _transfer(method, query, *draw(bodies(TRANSFER_FIELDS, fault)))
    wrong = {405} if method != right else set()
    if route in ("health", "stats"):
        return Shaped(method, f"/{route}{query}", b"", _expect(wrong, b""), None)
    segment = draw(part(fault, "key", KEY_SEGMENTS, BAD_SEGMENTS))
    body = draw(bodies(INCR_FIELDS, fault))[0] if fault == "body" and method != "HEAD" else b""
    errors = wrong | (set() if key_ok(segment) else {404})  # a GET's body is ignored
    return Shaped(method, f"/kv/{segment}{query}", body, _expect(errors, body), 0)


@st.composite
def posts(draw) -> Shaped:
    """POST to incr or transfer, a JSON object body (mostly valid) within the limit."""
    if draw(st.booleans()):
        doc = draw(documents(INCR_FIELDS, None))
        return _incr("POST", draw(mostly(KEY_SEGMENTS, BAD_SEGMENTS)), "",
                     json.dumps(doc).encode(), doc)
    doc = draw(documents(TRANSFER_FIELDS, None))
    return _transfer("POST", "", json.dumps(doc).encode(), doc)


def check_answers(fz: Fuzzed, sent: list[Shaped], answers: list[Response]) -> None:
    for req, (status, body) in zip(sent, answers):  # the ledger first, as in the hostile test
        if status == 200 and req.method != "HEAD":
            fz.ledger.observe(body, req.by)
    fz.check_stats()
    for req, (status, body) in zip(sent, answers):
        assert status in req.expect, f"{req.method} {req.target[:60]} {req.body[:80]!r}" \
            f"{'...' if len(req.body) > 80 else ''}: expected {sorted(req.expect)}, got " \
            f"{status} {body[:200]!r}"


@pytest.mark.parametrize("fault", list(FAULTS))
@fuzz(25)
@given(data=st.data())
def test_fuzz_contract(fuzzed: Fuzzed, fault: str, data) -> None:
    fz = fuzzed
    mode = data.draw(st.sampled_from(["whole", "whole", "pieces", "pipelined"]))
    if mode == "pipelined":  # keep-alive requests back to back; none closes the connection early
        sent = data.draw(st.lists(shaped(fault).filter(lambda r: r.method != "HEAD"
                                                       and 413 not in r.expect),
                                  min_size=2, max_size=3))
        pieces = [b"".join(r.raw(close=(i == len(sent) - 1)) for i, r in enumerate(sent))]
    else:
        sent = [data.draw(shaped(fault))]
        raw = sent[0].raw()
        pieces = [raw]
        if mode == "pieces":  # a slow client: the server must wait for the whole request
            cuts = sorted(data.draw(st.sets(st.integers(1, len(raw) - 1), min_size=1,
                                            max_size=3)))
            pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    fz.counts["contract"] += len(sent)
    got = exchange(fz.server.port, pieces, len(sent), finish=False, pause=0.003)
    # refused before we finished sending an oversized body: see the module docstring
    if not (got.cut and any(413 in r.expect for r in sent)):
        assert len(got.responses) == len(sent), \
            f"{len(sent)} requests ({mode}), {len(got.responses)} answers: {got.responses}"
        check_answers(fz, sent, got.responses)
    else:
        fz.check_stats()


EDGE_VALUES = [0, 1, 1000, 1001, -1, -1000, KEYS - 1, KEYS, 2**31, 2**63, -(2**63), 10**30,
               1.0, 1000.0, -0.0, 1e308, float("nan"), float("inf"), True, False, None, "1",
               "", [1], {"by": 1}]
EDGE_SEGMENTS = ["0", str(KEYS - 1), str(KEYS), "-1", "-0", "+1", "1.0", "%31", "0" * 11 + "1",
                 "0" * 12 + "1", "9" * 12, "9" * 13, str(2**64), "1" * 5000]


def edge_requests() -> list[Shaped]:
    """Every boundary in every numeric field and key: too few to leave to chance."""
    sent = []
    for value in EDGE_VALUES:
        doc = {"by": value}
        sent.append(_incr("POST", "3", "", json.dumps(doc).encode(), doc))
        for name in ("from", "to", "amount"):
            doc = {"from": 1, "to": 2, "amount": 5, name: value}
            sent.append(_transfer("POST", "", json.dumps(doc).encode(), doc))
    for segment in EDGE_SEGMENTS:
        doc = {"by": 7}
        sent.append(_incr("POST", segment, "", json.dumps(doc).encode(), doc))
        sent.append(Shaped("GET", f"/kv/{segment}", b"", _expect(
            set() if key_ok(segment) else {404}, b""), 0))
    return sent


def test_edges(fuzzed: Fuzzed) -> None:
    for req in edge_requests():
        fuzzed.counts["edges"] += 1
        got = exchange(fuzzed.server.port, [req.raw()], 1, finish=False)
        assert len(got.responses) == 1, f"{req.method} {req.target[:40]}: {got.responses}"
        check_answers(fuzzed, [req], got.responses)


# --- hostile HTTP ------------------------------------------------------------------

@dataclass(frozen=True)
class Hostile:
    pieces: tuple[bytes, ...]
    whole: bool                          # a whole request: an answer is required
    must: frozenset[int] | None = None   # the statuses the contract demands, if any
    base: Shaped | None = None           # when the hostility must not change the answer


FOUR_XX = frozenset(range(400, 500))
TCHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
NO_SPACE = st.binary(max_size=120).filter(lambda b: not set(b) & set(b" \t\r\n"))


def _with_length(base: Shaped, values: list[bytes], body: bool = True) -> bytes:
    headers = tuple(b"Content-Length: " + value for value in values)
    return request(base.method.encode(), base.target.encode(), b"", headers=headers,
                   length=False) + (base.body if body else b"")


@st.composite
def garbage(draw) -> Hostile:
    junk = draw(st.one_of(st.binary(min_size=1, max_size=512),
                          st.text(min_size=1, max_size=200).map(str.encode)))
    return Hostile((junk + draw(st.sampled_from([b"", b"\r\n\r\n"])),), False)


@st.composite
def truncated(draw) -> Hostile:
    raw = draw(shaped()).raw()
    return Hostile((raw[:draw(st.integers(1, len(raw) - 1))],), False)


@st.composite
def length_junk(draw) -> Hostile:
    base = draw(posts())
    size = len(base.body)
    value = draw(st.sampled_from([b"-1", b"abc", b"1.5", b"0x10", b"", b"+%d" % size,
                                  b"%d %d" % (size, size), b"%d,%d" % (size, size),
                                  b"\xd9\xa3", b"%d\x00" % size, b"1e3"]))
    return Hostile((_with_length(base, [value]),), True, must=FOUR_XX)


@st.composite
def length_conflict(draw) -> Hostile:
    base = draw(posts())
    size = len(base.body)
    other = draw(st.integers(0, size + 10).filter(lambda n: n != size))
    values = draw(st.permutations([b"%d" % size, b"%d" % other]))
    return Hostile((_with_length(base, values),), True, must=FOUR_XX)


@st.composite
def length_short(draw) -> Hostile:  # the body, cut by the length, is never JSON
    base = draw(posts())
    short = draw(st.integers(0, len(base.body) - 1))
    return Hostile((_with_length(base, [b"%d" % short]),), True, must=FOUR_XX)


@st.composite
def length_long(draw) -> Hostile:  # the server waits for bytes that never come; we send EOF
    base = draw(posts())
    return Hostile((_with_length(base, [b"%d" % (len(base.body) + draw(st.integers(1, 999)))]),),
                   False)


@st.composite
def length_huge(draw) -> Hostile:  # no body sent: the length alone must be refused
    base = draw(posts())
    huge = b"%d" % draw(st.integers(MAX_BODY + 1, 10**30))
    return Hostile((_with_length(base, [huge], body=False),), True, must=FOUR_XX)


@st.composite
def oversized(draw) -> Hostile:  # a numeric length over the limit, the body sent
    base = draw(posts())
    body = b'{"by":1,"pad":"' + b"x" * draw(st.integers(MAX_BODY, 4 * MAX_BODY)) + b'"}'
    return Hostile((request(b"POST", base.target.encode(), body),), True,
                   must=frozenset({413}))


@st.composite
def header_flood(draw) -> Hostile:
    filler = draw(st.text(TCHARS, min_size=1, max_size=30)).encode()
    headers = tuple(b"X-Flood-%d: %s" % (i, filler) for i in range(draw(st.integers(50, 400))))
    return Hostile((draw(shaped()).raw(headers=headers),), True)


@st.composite
def long_header(draw) -> Hostile:
    header = b"X-Long: " + b"a" * draw(st.integers(7_000, 20_000))
    return Hostile((draw(shaped()).raw(headers=(header,)),), True)


@st.composite
def unknown_method(draw) -> Hostile:
    method = draw(st.one_of(st.text(TCHARS, min_size=1, max_size=20).map(str.encode),
                            NO_SPACE.filter(bool),
                            st.sampled_from([b"get", b"CONNECT", b"TRACE", b"PROPFIND"])))
    base = draw(shaped())
    return Hostile((request(method, base.target.encode(), base.body),), True)


@st.composite
def unknown_target(draw) -> Hostile:
    target = draw(st.one_of(
        NO_SPACE.map(lambda t: b"/" + t),
        st.integers(8_000, 9_000).map(lambda n: b"/" + b"a" * n),
        st.sampled_from([b"*", b"http://127.0.0.1/kv/0", b"//kv/0", b"/kv/0/incr/",
                         b"/kv/0/../1", b"/%6bv/0", b"/kv/%30", b"/KV/0", b"/health/",
                         b"/kv/0#x", b"kv/0", b"/kv//incr", b"/transfer/x", b"/\xff\xfe",
                         b"/kv/\xd9\xa3", b"/kv/\xc2\xb2/incr"])))
    method = draw(st.sampled_from([b"GET", b"POST"]))
    return Hostile((request(method, target, b'{"by":1}' if method == b"POST" else b""),), True)


@st.composite
def request_line(draw) -> Hostile:
    version = draw(st.sampled_from([b"HTTP/1.0", b"HTTP/0.9", b"HTTP/2.0", b"HTTP/9.9",
                                    b"http/1.1", b"HTTP/1.10", b"HTTP/1", b"HTTP/1.1 x",
                                    b"HTTX/1.1", b"HTTP/1.1\t"]))
    raw = draw(shaped()).raw(version=version)
    if draw(st.booleans()):
        raw = raw.replace(b" ", draw(st.sampled_from([b"  ", b"\t"])), 2)
    return Hostile((raw,), True)


@st.composite
def header_syntax(draw) -> Hostile:
    bad = draw(st.lists(st.sampled_from([
        b"NoColon", b" leading-space: x", b"Host : x", b"X: a\x00b", b"X: \xff\xfe",
        b"\xc3\xa9t\xc3\xa9: x", b": empty-name", b"X-A:" + b"a" * 100, b"\tfolded",
        b"Connection: keep-alive", b"Content-Type: text/plain", b"Host: a", b"Host:"]),
        min_size=1, max_size=4))
    raw = draw(shaped()).raw(headers=tuple(bad))
    if draw(st.booleans()):
        raw = raw.replace(b"\r\n", b"\n")  # bare LF line endings
    return Hostile((raw,), True)


@st.composite
def transfer_encoding(draw) -> Hostile:
    base = draw(posts())
    size = b"%x" % len(base.body)
    encoded = draw(st.sampled_from([
        size + b"\r\n" + base.body + b"\r\n0\r\n\r\n",   # valid chunked
        b"zz\r\n" + base.body + b"\r\n0\r\n\r\n",        # a bad chunk size
        size + b"\r\n" + base.body + b"\r\n"]))          # no last chunk
    coding = draw(st.sampled_from([b"chunked", b"gzip, chunked", b"identity", b"chunked, x"]))
    headers = (b"Transfer-Encoding: " + coding,)
    if draw(st.booleans()):
        headers += (b"Content-Length: %d" % len(encoded),)  # both: the smuggling classic
    raw = request(b"POST", base.target.encode(), b"", headers=headers, length=False)
    return Hostile((raw + encoded,), True, must=FOUR_XX)


@st.composite
def expect_continue(draw) -> Hostile:  # Expect must not change the answer
    base = draw(posts())
    return Hostile((base.raw(headers=(b"Expect: 100-continue",)),), True, base=base)


HOSTILE = {"garbage": garbage, "truncated": truncated, "length-junk": length_junk,
           "length-conflict": length_conflict, "length-short": length_short,
           "length-long": length_long, "length-huge": length_huge, "oversized": oversized,
           "header-flood": header_flood, "long-header": long_header,
           "method": unknown_method, "target": unknown_target, "request-line": request_line,
           "header-syntax": header_syntax, "transfer-encoding": transfer_encoding,
           "expect": expect_continue}


@pytest.mark.parametrize("kind", list(HOSTILE))
@fuzz(12)
@given(data=st.data())
def test_fuzz_hostile_http(fuzzed: Fuzzed, kind: str, data) -> None:
    fz, case = fuzzed, data.draw(HOSTILE[kind]())
    fz.counts["hostile"] += 1
    got = exchange(fz.server.port, list(case.pieces), 1, finish=not case.whole)
    statuses = [status for status, _ in got.responses]
    for status, body in got.responses:  # the ledger first: a wrong status must not desync it
        if status == 200 and body[:1] == b"{":
            fz.ledger.observe(body, case.base.by if case.base else None)
    fz.check_stats()
    assert all(status < 500 for status in statuses), f"{kind}: {statuses} {got.responses}"
    if case.whole and not got.cut:
        assert statuses, f"{kind}: a whole request got no answer: {case.pieces[0][:200]!r}"
    if case.must is not None and statuses:
        assert statuses[0] in case.must, \
            f"{kind}: expected {min(case.must)}..{max(case.must)}, got {got.responses[0]}"
    if case.base is not None and statuses:
        assert statuses[0] in case.base.expect, \
            f"{kind}: expected {sorted(case.base.expect)}, got {got.responses[0]}"


def test_still_serving_after_fuzzing(fuzzed: Fuzzed) -> None:
    """Last in the module: /health answers, the books balance, nothing crashed inside."""
    fz = fuzzed
    status, doc = fz.stats_client.get("/health")
    assert (status, doc.get("status")) == (200, "ok"), (status, doc)
    fz.check_stats()
    assert fz.server.alive()
    tail = fz.server.stderr_tail(400)
    for marker in ("internal error", "ipc op"):  # a strategy raised, or an IPC frame failed
        assert marker not in tail, f"{fz.name} logged {marker!r}:\n{tail[-3000:]}"
    print(f"{fz.name}: {sum(fz.counts.values())} fuzzed requests {dict(fz.counts)}; "
          f"acknowledged increments {fz.ledger.acked}")
