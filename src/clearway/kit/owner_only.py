"""Files and directories only their owner can open: the data directory holds keys, personal
data and mail, so nothing in it is created readable by other users, whatever the umask."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def owner_only_directory(path: Path) -> Path:
    """Create `path` and any missing parents as 0700 (existing ones are left as they are)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=DIRECTORY_MODE)
            os.chmod(directory, DIRECTORY_MODE)  # mkdir's mode is filtered by the umask
    return path


def owner_only_file(path: Path) -> Path:
    """Create `path` empty as 0600 unless it exists. SQLite then gives its journal and WAL
    files the database file's mode."""
    owner_only_directory(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        os.chmod(path, FILE_MODE)
    return path
