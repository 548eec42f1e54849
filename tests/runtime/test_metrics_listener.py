"""Prometheus metrics are served on their own listener, not through the public gateway."""

import shutil
import socket
from pathlib import Path

import httpx

from clearway.runtime.platform import Platform
from tests.conftest import Api, test_settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_metrics_on_their_own_port_and_not_through_the_gateway(
    tmp_path: Path, seeded_data_dir: Path, api: Api
) -> None:
    port = _free_port()
    shutil.copytree(seeded_data_dir, tmp_path / "metrics")
    platform = Platform(test_settings(tmp_path / "metrics", metrics_port=port))
    await platform.start()
    try:
        async with httpx.AsyncClient() as client:
            scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
            other = await client.get(f"http://127.0.0.1:{port}/api/identity/me")
    finally:
        await platform.stop()
    assert scraped.status_code == 200
    assert "# TYPE" in scraped.text
    assert other.status_code == 404
    for path in ("/metrics", "/internal/monitor/metrics"):
        assert (await api.client.get(path)).status_code == 404
