"""harness.sources.zipmember: a damaged zip member is a SourceError naming the zip and the member, however it is
read (whole, streamed as text, or as a zip nested in it) — never zlib.error, BadZipFile or EOFError."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from harness.errors import SourceError
from harness.sources.zipmember import open_member, read_member
from tests.zipdamage import damage

TEXT = "".join(f"[ro.line.{i}]: [{i * 7919 % 104729}]\n" for i in range(4000)).encode()


def _zip(tmp_path: Path, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("AndroidManifest.xml", TEXT)
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("a.txt", TEXT)
        z.writestr("app/A.apk", inner.getvalue())
        z.writestr("z.txt", b"after\n")
    return path


def test_an_intact_member_reads_whole_as_text_and_as_a_nested_zip(tmp_path):
    path = _zip(tmp_path)
    with zipfile.ZipFile(path) as zf:
        assert read_member(zf, "a.txt", path=str(path), remedy="r") == TEXT
        with open_member(zf, "a.txt", path=str(path), remedy="r") as raw:
            lines = list(io.TextIOWrapper(raw, encoding="utf-8", newline=None))
        assert len(lines) == 4000 and lines[-1] == "[ro.line.3999]: [" + str(3999 * 7919 % 104729) + "]\n"
        with open_member(zf, "app/A.apk", path=str(path), remedy="r") as raw, zipfile.ZipFile(raw) as apk:
            assert apk.read("AndroidManifest.xml") == TEXT


@pytest.mark.parametrize(("how", "compression"), [
    ("deflate", zipfile.ZIP_DEFLATED),  # zlib.error (or a CRC mismatch)
    ("crc", zipfile.ZIP_DEFLATED),  # zipfile.BadZipFile: Bad CRC-32
    ("long", zipfile.ZIP_STORED),  # EOFError
])
def test_a_damaged_member_is_a_source_error_naming_zip_and_member(tmp_path, how, compression):
    path = damage(_zip(tmp_path, compression), "a.txt", how, tmp_path / f"{how}.zip")
    with zipfile.ZipFile(path) as zf:
        with pytest.raises(SourceError, match="corrupt zip member") as err:
            read_member(zf, "a.txt", path=str(path), remedy="copy it again")
        assert (err.value.path, err.value.member) == (str(path), "a.txt")
        assert str(err.value).startswith(f"{path}!a.txt: ") and str(err.value).endswith("— copy it again")
        with open_member(zf, "a.txt", path=str(path), remedy="r") as raw, pytest.raises(SourceError):
            for _line in io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None):
                pass
        assert read_member(zf, "z.txt", path=str(path), remedy="r") == b"after\n"  # the other members are intact


@pytest.mark.parametrize("how", ["deflate", "crc"])
def test_a_damaged_member_read_as_a_nested_zip_names_the_outer_member(tmp_path, how):
    """An APK inside a target_files zip: zipfile seeks and reads the outer member from the nested ZipFile; the
    outer damage surfaces there, and still names the outer zip and member."""
    path = damage(_zip(tmp_path), "app/A.apk", how, tmp_path / f"{how}.zip")
    with zipfile.ZipFile(path) as zf, pytest.raises(SourceError, match="corrupt zip member") as err:
        with open_member(zf, "app/A.apk", path=str(path), remedy="r") as raw, zipfile.ZipFile(raw) as apk:
            apk.read("AndroidManifest.xml")
    assert err.value.member == "app/A.apk"


def test_a_member_that_cannot_be_opened_is_a_source_error(tmp_path):
    path = _zip(tmp_path)
    data = bytearray(path.read_bytes())
    data[data.index(b"PK\x03\x04")] = ord("X")  # a.txt's local header signature
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf, pytest.raises(SourceError, match="corrupt zip member.*Bad magic number"):
        open_member(zf, "a.txt", path=str(path), remedy="r")
