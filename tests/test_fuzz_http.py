"""Hostile HTTP against every strategy: garbage, lengths, headers, methods (tests/fuzzing.py)."""
from __future__ import annotations

import string
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .fuzzing import MAX_BODY, Fuzzed, Shaped, exchange, fuzz, posts, request, shaped

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out


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
