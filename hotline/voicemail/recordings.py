"""Recordings on disk: written so that an acknowledged voicemail survives a power cut, and deleted
when their retention ends.

Plain blocking functions, run by the voicemail service and watcher in a worker thread
(`trio.to_thread.run_sync`), over `hotline.files` (temporary file, fsync, rename, directory
fsync). A crash before the rename leaves a `.part` file, one after it and before the database
row a file no row names; neither is ever served.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from hotline.domain.errors import PayloadTooLarge
from hotline.files import CHUNK, StoredFile, TooLarge, delete_durably, write_durably

StoredRecording = StoredFile

__all__ = [
    "CHUNK",
    "RecordingTooLarge",
    "StoredRecording",
    "delete_recording",
    "measure",
    "write_recording",
]


class RecordingTooLarge(PayloadTooLarge):
    pass


def write_recording(
    directory: Path, file_name: str, source: IO[bytes], *, max_bytes: int
) -> StoredRecording:
    """Copy `source` (from its current position) to `directory/file_name`, durably; its size and
    SHA-256. More than `max_bytes` is refused with nothing left behind."""
    try:
        return write_durably(directory, file_name, source, max_bytes)
    except TooLarge:
        raise RecordingTooLarge(
            f"a recording is at most {max_bytes} bytes", field="audio"
        ) from None


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
    return delete_durably(directory, file_name)
