"""The one seam through which the build reader gets an APK's signature: the device signer check's own reader.

:func:`read_signature` reads an APK of a ROM build with :func:`harness.apksig.read_stream_apk` — the same code
that reads a phone's APKs by byte ranges (v1 JAR, APK Signature Scheme v2 / v3 / v3.1, the verified v3 rotation
lineage) — so a build and a phone of that build give the same certificates. :func:`signer_digests` is the
SHA-256 of the certificate(s) Android uses on the build's API level (the value ``apksigner verify --print-certs``
prints as "certificate SHA-256 digest"), for reports, golden profiles and diffs.
"""

from __future__ import annotations

from typing import BinaryIO

from harness.apksig import ApkSignature, read_stream_apk
from harness.errors import ParseError


def read_signature(stream: BinaryIO, *, device_path: str) -> ApkSignature | ParseError:
    """The APK's signature, or the :class:`~harness.errors.ParseError` saying why it cannot be read (unsigned,
    damaged signing block): the signer check reports that app as broken, the build's other verdicts stand."""
    try:
        return read_stream_apk(device_path, stream)
    except ParseError as exc:
        return exc


def signer_digests(signature: ApkSignature | ParseError | None, sdk: int | None) -> tuple[str, ...] | None:
    """SHA-256 (hex, sorted) of the certificates Android uses for the APK on API ``sdk``; None when not readable."""
    if not isinstance(signature, ApkSignature):
        return None
    _scheme, signers = signature.effective(sdk)
    return tuple(sorted({s.cert.sha256 for s in signers})) or None
