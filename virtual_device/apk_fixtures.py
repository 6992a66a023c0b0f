"""Small real APKs for the virtual devices, built and signed with the real Android tools.

A virtual device serves the APK files of its image's packages (``apk:`` in an image, see
:mod:`virtual_device.image`) through ``sync:`` and ``exec:`` like a phone does, so the harness's signer check reads
real v1 JAR signatures and real v2/v3 APK Signing Blocks. This module builds those APKs:

1. ``aapt package`` (Debian ``aapt``, with ``android-framework-res``) compiles a one-line manifest into an APK;
2. optional padding: a STORED entry of N bytes (the benchmark's 50 MiB APK), added with :mod:`zipfile`;
3. ``zipalign -f 4`` aligns it;
4. ``apksigner sign`` (Debian ``apksigner``) signs it with the fixture's scheme(s) and key(s); a key rotation
   first runs ``apksigner rotate`` to make the signing-certificate lineage.

Keys. The partner and "other vendor" test keys are derived from public labels, so that every machine builds the
same certificates and the digests written in ``device_profiles/`` stay valid: an EC P-256 private key is
``ec.derive_private_key(sha256(label))`` and its self-signed certificate is signed with deterministic ECDSA
(RFC 6979; ``cryptography``'s ``ecdsa_deterministic``) over fixed names, serial and dates. ``keytool`` and
``openssl`` cannot be seeded, hence :mod:`cryptography`. These keys are not secret by construction. The AOSP
test key is AOSP's own public ``testkey`` (``virtual_device/apks/aosp/``, provenance in its README).

Output: ``virtual_device/apks/build/<name>.apk`` (git-ignored), or ``$PRELOAD_HARNESS_APK_DIR``. :func:`ensure_built`
builds the default set once per source change (a stamp file holds a digest of this module and the key files),
under a file lock so concurrent test processes build once. ``bash tools/setup.sh`` installs the Debian tools
(``tools/setup_apk_tools.sh``) and runs ``python -m virtual_device build-apks``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.errors import Error

APKS_DIR = Path(__file__).resolve().parent / "apks"
AOSP_DIR = APKS_DIR / "aosp"
DEFAULT_BUILD_DIR = APKS_DIR / "build"
FRAMEWORK_RES = Path("/usr/share/android-framework-res/framework-res.apk")
TOOLS = ("aapt", "zipalign", "apksigner")
DEBIAN_PACKAGES = ("aapt", "apksigner", "zipalign", "android-framework-res")
TOOL_TIMEOUT_S = 120.0
FIXTURE_PACKAGE = "com.example.preload.fixture"


class ApkFixtureError(Error):
    """A fixture APK cannot be built or found; the message names the remedy."""


@dataclass(frozen=True)
class FixtureKey:
    """A signing key of the fixtures: ``label`` (derives the key, or ``aosp-testkey``) and the certificate's
    common name ``cn``."""

    label: str
    cn: str

    @property
    def is_aosp(self) -> bool:
        """True for AOSP's public testkey (read from ``apks/aosp``), False for a derived key."""
        return self.label == "aosp-testkey"


KEYS: dict[str, FixtureKey] = {
    "partner": FixtureKey("partner", "Partner app signer A (fixture test key)"),
    "partner-2026": FixtureKey("partner-2026", "Partner app signer B, rotated 2026 (fixture test key)"),
    "other": FixtureKey("other", "Other vendor signer (fixture test key)"),
    "aosp-testkey": FixtureKey("aosp-testkey", "Android (AOSP testkey)"),
}
"""Fixture keys by name. ``partner`` is the agreed key of the seed contract; ``partner-2026`` its successor
(rotation); ``other`` a vendor that is not the partner; ``aosp-testkey`` AOSP's public test key."""


@dataclass(frozen=True)
class FixtureSpec:
    """How one fixture APK is signed.

    ``signers``: key names, oldest first (two = a key rotation: v1/v2 by the first, v3 by the last with the
    lineage); empty = unsigned. ``schemes``: a subset of ``{"v1", "v2", "v3"}``. ``min_sdk``: the manifest's
    ``minSdkVersion`` (apksigner needs v1 below 24). ``pad_bytes``: size of a STORED ``assets/padding.bin`` entry.
    ``entries``: extra small entries ``assets/e/<n>.txt`` (a large central directory, as real apps have).
    ``default``: part of the set :func:`ensure_built` builds (the 50 MiB benchmark APK is built on request).
    """

    name: str
    signers: tuple[str, ...]
    schemes: frozenset[str] = field(default_factory=lambda: frozenset({"v1", "v2"}))
    min_sdk: int = 19
    pad_bytes: int = 0
    entries: int = 0
    default: bool = True
    description: str = ""


FIXTURES: dict[str, FixtureSpec] = {s.name: s for s in (
    FixtureSpec("partner-v1", ("partner",), frozenset({"v1"}), description="v1 (JAR) signature only"),
    FixtureSpec("partner-v2", ("partner",), frozenset({"v2"}), min_sdk=24, description="v2 block only"),
    FixtureSpec("partner-v1v2", ("partner",), description="v1 + v2, as the seed's Office system apps"),
    FixtureSpec("partner-v3", ("partner",), frozenset({"v1", "v2", "v3"}), description="v1 + v2 + v3"),
    FixtureSpec("partner-rotated", ("partner", "partner-2026"), frozenset({"v1", "v2", "v3"}),
                description="v1/v2 by partner, v3 by partner-2026 with the lineage partner -> partner-2026"),
    FixtureSpec("other-v1v2", ("other",), description="signed by a key that is not the partner's"),
    FixtureSpec("testkey-v1v2", ("aosp-testkey",), description="signed with AOSP's public testkey"),
    FixtureSpec("unsigned", (), frozenset(), description="no signature at all"),
    FixtureSpec("partner-v1v2-3000", ("partner",), entries=3000, default=False,
                description="partner v1 + v2 with 3000 small entries (a central directory larger than the tail)"),
    FixtureSpec("partner-v1v2-50m", ("partner",), pad_bytes=50 * 1024 * 1024, entries=3000, default=False,
                description="partner v1 + v2, 3000 entries and a 50 MiB stored entry (benchmark)"),
)}
"""Every fixture APK by name (the names image files use in ``apk:``)."""


def apk_dir() -> Path:
    """Where fixture APKs are built: ``$PRELOAD_HARNESS_APK_DIR`` or ``virtual_device/apks/build``."""
    env = os.environ.get("PRELOAD_HARNESS_APK_DIR")
    return Path(env) if env else DEFAULT_BUILD_DIR


# -- keys --------------------------------------------------------------------------------------------------------

def _derived(label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    seed = hashlib.sha256(b"preload-harness fixture key\0" + label.encode()).digest()
    key = ec.derive_private_key(int.from_bytes(seed[:31], "big"), ec.SECP256R1())  # 248 bits < the curve order
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, KEYS[label].cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "preload-harness fixtures")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(int.from_bytes(seed[:16], "big") >> 1 or 1)
            .not_valid_before(_dt.datetime(2016, 1, 1, tzinfo=_dt.UTC))
            .not_valid_after(_dt.datetime(2046, 1, 1, tzinfo=_dt.UTC))
            .sign(key, hashes.SHA256(), ecdsa_deterministic=True))
    return key, cert


def certificate(name: str) -> x509.Certificate:
    """The X.509 certificate of fixture key ``name`` (see :data:`KEYS`)."""
    if KEYS[name].is_aosp:
        return x509.load_pem_x509_certificate((AOSP_DIR / "testkey.x509.pem").read_bytes())
    return _derived(name)[1]


def cert_digest(name: str) -> str:
    """SHA-256 of fixture key ``name``'s certificate (DER), lower-case hex: what a contract lists."""
    return hashlib.sha256(certificate(name).public_bytes(serialization.Encoding.DER)).hexdigest()


def write_key(name: str, directory: Path) -> tuple[Path, Path]:
    """Write ``<name>.pk8`` (PKCS#8 DER) and ``<name>.x509.pem`` for apksigner; return both paths."""
    if KEYS[name].is_aosp:
        return AOSP_DIR / "testkey.pk8", AOSP_DIR / "testkey.x509.pem"
    key, cert = _derived(name)
    pk8, pem = directory / f"{name}.pk8", directory / f"{name}.x509.pem"
    pk8.write_bytes(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return pk8, pem


# -- building ----------------------------------------------------------------------------------------------------

def missing_tools() -> list[str]:
    """The Debian packages whose tools are missing (empty when everything needed is installed)."""
    missing = [tool for tool in TOOLS if not shutil.which(tool)]  # each tool's Debian package has its name
    if not FRAMEWORK_RES.is_file():
        missing.append("android-framework-res")
    return missing


def _run(argv: list[str], cwd: Path) -> None:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ApkFixtureError(f"`{' '.join(argv[:3])} ...` did not finish within {TOOL_TIMEOUT_S:g} s") from None
    if proc.returncode != 0:
        raise ApkFixtureError(f"`{' '.join(argv)}` failed (exit {proc.returncode}): "
                              f"{(proc.stderr or proc.stdout).strip()[:500]}")


def _manifest(spec: FixtureSpec) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<manifest xmlns:android="http://schemas.android.com/apk/res/android"'
            f' package="{FIXTURE_PACKAGE}" android:versionCode="1" android:versionName="1.0">\n'
            f'  <uses-sdk android:minSdkVersion="{spec.min_sdk}" android:targetSdkVersion="28"/>\n'
            f'  <application android:label="{spec.name}" android:hasCode="false"/>\n'
            '</manifest>\n')


def build_one(spec: FixtureSpec, out: Path) -> Path:
    """Build the fixture ``spec`` as ``out`` (see the module docstring); return ``out``.

    Raises:
        ApkFixtureError: a tool is missing or failed (its stderr is in the message).
    """
    missing = missing_tools()
    if missing:
        raise ApkFixtureError(f"cannot build fixture APKs: missing Debian package(s) {', '.join(missing)}; "
                              "run `bash tools/setup.sh` (as root it installs them) or "
                              f"`apt-get install -y {' '.join(DEBIAN_PACKAGES)}`")
    with tempfile.TemporaryDirectory(prefix=f"apk-{spec.name}-") as tmp_text:
        tmp = Path(tmp_text)
        (tmp / "AndroidManifest.xml").write_text(_manifest(spec), encoding="utf-8")
        _run(["aapt", "package", "-f", "-M", "AndroidManifest.xml", "-I", str(FRAMEWORK_RES),
              "-F", "unaligned.apk"], tmp)
        with zipfile.ZipFile(tmp / "unaligned.apk", "a") as zf:
            zf.writestr(zipfile.ZipInfo("assets/fixture.txt", (2016, 1, 1, 0, 0, 0)),
                        f"preload-harness fixture {spec.name}: {spec.description}\n")
            for n in range(spec.entries):
                zf.writestr(zipfile.ZipInfo(f"assets/e/{n:05d}.txt", (2016, 1, 1, 0, 0, 0)), f"entry {n}\n")
            if spec.pad_bytes:
                info = zipfile.ZipInfo("assets/padding.bin", (2016, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_STORED
                with zf.open(info, "w", force_zip64=spec.pad_bytes >= 0xFFFFFFFF) as fh:
                    block = bytes(1024 * 1024)
                    for offset in range(0, spec.pad_bytes, len(block)):
                        fh.write(block[: min(len(block), spec.pad_bytes - offset)])
        _run(["zipalign", "-f", "4", "unaligned.apk", "aligned.apk"], tmp)
        target = tmp / "signed.apk"
        if not spec.signers:
            shutil.copyfile(tmp / "aligned.apk", target)
        else:
            keys = [write_key(name, tmp) for name in spec.signers]
            argv = ["apksigner", "sign"]
            for scheme in ("v1", "v2", "v3"):
                argv += [f"--{scheme}-signing-enabled", "true" if scheme in spec.schemes else "false"]
            if len(keys) > 1:
                (old_pk8, old_pem), (new_pk8, new_pem) = keys[0], keys[-1]
                _run(["apksigner", "rotate", "--out", "lineage.bin", "--old-signer", "--key", str(old_pk8),
                      "--cert", str(old_pem), "--new-signer", "--key", str(new_pk8), "--cert", str(new_pem)], tmp)
                argv += ["--lineage", "lineage.bin"]
            for i, (pk8, pem) in enumerate(keys):
                argv += (["--next-signer"] if i else []) + ["--key", str(pk8), "--cert", str(pem)]
            _run([*argv, "--out", "signed.apk", "aligned.apk"], tmp)
        out.parent.mkdir(parents=True, exist_ok=True)
        part = out.with_suffix(".apk.part")
        shutil.copyfile(target, part)
        part.replace(out)
    return out


def _stamp() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for f in sorted(AOSP_DIR.glob("testkey.*")):
        h.update(f.read_bytes())
    return h.hexdigest()


def ensure_built(names: list[str] | None = None, out_dir: Path | None = None) -> Path:
    """Build the fixtures ``names`` (default: every ``default`` fixture) into ``out_dir`` unless up to date.

    Up to date = every file exists and ``.stamp`` matches this module and the AOSP key files. Concurrent callers
    (pytest processes) serialize on ``.lock``; the second one finds the work done. Returns the directory.

    Raises:
        ApkFixtureError: unknown name, missing tools, or a tool failed.
    """
    out = out_dir or apk_dir()
    wanted = [FIXTURES[n] for n in names] if names else [s for s in FIXTURES.values() if s.default]
    unknown = [n for n in names or [] if n not in FIXTURES]
    if unknown:
        raise ApkFixtureError(f"unknown fixture APK(s) {', '.join(unknown)}; known: {', '.join(FIXTURES)}")
    out.mkdir(parents=True, exist_ok=True)
    stamp_file, stamp = out / ".stamp", _stamp()
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fresh = stamp_file.exists() and stamp_file.read_text().strip() == stamp
        if not fresh:
            for old in out.glob("*.apk"):
                old.unlink()
            stamp_file.unlink(missing_ok=True)
        for spec in wanted:
            if not (out / f"{spec.name}.apk").is_file():
                build_one(spec, out / f"{spec.name}.apk")
        stamp_file.write_text(stamp + "\n")
    return out


def resolve(ref: str, base: Path | None = None) -> Path:
    """The file an image's ``apk:`` names: a fixture name (built on demand, see :func:`ensure_built`) or a path
    (relative to ``base``, the image's directory).

    Raises:
        ApkFixtureError: neither a fixture name nor an existing file, or the fixture cannot be built.
    """
    if ref in FIXTURES:
        path = apk_dir() / f"{ref}.apk"
        stamp = apk_dir() / ".stamp"
        if not path.is_file() or not stamp.is_file() or stamp.read_text().strip() != _stamp():
            ensure_built(None if FIXTURES[ref].default else [ref])
        return path
    path = Path(ref)
    if not path.is_absolute() and base is not None:
        path = base / path
    if path.is_file():
        return path
    raise ApkFixtureError(f"apk {ref!r} is neither a fixture name ({', '.join(FIXTURES)}) nor an existing file")


def cli(argv: list[str]) -> int:
    """``python -m virtual_device build-apks [NAME ...] [--out DIR] [--digests]``: build fixture APKs.

    Prints each APK with its size; ``--digests`` prints the certificate SHA-256 of every fixture key instead.
    Exit 0, or 2 with the remedy on stderr.
    """
    ap = argparse.ArgumentParser(prog="python -m virtual_device build-apks",
                                 description="Build the fixture APKs the virtual devices serve.")
    ap.add_argument("names", nargs="*", help=f"fixtures to build (default: all but the benchmark's); "
                                             f"known: {', '.join(FIXTURES)}")
    ap.add_argument("--out", type=Path, default=None, help=f"output directory (default {apk_dir()})")
    ap.add_argument("--digests", action="store_true", help="print the fixture keys' certificate digests")
    args = ap.parse_args(argv)
    if args.digests:
        for name, key in KEYS.items():
            print(f"{name:14} {cert_digest(name)}  {key.cn}")
        return 0
    try:
        out = ensure_built(args.names or None, args.out)
    except ApkFixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for spec in (FIXTURES[n] for n in args.names) if args.names else (s for s in FIXTURES.values() if s.default):
        path = out / f"{spec.name}.apk"
        print(f"{path}  {path.stat().st_size} bytes  {spec.description}")
    return 0
