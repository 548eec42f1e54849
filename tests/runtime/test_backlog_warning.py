"""The server says so when the kernel gives its listener less backlog than configured."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from clearway.runtime.server import warn_if_backlog_capped
from tests.conftest import test_settings


@pytest.mark.parametrize(
    ("backlog", "cap", "warning"),
    [
        (16384, "4096\n", "CLEARWAY_BACKLOG is 16384 but net.core.somaxconn caps it at 4096"),
        (4096, "4096\n", ""),  # within the cap
        (4096, None, ""),  # no cap to read (not Linux)
    ],
)
def test_a_backlog_above_the_kernel_cap_and_only_that_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, backlog: int, cap: str | None, warning: str
) -> None:
    somaxconn = tmp_path / "somaxconn"
    if cap is not None:
        somaxconn.write_text(cap)
    settings = test_settings(tmp_path).model_copy(update={"backlog": backlog})
    with caplog.at_level(logging.WARNING):
        warn_if_backlog_capped(settings, somaxconn)
    if warning:
        assert warning in caplog.text
    else:
        assert caplog.text == ""
