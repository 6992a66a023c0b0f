"""Who signed each package's APKs on a device: a constant number of adb round trips for all packages of a device.

Nothing is installed and no APK is pulled: only the byte ranges the signature needs are read, with ``dd``
(toybox on Android 6+, toolbox before; both read ``if=``, ``bs=``, ``skip=``, ``count=``) through the ``exec:``
service, binary-safe. The parsing is :mod:`harness.apksig`'s; this module only plans and frames the reads.

Round trips per device, whatever the number of packages (each one script for every package):

1. **paths**: ``pm path <pkg>`` for each installed package (the active copy: base APK, then splits) and, for an
   updated system app, ``ls <factory codePath>`` (the factory copy under ``Hidden system packages:``, whose APK is
   the ``*.apk`` in that folder; on Android 4.4 the codePath is the APK itself and needs no listing);
2. **sizes**: ``stat -c %s <apk>`` (toybox, Android 6+) or ``ls -l <apk>`` (toolbox, Android 5 and older: size is the
   field before the ``YYYY-MM-DD HH:MM`` date);
3. **bytes**, at most :data:`MAX_BYTE_ROUNDS` rounds, usually 1 to 3: each round reads, for every APK still
   unresolved, the ranges :func:`harness.apksig.read_apk_signature` asked for (the 64 KiB tail with the end of
   central directory; then the central directory and the signing block's footer; then the signing block and the
   v1 signature files). An APK that fits in its tail is done after one round.

Framing. Every command of a script is opened by ``@@PH:<nonce>:<section>@@`` and closed by
``@@PH:<nonce>:rc:<exit code>``; the nonce is random per script, so file contents cannot forge a boundary. ``dd``
output is taken by its exact expected length (known from the size and the block arithmetic), its stderr (record
counts, merged into ``exec:``'s single stream on a real device) is sent to ``/dev/null``, and the script ends with
``@@PH:<nonce>:end@@``: a stream without it was cut (:class:`~harness.errors.DeviceUnavailable`).

Errors: device faults (offline, timeout, a cut stream) raise for the whole device; a package whose APK cannot be
read (missing file, not a ZIP, no or broken signature) gets a :class:`~harness.errors.ParseError` of its own in
:attr:`SignerInventory.errors`, raised only to that package's check (Allure "broken").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.adb import DeviceLink, ShellScript
from harness.apksig import ApkSignature, NeedBytes, SparseApk, read_apk_signature
from harness.errors import DeviceUnavailable, ParseError
from harness.inventory import PackageState, split_sections, validate_package_name
from harness.parsers import parse_pm_path

MAX_BYTE_ROUNDS = 4
"""Byte rounds after which an APK still asking for bytes is reported unreadable (3 suffice for any APK)."""
LARGE_SPAN = 256 * 1024
"""Spans at least this long are read with ``bs=4096``; shorter ones with ``bs=512`` (less alignment overhead)."""

_LS_L_SIZE = re.compile(r"^[-dlcbps][-rwxsStT]{9}\S*\s+.*?\s(?P<size>\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d\s")


@dataclass(frozen=True)
class ApkCopy:
    """One installed copy of a package: ``role`` ``active`` (what runs, ``pm path``) or ``factory`` (the hidden
    system copy of an updated system app) and the ``signatures`` of its APKs, base first, then splits."""

    role: str
    signatures: tuple[ApkSignature, ...]


@dataclass(frozen=True)
class PackageSigners:
    """The signatures of every APK of one package (active copy, and factory copy when it is an updated system app).

    ``bytes_read``: bytes fetched from the device for this package's signatures (all its APKs).
    """

    package: str
    copies: tuple[ApkCopy, ...]

    @property
    def bytes_read(self) -> int:
        """Bytes read from the device for this package (sum over its APKs)."""
        return sum(s.bytes_read for c in self.copies for s in c.signatures)

    def apks(self) -> list[tuple[str, ApkSignature]]:
        """``(role, signature)`` of every APK, active copy first."""
        return [(c.role, s) for c in self.copies for s in c.signatures]

    def report(self, sdk: int | None) -> str:
        """Multi-line text of every APK's schemes, signers (subject, validity, digest) and lineage."""
        lines = []
        for role, sig in self.apks():
            lines.append(f"[{role} copy] " + sig.describe(sdk)[0])
            lines += ["  " + line for line in sig.describe(sdk)[1:]]
        return "\n".join(lines)


@dataclass(frozen=True)
class SignerInventory:
    """Signatures of a device's packages.

    Attributes:
        serial: the device. sdk: its API level (decides which scheme Android uses).
        packages: per package read, its :class:`PackageSigners`.
        errors: per package whose signatures could not be read, the :class:`~harness.errors.ParseError`.
        round_trips: adb round trips spent (constant in the number of packages).
    """

    serial: str
    sdk: int | None
    packages: dict[str, PackageSigners] = field(default_factory=dict)
    errors: dict[str, ParseError] = field(default_factory=dict)
    round_trips: int = 0

    def for_package(self, package: str) -> PackageSigners | None:
        """The package's signers; None when it was not read (not installed); raises its ParseError if unreadable."""
        if package in self.errors:
            raise self.errors[package]
        return self.packages.get(package)


@dataclass
class _Apk:
    package: str
    role: str
    path: str
    size: int | None = None
    sparse: SparseApk | None = None
    result: ApkSignature | None = None
    needs: tuple[tuple[int, int], ...] = ()


def collect_signers(link: DeviceLink, states: Mapping[str, PackageState], sdk: int | None, *,
                    timeout: float | None = None) -> SignerInventory:
    """Read the APK signatures of every installed package of ``states`` on the device behind ``link``.

    Args:
        link: the device. states: its inventory states, by package (only ``installed`` ones are read).
        sdk: the device's API level (``stat`` from 23, ``ls -l`` before). timeout: per-read timeout (s).

    Returns:
        A :class:`SignerInventory`; per-package problems are in its ``errors``.

    Raises:
        The :mod:`harness.errors` device errors (offline, :class:`~harness.errors.AdbTimeout`, a cut stream).
    """
    trips = 0
    wanted = {p: s for p, s in sorted(states.items()) if s.installed}
    if not wanted:
        return SignerInventory(serial=link.serial, sdk=sdk)
    errors: dict[str, ParseError] = {}

    def fail(package: str, err: ParseError) -> None:
        errors.setdefault(package, err.with_context(serial=link.serial))

    # 1. paths
    nonce = secrets.token_hex(8)
    script = ShellScript()
    for pkg, state in wanted.items():
        validate_package_name(pkg)
        script.add_raw(f"echo @@PH:{nonce}:path:{pkg}@@").add(["pm", "path", pkg]).add_raw(f"echo @@PH:{nonce}:rc:$?")
        factory = state.factory_code_path if state.updated_system else None
        if factory and not factory.endswith(".apk"):
            script.add_raw(f"echo @@PH:{nonce}:ls:{pkg}@@").add(["ls", factory]).add_raw(f"echo @@PH:{nonce}:rc:$?")
    result = link.shell(script, timeout=timeout)
    trips += 1
    sections = split_sections(result.stdout, nonce)
    apks: list[_Apk] = []
    for pkg, state in wanted.items():
        text, rc = sections.get(f"path:{pkg}", ("", None))
        try:
            paths = parse_pm_path(text)
        except ParseError as exc:
            fail(pkg, exc.with_context(command=f"pm path {pkg}", excerpt=text[:300]))
            continue
        if rc != 0 or not paths:
            fail(pkg, ParseError(f"no APK path (exit {rc}) although dumpsys says it is installed for user 0",
                                 command=f"pm path {pkg}", excerpt=text[:300]))
            continue
        apks += [_Apk(pkg, "active", p) for p in paths]
        factory = state.factory_code_path if state.updated_system else None
        if factory:
            if factory.endswith(".apk"):
                apks.append(_Apk(pkg, "factory", factory))
            else:
                listing, ls_rc = sections.get(f"ls:{pkg}", ("", None))
                names = [n.strip() for n in listing.splitlines() if n.strip().endswith(".apk")]
                if ls_rc != 0 or not names:
                    fail(pkg, ParseError(f"no .apk in the factory copy's folder (exit {ls_rc})",
                                         command=f"ls {factory}", excerpt=listing[:300]))
                    continue
                apks += [_Apk(pkg, "factory", f"{factory.rstrip('/')}/{n}") for n in sorted(names)]

    # 2. sizes
    apks = [a for a in apks if a.package not in errors]
    if apks:
        nonce = secrets.token_hex(8)
        script = ShellScript()
        for k, apk in enumerate(apks):
            argv = ["stat", "-c", "%s", apk.path] if (sdk or 0) >= 23 else ["ls", "-l", apk.path]
            script.add_raw(f"echo @@PH:{nonce}:size:{k}@@").add(argv).add_raw(f"echo @@PH:{nonce}:rc:$?")
        result = link.shell(script, timeout=timeout)
        trips += 1
        sections = split_sections(result.stdout, nonce)
        for k, apk in enumerate(apks):
            text, rc = sections.get(f"size:{k}", ("", None))
            command = f"stat -c %s {apk.path}" if (sdk or 0) >= 23 else f"ls -l {apk.path}"
            size = _size(text, (sdk or 0) >= 23)
            if rc != 0 or size is None:
                fail(apk.package, ParseError(f"no file size (exit {rc}): {(text or result.stderr).strip()[:200]}",
                                             command=command, excerpt=text[:300]))
                continue
            apk.size, apk.sparse = size, SparseApk(size, apk.path)

    # 3. bytes
    pending = [a for a in apks if a.sparse is not None and a.package not in errors]
    for _round in range(MAX_BYTE_ROUNDS + 1):
        todo: list[_Apk] = []
        for apk in pending:
            assert apk.sparse is not None
            try:
                apk.result = read_apk_signature(apk.sparse)
            except NeedBytes as need:
                apk.needs = need.spans
                todo.append(apk)
            except ParseError as exc:
                fail(apk.package, exc)
        pending = [a for a in todo if a.package not in errors]
        if not pending:
            break
        if _round == MAX_BYTE_ROUNDS:
            for apk in pending:
                fail(apk.package, ParseError(f"still needs bytes after {MAX_BYTE_ROUNDS} rounds",
                                             command=f"dd if={apk.path} (APK signature)"))
            break
        _fetch(link, pending, timeout, fail)
        trips += 1

    by_package: dict[str, dict[str, list[ApkSignature]]] = {}
    for apk in apks:
        if apk.package in errors or apk.result is None:
            continue
        by_package.setdefault(apk.package, {}).setdefault(apk.role, []).append(apk.result)
    packages = {pkg: PackageSigners(pkg, tuple(ApkCopy(role, tuple(sigs)) for role, sigs in roles.items()))
                for pkg, roles in by_package.items()}
    return SignerInventory(serial=link.serial, sdk=sdk, packages=packages, errors=errors, round_trips=trips)


def _size(text: str, stat: bool) -> int | None:
    line = text.strip().splitlines()[0] if text.strip() else ""
    if stat:
        return int(line) if line.isdigit() else None
    m = _LS_L_SIZE.match(line + " ")
    return int(m.group("size")) if m else None


def dd_argv(path: str, start: int, end: int) -> tuple[list[str], int, int]:
    """The ``dd`` command that reads ``[start, end)`` of ``path`` with whole blocks (portable: no ``iflag``).

    Returns ``(argv, first byte read, block size)``: the command reads from ``skip*bs`` up to the block boundary at
    or after ``end`` (less at end of file).
    """
    bs = 4096 if end - start >= LARGE_SPAN else 512
    skip = start // bs
    count = -(-end // bs) - skip
    return ["dd", f"if={path}", f"bs={bs}", f"skip={skip}", f"count={count}"], skip * bs, bs


def _fetch(link: DeviceLink, apks: list[_Apk], timeout: float | None, fail) -> None:  # noqa: ANN001
    """One ``exec:`` round trip: read every requested span of every APK, then hand the bytes to its SparseApk."""
    nonce = secrets.token_hex(8)
    script = ShellScript()
    reads: list[tuple[_Apk, int, int]] = []  # apk, first byte, expected length
    for apk in apks:
        assert apk.sparse is not None and apk.size is not None
        for start, end in apk.needs:
            argv, first, bs = dd_argv(apk.path, start, end)
            count = int(argv[-1].split("=")[1])
            expected = max(0, min(apk.size, first + count * bs) - first)
            script.add_raw(f"echo @@PH:{nonce}:dd:{len(reads)}@@").add(argv, discard_stderr=True)
            script.add_raw(f"echo @@PH:{nonce}:rc:$?")
            reads.append((apk, first, expected))
    script.add_raw(f"echo @@PH:{nonce}:end@@")
    limit = sum(e for _, _, e in reads) + 100 * len(reads) + 4096
    out = link.exec_out(script, timeout=timeout, max_bytes=limit).data
    end_marker = f"@@PH:{nonce}:end@@\n".encode()
    if not out.endswith(end_marker):
        raise DeviceUnavailable(f"the dd output ({len(out)} bytes) ended before its end marker",
                                serial=link.serial, remedy="the connection was lost mid-transfer; rerun")
    rc_re = re.compile(rf"@@PH:{nonce}:rc:(\d+)\n".encode())
    pos = 0
    for k, (apk, first, expected) in enumerate(reads):
        start_marker = f"@@PH:{nonce}:dd:{k}@@\n".encode()
        at = out.find(start_marker, pos)
        command = f"dd if={apk.path} (APK signature)"
        if at < 0:
            fail(apk.package, ParseError(f"read #{k} has no start marker", command=command))
            continue
        data_start = at + len(start_marker)
        rc_match = rc_re.match(out, data_start + expected)
        if rc_match is None:
            actual = rc_re.search(out, data_start)
            got = (actual.start() - data_start) if actual else len(out) - data_start
            fail(apk.package, ParseError(f"dd returned {got} bytes at offset {first}, {expected} expected (the file "
                                         "changed or is unreadable)", command=command))
            pos = actual.end() if actual else data_start
            continue
        if int(rc_match.group(1)) != 0:
            fail(apk.package, ParseError(f"dd exited {rc_match.group(1)} reading offset {first}", command=command))
        else:
            assert apk.sparse is not None
            apk.sparse.add(first, out[data_start: data_start + expected])
        pos = rc_match.end()
