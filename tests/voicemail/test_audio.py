"""A recording's kind is read from its bytes; what the switch declares is never asked."""

from __future__ import annotations

import pytest

from hotline.voicemail.audio import SNIFF_BYTES, AudioKind, sniff_audio
from tests.voicemail import samples


@pytest.mark.parametrize(
    ("recording", "kind"),
    [
        (samples.wav(), AudioKind.WAV),
        (samples.ogg_opus(), AudioKind.OGG_OPUS),
        (samples.mp3_with_id3(), AudioKind.MP3),
        (samples.mp3_frames(), AudioKind.MP3),
    ],
    ids=["wav", "ogg_opus", "mp3_id3", "mp3_frame_sync"],
)
def test_each_accepted_kind_is_recognised_from_its_first_bytes(
    recording: bytes, kind: AudioKind
) -> None:
    assert sniff_audio(recording[:SNIFF_BYTES]) is kind


@pytest.mark.parametrize(
    "recording",
    [
        b"",
        samples.PNG,
        samples.TEXT,
        samples.ogg_vorbis(),  # Ogg, but not Opus
        samples.ogg_page(b"OpusHead" + b"\x00" * 11, first=False),  # not a stream's first page
        b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 32,  # RIFF, but video
        b"\xff\xfd\x90\x64" + b"\x00" * 100,  # MPEG layer II, not MP3
        b"\xff\xfb\xf0\x64" + b"\x00" * 100,  # layer III with the forbidden bitrate index
        b"\xff\xfb\x9c\x64" + b"\x00" * 100,  # layer III with the reserved sample rate
        b"ID3\x04\x00\x00\x00\x00\x80\x00" + b"\x00" * 20,  # ID3 whose size is not 7-bit
        b"ID3\x09\x00\x00\x00\x00\x00\x0a" + b"\x00" * 20,  # no such ID3 version
    ],
    ids=[
        "empty",
        "png",
        "text",
        "ogg_vorbis",
        "ogg_not_first_page",
        "riff_avi",
        "mpeg_layer_2",
        "bad_bitrate",
        "reserved_rate",
        "id3_bad_size",
        "id3_bad_version",
    ],
)
def test_anything_else_is_refused(recording: bytes) -> None:
    assert sniff_audio(recording) is None


def test_each_kind_is_served_with_its_own_content_type() -> None:
    assert {k: k.content_type for k in AudioKind} == {
        AudioKind.WAV: "audio/wav",
        AudioKind.OGG_OPUS: "audio/ogg; codecs=opus",
        AudioKind.MP3: "audio/mpeg",
    }
