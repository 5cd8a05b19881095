"""Files written so that an acknowledged upload survives a power cut, and removed durably.

Plain blocking functions, for a worker thread (`trio.to_thread.run_sync`). A file is written to
a temporary name in its directory, fsynced, renamed into place and the directory fsynced: the
name never points at a partial file and the rename itself is durable. A crash before the rename
leaves a `.part` file; nothing ever serves one. A write the storage cannot take (no space, a
quota, an I/O error) raises `FilesUnwritable` (503 at the API) with nothing left behind.

Files hold personal data: they are created 0600 and folders 0700, whatever the umask. A folder
of uploads belongs to one database: `claim_folder` marks it with the database's id, and
`remove_strays` sweeps only a folder marked with the caller's, so a server on another database
(a test run in a deployment's checkout) never deletes what is not its own.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hotline.store.errors import STORAGE_ERRNOS, FilesUnwritable

CHUNK = 256 * 1024
FILE_MODE = 0o600
FOLDER_MODE = 0o700
OWNER_MARKER = ".hotline-owner"  # JSON: the id and path of the database that owns the folder


class TooLarge(ValueError):
    """The source held more than the limit; nothing was left behind."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_name: str
    size: int
    sha256: str


def write_durably(directory: Path, file_name: str, source: IO[bytes], max_bytes: int) -> StoredFile:
    """Copy `source` (from its current position) to `directory/file_name`, durably; its size and
    SHA-256. More than `max_bytes` raises `TooLarge`, a full or failing disk `FilesUnwritable`,
    either with nothing left behind."""
    try:
        return _write_durably(directory, file_name, source, max_bytes)
    except OSError as e:
        if e.errno not in STORAGE_ERRNOS:
            raise
        raise FilesUnwritable(f"cannot write a file: {e.strerror}") from e


def _write_durably(
    directory: Path, file_name: str, source: IO[bytes], max_bytes: int
) -> StoredFile:
    make_directory(directory)
    part = directory / f".{file_name}.{secrets.token_hex(4)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"more than {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, directory / file_name)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    try:
        fsync_directory(directory)
    except BaseException:
        (directory / file_name).unlink(missing_ok=True)  # not acknowledged: not kept either
        raise
    return StoredFile(file_name, size, digest.hexdigest())


def delete_durably(directory: Path, file_name: str) -> bool:
    """Remove a file, durably; False if it was not there (deleted before a crash)."""
    try:
        (directory / file_name).unlink()
    except FileNotFoundError:
        return False
    fsync_directory(directory)
    return True


def delete_folder_durably(folder: Path) -> None:
    """Remove `folder` and the files in it (no subfolders expected), durably; nothing if it is
    not there. Leftover `.part` files of interrupted writes go too."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        entry.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except FileNotFoundError:
        return
    fsync_directory(folder.parent)


def strays(directory: Path, known: Container[str], *, modified_before: float) -> list[str]:
    """Names of the entries of `directory` (files or folders) that `known` does not name, among
    them the `.part` leftovers of interrupted writes, last modified before `modified_before`
    (wall-clock seconds): what a crash between writing and committing the row that names them
    leaves behind."""
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    found = []
    for e in entries:
        if e.name in known or e.name == OWNER_MARKER or e.is_symlink():
            continue
        try:
            modified = e.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue  # gone since the listing: a write in flight renamed its `.part` file
        if modified < modified_before:
            found.append(e.name)
    return sorted(found)


def remove_strays(
    directory: Path, known: Container[str], *, modified_before: float, owner: str
) -> list[str]:
    """Delete the `strays` (files, or folders with their files), durably; their names. Nothing
    unless the folder is marked as `owner`'s (a database id): another database's files, or a
    folder nobody claimed, are never swept."""
    if folder_owner(directory) != owner:
        return []
    found = strays(directory, known, modified_before=modified_before)
    for name in found:
        if (directory / name).is_dir():
            delete_folder_durably(directory / name)
        else:
            delete_durably(directory, name)
    return found


def make_directory(directory: Path) -> None:
    """Create `directory` and any missing parent, each new entry fsynced into its parent."""
    if directory.is_dir():
        return
    missing = []
    path = directory
    while not path.exists():
        missing.append(path)
        path = path.parent
    for new in reversed(missing):
        new.mkdir(mode=FOLDER_MODE, exist_ok=True)
        fsync_directory(new.parent)


def claim_folder(directory: Path, owner: str, database: Path) -> str:
    """Create `directory` if need be and mark it as the database `owner`'s unless it is marked
    already; the owner it is marked with (another database's id if it was there first)."""
    make_directory(directory)
    marked = folder_owner(directory)
    if marked is not None:
        return marked
    text = json.dumps({"database_id": owner, "database": str(database.resolve())}) + "\n"
    source = io.BytesIO(text.encode())
    write_durably(directory, OWNER_MARKER, source, max_bytes=len(text.encode()))
    return owner


def folder_owner(directory: Path) -> str | None:
    """The database id the folder's marker names; None without a (readable) marker."""
    try:
        marker = json.loads((directory / OWNER_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    owner = marker.get("database_id") if isinstance(marker, dict) else None
    return owner if isinstance(owner, str) else None


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
