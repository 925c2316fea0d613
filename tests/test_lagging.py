"""When an open-loop generator counts as lagging, below the processes.

CI once starved Locust so hard (three busy loops at a higher priority on its core) that
its users had not started when the window closed: no slot ran inside the window, its
report carried no open-loop fields, and the cell failed as "not open-loop aware" instead
of being flagged `loadgen_lagging`. The real-process version of this is in
tests/test_open_loop.py; these pin the two pieces without depending on the scheduler.
"""
from __future__ import annotations

import json
import subprocess
import sys

from loadtests.engines import Part
from loadtests.running.cell import open_loop
from results import hdr

from .helpers import REPO


def one_report(scheduled: int, lag_us: int = 100, count: int = 0) -> Part:
    latency, lag = hdr.new(), hdr.new()
    for _ in range(count):
        latency.record_value(500)
        lag.record_value(lag_us)
    encoded = hdr.encode(latency)
    return Part(requests=count, errors={}, acked_incr=0, uncertain_incr=0, first_request=0.0,
                hdr=encoded, hdr_uncorrected=encoded, lag_hdr=hdr.encode(lag), scheduled=scheduled)


def test_a_recorder_with_no_slot_in_the_window_still_reports_open_loop() -> None:
    # In a process of its own: importing the locustfile lets gevent patch the interpreter.
    code = ("import json; from loadtests.engines.locustfile import Recorder\n"
            "r = Recorder(); closed = r.report(); r.open_loop = True\n"
            "print(json.dumps([sorted(closed), r.report()]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    closed_keys, report = json.loads(done.stdout.splitlines()[-1])
    assert "hdr_uncorrected" not in closed_keys  # closed loop: no open-loop fields
    assert report["scheduled"] == 0 and "hdr_uncorrected" in report and "lag_hdr" in report


def test_no_slot_in_the_window_is_lagging_even_on_idle_cpus() -> None:
    found = open_loop([one_report(0), one_report(0)], rps=0.0, offered=4000, loadgen_cpus_busy=0.1,
                      loadgen_cores=1)
    assert found.loadgen_lagging is True


def test_a_kept_schedule_is_not_lagging_and_each_reason_alone_flags_it() -> None:
    def lagging(one: Part, rps: float = 3990.0, busy: float = 0.95) -> bool:
        return open_loop([one], rps=rps, offered=4000, loadgen_cpus_busy=busy,
                         loadgen_cores=1).loadgen_lagging
    assert lagging(one_report(8000, count=50)) is False
    assert lagging(one_report(8000, count=50), rps=3000.0) is True  # short on busy CPUs
    # short on idle CPUs is the server's queue, not the generator's
    assert lagging(one_report(8000, count=50), rps=3000.0, busy=0.3) is False
    late = open_loop([one_report(8000, lag_us=20_000, count=50)], rps=3990.0, offered=4000,
                     loadgen_cpus_busy=0.95, loadgen_cores=1)
    assert late.loadgen_lagging and late.send_lag_p99_us >= 19_000
