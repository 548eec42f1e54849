"""Starting says which administrator exists, or that one was created and how."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import ADMIN_EMAIL
from tests.support import platform_api


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "clearway.identity"]


@pytest.mark.asyncio
async def test_each_start_names_the_administrator(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "clearway.identity"):
        async with platform_api(tmp_path / "data"):
            pass
    assert f"Administrator {ADMIN_EMAIL} created (password from CLEARWAY_ADMIN_PASSWORD)" in said(
        caplog
    )
    caplog.clear()
    with caplog.at_level(logging.INFO, "clearway.identity"):
        async with platform_api(tmp_path / "data", admin_email="other@clearway.example"):
            pass
    messages = said(caplog)
    assert f"Administrator {ADMIN_EMAIL} exists" in messages
    assert any("only to create the first administrator" in m for m in messages)
