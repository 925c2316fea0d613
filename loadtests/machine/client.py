"""A small blocking HTTP client for checks and tests (not for load: Locust does that)."""
from __future__ import annotations

import http.client
import json
import socket


class Client:
    """One persistent connection; reconnects once if the server closed it."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | dict | None = None,
                headers: dict | None = None) -> tuple[int, dict]:
        """Send one request; return (status, parsed JSON body or {"_raw": text})."""
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                resp = self._conn.getresponse()
                raw = resp.read()
                if resp.will_close:
                    self.close()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = {"_raw": raw.decode("utf-8", "replace")}
        return resp.status, doc

    def get(self, path: str) -> tuple[int, dict]:
        return self.request("GET", path)

    def post(self, path: str, body: bytes | dict | None = None) -> tuple[int, dict]:
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def raw_exchange(host: str, port: int, payload: bytes, timeout: float = 5.0,
                 half_close: bool = True) -> bytes:
    """Send raw bytes and return whatever the server answers until it closes.

    ``half_close`` sends EOF after the payload, so a server waiting for the rest
    of a truncated request answers at once; some servers (aiohttp) treat EOF as
    the client leaving, so a complete request with ``Connection: close`` is
    better sent without it.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int | None:
    """The status code of the first response in raw bytes, or None if there is none."""
    parts = response.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None
