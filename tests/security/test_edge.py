"""The edge refuses abusive connections: a real `clearway up` on 127.0.0.1, raw sockets.

Limits are small here so the tests are short; the bounds asserted are generous (a refusal
within seconds, where without the limits the connection is held for as long as the client
likes), never how fast the machine is.
"""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from clearway.runtime.server import server_config
from tests.conftest import test_settings
from tests.e2e.support import COMMAND, clearway_env, free_ports, wait_until_ready

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 8
BODY_TIMEOUT = 8
MAX_CONNECTIONS = 12
MAX_HEADER_BYTES = 16_384
MAX_HEADERS = 50
# Much longer than any limit above: an answer within this is the limit at work.
ANSWER_WITHIN = 60.0


@dataclass
class Edge:
    port: int
    base: str


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    (port,) = free_ports(1)
    env = {
        **clearway_env(tmp_path_factory.mktemp("edge") / "data", port),
        "CLEARWAY_EDGE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CLEARWAY_EDGE_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "CLEARWAY_EDGE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "CLEARWAY_EDGE_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "CLEARWAY_EDGE_MAX_HEADERS": str(MAX_HEADERS),
        "CLEARWAY_RATELIMIT_ADDRESS_PER_SECOND": "0.01",
        "CLEARWAY_RATELIMIT_ADDRESS_BURST": "5",
    }
    process = subprocess.Popen([*COMMAND, "up"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/readyz", process, 90.0)
        yield Edge(port, base)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def connect(edge: Edge) -> socket.socket:
    return socket.create_connection(("127.0.0.1", edge.port), timeout=ANSWER_WITHIN)


def answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection. A server that answers and
    closes while our bytes still arrive resets the connection after its answer: the answer
    read before the reset stands, as it does for any HTTP client."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        if not chunks:
            raise
    return b"".join(chunks)


def status_and_problem(raw: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/problem+json" in head.lower(), head
    problem: dict[str, object] = orjson.loads(body)
    assert problem["status"] == status
    return status, problem


def send_until_answered(sock: socket.socket, pieces: Iterator[bytes], pause: float = 0) -> int:
    """Send pieces until the server answers or closes; how many bytes went out."""
    sent = 0
    for piece in pieces:
        readable, _, _ = select.select([sock], [], [], pause)
        if readable:
            break
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(piece)
    return sent


def answered_or_reset(sock: socket.socket) -> bytes | None:
    """The answer, or None when the connection was reset (refused with bytes still unread)."""
    try:
        return answer(sock)
    except ConnectionResetError:
        return None


def still_serving(edge: Edge) -> None:
    assert httpx.get(f"{edge.base}/healthz", timeout=ANSWER_WITHIN).status_code == 200


def test_a_head_over_the_size_limit_is_a_431(edge: Edge) -> None:
    with connect(edge) as sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n"
        )
        status, problem = status_and_problem(answer(sock))
    assert status == 431
    assert str(MAX_HEADER_BYTES) in str(problem["detail"])


def test_a_64_mib_header_is_refused_long_before_its_end(edge: Edge) -> None:
    total = 64 * 1024 * 1024
    piece = b"a" * 65536
    started = time.monotonic()
    with connect(edge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ")
        sent = send_until_answered(sock, iter([piece] * (total // len(piece))))
        raw = answered_or_reset(sock)
    # The server stopped reading a few reads past the limit; what went out beyond it sat in
    # the kernels' buffers. Without the limit all 64 MiB are read and answered with a 200.
    assert sent < total // 4
    assert raw is None or status_and_problem(raw)[0] == 431
    assert time.monotonic() - started < ANSWER_WITHIN
    still_serving(edge)


def test_too_many_header_lines_are_a_431(edge: Edge) -> None:
    lines = b"".join(b"x-%d: 1\r\n" % n for n in range(MAX_HEADERS + 1))
    with connect(edge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n" + lines + b"\r\n")
        status, problem = status_and_problem(answer(sock))
    assert status == 431
    assert "header lines" in str(problem["detail"])


def test_twenty_thousand_headers_are_refused(edge: Edge) -> None:
    lines = (b"x-%d: 1\r\n" % n for n in range(20_000))
    with connect(edge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        sent = send_until_answered(sock, lines)
        raw = answered_or_reset(sock)
    assert sent < 20_000 * 8
    assert raw is None or status_and_problem(raw)[0] == 431
    still_serving(edge)


def test_a_head_sent_a_byte_at_a_time_is_a_408(edge: Edge) -> None:
    head = b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: " + b"a" * 10_000
    started = time.monotonic()
    with connect(edge) as sock:
        send_until_answered(sock, (head[i : i + 1] for i in range(len(head))), pause=0.05)
        status, _ = status_and_problem(answer(sock))
    assert status == 408
    assert time.monotonic() - started < ANSWER_WITHIN


def test_a_connection_that_never_sends_a_head_is_closed_with_a_408(edge: Edge) -> None:
    with connect(edge) as sock:
        status, _ = status_and_problem(answer(sock))
    assert status == 408


def test_a_body_sent_a_byte_at_a_time_is_a_408(edge: Edge) -> None:
    head = (
        b"POST /api/identity/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"transfer-encoding: chunked\r\n\r\n"
    )
    body = b'{"email": "slow@example.com", "password": "' + b"p" * 10_000
    started = time.monotonic()
    with connect(edge) as sock:
        sock.sendall(head)
        chunks = (b"1\r\n" + body[i : i + 1] + b"\r\n" for i in range(len(body)))
        send_until_answered(sock, chunks, pause=0.05)
        status, problem = status_and_problem(answer(sock))
    assert status == 408
    assert "body" in str(problem["detail"])
    assert time.monotonic() - started < ANSWER_WITHIN


def test_connections_beyond_the_cap_are_refused_with_a_503(edge: Edge) -> None:
    socks = [connect(edge) for _ in range(MAX_CONNECTIONS + 1)]
    try:
        # Quiet connections wait for their header timeout; the one past the cap is answered
        # at once, so it is the first answer, however long the machine takes to send it.
        readable, _, _ = select.select(socks, [], [], ANSWER_WITHIN)
        first = [status_and_problem(answer(sock))[0] for sock in readable]
        later = [answered_or_reset(sock) for sock in socks if sock not in readable]
    finally:
        for sock in socks:
            sock.close()
    assert 503 in first
    statuses = first + [status_and_problem(raw)[0] for raw in later if raw]
    assert statuses.count(503) == 1, statuses
    deadline = time.monotonic() + ANSWER_WITHIN
    while True:  # once the others are gone, a new connection is served again
        try:
            still_serving(edge)
            break
        except (AssertionError, httpx.HTTPError):
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_a_rotating_x_forwarded_for_does_not_escape_the_address_limit(edge: Edge) -> None:
    statuses = [
        httpx.get(
            f"{edge.base}/api/rules/markets",
            headers={"x-forwarded-for": f"203.0.113.{n}"},
            timeout=ANSWER_WITHIN,
        ).status_code
        for n in range(10)
    ]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses


def test_forwarded_headers_are_believed_only_from_configured_proxies() -> None:
    app = object()
    nobody = server_config(app, test_settings(Path("/nonexistent")))  # type: ignore[arg-type]
    assert nobody.proxy_headers is False
    proxies = test_settings(Path("/nonexistent"), forwarded_allow_ips="10.0.0.1, 10.1.0.0/16")
    trusted = server_config(app, proxies)  # type: ignore[arg-type]
    assert trusted.proxy_headers is True
    assert trusted.forwarded_allow_ips == ["10.0.0.1", "10.1.0.0/16"]


def test_a_service_behind_the_gateway_has_room_for_the_headers_the_gateway_adds() -> None:
    settings = test_settings(Path("/nonexistent"))
    edge = server_config(object(), settings).http  # type: ignore[arg-type]
    service = server_config(object(), settings, behind_gateway=True).http  # type: ignore[arg-type]
    assert isinstance(edge, type) and isinstance(service, type)
    assert edge.limits.max_headers == settings.edge_max_headers  # type: ignore[attr-defined]
    assert service.limits.max_headers > edge.limits.max_headers  # type: ignore[attr-defined]
    assert service.limits.max_header_bytes > edge.limits.max_header_bytes  # type: ignore[attr-defined]
