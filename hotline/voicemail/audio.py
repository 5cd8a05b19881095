"""What a recording is, told by its first bytes: the switch's declared content type is not trusted.

Pure; called by the voicemail intake on the head of every upload (`SNIFF_BYTES` of it) and by the
audio endpoint for the content type it answers with. Accepted: WAV (a RIFF container of form
WAVE), Ogg with an Opus stream (the first page carries `OpusHead`), and MP3 (an ID3v2 tag, or a
valid MPEG audio layer III frame header at the very start).
"""

from __future__ import annotations

from enum import StrEnum

SNIFF_BYTES = 512  # an Ogg page header holds at most 27 + 255 bytes before its first packet


class AudioKind(StrEnum):
    WAV = "wav"
    OGG_OPUS = "ogg_opus"
    MP3 = "mp3"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]


_CONTENT_TYPES = {
    AudioKind.WAV: "audio/wav",
    AudioKind.OGG_OPUS: "audio/ogg; codecs=opus",
    AudioKind.MP3: "audio/mpeg",
}
_EXTENSIONS = {AudioKind.WAV: "wav", AudioKind.OGG_OPUS: "ogg", AudioKind.MP3: "mp3"}

_OGG_HEADER = 27  # "OggS", version, type, granule (8), serial (4), sequence (4), CRC (4), segments
_OGG_BEGINNING_OF_STREAM = 0x02


def sniff_audio(head: bytes) -> AudioKind | None:
    """The kind of recording that starts with `head`, or None if it is none we accept."""
    if _is_wav(head):
        return AudioKind.WAV
    if _is_ogg_opus(head):
        return AudioKind.OGG_OPUS
    if _is_id3(head) or _is_mpeg_layer3_frame(head):
        return AudioKind.MP3
    return None


def _is_wav(head: bytes) -> bool:
    return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def _is_ogg_opus(head: bytes) -> bool:
    if len(head) < _OGG_HEADER or head[:4] != b"OggS" or head[4] != 0:
        return False
    if not head[5] & _OGG_BEGINNING_OF_STREAM:
        return False  # a stream's first page is marked: anything else is a fragment
    packet = _OGG_HEADER + head[26]  # after the segment table
    return head[packet : packet + 8] == b"OpusHead"


def _is_id3(head: bytes) -> bool:
    # "ID3", major version 2..4, revision < 0xFF, flags, then a size of four 7-bit bytes.
    if len(head) < 10 or head[:3] != b"ID3":
        return False
    major, revision = head[3], head[4]
    return 2 <= major <= 4 and revision != 0xFF and all(b < 0x80 for b in head[6:10])


def _is_mpeg_layer3_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False  # eleven set bits: the frame sync
    version = (head[1] >> 3) & 0b11  # 01 is reserved
    layer = (head[1] >> 1) & 0b11  # 01 is layer III
    bitrate = head[2] >> 4  # 0000 "free" and 1111 are not usable
    sample_rate = (head[2] >> 2) & 0b11  # 11 is reserved
    return version != 0b01 and layer == 0b01 and 0 < bitrate < 0xF and sample_rate != 0b11
