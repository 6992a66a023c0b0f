"""What an APK says about itself: package name, versions, enabled flag — from its binary ``AndroidManifest.xml``.

The APK is opened with :mod:`zipfile` on a seekable stream (a file, or a member of a ``target_files`` zip) and
only the ``AndroidManifest.xml`` member is read (a few KiB): an APK is never loaded whole. The binary XML (AXML)
is decoded by apkInspector (PyPI ``apkInspector``, :func:`apkInspector.axml.get_manifest`) into XML text, which
:mod:`xml.etree.ElementTree` reads. Attributes used (``android`` namespace unless noted): ``manifest/@package``
(plain), ``@versionCode``, ``@versionCodeMajor`` (API 28+: the long version code is ``major << 32 | code``),
``@versionName``, ``manifest/@split`` (plain: a split APK, not a base), ``uses-sdk/@minSdkVersion``,
``application/@enabled`` (``false``: the app ships disabled — PackageManager treats it as disabled until
something enables it).

Signatures are read separately, by the device signer check's reader (:mod:`harness.sources.signer`).
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree

from harness.errors import SourceError
from harness.sources.zipmember import MEMBER_ERRORS

ANDROID_NS = "{http://schemas.android.com/apk/res/android}"
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
"""A larger ``AndroidManifest.xml`` is refused (real manifests are KiB; this bounds memory on hostile input)."""


@dataclass(frozen=True)
class ApkInfo:
    """One APK's identity.

    Attributes:
        package: ``manifest/@package``.
        version_name: ``@android:versionName`` as written (None when absent; a resource reference ``@0x7f…``
            is kept as that text: it is not resolved).
        version_code: ``versionCodeMajor << 32 | versionCode`` (None when absent).
        split: ``manifest/@split`` for a split APK, else None.
        enabled: False when ``<application android:enabled="false">``.
        min_sdk: ``uses-sdk/@android:minSdkVersion`` as int, or None.
        manifest: the decoded manifest's first lines (``<manifest …>``, ``<uses-sdk …>``, ``<application …>``),
            for evidence.
    """

    package: str
    version_name: str | None
    version_code: int | None
    split: str | None
    enabled: bool
    min_sdk: int | None
    manifest: str


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 0)
    except ValueError:
        return None


class _Quiet(logging.Filter):
    """apkInspector logs decoding notes on the root logger; they are not ours to print."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        return not record.pathname.endswith(("axml.py", "headers.py", "extract.py"))


_QUIET = _Quiet()


def _decode(raw: bytes) -> str:
    from apkInspector.axml import get_manifest

    root = logging.getLogger()
    root.addFilter(_QUIET)
    try:
        return get_manifest(io.BytesIO(raw))
    finally:
        root.removeFilter(_QUIET)


def _bind_android_prefix(text: str) -> str:
    """apkInspector declares ``xmlns:android`` on the first element that uses it; declare it on the root too, so
    a manifest whose root has no ``android:`` attribute stays well-formed XML."""
    head, sep, rest = text.partition(">")
    if sep and head.startswith("<manifest") and "xmlns:android=" not in head:
        return f'{head} xmlns:android="{ANDROID_NS[1:-1]}"{sep}{rest}'
    return text


def read_apk(stream: IO[bytes], *, source: str, member: str) -> ApkInfo:
    """Read an APK's manifest and signers from ``stream`` (binary, seekable; not closed here).

    Args:
        stream: the APK.
        source: the build (zip or directory) for messages.
        member: the APK's name inside the build for messages (``SYSTEM/app/Word/Word.apk``).

    Raises:
        SourceError: the APK is not a zip, has no ``AndroidManifest.xml``, or the manifest cannot be decoded or
            names no package (message names the build, the APK and the reason).
    """
    where = {"path": source, "member": member}
    try:
        apk = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"not a readable APK (zip): {exc}", remedy="the APK is damaged or not an APK",
                          **where) from None
    with apk:
        try:
            info = apk.getinfo("AndroidManifest.xml")
        except KeyError:
            raise SourceError("APK has no AndroidManifest.xml", remedy="the APK is damaged or not an APK",
                              **where) from None
        if info.file_size > MAX_MANIFEST_BYTES:
            raise SourceError(f"AndroidManifest.xml is {info.file_size} bytes (more than {MAX_MANIFEST_BYTES})",
                              **where)
        try:
            raw = apk.read(info)
        except (*MEMBER_ERRORS, NotImplementedError, RuntimeError) as exc:  # the APK's own data is damaged
            raise SourceError(f"cannot read AndroidManifest.xml: {exc}", remedy="the APK is damaged: rebuild or copy "
                              "it again", **where) from None
        try:
            text = _bind_android_prefix(_decode(raw))
            root = ElementTree.fromstring(text)
        except Exception as exc:  # noqa: BLE001 - any decoder failure means an unparsable manifest
            raise SourceError(f"unparsable AndroidManifest.xml (binary XML): {type(exc).__name__}: {exc}",
                              remedy="the APK's manifest is damaged; rebuild or re-sign the APK", **where) from None
    package = root.get("package")
    if root.tag != "manifest" or not package:
        raise SourceError("AndroidManifest.xml has no <manifest package=…>", **where)
    code = _int(root.get(f"{ANDROID_NS}versionCode"))
    major = _int(root.get(f"{ANDROID_NS}versionCodeMajor"))
    if code is not None and major:
        code = (major << 32) | (code & 0xFFFFFFFF)
    app = root.find("application")
    sdk = root.find("uses-sdk")
    enabled = (app.get(f"{ANDROID_NS}enabled") if app is not None else None) != "false"
    lines = [line for line in text.splitlines() if line.startswith(("<manifest", "<uses-sdk", "<application"))]
    return ApkInfo(package=package, version_name=root.get(f"{ANDROID_NS}versionName"), version_code=code,
                   split=root.get("split"), enabled=enabled,
                   min_sdk=_int(sdk.get(f"{ANDROID_NS}minSdkVersion")) if sdk is not None else None,
                   manifest="\n".join(lines))
