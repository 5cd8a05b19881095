"""Durable files: what a crash can leave behind is found, and a form's folder goes as a whole."""

from __future__ import annotations

import errno
import io
import os
import time
from pathlib import Path

import pytest

from hotline.files import (
    OWNER_MARKER,
    claim_folder,
    delete_folder_durably,
    remove_strays,
    strays,
    write_durably,
)
from hotline.store import FilesUnwritable

OWNER = "0123456789abcdef0123456789abcdef"  # the id of the database the folders belong to


def test_strays_are_unnamed_entries_untouched_since_the_cut_off(tmp_path: Path) -> None:
    old = time.time() - 3600
    for name in ("named.wav", "unnamed.wav", ".x.wav.0a1b.part", "fresh.wav"):
        (tmp_path / name).write_bytes(b"x")
        if name != "fresh.wav":
            os.utime(tmp_path / name, (old, old))
    (tmp_path / "form-1").mkdir()
    (tmp_path / "form-1" / "1.pdf").write_bytes(b"%PDF")
    os.utime(tmp_path / "form-1", (old, old))
    claim_folder(tmp_path, OWNER, tmp_path / "hotline.db")

    found = strays(tmp_path, {"named.wav"}, modified_before=time.time() - 600)

    assert found == [".x.wav.0a1b.part", "form-1", "unnamed.wav"]
    cut_off = time.time() - 600
    assert remove_strays(tmp_path, {"named.wav"}, modified_before=cut_off, owner=OWNER) == found
    assert sorted(p.name for p in tmp_path.iterdir()) == [OWNER_MARKER, "fresh.wav", "named.wav"]
    assert strays(tmp_path / "missing", set(), modified_before=time.time()) == []


def test_a_folder_is_deleted_with_its_files_and_a_missing_one_is_no_error(tmp_path: Path) -> None:
    folder = tmp_path / "form-1"
    write_durably(folder, "1.pdf", io.BytesIO(b"%PDF-1.7"), max_bytes=100)
    (folder / ".2.pdf.0a1b.part").write_bytes(b"%PDF")

    delete_folder_durably(folder)
    delete_folder_durably(folder)

    assert not folder.exists() and list(tmp_path.iterdir()) == []


def test_a_file_that_goes_while_strays_are_listed_is_no_stray_and_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An upload in flight renames its `.part` file between the listing and the look at it:
    # the voicemail watcher's sweep once failed on that, and took the service down with it.
    old = time.time() - 3600
    for name in ("unnamed.wav", ".vm_1.wav.0a1b.part"):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (old, old))
    claim_folder(tmp_path, OWNER, tmp_path / "hotline.db")
    listing = os.scandir

    def listing_then_rename(path: Path) -> list[os.DirEntry[str]]:
        entries = list(listing(path))
        (tmp_path / ".vm_1.wav.0a1b.part").rename(tmp_path / "vm_1.wav")
        return entries

    monkeypatch.setattr(os, "scandir", listing_then_rename)

    cut_off = time.time() - 600
    assert remove_strays(tmp_path, {"vm_1.wav"}, modified_before=cut_off, owner=OWNER) == [
        "unnamed.wav"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [OWNER_MARKER, "vm_1.wav"]


def test_a_folder_marked_by_another_database_is_never_swept(tmp_path: Path) -> None:
    # A second server (a test run in a deployment's checkout) on the live server's folder.
    old = time.time() - 3600
    (tmp_path / "vm_live.wav").write_bytes(b"RIFF")
    os.utime(tmp_path / "vm_live.wav", (old, old))
    assert claim_folder(tmp_path, OWNER, tmp_path / "live.db") == OWNER
    other = "f" * 32

    assert claim_folder(tmp_path, other, tmp_path / "other.db") == OWNER  # marked: stays OWNER's
    assert remove_strays(tmp_path, set(), modified_before=time.time(), owner=other) == []
    assert (tmp_path / "vm_live.wav").exists()


def test_a_folder_nobody_claimed_is_never_swept(tmp_path: Path) -> None:
    (tmp_path / "vm_1.wav").write_bytes(b"RIFF")

    assert remove_strays(tmp_path, set(), modified_before=time.time() + 1, owner=OWNER) == []
    assert (tmp_path / "vm_1.wav").exists()


def test_files_and_folders_are_created_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_durably(tmp_path / "form-1", "1.pdf", io.BytesIO(b"%PDF-1.7"), max_bytes=100)
    finally:
        os.umask(old)

    assert (tmp_path / "form-1").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "form-1" / "1.pdf").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EIO])
def test_a_write_the_disk_refuses_is_files_unwritable_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    folder = tmp_path / "form-1"
    folder.mkdir()

    def refused(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refused)
    with pytest.raises(FilesUnwritable):
        write_durably(folder, "1.pdf", io.BytesIO(b"%PDF-1.7"), max_bytes=100)

    assert list(folder.iterdir()) == []
