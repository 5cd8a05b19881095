"""Small recordings of each accepted kind (and some that are not), built byte by byte."""

from __future__ import annotations

import struct


def wav(samples: int = 800) -> bytes:
    """A mono 8 kHz 16-bit PCM WAV file of silence."""
    data = b"\x00\x00" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def ogg_page(packet: bytes, *, first: bool = True) -> bytes:
    header = b"OggS" + bytes([0, 0x02 if first else 0x00])
    header += struct.pack("<qIII", 0, 0x1234, 0, 0)  # granule, serial, sequence, CRC (unchecked)
    return header + bytes([1, len(packet)]) + packet


def ogg_opus() -> bytes:
    opus_head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    return ogg_page(opus_head) + ogg_page(b"OpusTags" + b"\x00" * 8, first=False)


def ogg_vorbis() -> bytes:
    return ogg_page(b"\x01vorbis" + b"\x00" * 22)


def mp3_with_id3() -> bytes:
    tag = b"ID3" + bytes([4, 0, 0]) + bytes([0, 0, 0, 10]) + b"\x00" * 10
    return tag + mp3_frames()


def mp3_frames(count: int = 4) -> bytes:
    """MPEG-1 layer III, 128 kbit/s, 44.1 kHz frames (417 bytes each) of zeros."""
    return (b"\xff\xfb\x90\x64" + b"\x00" * 413) * count


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TEXT = "Здравствуйте, перезвоните мне".encode()
