"""Recordings on disk: written so that an acknowledged voicemail survives a power cut, and deleted
when their retention ends.

Plain blocking functions, run by the voicemail service and watcher in a worker thread
(`trio.to_thread.run_sync`). A recording is first written to a temporary file in the same
directory, fsynced, renamed to its name (the voicemail id and the kind's extension) and the
directory fsynced, so the name never points at a partial file and the rename itself is durable.
A crash before the rename leaves a `.part` file, one after it and before the database row a file
no row names; neither is ever served.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hotline.domain.errors import Invalid

CHUNK = 256 * 1024


class RecordingTooLarge(Invalid):
    code = "too_large"


@dataclass(frozen=True, slots=True)
class StoredRecording:
    file_name: str
    size: int
    sha256: str


def write_recording(
    directory: Path, file_name: str, source: IO[bytes], *, max_bytes: int
) -> StoredRecording:
    """Copy `source` (from its current position) to `directory/file_name`, durably; its size and
    SHA-256. More than `max_bytes` is refused with nothing left behind."""
    _make_directory(directory)
    part = directory / f".{file_name}.{secrets.token_hex(4)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with part.open("xb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise RecordingTooLarge(
                        f"a recording is at most {max_bytes} bytes", field="audio"
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, directory / file_name)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return StoredRecording(file_name, size, digest.hexdigest())


def measure(source: IO[bytes]) -> tuple[int, str]:
    """Size and SHA-256 of `source` from its current position; the position is restored."""
    start = source.tell()
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        digest.update(chunk)
    source.seek(start)
    return size, digest.hexdigest()


def delete_recording(directory: Path, file_name: str) -> bool:
    """Remove a recording, durably; False if it was not there (deleted before a crash)."""
    try:
        (directory / file_name).unlink()
    except FileNotFoundError:
        return False
    _fsync_directory(directory)
    return True


def _make_directory(directory: Path) -> None:
    """Create `directory` and any missing parent, each new entry fsynced into its parent."""
    if directory.is_dir():
        return
    missing = []
    path = directory
    while not path.exists():
        missing.append(path)
        path = path.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        _fsync_directory(new.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
