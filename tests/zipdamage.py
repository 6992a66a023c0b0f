"""Damage one member of a real zip the ways a bad copy or download does, leaving the rest of the archive intact.

* ``deflate``: bytes in the middle of the member's compressed data inverted (``zlib.error`` when read, or a CRC
  mismatch when the garbage still inflates);
* ``crc``: the CRC-32 the central directory records for it changed (the data inflates; ``Bad CRC-32`` at its end);
* ``long``: a stored member's sizes in the central directory made larger than what is left of the file (the data
  ends early: ``EOFError``).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

HOW = ("deflate", "crc", "long")


def _central_entry(data: bytes, name: str) -> int:
    """Offset of ``name``'s central directory header."""
    at = data.index(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len].decode("utf-8") == name:
            return at
        at = data.find(b"PK\x01\x02", at + 46)
    raise KeyError(name)


def damage(src: Path, member: str, how: str, out: Path) -> Path:
    """Write ``src`` with ``member`` damaged as ``how`` says (module docstring) to ``out``; returns ``out``."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(member)
    central = _central_entry(bytes(data), member)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    if how == "deflate":
        assert info.compress_type == zipfile.ZIP_DEFLATED, f"{member} is not deflated"
        for i in range(start + info.compress_size // 4, start + info.compress_size // 4 + 64):
            data[i] ^= 0xFF
    elif how == "crc":
        struct.pack_into("<I", data, central + 16, info.CRC ^ 0xFFFFFFFF)
    elif how == "long":
        assert info.compress_type == zipfile.ZIP_STORED, f"{member} is not stored"
        struct.pack_into("<II", data, central + 20, len(data) - start + 1000, len(data) - start + 1000)
    else:
        raise ValueError(how)
    out.write_bytes(bytes(data))
    return out
