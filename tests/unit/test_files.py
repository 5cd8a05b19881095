"""Durable files: what a crash can leave behind is found, and a form's folder goes as a whole."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from hotline.files import delete_folder_durably, remove_strays, strays, write_durably


def test_strays_are_unnamed_entries_untouched_since_the_cut_off(tmp_path: Path) -> None:
    old = time.time() - 3600
    for name in ("named.wav", "unnamed.wav", ".x.wav.0a1b.part", "fresh.wav"):
        (tmp_path / name).write_bytes(b"x")
        if name != "fresh.wav":
            os.utime(tmp_path / name, (old, old))
    (tmp_path / "form-1").mkdir()
    (tmp_path / "form-1" / "1.pdf").write_bytes(b"%PDF")
    os.utime(tmp_path / "form-1", (old, old))

    found = strays(tmp_path, {"named.wav"}, modified_before=time.time() - 600)

    assert found == [".x.wav.0a1b.part", "form-1", "unnamed.wav"]
    assert remove_strays(tmp_path, {"named.wav"}, modified_before=time.time() - 600) == found
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.wav", "named.wav"]
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
    listing = os.scandir

    def listing_then_rename(path: Path) -> list[os.DirEntry[str]]:
        entries = list(listing(path))
        (tmp_path / ".vm_1.wav.0a1b.part").rename(tmp_path / "vm_1.wav")
        return entries

    monkeypatch.setattr(os, "scandir", listing_then_rename)

    assert remove_strays(tmp_path, {"vm_1.wav"}, modified_before=time.time() - 600) == [
        "unnamed.wav"
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["vm_1.wav"]
