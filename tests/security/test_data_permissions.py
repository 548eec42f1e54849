"""Data at rest is the owner's alone: owner-only files and directories, and the key that opens
them kept outside the data directory, so a copy of the data does not carry it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from clearway.kit.files import LocalFileStore
from clearway.kit.owner_only import owner_only_directory, owner_only_file
from clearway.runtime.foundation import root_secret
from tests.conftest import test_settings
from tests.kit.files.test_local_file_store import FakeSealer
from tests.support import platform_api


def _open_to_others(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root.parent)}: {oct(mode)}")
    return found


async def test_a_fresh_data_directory_is_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, which alone would leave files world-readable
    try:
        data = tmp_path / "data"
        secret_file = tmp_path / "config" / "clearway" / "root.secret"
        settings = {"root_secret": None, "root_secret_file": secret_file}
        async with platform_api(data, **settings) as api:
            assert (await api.client.get("/readyz")).status_code == 200
            assert (await api.register("perms@example.com")).status_code == 201
        files = {p.name for p in data.rglob("*")}
        assert {"identity.db", "bus.db", "keys.db"} <= files
        assert _open_to_others(data) == []
        # The key is outside the data directory, owner-only too.
        assert "root.secret" not in files
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(secret_file.parent.stat().st_mode) == 0o700
    finally:
        os.umask(previous)


async def test_stored_files_are_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = LocalFileStore(tmp_path / "files", FakeSealer())
        await store.put("orders", "report-1", b"%PDF-1.7 a report", "application/pdf")
        assert _open_to_others(tmp_path / "files") == []
    finally:
        os.umask(previous)


def test_the_root_secret_is_generated_once_outside_the_data_directory(tmp_path: Path) -> None:
    secret_file = tmp_path / "elsewhere" / "root.secret"
    settings = test_settings(tmp_path / "data", root_secret=None, root_secret_file=secret_file)
    first = root_secret(settings)
    assert len(first) >= 32
    assert root_secret(settings) == first  # read back, not made anew
    assert not (tmp_path / "data" / "root.secret").exists()
    assert [p.name for p in secret_file.parent.iterdir()] == ["root.secret"]  # no temp left


def test_the_default_root_secret_lives_in_the_users_config_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    settings = test_settings(tmp_path / "data", root_secret=None)
    assert settings.resolved_root_secret_file == tmp_path / "xdg" / "clearway" / "root.secret"


def test_owner_only_helpers_hold_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        nested = owner_only_directory(tmp_path / "a" / "b")
        file = owner_only_file(nested / "c.db")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE(nested.stat().st_mode) == 0o700
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
