"""The shared HTTP/1.1 parser (servers/core/http1.py), fed bytes as a socket hands them
over: the threads model and the raw event loop read requests through it."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servers.core.http1 import MAX_HEADERS, MAX_LINE, Parser, Reject

GET = b"GET /kv/1 HTTP/1.1\r\nHost: x\r\n\r\n"
POST = b'POST /kv/2/incr HTTP/1.1\r\nContent-Length: 8\r\n\r\n{"by":3}'
CLOSE = b"GET /health HTTP/1.0\r\n\r\n"
STREAM = GET + POST + CLOSE
EXPECTED = [("GET", "/kv/1", True, b""), ("POST", "/kv/2/incr", True, b'{"by":3}'),
            ("GET", "/health", False, b"")]


def drain(parser: Parser) -> list:
    found = []
    while (request := parser.next()) is not None:
        found.append(request)
    return found


@given(st.lists(st.integers(1, len(STREAM) - 1), max_size=12))
def test_pipelined_requests_come_out_whole_however_the_bytes_are_split(cuts: list[int]) -> None:
    parser, found, edges = Parser(), [], [0, *sorted(set(cuts)), len(STREAM)]
    for start, end in zip(edges, edges[1:]):
        parser.feed(STREAM[start:end])
        found += drain(parser)
    assert found == EXPECTED
    assert parser.idle
    parser.eof()  # nothing pending: a clean end


def test_a_request_waits_for_its_body() -> None:
    parser = Parser()
    parser.feed(POST[:-3])
    assert parser.next() is None and not parser.idle
    parser.feed(POST[-3:])
    assert parser.next() == EXPECTED[1]


@pytest.mark.parametrize("data, status", [
    (b"GET /" + b"a" * MAX_LINE, 414),                       # refused before its end arrives
    (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_LINE, 431),
    (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * (MAX_HEADERS + 1), 431),
    (b"GET / HTTP/2.0\r\n\r\n", 400),
    (b"\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 413),
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400)])
def test_bad_requests_are_refused_with_their_status(data: bytes, status: int) -> None:
    parser = Parser()
    parser.feed(data)
    with pytest.raises(Reject) as refused:
        parser.next()
    assert refused.value.payload.startswith(b"HTTP/1.1 %d " % status)
    assert b"Connection: close" in refused.value.payload


@pytest.mark.parametrize("data, answered", [
    (b"GET /kv/1 HT", True), (b"GET /kv/1 HTTP/1.1\r\nHost: x", True),
    (b"GET /kv/1 HTTP/1.1\r\n", True), (POST[:-2], False)])
def test_end_of_input_mid_request(data: bytes, answered: bool) -> None:
    """A head cut short is answered 400; a body cut short is not answered at all."""
    parser = Parser()
    parser.feed(data)
    assert parser.next() is None
    if answered:
        with pytest.raises(Reject) as refused:
            parser.eof()
        assert refused.value.payload.startswith(b"HTTP/1.1 400 ")
    else:
        parser.eof()


def test_connection_header_decides_keep_alive() -> None:
    parser = Parser()
    parser.feed(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.0\r\n"
                b"Connection: keep-alive\r\n\r\n")
    assert [r[2] for r in drain(parser)] == [False, True]
