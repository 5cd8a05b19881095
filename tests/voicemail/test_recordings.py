"""Recordings on disk: whole, named by id, checksummed, and never a partial file under a name."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from hotline.voicemail.recordings import (
    RecordingTooLarge,
    delete_recording,
    measure,
    write_recording,
)
from tests.voicemail import samples


def test_a_recording_is_written_whole_under_its_name_with_its_checksum(tmp_path: Path) -> None:
    audio = samples.wav()
    directory = tmp_path / "var" / "voicemail"  # created, parents too

    stored = write_recording(directory, "vm_1.wav", io.BytesIO(audio), max_bytes=len(audio))

    assert (stored.size, stored.sha256) == (len(audio), hashlib.sha256(audio).hexdigest())
    assert (directory / "vm_1.wav").read_bytes() == audio
    assert [p.name for p in directory.iterdir()] == ["vm_1.wav"]  # no temporary file left


def test_a_recording_over_the_cap_leaves_nothing_behind(tmp_path: Path) -> None:
    audio = samples.wav()
    with pytest.raises(RecordingTooLarge) as refused:
        write_recording(tmp_path, "vm_2.wav", io.BytesIO(audio), max_bytes=len(audio) - 1)

    assert refused.value.field == "audio"
    assert list(tmp_path.iterdir()) == []


def test_measuring_a_stream_leaves_it_where_it_was() -> None:
    audio = samples.mp3_frames()
    stream = io.BytesIO(audio)
    assert measure(stream) == (len(audio), hashlib.sha256(audio).hexdigest())
    assert stream.read() == audio


def test_deleting_a_recording_twice_is_harmless(tmp_path: Path) -> None:
    write_recording(tmp_path, "vm_3.mp3", io.BytesIO(samples.mp3_frames()), max_bytes=10**6)
    assert delete_recording(tmp_path, "vm_3.mp3") is True
    assert delete_recording(tmp_path, "vm_3.mp3") is False  # as after a crash between the two
    assert list(tmp_path.iterdir()) == []
