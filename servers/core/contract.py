"""The HTTP contract every strategy speaks, written once.

Routing, validation and response shapes live here so that two strategies can
only differ in how they share state. Both HTTP layers (threads and async) call
:func:`parse` and then run the returned :class:`Call` against their store.
See CONTRACT.md for the prose version; the tests check both agree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MAX_BODY = 64 * 1024
MIN_AMOUNT, MAX_AMOUNT = 1, 1000
_MAX_KEY_DIGITS = 12  # longer than any keyspace; keeps int() on hostile input cheap

# The operations that touch shared state; the HTTP layers do the work knobs
# around exactly these.
STATE_OPS = frozenset({"get", "incr", "transfer"})


class HttpError(Exception):
    """A client error: becomes a JSON ``{"error": ...}`` response, never a 5xx."""

    def __init__(self, status: int, message: str, allow: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.allow = allow


@dataclass(frozen=True, slots=True)
class Call:
    op: str  # get | incr | transfer | health | stats
    args: tuple[int, ...] = ()


def _key(text: str, keys: int) -> int:
    if not text.isdigit() or not text.isascii() or len(text) > _MAX_KEY_DIGITS:
        raise HttpError(404, f"no such key: {text[:40]!r}")
    key = int(text)
    if key >= keys:
        raise HttpError(404, f"key {key} out of range 0..{keys - 1}")
    return key


def _method(method: str, wanted: str) -> None:
    if method != wanted:
        raise HttpError(405, f"method {method[:16]} not allowed; use {wanted}", allow=wanted)


def _json_object(body: bytes) -> dict:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HttpError(400, "body is not valid UTF-8 JSON") from None
    if not isinstance(doc, dict):
        raise HttpError(400, "body must be a JSON object")
    return doc


def _int_field(doc: dict, name: str, low: int | None = None, high: int | None = None) -> int:
    value = doc.get(name)
    # bool is an int subclass in Python; JSON true is not a number.
    if type(value) is not int:
        raise HttpError(400, f"field {name!r} must be an integer")
    if low is not None and high is not None and not low <= value <= high:
        raise HttpError(400, f"field {name!r} must be in {low}..{high}")
    return value


def _body_key(doc: dict, name: str, keys: int) -> int:
    key = _int_field(doc, name)
    if not 0 <= key < keys:
        raise HttpError(404, f"key {key} out of range 0..{keys - 1}")
    return key


def parse(method: str, target: str, body: bytes, keys: int) -> Call:
    """Turn one request into a Call, or raise HttpError (404/405/400/413)."""
    if len(body) > MAX_BODY:
        raise HttpError(413, f"body over {MAX_BODY} bytes")
    path = target.split("?", 1)[0]
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "kv":
        _method(method, "GET")
        return Call("get", (_key(parts[2], keys),))
    if len(parts) == 4 and parts[1] == "kv" and parts[3] == "incr":
        key = _key(parts[2], keys)
        _method(method, "POST")
        return Call("incr", (key, _int_field(_json_object(body), "by", MIN_AMOUNT, MAX_AMOUNT)))
    if path == "/transfer":
        _method(method, "POST")
        doc = _json_object(body)
        src, dst = _body_key(doc, "from", keys), _body_key(doc, "to", keys)
        amount = _int_field(doc, "amount", MIN_AMOUNT, MAX_AMOUNT)
        if src == dst:
            raise HttpError(400, "'from' and 'to' must differ")
        return Call("transfer", (src, dst, amount))
    if path in ("/health", "/stats"):
        _method(method, "GET")
        return Call(path[1:])
    raise HttpError(404, f"no route for {path[:80]!r}")


def dumps(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def result_body(call: Call, result) -> bytes:
    """The 200 body for a state operation's result."""
    if call.op == "transfer":
        src, dst, amount = call.args
        return dumps({"from": src, "to": dst, "amount": amount,
                      "from_value": result[0], "to_value": result[1]})
    return dumps({"key": call.args[0], "value": result})


def error_body(err: HttpError) -> bytes:
    return dumps({"error": err.message})
