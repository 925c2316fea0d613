"""The server on another host, for real: a real OpenSSH server (Debian's sshd, `make sshd`)
on 127.0.0.2 and a free port, with a host key and a user key made for the test, and
`sharebench run --server-host 127.0.0.2` through it: every engine, then the failures
(the key refused, another version there, sshd killed mid-run, --resume).

This machine is both hosts: the servers run on it through ssh, listening on 127.0.0.2,
and the load comes from it. Nothing may be left running on either side.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from loadtests.machine.client import Client
from loadtests.machine.remote import HostServer
from loadtests.machine.server import ServerError, not_serving
from loadtests.machine.ssh import SshHost, ssh_failure
from loadtests.machine.topology import synthetic
from loadtests.planning import PlanError, placement
from loadtests.planning.cells import Cell
from loadtests.planning.workloads import WORKLOADS
from loadtests.running import hosts
from loadtests.running.cell import Setup, run_cell

from .helpers import REPO, STRATEGIES

SSHD = Path("/usr/sbin/sshd")
ADDRESS = "127.0.0.2"
LOAD_ADDRESS = "127.0.0.3"  # the same sshd listens here too: a second host for wrk
NEEDS_SSHD = pytest.mark.skipif(not SSHD.is_file() or not shutil.which("ssh"),
                                reason="no /usr/sbin/sshd or ssh client: `make sshd`")

PROFILE = """
[hosts]
warmup = "1s"
duration = "{duration}"
[[hosts.blocks]]
engine = "wrk"
strategies = ["global-lock"]
workloads = ["cpu"]
cores = [1, 2]
users = [16]
[[hosts.blocks]]
engine = "wrk"
strategies = ["global-lock"]
workloads = ["io"]
cores = [1]
users = [50]
rates = [300]
[[hosts.blocks]]
engine = "locust"
strategies = ["global-lock"]
workloads = ["write-heavy"]
cores = [1]
users = [8]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        return sock.getsockname()[1]


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


class Sshd:
    """One sshd in the foreground (-D), in its own process group, stopped by it."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()
        _keygen(folder / "host_key")
        _keygen(folder / "user_key")
        _keygen(folder / "other_key")
        (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
        (folder / "sshd_config").write_text(
            f"ListenAddress {ADDRESS}\nListenAddress {LOAD_ADDRESS}\nPort {self.port}\nHostKey {folder / 'host_key'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            "StrictModes no\nUsePAM no\nPidFile none\nMaxStartups 50\n")
        self.proc: subprocess.Popen | None = None

    def options(self, key: str = "user_key") -> str:
        return (f"-p {self.port} -i {self.folder / key} -o IdentitiesOnly=yes "
                "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")

    def start(self) -> Sshd:
        Path("/run/sshd").mkdir(exist_ok=True)  # its privilege-separation directory
        self.proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(self.folder / "sshd_config")],
                                     stderr=open(self.folder / "sshd.log", "ab"),
                                     start_new_session=True)
        host = SshHost(ADDRESS, tuple(self.options().split()))
        deadline = time.monotonic() + 10
        while hosts.reachable(host) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert hosts.reachable(host) is None, (self.folder / "sshd.log").read_text()
        return self

    def kill(self) -> None:
        """sshd and every connection it serves, at once (a host gone, connections dropped)."""
        assert self.proc is not None
        sessions = psutil.Process(self.proc.pid).children(recursive=True)
        os.killpg(self.proc.pid, signal.SIGKILL)
        for child in sessions:  # per-connection sshd processes start sessions of their own
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(10)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = Sshd(tmp_path_factory.mktemp("sshd")).start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.kill()


def _served_here() -> list[psutil.Process]:
    """Servers, load generators and agents started through the test's sshd: a server
    listens on ADDRESS, wrk's script is in an agent's folder."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if (("loadtests.machine.agent serve" in cmd or "sharebench serve" in cmd) and ADDRESS in cmd
                or "loadtests.machine.agent run" in cmd or "sharebench-agent-" in cmd):
            found.append(proc)
    return found


def _nothing_left(timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while _served_here() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _served_here(), [p.cmdline() for p in _served_here()]


def _run(tmp: Path, sshd: Sshd, *extra: str, key: str = "user_key", duration: str = "1s",
         wait: bool = True, hosts_: tuple[str, ...] = ("--server-host", ADDRESS)):
    profile = tmp / "profiles.toml"
    profile.write_text(PROFILE.format(duration=duration))
    cmd = [sys.executable, "-m", "sharebench", "run", "--profile", "hosts", "--profile-file",
           str(profile), "--results", str(tmp / "results"), *hosts_,
           "--ssh-options", sshd.options(key), *extra]
    if not wait:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=REPO, start_new_session=True)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)


def _runs(tmp: Path) -> list[Path]:
    return [p for p in (tmp / "results").iterdir() if p.is_dir() and not p.is_symlink()]


def _records(run: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (run / "cells").glob("*.json")}


@NEEDS_SSHD
@pytest.mark.servers
@pytest.mark.load
def test_every_engine_through_ssh_measures_the_server_there_and_the_report_names_the_hosts(
        tmp_path: Path, sshd: Sshd) -> None:
    done = _run(tmp_path, sshd)
    assert done.returncode == 0, done.stderr[-3000:]
    [run] = _runs(tmp_path)
    records = _records(run)
    assert {r["engine"] for r in records.values()} == {"wrk", "locust"}
    assert any(r["rate"] for r in records.values())  # paced wrk
    for record in records.values():
        assert record["status"] == "ok", record["reason"]
        assert record["server_host"] == ADDRESS and record["load_host"] == "local"
        assert record["server_cpu"] > 0 and record["rss_mb"] > 5 and record["server_threads"] >= 1
        assert record["shared_cpu"] is False
        assert record["rps"] > 0 and record["correct"] is True
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["hosts"]["server"]["name"] == ADDRESS
    assert manifest["hosts"]["server"]["address"] == ADDRESS
    for side in ("server", "load"):
        assert {"hostname", "kernel", "python", "logical_cores", "topology"} <= set(manifest["hosts"][side])
    assert manifest["placement"]["apart"] is True
    _nothing_left()
    report = subprocess.run([sys.executable, "-m", "sharebench", "report", str(run)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert report.returncode == 0, report.stderr[-2000:]
    assert f"server on {ADDRESS}" in (run / "report.md").read_text()


@NEEDS_SSHD
@pytest.mark.servers
def test_a_refused_key_is_one_line_before_anything_starts(tmp_path: Path, sshd: Sshd) -> None:
    done = _run(tmp_path, sshd, key="other_key")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "refused the key" in done.stderr and "authorized_keys" in done.stderr
    assert not (tmp_path / "results").exists()


@NEEDS_SSHD
@pytest.mark.servers
def test_another_version_or_no_setup_there_is_one_line(tmp_path: Path, sshd: Sshd) -> None:
    other = tmp_path / "other"
    shutil.copytree(REPO / "loadtests", other / "loadtests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (other / ".venv").symlink_to(REPO / ".venv")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(other)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "loadtests"], check=True)
    subprocess.run([*git, "commit", "-qm", "another version"], check=True)
    done = _run(tmp_path, sshd, "--server-dir", str(other))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "at commit" in done.stderr and "check out the same commit" in done.stderr

    bare = tmp_path / "bare"
    bare.mkdir()
    done = _run(tmp_path, sshd, "--server-dir", str(bare))
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0, done.stderr
    assert "make setup" in done.stderr
    assert not (tmp_path / "results").exists()


@NEEDS_SSHD
@pytest.mark.servers
@pytest.mark.load
def test_sshd_killed_mid_run_fails_the_cell_stops_the_run_and_resume_finishes_it(
        tmp_path: Path, sshd: Sshd) -> None:
    proc = _run(tmp_path, sshd, duration="4s", wait=False)
    try:
        deadline = time.monotonic() + 120
        while not any("sharebench serve" in " ".join(p.cmdline()) for p in _served_here()):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        time.sleep(2.5)  # inside the cell's window
        sshd.kill()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _nothing_left()  # the agent saw its connection end and stopped the server's group
    assert proc.returncode != 0, err[-3000:]
    [run] = _runs(tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["interrupted_by"].startswith(f"server host lost: ssh {ADDRESS}")
    failed = [r for r in _records(run).values() if r["status"] == "failed"]
    assert len(failed) == 1 and ADDRESS in failed[0]["reason"], failed
    assert len(_records(run)) < 4

    down = subprocess.run([sys.executable, "-m", "sharebench", "run", "--resume", str(run)],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert down.returncode == 2 and down.stderr.strip().count("\n") == 0, down.stderr
    assert f"ssh {ADDRESS}" in down.stderr

    sshd.start()
    done = subprocess.run([sys.executable, "-m", "sharebench", "run", "--resume", str(run)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    records = _records(run)
    assert len(records) == 4
    assert sum(r["status"] == "ok" for r in records.values()) == 3
    _nothing_left()


@NEEDS_SSHD
@pytest.mark.servers
def test_a_server_that_will_not_start_there_says_why_on_its_first_line(sshd: Sshd) -> None:
    host = SshHost(ADDRESS, tuple(sshd.options().split()))
    server = HostServer("async", host, ADDRESS, ["--workers", "20000"])
    with pytest.raises(ServerError) as failed:
        server.start()
    first = str(failed.value).splitlines()[0]
    assert first.startswith("async exited with status 2 before serving: ")
    assert "--workers must be 1" in first
    _nothing_left()


@NEEDS_SSHD
@pytest.mark.servers
def test_the_ssh_client_dying_stops_the_server_there(sshd: Sshd) -> None:
    host = SshHost(ADDRESS, tuple(sshd.options().split()))
    server = HostServer("global-lock", host, ADDRESS, cpus={0}).start()
    assert server.sample().alive and server.sample().cpus_busy_s > 0
    assert Client(ADDRESS, server.port).get("/health")[0] == 200
    assert server.proc is not None
    os.killpg(server.proc.pid, signal.SIGKILL)  # ssh alone: the agent's stdin ends there
    _nothing_left()
    server.stop()  # nothing to stop any more: no error


def test_placement_apart_gives_the_server_every_core_of_its_host_and_shares_none() -> None:
    server_host, load_host = synthetic(4, threads=2), synthetic(2)
    place = placement.apart(server_host, load_host)
    assert place.share == 4 and place.server(4) == {0, 1, 2, 3} and place.server(8) == set(range(8))
    assert place.loadgen == {0, 1}
    described = place.describe([1, 4, 8])
    assert described["apart"] is True and not any(described["shared"].values())
    assert "apart" not in placement.default(server_host).describe([1])
    assert placement.apart(server_host, load_host, "1").loadgen == {1}
    with pytest.raises(PlanError, match="load host's CPUs"):
        placement.apart(server_host, load_host, "5")


def test_ssh_failures_are_one_line_and_a_refused_key_says_what_to_do() -> None:
    said = ssh_failure("h", "Warning: Permanently added 'h' (ED25519) to the list of known hosts.\n"
                            "root@h: Permission denied (publickey).\n")
    assert "\n" not in said and "refused the key" in said and "BatchMode" in said
    assert ssh_failure("h", "ssh: connect to host h port 22: Connection refused\n") == (
        "ssh h: ssh: connect to host h port 22: Connection refused")
    assert ssh_failure("h", "") == "ssh h: ssh exited with status 255"


def test_a_server_exiting_before_serving_names_its_last_stderr_line_first() -> None:
    text = not_serving("async", 2, "Traceback\nsharebench: error: --workers must be 1, got 20000\n")
    assert text.splitlines()[0] == ("async exited with status 2 before serving: "
                                    "sharebench: error: --workers must be 1, got 20000")
    assert not_serving("x", -9, "").splitlines()[0].endswith("(nothing on stderr)")


@pytest.mark.servers
def test_a_local_server_that_will_not_start_says_why_in_the_cell_reason(tmp_path: Path) -> None:
    record = run_cell(Cell("async", "write-heavy", 1, 8, 0, "wrk", workers=20000),
                      WORKLOADS["write-heavy"],
                      Setup(warmup=1, duration=1, loadgen_cpus={0}, server_cpus={1: {0}},
                            scratch=tmp_path, spec={"async": STRATEGIES["async"].traits.to_dict()}),
                      threading.Event())
    assert record.status == "failed"
    assert "--workers must be 1, got 20000" in record.reason, record.reason
    assert record.server_host == "local" and record.load_host == "local"


@NEEDS_SSHD
@pytest.mark.servers
@pytest.mark.load
def test_every_engine_on_a_load_host_is_sampled_there_against_a_server_on_another(
        tmp_path: Path, sshd: Sshd) -> None:
    done = _run(tmp_path, sshd, hosts_=("--server-host", ADDRESS, "--load-host", LOAD_ADDRESS))
    assert done.returncode == 0, done.stderr[-3000:]
    [run] = _runs(tmp_path)
    records = _records(run)
    assert len(records) == 4 and any(r["rate"] for r in records.values())
    assert {r["engine"] for r in records.values()} == {"wrk", "locust"}  # Locust: its workers there
    for record in records.values():
        assert record["status"] == "ok", record["reason"]
        assert record["server_host"] == ADDRESS and record["load_host"] == LOAD_ADDRESS
        assert record["server_cpu"] > 0 and record["loadgen_cpu"] > 0
        assert record["loadgen_cpus_busy"] is not None and record["shared_cpu"] is False
    assert json.loads((run / "manifest.json").read_text())["hosts"]["load"]["name"] == LOAD_ADDRESS
    _nothing_left()


@NEEDS_SSHD
@pytest.mark.servers
@pytest.mark.load
def test_ctrl_c_stops_the_server_on_its_host_and_wrk_on_its_own(tmp_path: Path, sshd: Sshd) -> None:
    proc = _run(tmp_path, sshd, "--engine", "wrk", duration="4s", wait=False,
                hosts_=("--server-host", ADDRESS, "--load-host", LOAD_ADDRESS))
    try:
        deadline = time.monotonic() + 120
        while not any("loadtests.machine.agent run" in " ".join(p.cmdline()) for p in _served_here()):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        time.sleep(1.5)
        os.kill(proc.pid, signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err[-2000:]
    _nothing_left()
    [run] = _runs(tmp_path)
    assert json.loads((run / "manifest.json").read_text())["status"] == "interrupted"


def test_the_manifest_names_each_host_and_resume_reaches_them_again() -> None:
    here = hosts.manifest_hosts(None)
    assert here["server"]["name"] == here["load"]["name"] == "local"
    assert here["server"]["address"] == "127.0.0.1"
    assert hosts.host_of({"hosts": here}, "server") is None and hosts.host_of({}, "load") is None
    described = {"hostname": "b", "kernel": "Linux 6", "python": "CPython 3.11.7",
                 "logical_cores": 64, "topology": {"cpus": 64}, "address": "10.0.0.2",
                 "client": "10.0.0.1"}
    server = hosts.ServerHost(SshHost("b", ("-p", "2222"), "/srv/sb"), described)
    found = hosts.manifest_hosts(server)
    assert found["server"]["logical_cores"] == 64 and found["load"]["name"] == "local"
    assert hosts.host_of({"hosts": found}, "server") == SshHost("b", ("-p", "2222"), "/srv/sb")
    load_only = hosts.manifest_hosts(None, server)
    assert load_only["server"]["address"] == "10.0.0.1"  # a server here, loaded from there
