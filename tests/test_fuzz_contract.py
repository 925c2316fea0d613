"""Contract-shaped requests with one part fuzzed, and every edge value (tests/fuzzing.py)."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .fuzzing import (
    FAULTS,
    KEYS,
    Fuzzed,
    Shaped,
    assert_still_serving,
    check_answers,
    exchange,
    expected_statuses,
    fuzz,
    incr_shaped,
    key_ok,
    shaped,
    transfer_shaped,
)

pytestmark = pytest.mark.load  # runs load; make test-fast leaves it out


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
        sent.append(incr_shaped("POST", "3", "", json.dumps(doc).encode(), doc))
        for name in ("from", "to", "amount"):
            doc = {"from": 1, "to": 2, "amount": 5, name: value}
            sent.append(transfer_shaped("POST", "", json.dumps(doc).encode(), doc))
    for segment in EDGE_SEGMENTS:
        doc = {"by": 7}
        sent.append(incr_shaped("POST", segment, "", json.dumps(doc).encode(), doc))
        sent.append(Shaped("GET", f"/kv/{segment}", b"", expected_statuses(
            set() if key_ok(segment) else {404}, b""), 0))
    return sent


def test_edges(fuzzed: Fuzzed) -> None:
    for req in edge_requests():
        fuzzed.counts["edges"] += 1
        got = exchange(fuzzed.server.port, [req.raw()], 1, finish=False)
        assert len(got.responses) == 1, f"{req.method} {req.target[:40]}: {got.responses}"
        check_answers(fuzzed, [req], got.responses)
    assert_still_serving(fuzzed)  # every edge at once left nothing broken inside
