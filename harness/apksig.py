"""APK signatures from a few byte ranges: who signed an APK, read without having the whole file (pure; no adb).

An Office APK is 50-100 MB; its signature lives in three small places that the ZIP structure points at:

* the **end of central directory** record (the last 22 bytes, plus a comment of at most 64 KiB) gives the
  **central directory**'s offset and size (APPNOTE.TXT 4.3.16; parsed by Python's :mod:`zipfile`);
* the **APK Signing Block** sits right before the central directory; its 24-byte footer (``u64 size`` +
  ``"APK Sig Block 42"``) gives its start. It holds ID-value pairs: APK Signature Scheme **v2** (``0x7109871a``),
  **v3** (``0xf05368c0``) and **v3.1** (``0x1b93ad61``) blocks (AOSP ``apksig`` ``ApkSigningBlockUtils``,
  ``V2SchemeVerifier``, ``V3SchemeVerifier``, ``V3SchemeConstants``; source.android.com "APK Signature Scheme v2/v3");
* a **v1** (JAR) signature is a PKCS#7 SignedData file ``META-INF/<name>.RSA|.DSA|.EC``; its local entry is read
  through :mod:`zipfile` from the span the central directory gives (local header to the next entry).

:class:`SparseApk` is a read-only file object of the APK's real size in which only fetched ranges are present;
:func:`read_apk_signature` parses it and raises :class:`NeedBytes` with the ranges it needs next, so a caller
fetches the ranges of *all* APKs of a device in one round trip per stage (tail → central directory and footer →
signing block and v1 files; ``harness.signatures``). The bytes read are constant in the APK's size: about 64 KiB
of tail, the central directory, the signing block and the v1 signature files.

Parsing: ZIP records by :mod:`zipfile`; certificates (DER X.509) and PKCS#7 by :mod:`cryptography`; the signing
block's length-prefixed binary records (not ASN.1) by :mod:`struct` following apksig. Each v2/v3 signer's signature
over its signed data, and each link of a v3 key-rotation lineage (``proof-of-rotation`` attribute ``0x3ba06f8c``,
``V3SigningCertificateLineage``), is verified with the signer's public key (:mod:`cryptography`), so a lineage
cannot be forged by a repackager. Whole-APK content digests are not verified when reading a phone's APKs (that
needs every byte; the device's package manager verified them at install or boot scan); an APK at hand (a ROM
build's, which no package manager has checked yet) can be checked with :func:`verify_content_digests`: the
chunked SHA-256 / SHA-512 digest of the APK's contents, central directory and end record that each v2/v3/v3.1
signer signed (source.android.com "APK Signature Scheme v2": 1 MiB chunks, ``0xa5`` / ``0x5a`` prefixes).

Certificate digests are SHA-256 of the certificate's DER bytes exactly as stored in the APK, as
``apksigner verify --print-certs`` and CTS ``PackageUtil.computePackageSignatureDigest`` compute them.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from harness.errors import ParseError

EOCD_MAX_TAIL = 22 + 0xFFFF + 20
"""Bytes at the end of an APK that always hold the end-of-central-directory record (22 bytes + a comment of at
most 65535 bytes) and the zip64 locator before it (20 bytes)."""

SIG_BLOCK_MAGIC = b"APK Sig Block 42"
V2_BLOCK_ID = 0x7109871A
V3_BLOCK_ID = 0xF05368C0
V31_BLOCK_ID = 0x1B93AD61
PROOF_OF_ROTATION_ATTR_ID = 0x3BA06F8C
MAX_SIGNING_BLOCK_BYTES = 2 * 1024 * 1024
"""A signing block larger than this is refused (real ones are a few KiB to a few tens of KiB)."""
MAX_V1_SIGNATURE_BYTES = 256 * 1024
"""A ``META-INF/*.RSA|DSA|EC`` entry larger than this (compressed, with its local header) is refused."""

_V1_SIG_FILE = re.compile(r"META-INF/[^/]+\.(?:RSA|DSA|EC)", re.I)

AOSP_TEST_CERTIFICATES: dict[str, str] = {
    "a40da80a59d170caa950cf15c18c454d47a39b26989d8b640ecd745ba71bf5dc": "AOSP testkey",
    "c8a2e9bccf597c2fb6dc66bee293fc13f2fc47ec77bc6b2b0d52c11f51192ab8": "AOSP platform key",
    "28bbfe4a7b97e74681dc55c2fbb6ccb8d6c74963733f6af6ae74d8c3a6e879fd": "AOSP shared key",
    "465983f7791f2abeb43ea2cbdc7f21a8260b72bc08a55c839fc1a43bc741a81e": "AOSP media key",
    "e1dbadce60dc080d15b58a014b0dcf9400e24de23fa00b287a5a982bfebda2ee": "AOSP networkstack key",
    "fae9122a8721d6e2a196d2224dffcf773c9127e2bb956cbddb40b009192ffdfd": "AOSP nfc key",
    "a6ccc500ff0e7421200eb66a7fe174ef1b00e52ca91727070cbedf061ff76c35": "AOSP bluetooth key",
    "abf21f9e2af1d881cc673fddcefa6ed9c269a437bd64b279cf45844cfd589126": "AOSP sdk_sandbox key",
}
"""SHA-256 of the certificates of AOSP's public test keys (AOSP ``build/target/product/security/*.x509.pem``;
copies and provenance in ``virtual_device/apks/aosp/``). An app signed with one of them was signed by whoever
built the ROM with AOSP's default keys, never by its vendor."""


class NeedBytes(Exception):  # noqa: N818 - a request, not an error: the caller fetches and calls again
    """More of the APK is needed: ``spans`` are ``(start, end)`` byte ranges (end exclusive) not yet present."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.spans = tuple(spans)
        super().__init__(", ".join(f"[{a}, {b})" for a, b in self.spans))


class _Missing(Exception):  # noqa: N818 - not an OSError, so zipfile lets it through
    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        super().__init__(f"bytes [{start}, {end}) not fetched")


class SparseApk(io.RawIOBase):
    """A read-only, seekable file of ``size`` bytes of which only the :meth:`add`-ed ranges are known.

    Reading a range that is not fully known raises an internal exception that :func:`read_apk_signature` turns
    into :class:`NeedBytes`. ``bytes_fetched`` counts every byte added (what the device sent for this APK,
    alignment overhead included).

    Args:
        size: the APK's size in bytes (``stat -c %s``).
        path: the APK's path on the device (for messages).
    """

    def __init__(self, size: int, path: str = "") -> None:
        super().__init__()
        if size < 0:
            raise ValueError("size must be >= 0")
        self.size = size
        self.path = path
        self.bytes_fetched = 0
        self._pos = 0
        self._runs: list[tuple[int, bytearray]] = []  # sorted, disjoint, not adjacent

    def add(self, offset: int, data: bytes) -> None:
        """Record that ``data`` is the APK's content at ``offset`` (clipped to the file size)."""
        self.bytes_fetched += len(data)
        data = data[: max(0, self.size - offset)]
        if not data:
            return
        start, end = offset, offset + len(data)
        keep: list[tuple[int, bytearray]] = []
        pieces: list[tuple[int, bytes]] = []
        for run_start, run in self._runs:
            run_end = run_start + len(run)
            if run_end < start or run_start > end:
                keep.append((run_start, run))
            else:
                pieces.append((run_start, bytes(run)))
        pieces.append((start, bytes(data)))
        new_start = min(p[0] for p in pieces)
        new_end = max(p[0] + len(p[1]) for p in pieces)
        merged = bytearray(new_end - new_start)
        for p_start, p_data in sorted(pieces, key=lambda p: p[0]):
            merged[p_start - new_start: p_start - new_start + len(p_data)] = p_data
        keep.append((new_start, merged))
        self._runs = sorted(keep, key=lambda r: r[0])

    def missing(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of ``[start, end)`` (clipped to the file) that are not known, in order."""
        start, end = max(0, start), min(self.size, end)
        gaps: list[tuple[int, int]] = []
        cursor = start
        for run_start, run in self._runs:
            run_end = run_start + len(run)
            if run_end <= cursor:
                continue
            if run_start >= end:
                break
            if run_start > cursor:
                gaps.append((cursor, run_start))
            cursor = max(cursor, run_end)
            if cursor >= end:
                break
        if cursor < end:
            gaps.append((cursor, end))
        return gaps

    def require(self, spans: Iterable[tuple[int, int]]) -> None:
        """Raise :class:`NeedBytes` with every unknown part of ``spans``; return when all are known."""
        gaps = [g for a, b in spans for g in self.missing(a, b)]
        if gaps:
            raise NeedBytes(gaps)

    def pread(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (fewer at end of file); raises the internal missing-bytes signal."""
        end = min(self.size, offset + max(0, length))
        if offset >= end:
            return b""
        for run_start, run in self._runs:
            if run_start <= offset and end <= run_start + len(run):
                return bytes(run[offset - run_start: end - run_start])
        raise _Missing(offset, end)

    # -- io.RawIOBase ----------------------------------------------------------------------------------------
    def readable(self) -> bool:  # noqa: D102
        return True

    def seekable(self) -> bool:  # noqa: D102
        return True

    def tell(self) -> int:  # noqa: D102
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:  # noqa: D102
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        pos = base + offset
        if pos < 0:
            raise OSError(22, "Invalid argument")  # zipfile expects OSError for a seek before the start
        self._pos = pos
        return pos

    def read(self, size: int | None = -1) -> bytes:  # noqa: D102
        length = self.size - self._pos if size is None or size < 0 else size
        data = self.pread(self._pos, length)
        self._pos += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # noqa: D102
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass(frozen=True)
class CertInfo:
    """One signing certificate.

    Attributes:
        sha256: SHA-256 of the certificate's DER bytes as stored in the APK, lower-case hex (64 chars).
        subject / issuer: RFC 4514 names (``CN=Android,OU=Android,...``), or None when the certificate cannot be
            parsed (the digest is still exact).
        not_before / not_after: validity as ISO dates (``2016-01-01``), or None.
        serial: serial number in hex, or None.
        key: public key type and size (``RSA 2048``, ``EC secp256r1``), or None.
        problem: why the certificate could not be parsed, or None.
    """

    sha256: str
    subject: str | None = None
    issuer: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    serial: str | None = None
    key: str | None = None
    problem: str | None = None

    @classmethod
    def from_der(cls, der: bytes) -> CertInfo:
        """Describe the certificate ``der`` (never raises: an unparsable certificate keeps its digest)."""
        digest = hashlib.sha256(der).hexdigest()
        try:
            cert = x509.load_der_x509_certificate(der)
            return cls(sha256=digest, subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                       not_before=cert.not_valid_before_utc.date().isoformat(),
                       not_after=cert.not_valid_after_utc.date().isoformat(), serial=f"{cert.serial_number:x}",
                       key=_key_text(cert.public_key()))
        except (ValueError, UnsupportedAlgorithm) as exc:
            return cls(sha256=digest, problem=f"not parsable by cryptography: {exc}")

    @property
    def test_key(self) -> str | None:
        """The AOSP test key this certificate is (:data:`AOSP_TEST_CERTIFICATES`), or None."""
        return AOSP_TEST_CERTIFICATES.get(self.sha256)

    def describe(self) -> str:
        """``<sha256> (CN=…, valid 2016-01-01..2046-01-01)`` — one line for reports."""
        if self.subject is None:
            return f"{self.sha256} ({self.problem})"
        return f"{self.sha256} ({self.subject}, valid {self.not_before}..{self.not_after})"


def _key_text(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    return type(key).__name__


@dataclass(frozen=True)
class Signer:
    """One signer of a scheme: ``certs`` (the first is the signing certificate, the rest its chain as stored),
    ``min_sdk``/``max_sdk`` (v3/v3.1 only: the platform range the signer is for) and ``lineage`` (v3/v3.1 with key
    rotation: the verified proof-of-rotation certificates, oldest first, ending with the signing certificate) and
    ``digests`` (v2/v3/v3.1: the signed ``(signature algorithm id, content digest)`` pairs, for
    :func:`verify_content_digests`)."""

    certs: tuple[CertInfo, ...]
    min_sdk: int | None = None
    max_sdk: int | None = None
    lineage: tuple[CertInfo, ...] = ()
    digests: tuple[tuple[int, bytes], ...] = ()

    @property
    def cert(self) -> CertInfo:
        """The signing certificate."""
        return self.certs[0]


@dataclass(frozen=True)
class ApkSignature:
    """Everything read about one APK's signature.

    Attributes:
        path: the APK on the device. size: its size in bytes. bytes_read: bytes fetched to read it.
        v1: JAR signers (one per ``META-INF/*.RSA|DSA|EC`` file: the PKCS#7's certificates); ``v1_files`` their names.
        v2 / v3 / v31: the signers of each APK Signature Scheme block (empty when the block is absent).
        other_blocks: IDs of the signing block's other pairs (verity padding, source stamp, ...), as hex text.
        block_offset / cd_offset: where the APK Signing Block and the central directory start (None when there
            is no signing block), for :func:`verify_content_digests`.
        integrity: what a reader that had the whole APK checked of its content (``"v2, v3 content digests
            (SHA-256) match"``), or ``""`` when nothing was (a phone's APK read by byte ranges).
    """

    path: str
    size: int
    bytes_read: int
    v1: tuple[Signer, ...] = ()
    v1_files: tuple[str, ...] = ()
    v2: tuple[Signer, ...] = ()
    v3: tuple[Signer, ...] = ()
    v31: tuple[Signer, ...] = ()
    other_blocks: tuple[str, ...] = ()
    block_offset: int | None = None
    cd_offset: int | None = None
    integrity: str = ""

    @property
    def schemes(self) -> tuple[str, ...]:
        """The schemes present, oldest first: some of ``v1``, ``v2``, ``v3``, ``v3.1``."""
        return tuple(name for name, signers in (("v1", self.v1), ("v2", self.v2), ("v3", self.v3),
                                                 ("v3.1", self.v31)) if signers)

    def effective(self, sdk: int | None) -> tuple[str, tuple[Signer, ...]]:
        """The scheme and signers Android uses for this APK on API level ``sdk`` (None: newest platform).

        The platform verifies the newest scheme it supports that the APK has: v3.1 on 33+ (signer whose
        ``[min_sdk, max_sdk]`` covers ``sdk``), v3 on 28+ (likewise), v2 on 24+, else v1 (AOSP
        ``ApkSignatureVerifier``). An APK with none that applies (e.g. v2-only on API 23, which would not install)
        reports its newest scheme.
        """
        level = 10_000 if sdk is None else sdk

        def covering(signers: tuple[Signer, ...]) -> tuple[Signer, ...]:
            return tuple(s for s in signers if (s.min_sdk or 0) <= level <= (s.max_sdk or 2**31))

        if level >= 33 and covering(self.v31):
            return "v3.1", covering(self.v31)
        if level >= 28 and covering(self.v3):
            return "v3", covering(self.v3)
        if level >= 24 and self.v2:
            return "v2", self.v2
        if self.v1:
            return "v1", self.v1
        for name, signers in (("v3.1", self.v31), ("v3", self.v3), ("v2", self.v2)):
            if signers:
                return name, signers
        return "none", ()

    def all_signer_certs(self) -> list[CertInfo]:
        """The signing certificate of every signer of every scheme (no chains, no lineage ancestors)."""
        return [s.cert for s in (*self.v1, *self.v2, *self.v3, *self.v31)]

    def describe(self, sdk: int | None) -> list[str]:
        """Report lines: schemes, the effective signer(s) for ``sdk``, each scheme's signers and any lineage."""
        scheme, _signers = self.effective(sdk)
        lines = [f"{self.path} ({self.size} bytes, {self.bytes_read} read): schemes {', '.join(self.schemes) or 'none'}"
                 f"; API {sdk if sdk is not None else '(newest)'} uses {scheme}"]
        for name, group in (("v1", self.v1), ("v2", self.v2), ("v3", self.v3), ("v3.1", self.v31)):
            for s in group:
                sdk_range = f" for API {s.min_sdk}..{s.max_sdk}" if s.min_sdk is not None else ""
                lines.append(f"  {name} signer{sdk_range}: {s.cert.describe()}")
                if s.lineage:
                    lines.append(f"  {name} lineage (oldest first): " + " -> ".join(c.sha256 for c in s.lineage))
        return lines


def tail_span(size: int) -> tuple[int, int]:
    """The range that holds the end-of-central-directory record whatever the comment length."""
    return max(0, size - EOCD_MAX_TAIL), size


def read_apk_signature(apk: SparseApk) -> ApkSignature:
    """Read the signature of the APK behind ``apk`` from the ranges fetched so far.

    Returns:
        The :class:`ApkSignature` once every needed range is present.

    Raises:
        NeedBytes: ranges to fetch first (stage by stage: the tail; the central directory with the signing
            block's footer; the signing block with the v1 signature files).
        ParseError: the file is no ZIP, its signing block or a signature file is malformed, a signature over
            signed data or a lineage link does not verify, or the APK carries no signature at all.
    """
    def bad(message: str) -> ParseError:
        return ParseError(message, command=f"dd if={apk.path or '<apk>'} (APK signature)")

    apk.require([tail_span(apk.size)])
    try:
        zf = zipfile.ZipFile(apk)
    except _Missing as miss:
        # zipfile read the end record and now wants the central directory; the signing block's 24-byte footer
        # ends where it starts: ask for both in one round
        raise NeedBytes(apk.missing(miss.start - 24, miss.end)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error) as exc:
        raise bad(f"not a readable ZIP archive ({exc})") from None
    cd_start = zf.start_dir
    apk.require([(max(0, cd_start - 24), cd_start)])

    block_start: int | None = None
    block_spans: list[tuple[int, int]] = []
    if cd_start >= 32 and apk.pread(cd_start - 16, 16) == SIG_BLOCK_MAGIC:
        size_in_footer = struct.unpack("<Q", apk.pread(cd_start - 24, 8))[0]
        if size_in_footer < 24 or size_in_footer + 8 > cd_start:
            raise bad(f"APK Signing Block size {size_in_footer} in its footer does not fit before the central "
                      f"directory at {cd_start}")
        if size_in_footer + 8 > MAX_SIGNING_BLOCK_BYTES:
            raise bad(f"APK Signing Block of {size_in_footer + 8} bytes is implausibly large "
                      f"(limit {MAX_SIGNING_BLOCK_BYTES})")
        block_start = cd_start - size_in_footer - 8
        block_spans.append((block_start, cd_start - 24))

    infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
    data_end = block_start if block_start is not None else cd_start
    v1_entries: list[tuple[zipfile.ZipInfo, int, int]] = []
    for k, info in enumerate(infos):
        if not _V1_SIG_FILE.fullmatch(info.filename):
            continue
        start = info.header_offset
        end = infos[k + 1].header_offset if k + 1 < len(infos) else data_end
        if not 0 <= start < end <= data_end:
            raise bad(f"entry {info.filename!r} lies outside the archive's data (offset {start})")
        if end - start > MAX_V1_SIGNATURE_BYTES:
            raise bad(f"v1 signature file {info.filename!r} spans {end - start} bytes (limit "
                      f"{MAX_V1_SIGNATURE_BYTES})")
        v1_entries.append((info, start, end))
    apk.require(block_spans + [(s, e) for _, s, e in v1_entries])

    v1_signers: list[Signer] = []
    for info, _start, _end in v1_entries:
        try:
            data = zf.read(info)
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, NotImplementedError) as exc:
            raise bad(f"cannot extract v1 signature file {info.filename!r} ({exc})") from None
        v1_signers.append(_v1_signer(data, info.filename, bad))

    v2: tuple[Signer, ...] = ()
    v3: tuple[Signer, ...] = ()
    v31: tuple[Signer, ...] = ()
    others: list[str] = []
    if block_start is not None:
        block = apk.pread(block_start, cd_start - block_start)
        for block_id, value in _pairs(block, bad):
            if block_id == V2_BLOCK_ID:
                v2 = _signers(value, v3=False, bad=bad, label="v2")
            elif block_id == V3_BLOCK_ID:
                v3 = _signers(value, v3=True, bad=bad, label="v3")
            elif block_id == V31_BLOCK_ID:
                v31 = _signers(value, v3=True, bad=bad, label="v3.1")
            else:
                others.append(f"0x{block_id:08x}")
    result = ApkSignature(path=apk.path, size=apk.size, bytes_read=apk.bytes_fetched, v1=tuple(v1_signers),
                          v1_files=tuple(i.filename for i, _, _ in v1_entries), v2=v2, v3=v3, v31=v31,
                          other_blocks=tuple(others), block_offset=block_start,
                          cd_offset=cd_start if block_start is not None else None)
    if not result.schemes:
        raise bad("the APK carries no signature (no META-INF/*.RSA|DSA|EC file and no v2/v3 block)")
    return result


def _v1_signer(data: bytes, name: str, bad) -> Signer:  # noqa: ANN001 - bad: error factory
    try:
        certs = pkcs7.load_der_pkcs7_certificates(data)
    except ValueError as exc:
        raise bad(f"v1 signature file {name!r} is not a PKCS#7 SignedData with certificates ({exc})") from None
    if not certs:
        raise bad(f"v1 signature file {name!r} holds no certificate")
    return Signer(certs=tuple(CertInfo.from_der(c.public_bytes(serialization.Encoding.DER)) for c in certs))


class _Reader:
    """Little-endian reader over one length-prefixed record (apksig ``getLengthPrefixedSlice``)."""

    def __init__(self, data: bytes, what: str, bad) -> None:  # noqa: ANN001
        self.data, self.pos, self.what, self.bad = data, 0, what, bad

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def u32(self) -> int:
        if self.remaining() < 4:
            raise self.bad(f"{self.what}: truncated (4 bytes wanted, {self.remaining()} left)")
        value = struct.unpack_from("<I", self.data, self.pos)[0]
        self.pos += 4
        return value

    def prefixed(self) -> bytes:
        length = self.u32()
        if length > self.remaining():
            raise self.bad(f"{self.what}: length {length} exceeds the {self.remaining()} bytes left")
        value = self.data[self.pos: self.pos + length]
        self.pos += length
        return value

    def sequence(self, what: str) -> list[bytes]:
        inner = _Reader(self.prefixed(), f"{self.what} {what}", self.bad)
        items = []
        while inner.remaining():
            items.append(inner.prefixed())
        return items


def _pairs(block: bytes, bad) -> list[tuple[int, bytes]]:  # noqa: ANN001
    """The ID-value pairs of a signing block: ``u64 size | pairs (u64 len, u32 id, value) | u64 size | magic``."""
    if len(block) < 32 or block[-16:] != SIG_BLOCK_MAGIC:
        raise bad("APK Signing Block footer magic missing")
    size_header = struct.unpack_from("<Q", block, 0)[0]
    size_footer = struct.unpack_from("<Q", block, len(block) - 24)[0]
    if size_header != size_footer or size_header != len(block) - 8:
        raise bad(f"APK Signing Block sizes disagree (header {size_header}, footer {size_footer})")
    pos, end, out = 8, len(block) - 24, []
    while pos < end:
        if end - pos < 8:
            raise bad("APK Signing Block: truncated ID-value pair")
        length = struct.unpack_from("<Q", block, pos)[0]
        if length < 4 or length > end - pos - 8:
            raise bad(f"APK Signing Block: pair length {length} out of range")
        block_id = struct.unpack_from("<I", block, pos + 8)[0]
        out.append((block_id, block[pos + 12: pos + 8 + length]))
        pos += 8 + length
    return out


# (hash, padding kind, salt) per signature algorithm id: apksig SignatureAlgorithm
_ALGORITHMS: dict[int, tuple[type[hashes.HashAlgorithm], str, int]] = {
    0x0101: (hashes.SHA256, "pss", 32), 0x0102: (hashes.SHA512, "pss", 64),
    0x0103: (hashes.SHA256, "pkcs1", 0), 0x0104: (hashes.SHA512, "pkcs1", 0),
    0x0201: (hashes.SHA256, "ecdsa", 0), 0x0202: (hashes.SHA512, "ecdsa", 0),
    0x0301: (hashes.SHA256, "dsa", 0),
    0x0411: (hashes.SHA256, "pkcs1", 0), 0x0413: (hashes.SHA256, "ecdsa", 0), 0x0415: (hashes.SHA256, "dsa", 0),
}


def verify_signature(public_key: object, algorithm_id: int, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` over ``data`` verifies with ``public_key`` under APK signature algorithm
    ``algorithm_id`` (apksig ``SignatureAlgorithm``: RSA-PSS / PKCS#1 v1.5, ECDSA, DSA with SHA-256/512).
    False for a bad signature, an unknown algorithm or a key of the wrong type."""
    spec = _ALGORITHMS.get(algorithm_id)
    if spec is None:
        return False
    hash_cls, kind, salt = spec
    try:
        if kind in ("pss", "pkcs1") and isinstance(public_key, rsa.RSAPublicKey):
            pad = (padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=salt) if kind == "pss"
                   else padding.PKCS1v15())
            public_key.verify(signature, data, pad, hash_cls())
        elif kind == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_cls()))
        elif kind == "dsa" and isinstance(public_key, dsa.DSAPublicKey):
            public_key.verify(signature, data, hash_cls())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _signers(value: bytes, *, v3: bool, bad, label: str) -> tuple[Signer, ...]:  # noqa: ANN001
    """Parse (and check the signatures of) the signers of a v2 or v3/v3.1 block."""
    outer = _Reader(value, f"{label} block", bad)
    raw_signers = outer.sequence("signers")
    if not raw_signers:
        raise bad(f"{label} block has no signer")
    out = []
    for n, raw in enumerate(raw_signers, start=1):
        what = f"{label} signer #{n}"
        r = _Reader(raw, what, bad)
        signed_data = r.prefixed()
        min_sdk = max_sdk = None
        if v3:
            min_sdk, max_sdk = r.u32(), r.u32()
        signatures = [(_Reader(s, f"{what} signature", bad)) for s in r.sequence("signatures")]
        public_key_der = r.prefixed()
        sd = _Reader(signed_data, f"{what} signed data", bad)
        digests = []
        for raw_digest in sd.sequence("digests"):
            d = _Reader(raw_digest, f"{what} digest", bad)
            digests.append((d.u32(), d.prefixed()))
        cert_ders = sd.sequence("certificates")
        lineage: tuple[CertInfo, ...] = ()
        if v3:
            if (sd.u32(), sd.u32()) != (min_sdk, max_sdk):
                raise bad(f"{what}: SDK range differs between the signer and its signed data")
        attributes = sd.sequence("additional attributes")
        if not cert_ders:
            raise bad(f"{what} has no certificate")
        try:
            public_key = serialization.load_der_public_key(public_key_der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise bad(f"{what}: unreadable public key ({exc})") from None
        verified = False
        for sig in signatures:
            algorithm_id, sig_bytes = sig.u32(), sig.prefixed()
            if algorithm_id in _ALGORITHMS:
                if not verify_signature(public_key, algorithm_id, sig_bytes, signed_data):
                    raise bad(f"{what}: signature (algorithm 0x{algorithm_id:04x}) over the signed data does not "
                              "verify with the signer's public key (tampered signing block?)")
                verified = True
        if not verified:
            raise bad(f"{what}: no signature with a supported algorithm")
        certs = tuple(CertInfo.from_der(d) for d in cert_ders)
        try:
            cert_key = x509.load_der_x509_certificate(cert_ders[0]).public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        except (ValueError, UnsupportedAlgorithm):
            cert_key = None
        if cert_key is not None and cert_key != public_key_der:
            raise bad(f"{what}: the certificate's public key differs from the signer's public key")
        if v3:
            for attr in attributes:
                a = _Reader(attr, f"{what} attribute", bad)
                if a.u32() == PROOF_OF_ROTATION_ATTR_ID:
                    lineage = _lineage(attr[4:], what, bad)
                    if lineage[-1].sha256 != certs[0].sha256:
                        raise bad(f"{what}: the lineage does not end with the signing certificate")
        out.append(Signer(certs=certs, min_sdk=min_sdk, max_sdk=max_sdk, lineage=lineage, digests=tuple(digests)))
    return tuple(out)


def _lineage(value: bytes, what: str, bad) -> tuple[CertInfo, ...]:  # noqa: ANN001
    """A verified proof-of-rotation lineage (apksig ``V3SigningCertificateLineage.readSigningCertificateLineage``):
    ``u32 version (1) | nodes``; node = ``signed data (cert, u32 algorithm) | u32 flags | u32 algorithm | signature``;
    each node's signed data is signed by the previous node's key with the previous node's algorithm."""
    r = _Reader(value, f"{what} lineage", bad)
    version = r.u32()
    if version != 1:
        raise bad(f"{what}: lineage version {version} unknown")
    nodes: list[CertInfo] = []
    previous_key: object | None = None
    previous_algorithm = 0
    while r.remaining():
        node = _Reader(r.prefixed(), f"{what} lineage node #{len(nodes) + 1}", bad)
        signed_data = node.prefixed()
        node.u32()  # flags
        algorithm = node.u32()
        signature = node.prefixed()
        sd = _Reader(signed_data, f"{what} lineage node #{len(nodes) + 1}", bad)
        cert_der = sd.prefixed()
        signed_algorithm = sd.u32()
        if previous_key is not None:
            if signed_algorithm != previous_algorithm:
                raise bad(f"{what}: lineage node #{len(nodes) + 1} names another algorithm than its parent used")
            if not verify_signature(previous_key, previous_algorithm, signature, signed_data):
                raise bad(f"{what}: lineage node #{len(nodes) + 1} is not signed by the previous key "
                          "(forged key rotation?)")
        try:
            previous_key = x509.load_der_x509_certificate(cert_der).public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise bad(f"{what}: lineage certificate #{len(nodes) + 1} unreadable ({exc})") from None
        previous_algorithm = algorithm
        nodes.append(CertInfo.from_der(cert_der))
    if not nodes:
        raise bad(f"{what}: empty lineage")
    return tuple(nodes)


CHUNK_BYTES = 1024 * 1024
"""Content-digest chunk size of APK Signature Scheme v2/v3."""

_CHUNKED_DIGESTS: dict[int, type[hashes.HashAlgorithm]] = {
    0x0101: hashes.SHA256, 0x0103: hashes.SHA256, 0x0201: hashes.SHA256, 0x0301: hashes.SHA256,
    0x0102: hashes.SHA512, 0x0104: hashes.SHA512, 0x0202: hashes.SHA512,
}
"""Signature algorithm id → the hash of its chunked content digest (apksig ``ContentDigestAlgorithm``
``CHUNKED_SHA256`` / ``CHUNKED_SHA512``). The ``VERITY_*`` ids (0x0421, 0x0423, 0x0425) use a Merkle tree digest
that is not computed here."""


def _end_record(stream: BinaryIO, size: int) -> tuple[int, bytes]:
    """``(offset, bytes)`` of the end-of-central-directory record, found as apksig ``ZipUtils`` finds it: the last
    ``PK\x05\x06`` whose comment length reaches exactly the end of the file."""
    start = max(0, size - EOCD_MAX_TAIL)
    stream.seek(start)
    tail = stream.read(size - start)
    for i in range(len(tail) - 22, -1, -1):
        if tail[i:i + 4] == b"PK\x05\x06" and struct.unpack_from("<H", tail, i + 20)[0] == len(tail) - i - 22:
            return start + i, tail[i:]
    raise ValueError("no end of central directory record")


def verify_content_digests(stream: BinaryIO, signature: ApkSignature) -> str:
    """Check that the APK in ``stream`` is the one its v2/v3/v3.1 signers signed: recompute the chunked content
    digest (contents before the signing block, central directory, end record with the central directory offset
    replaced by the block's offset; 1 MiB chunks) of every chunked algorithm the signers list, compare.

    Reads the whole APK once, in 1 MiB pieces (constant memory). Returns what was checked (``"v2, v3 content
    digests (SHA-256) match"``), or ``""`` when there is nothing to check (no signing block, or only verity digests).

    Raises:
        ParseError: a digest differs (the APK was changed after signing), or the layout does not hold (the end
            record does not follow the central directory). ``command`` names ``signature.path``.
    """
    def bad(message: str) -> ParseError:
        return ParseError(message, command=f"read {signature.path} (APK content digests)")

    if signature.block_offset is None or signature.cd_offset is None:
        return ""
    wanted: dict[int, list[tuple[str, bytes]]] = {}
    for name, group in (("v2", signature.v2), ("v3", signature.v3), ("v3.1", signature.v31)):
        for signer in group:
            for algorithm, digest in signer.digests:
                if algorithm in _CHUNKED_DIGESTS:
                    wanted.setdefault(algorithm, []).append((name, digest))
    if not wanted:
        return ""
    kinds = sorted({_CHUNKED_DIGESTS[a] for a in wanted}, key=lambda h: h.name)
    size = stream.seek(0, io.SEEK_END)
    try:
        eocd_offset, eocd = _end_record(stream, size)
    except ValueError as exc:
        raise bad(str(exc)) from None
    cd_size = struct.unpack_from("<I", eocd, 12)[0]
    if signature.cd_offset + cd_size != eocd_offset:
        raise bad(f"the central directory ({signature.cd_offset} + {cd_size} bytes) is not followed by the end "
                  f"record at {eocd_offset}")
    eocd = eocd[:16] + struct.pack("<I", signature.block_offset) + eocd[20:]
    chunk_digests: dict[type[hashes.HashAlgorithm], list[bytes]] = {h: [] for h in kinds}

    def add(chunk: bytes) -> None:
        prefix = b"\xa5" + struct.pack("<I", len(chunk))
        for h, out in chunk_digests.items():
            ctx = hashlib.new(h.name)
            ctx.update(prefix)
            ctx.update(chunk)
            out.append(ctx.digest())

    for start, end in ((0, signature.block_offset), (signature.cd_offset, eocd_offset)):
        stream.seek(start)
        left = end - start
        while left > 0:
            want = min(CHUNK_BYTES, left)
            chunk = stream.read(want)
            while len(chunk) < want:  # a zip member's stream may return less than asked
                more = stream.read(want - len(chunk))
                if not more:
                    raise bad(f"the APK ends at {end - left + len(chunk)} while {end} bytes were expected")
                chunk += more
            add(chunk)
            left -= want
    add(eocd)
    top: dict[type[hashes.HashAlgorithm], bytes] = {}
    for h, digests in chunk_digests.items():
        ctx = hashlib.new(h.name)
        ctx.update(b"\x5a" + struct.pack("<I", len(digests)))
        for d in digests:
            ctx.update(d)
        top[h] = ctx.digest()
    checked = set()
    for algorithm, expected in wanted.items():
        for scheme, digest in expected:
            if digest != top[_CHUNKED_DIGESTS[algorithm]]:
                raise bad(f"{scheme} content digest (algorithm 0x{algorithm:04x}) does not match the APK's bytes: "
                          "the APK was changed after it was signed; Android refuses to install it")
            checked.add(scheme)
    return (f"{', '.join(sorted(checked))} content digests "
            f"({', '.join(h.name.upper().replace('SHA', 'SHA-') for h in kinds)}) match")


def read_stream_apk(path: str, stream: BinaryIO) -> ApkSignature:
    """Read the signature of an APK from a seekable binary ``stream`` (a file, a member of a ROM build's zip),
    fetching only the ranges :func:`read_apk_signature` asks for, as the device reader does.

    Raises :class:`~harness.errors.ParseError` like :func:`read_apk_signature`; OSError from the stream as is.
    """
    size = stream.seek(0, io.SEEK_END)
    apk = SparseApk(size, path)
    for _ in range(8):
        try:
            return read_apk_signature(apk)
        except NeedBytes as need:
            for start, end in need.spans:
                stream.seek(start)
                apk.add(start, stream.read(end - start))
    raise ParseError("still needs bytes after 8 rounds", command=f"read {path} (APK signature)")


def read_local_apk(path: str, data: bytes) -> tuple[ApkSignature, list[list[tuple[int, int]]]]:
    """Read the signature of an APK whose bytes are at hand, stage by stage as a device read would.

    Returns the signature and the spans requested in each round (what a device would have been asked for).
    Raises :class:`~harness.errors.ParseError` like :func:`read_apk_signature`.
    """
    apk = SparseApk(len(data), path)
    rounds: list[list[tuple[int, int]]] = []
    for _ in range(8):
        try:
            return read_apk_signature(apk), rounds
        except NeedBytes as need:
            rounds.append(list(need.spans))
            for start, end in need.spans:
                apk.add(start, data[start:end])
    raise ParseError("still needs bytes after 8 rounds", command=f"dd if={path} (APK signature)")
