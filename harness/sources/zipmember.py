"""Members of a zip (a ``target_files`` zip, a bugreport zip): the one place where a damaged member becomes broken.

:mod:`zipfile` reads only the central directory when it opens an archive; a member's compressed data is checked
only when it is read, and a damaged member then raises whatever the decompressor or the check at its end raises:
``zlib.error`` (a corrupt deflate stream), :class:`zipfile.BadZipFile` ("Bad CRC-32", "Bad magic number for file
header"), :class:`EOFError` (the stream ends early), :class:`lzma.LZMAError`, :class:`OSError` (bzip2). Readers
of a member (property files, an APK read through a nested :class:`zipfile.ZipFile`, a bugreport's text) read it
through :func:`open_member` / :func:`read_member`, so any of those becomes a :class:`~harness.errors.SourceError`
naming the zip and the member — the input is *broken* (exit 10), never a traceback and never a verdict on the part
that could be read.

:data:`MEMBER_ERRORS` is the same list for the readers of a zip nested in a member (an APK's own
``AndroidManifest.xml``), which report that inner damage in their own words.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from typing import IO

from harness.errors import SourceError

MEMBER_ERRORS: tuple[type[BaseException], ...] = (zipfile.BadZipFile, zlib.error, EOFError, lzma.LZMAError, OSError)
"""What reading a zip member's data raises when the member is damaged."""

_OPEN_ERRORS: tuple[type[BaseException], ...] = (*MEMBER_ERRORS, NotImplementedError, RuntimeError)
"""What opening a member raises besides: an unsupported compression method, an encrypted member."""


def _error(exc: BaseException, *, path: str, member: str, remedy: str) -> SourceError:
    detail = str(exc) or ("its data ends early" if isinstance(exc, EOFError) else type(exc).__name__)
    return SourceError(f"corrupt zip member ({detail}): its data cannot be read, so nothing in it can be judged",
                       path=path, member=member, remedy=remedy)


class MemberStream(io.BufferedIOBase):
    """A binary, read-only file object on one zip member whose reads and seeks raise
    :class:`~harness.errors.SourceError` (naming the zip and the member) for a damaged member.

    Seekable when the zip file is (:class:`zipfile.ZipExtFile` seeks by decompressing again), so a nested
    :class:`zipfile.ZipFile` (an APK) and a :class:`io.TextIOWrapper` (a bugreport's text) can read it.
    """

    def __init__(self, raw: IO[bytes], *, path: str, member: str, remedy: str) -> None:
        super().__init__()
        self._raw = raw
        self.path = path
        self.member = member
        self.remedy = remedy

    def _fail(self, exc: BaseException) -> SourceError:
        return _error(exc, path=self.path, member=self.member, remedy=self.remedy)

    def read(self, size: int | None = -1) -> bytes:  # noqa: D102
        try:
            return self._raw.read(-1 if size is None else size)
        except MEMBER_ERRORS as exc:
            raise self._fail(exc) from None

    def read1(self, size: int = -1) -> bytes:  # noqa: D102
        try:
            return self._raw.read1(size)  # type: ignore[attr-defined]
        except MEMBER_ERRORS as exc:
            raise self._fail(exc) from None

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # noqa: D102
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:  # noqa: D102
        try:
            return self._raw.readline(-1 if size is None else size)
        except MEMBER_ERRORS as exc:
            raise self._fail(exc) from None

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:  # noqa: D102
        try:
            return self._raw.seek(offset, whence)
        except MEMBER_ERRORS as exc:
            raise self._fail(exc) from None

    def tell(self) -> int:  # noqa: D102
        return self._raw.tell()

    def seekable(self) -> bool:  # noqa: D102
        return self._raw.seekable()

    def readable(self) -> bool:  # noqa: D102
        return True

    def close(self) -> None:
        """Close the member (not the zip)."""
        if not self.closed:
            self._raw.close()
        super().close()


def open_member(zf: zipfile.ZipFile, member: str | zipfile.ZipInfo, *, path: str, remedy: str) -> MemberStream:
    """A :class:`MemberStream` on ``member`` of ``zf`` (``path``: the zip, for messages; close the stream).

    Raises:
        SourceError: the member cannot be opened (bad local header, unsupported compression, encrypted) — and,
            from the stream's reads, a damaged member (module docstring). Names the zip, the member and ``remedy``.
    """
    name = member.filename if isinstance(member, zipfile.ZipInfo) else member
    try:
        raw = zf.open(member)
    except _OPEN_ERRORS as exc:
        raise _error(exc, path=path, member=name, remedy=remedy) from None
    return MemberStream(raw, path=path, member=name, remedy=remedy)


def read_member(zf: zipfile.ZipFile, member: str | zipfile.ZipInfo, *, path: str, remedy: str) -> bytes:
    """The whole data of a (small) member of ``zf``.

    Raises:
        SourceError: as :func:`open_member`.
    """
    with open_member(zf, member, path=path, remedy=remedy) as fh:
        return fh.read()
