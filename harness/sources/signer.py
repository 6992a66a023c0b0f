"""The one seam through which the build reader gets an APK's signature: the device signer check's own reader.

:func:`read_signature` reads an APK of a ROM build with :func:`harness.apksig.read_stream_apk` — the same code
that reads a phone's APKs by byte ranges (v1 JAR, APK Signature Scheme v2 / v3 / v3.1, the verified v3 rotation
lineage) — so a build and a phone of that build give the same certificates. :func:`signer_digests` is the
SHA-256 of the certificate(s) Android uses on the build's API level (the value ``apksigner verify --print-certs``
prints as "certificate SHA-256 digest"), for reports, golden profiles and diffs.

A build's APK has not been through PackageManager yet, so the build reader also refuses what the phone would
refuse at its first boot scan and a phone's reader never sees: an APK whose JAR signature's ``.SF`` file says
``X-Android-APK-Signed: 2, 3`` (it was signed with those schemes) while the platform finds no such block and
falls back to v1 — AOSP ``StrictJarVerifier.verifyCertificate``: "… is signed using APK Signature Scheme v2, but
no such signature was found. Signature stripped?" (:func:`stripped_schemes`); and an APK changed after it was
signed: the v2/v3/v3.1 content digests are recomputed over every byte of the APK
(:func:`harness.apksig.verify_content_digests`; about 1 GB/s of APK, read once in 1 MiB pieces). The v1 (JAR)
per-entry digests are not checked: an APK signed with v1 only (or judged for API 23 and older, whose platform uses
v1) is read for its certificates, not for its integrity.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from typing import BinaryIO

from harness.apksig import ApkSignature, read_stream_apk, verify_content_digests
from harness.errors import ParseError
from harness.sources.zipmember import MEMBER_ERRORS

NOT_VERIFIED = "not verified: no v2/v3 content digest (a v1-only signature's per-entry digests are not checked)"
""":attr:`~harness.apksig.ApkSignature.integrity` of a build's APK whose content could not be checked."""

SCHEME_IDS: dict[int, tuple[str, int]] = {2: ("v2", 24), 3: ("v3", 28)}
"""``X-Android-APK-Signed`` scheme ID → (scheme, first API level whose platform verifies it)."""

MAX_SF_HEADER_BYTES = 64 * 1024
"""Bytes of a ``META-INF/*.SF`` file read for its main section (the header lines before the first empty line)."""

_SF_FILE = re.compile(r"META-INF/[^/]+\.SF", re.I)


def _sf_scheme_ids(zf: zipfile.ZipFile) -> dict[str, list[int]]:
    """``{.SF name: [scheme IDs of its X-Android-APK-Signed header]}`` for every v1 signature file."""
    out: dict[str, list[int]] = {}
    for info in zf.infolist():
        if not _SF_FILE.fullmatch(info.filename):
            continue
        with zf.open(info) as fh:
            head = fh.read(MAX_SF_HEADER_BYTES).decode("utf-8", errors="replace")
        main = re.split(r"\r?\n\r?\n", head, maxsplit=1)[0]
        main = re.sub(r"\r?\n ", "", main)  # JAR manifest continuation lines
        for line in main.splitlines():
            key, _sep, value = line.partition(":")
            if key.strip().lower() == "x-android-apk-signed":
                out[info.filename] = [int(v) for v in re.findall(r"\d+", value)]
    return out


def stripped_schemes(stream: BinaryIO, signature: ApkSignature, sdk: int | None) -> list[str]:
    """The schemes a v1 ``.SF`` file says the APK was signed with, that the platform of API ``sdk`` (None: newest)
    verifies, but whose block the APK lacks while the platform falls back to v1: ``["v2, v3 (META-INF/CERT.SF)"]``
    (one entry per ``.SF`` file that names a stripped scheme).

    Empty when the platform uses v2/v3 (it then never reads the header) or nothing was stripped.

    Raises:
        zipfile.BadZipFile, zlib.error, OSError …: the ``.SF`` file cannot be read (one of
            :data:`harness.sources.zipmember.MEMBER_ERRORS`; the caller turns it into a ParseError).
    """
    if signature.effective(sdk)[0] != "v1":
        return []
    level = 10_000 if sdk is None else sdk
    present = {"v2": bool(signature.v2), "v3": bool(signature.v3)}
    stream.seek(0)
    with zipfile.ZipFile(stream) as zf:
        named = _sf_scheme_ids(zf)
    out = []
    for sf, ids in sorted(named.items()):
        missing = [SCHEME_IDS[i][0] for i in ids
                   if i in SCHEME_IDS and level >= SCHEME_IDS[i][1] and not present[SCHEME_IDS[i][0]]]
        if missing:
            out.append(f"{', '.join(missing)} ({sf})")
    return out


def read_signature(stream: BinaryIO, *, device_path: str, source: str | None = None, member: str | None = None,
                   sdk: int | None = None) -> ApkSignature | ParseError:
    """The APK's signature, or the :class:`~harness.errors.ParseError` saying why it cannot be read (unsigned,
    damaged signing block, signature stripped, content changed after signing — module docstring): the signer check
    reports that app as broken, the build's other verdicts stand.

    Args:
        stream: the APK (binary, seekable).
        device_path: where the APK is on the phone.
        source / member: the build and the APK's name in it, for messages (``<build>!system/app/Word/Word.apk``).
        sdk: the build's API level (which schemes its platform verifies).
    """
    where = f"{source}!{member}" if source and member else device_path
    command = f"read {where} (APK signature)"
    try:
        signature = read_stream_apk(device_path, stream)
    except ParseError as exc:
        return exc.with_context(command=command)
    try:
        stripped = stripped_schemes(stream, signature, sdk)
    except (*MEMBER_ERRORS, NotImplementedError, RuntimeError) as exc:  # the APK's own .SF member is damaged
        return ParseError(f"cannot read the v1 signature file (.SF): {exc}", command=command)
    try:
        checked = verify_content_digests(stream, signature)
    except ParseError as exc:
        return exc.with_context(command=command)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return ParseError(f"cannot read the APK to check its content digests: {exc}", command=command)
    if stripped:
        return ParseError(f"signature stripped: the JAR signature says the APK was signed with "
                          f"{', '.join(stripped)} (X-Android-APK-Signed), but the APK has no such block (missing or "
                          f"damaged APK Signing Block); Android{f' (API {sdk})' if sdk else ''} refuses to install it "
                          "(StrictJarVerifier: 'Signature stripped?')", command=command)
    return dataclasses.replace(signature, integrity=checked or NOT_VERIFIED)


def signer_digests(signature: ApkSignature | ParseError | None, sdk: int | None) -> tuple[str, ...] | None:
    """SHA-256 (hex, sorted) of the certificates Android uses for the APK on API ``sdk``; None when not readable."""
    if not isinstance(signature, ApkSignature):
        return None
    _scheme, signers = signature.effective(sdk)
    return tuple(sorted({s.cert.sha256 for s in signers})) or None
