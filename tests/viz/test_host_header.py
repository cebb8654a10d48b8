"""The dashboard answers only requests addressed to the loopback address it serves.

A page on another site can make the browser send requests to 127.0.0.1 under its own
name (DNS rebinding); the browser then sends that name in the Host header. The server
`scenarios viz` starts refuses such requests, pages and websockets alike, and serves
`127.0.0.1:PORT` and `localhost:PORT`. The server listens on 127.0.0.1 only and is
stopped with its whole process group at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from tests.conftest import CONFIGS

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, host: str, path: str = "/") -> int:
    """Status of GET ``path`` from the server on 127.0.0.1:``port``, sent as ``Host: host``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def websocket_handshake(port: int, host: str) -> str:
    """The status line the server answers a websocket handshake with."""
    request = (
        "GET /jupyter/api/kernels/00000000-0000-0000-0000-000000000000/channels HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    port = free_port()
    config = str(CONFIGS / "baseline.yaml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "scenarios", "viz", config, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                if get(port, f"127.0.0.1:{port}", "/readyz") == 200:
                    break
            assert proc.poll() is None, "the dashboard server exited"
            assert time.monotonic() < deadline, "the dashboard did not come up"
            time.sleep(0.5)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_the_loopback_address_it_serves_is_answered(port: int, host: str) -> None:
    assert get(port, host.format(port=port)) == 200


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1.evil.example:{port}",
        "localhost.evil.example:{port}",
        "127.0.0.1:1",  # the right address, another port
        "",
    ],
)
def test_other_hosts_are_refused(port: int, host: str) -> None:
    assert get(port, host.format(port=port)) in (400, 403)
    assert get(port, host.format(port=port), "/readyz") in (400, 403)


def test_a_websocket_for_another_host_is_refused(port: int) -> None:
    status = websocket_handshake(port, f"evil.example:{port}")
    assert " 101 " not in status
    assert " 403 " in status
