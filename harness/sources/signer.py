"""The one seam through which the build reader gets an APK's signer certificate digests.

:func:`signer_digests` returns the SHA-256 of each signer certificate (DER), lower-case hex — the value
``apksigner verify --print-certs`` prints as "certificate SHA-256 digest" and CTS ``PackageUtil`` compares.

Today it reads only the **v1 (JAR) signature**: the PKCS#7 ``META-INF/*.RSA|*.DSA|*.EC`` blocks, decoded by
``cryptography`` (:func:`cryptography.hazmat.primitives.serialization.pkcs7.load_der_pkcs7_certificates`).
apksigner adds a v1 signature to every APK whose ``minSdkVersion`` is below 24, next to v2/v3 with the same key.
An APK signed with v2/v3 only (minSdk 24+) yields None ("not known"), never a guess.

TODO(signer branch): replace the body with the shared APK signature reader (APK Signing Block v2/v3, key rotation
lineage) that the device signer check uses, so a build and a phone give the same digests by the same code.
"""

from __future__ import annotations

import hashlib
import zipfile

from harness.errors import SourceError

_V1_BLOCK_SUFFIXES = (".RSA", ".DSA", ".EC")


def signer_digests(apk: zipfile.ZipFile, *, source: str = "", member: str = "") -> tuple[str, ...] | None:
    """SHA-256 digests (hex) of the APK's signer certificates, sorted; None when no v1 signature block exists.

    Args:
        apk: the opened APK (only its small ``META-INF`` signature members are read).
        source / member: the build and the APK's name in it, for messages.

    Raises:
        SourceError: a v1 signature block exists but is not valid PKCS#7 (a damaged or tampered APK).
    """
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    blocks = [n for n in apk.namelist()
              if n.upper().startswith("META-INF/") and n.count("/") == 1 and n.upper().endswith(_V1_BLOCK_SUFFIXES)]
    if not blocks:
        return None
    digests: set[str] = set()
    for name in blocks:
        try:
            certs = pkcs7.load_der_pkcs7_certificates(apk.read(name))
        except Exception as exc:  # noqa: BLE001 - cryptography raises ValueError and others for bad DER
            raise SourceError(f"signature block {name} is not valid PKCS#7: {exc}", path=source, member=member,
                              remedy="the APK's v1 signature is damaged; re-sign the APK") from None
        # the first certificate is the signer's (AOSP ApkSigner writes exactly one per block)
        if certs:
            digests.add(hashlib.sha256(certs[0].public_bytes(Encoding.DER)).hexdigest())
    return tuple(sorted(digests)) or None
