"""Durable files: what a crash can leave behind is found, and a form's folder goes as a whole."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

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
