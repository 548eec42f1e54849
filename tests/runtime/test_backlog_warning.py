"""The server says so when the kernel gives its listener less backlog than configured."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from clearway.runtime.server import warn_if_backlog_capped
from tests.conftest import test_settings


def somaxconn(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "somaxconn"
    path.write_text(value)
    return path


def test_a_backlog_above_the_kernel_cap_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = test_settings(tmp_path).model_copy(update={"backlog": 16384})
    with caplog.at_level(logging.WARNING):
        warn_if_backlog_capped(settings, somaxconn(tmp_path, "4096\n"))
    assert "CLEARWAY_BACKLOG is 16384 but net.core.somaxconn caps it at 4096" in caplog.text


def test_a_backlog_within_the_cap_or_no_cap_to_read_says_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = test_settings(tmp_path).model_copy(update={"backlog": 4096})
    with caplog.at_level(logging.WARNING):
        warn_if_backlog_capped(settings, somaxconn(tmp_path, "4096\n"))
        warn_if_backlog_capped(settings, tmp_path / "absent")
    assert caplog.text == ""
