"""Parser for ``adb shell dumpsys package <pkg>`` (also works on the all-packages ``dumpsys package``).

Layout (Android 4.4 → 14, same skeleton as Tradefed's ``DumpsysPackageReceiver``): top-level sections start at
column 0 with ``Name:`` (``Activity Resolver Table:``, ``Packages:``, ``Hidden system packages:``,
``Queries:``, …). Inside ``Packages:`` (the live package settings) and ``Hidden system packages:`` (the factory
copy of an *updated* system app) each package is a block::

      Package [com.example] (5be8c47):
        codePath=/data/app/…
        versionCode=20 minSdk=27 targetSdk=36
        versionName=1.0.16
        pkgFlags=[ SYSTEM HAS_CODE UPDATED_SYSTEM_APP ]
        User 0: ceDataInode=2135 installed=true hidden=false … enabled=0 …

Variants handled, each with its corpus row (``/work/shared/corpus/README.md`` § dumpsys package):

* Android 4.4 KitKat, single-file APK ``codePath=…-1.apk``, UTF-8 BOM before the first line, ``User 0:`` followed
  by **two** spaces (``dumpsys-package_android4.4_lufthansa_…``);
* Lollipop-era layout with ``gids=`` on the ``userId`` line, ``permissionsFixed … installStatus``, no minSdk
  (``dumpsys-package-packages-section_android5-era_wahoo-elemnt_…``);
* Android 10 Samsung system apps with ``sharedUser=`` and negative ``ceDataInode``
  (``dumpsys-package-packages-section_android10_samsung_system-apps.txt``: two packages in one input);
* Android 11 overlay (no ``HAS_CODE``) and APEX-hosted app ``/apex/…`` (``…android11_pixel_overlay-and-apex-app``);
* Android 11 ``Hidden system packages:`` only, versionName with spaces and brackets
  ``22.4.25-21 [0] [PR] 337959405`` taken as the whole rest of the line (``…hidden-section_android11_pixel_…``):
  hidden copies are *factory* data, never the installed version;
* Android 13/14 Wear OS updated system app: the same package in ``Packages:`` (``/data/app/~~…``, flags
  ``SYSTEM UPDATED_SYSTEM_APP``) and in ``Hidden system packages:`` (``/vendor/app/…``, the factory 1.0.11/15),
  split APKs, ``lastDisabledCaller`` with ``enabled=0`` (``dumpsys-package_wearos_updated-vendor-app_…``,
  ``dumpsys-package_wearos_user-app_…``);
* ``Unable to find package: <pkg>`` (newer builds, ``dumpsys-package_not-installed_…``), output with only
  section headers and no ``Package [<pkg>]`` block (Android 7–7.1: ``Dexopt state:`` / ``Compiler stats:``),
  and empty output (Android 6 and older print nothing for an unknown package): all a valid "not found";
* ``pkgFlags`` printed as text ``[ SYSTEM … ]`` or, on very old builds, as a hex/decimal ApplicationInfo flag
  mask (decoded with :data:`APPLICATION_FLAGS`, as Tradefed's ``PackageInfo`` does).

``enabled=`` is ``COMPONENT_ENABLED_STATE_*``: 0 default (= enabled), 1 enabled, 2 disabled, 3 disabled by
user, 4 disabled until used. ``installReason=`` (Android 8+) is ``INSTALL_REASON_*``: 0 unknown, 1 policy,
2 device restore, 3 device setup, 4 user, 5 rollback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.errors import ParseError
from harness.parsers._text import PACKAGE_RE, excerpt, normalize, reject_binary
from harness.parsers.dumpsys import require_complete

APPLICATION_FLAGS: dict[int, str] = {
    1 << 0: "SYSTEM", 1 << 1: "DEBUGGABLE", 1 << 2: "HAS_CODE", 1 << 3: "PERSISTENT", 1 << 4: "FACTORY_TEST",
    1 << 5: "ALLOW_TASK_REPARENTING", 1 << 6: "ALLOW_CLEAR_USER_DATA", 1 << 7: "UPDATED_SYSTEM_APP",
    1 << 8: "TEST_ONLY", 1 << 9: "SUPPORTS_SMALL_SCREENS", 1 << 10: "SUPPORTS_NORMAL_SCREENS",
    1 << 11: "SUPPORTS_LARGE_SCREENS", 1 << 12: "RESIZEABLE_FOR_SCREENS", 1 << 13: "SUPPORTS_SCREEN_DENSITIES",
    1 << 14: "VM_SAFE_MODE", 1 << 15: "ALLOW_BACKUP", 1 << 16: "KILL_AFTER_RESTORE", 1 << 17: "RESTORE_ANY_VERSION",
    1 << 18: "EXTERNAL_STORAGE", 1 << 19: "SUPPORTS_XLARGE_SCREENS", 1 << 20: "LARGE_HEAP", 1 << 21: "STOPPED",
    1 << 22: "SUPPORTS_RTL", 1 << 23: "INSTALLED", 1 << 24: "IS_DATA_ONLY", 1 << 25: "IS_GAME",
    1 << 26: "FULL_BACKUP_ONLY", 1 << 27: "USES_CLEARTEXT_TRAFFIC", 1 << 28: "EXTRACT_NATIVE_LIBS",
    1 << 29: "HARDWARE_ACCELERATED", 1 << 30: "SUSPENDED", 1 << 31: "MULTIARCH",
}
"""``android.content.pm.ApplicationInfo.FLAG_*`` bits, for ``pkgFlags`` printed as a number."""

KNOWN_SECTIONS = frozenset({
    "Activity Resolver Table", "Receiver Resolver Table", "Service Resolver Table", "Provider Resolver Table",
    "Permissions", "Permission trees", "Registered ContentProviders", "ContentProvider Authorities",
    "Key Set Manager", "Packages", "Hidden system packages", "Shared users", "Queries", "Package Changes",
    "Dexopt state", "Compiler stats", "Verifiers", "Intent Filter Verifier", "Libraries", "Features",
    "Database versions", "Renamed packages", "Frozen packages", "Loaded volumes", "Service permissions",
    "Domain verification status", "Preferred Activities User 0", "Package warning messages",
    "Active install sessions", "Settings parse messages", "Known Packages", "App verification status",
    "Static library packages", "Snapshot statistics", "Dexopt flags", "Split APK configs",
})
"""Top-level section titles of ``dumpsys package``; one of them proves the text is that command's output."""

_PKG_HEADER = re.compile(r"^(?P<indent>\s+)Package \[(?P<name>[^\]]+)\] \((?P<id>[0-9a-fA-F]+)\):\s*$")
_USER_LINE = re.compile(r"^\s+User (?P<user>-?\d+):(?P<rest>.*)$")
_KEY_VALUE = re.compile(r"(\w+)=(\S*)")
_UNABLE = re.compile(r"^[ \t]*Unable to find package: ?(?P<pkg>\S*)[ \t]*$", re.M)


@dataclass(frozen=True)
class PackageDump:
    """State of one package as ``dumpsys package`` reports it.

    Attributes:
        package: the package asked for.
        user: the Android user the per-user fields describe.
        found: the package manager knows the package at all (a ``Package [pkg]`` block in ``Packages:`` or
            ``Hidden system packages:``).
        installed: the live (``Packages:``) block exists and its ``User <user>:`` line says ``installed=true``
            (no per-user lines at all counts as installed only before Android 4.2 — API 16 and older, or API
            unknown —; from API 17 such a block is a parse problem; a ``User`` line list that lacks ``user`` does
            not count). A hidden factory copy alone never counts.
        version_name: live ``versionName=`` — the whole rest of the line, spaces and brackets kept; None if absent.
        version_code: live ``versionCode=`` as int.
        code_path: live ``codePath=``.
        system: ``SYSTEM`` in the live block's flags (the hidden block's when only that one exists).
        updated_system: ``UPDATED_SYSTEM_APP`` flag, or the package is present in ``Hidden system packages:``.
        factory_version_name / factory_version_code / factory_code_path: from the ``Hidden system packages:``
            copy (the preloaded version under an update), else None.
        enabled: installed for ``user`` and ``enabled_state`` in {0 default, 1 enabled} (None counts as 0).
        enabled_state: ``enabled=`` of ``User <user>:`` (0..4) or None when not printed.
        splits: ``splits=[base, config.fr]`` entries (empty when not printed).
        flags: live ``pkgFlags`` (``flags`` when pkgFlags is absent) as names, hex masks decoded.
        private_flags: live ``privateFlags`` names (``PRIVILEGED``, ``PRODUCT`` …).
        install_reason: ``installReason=`` of ``User <user>:`` — on that line or, Android 11+, on its own line
            under it — or None.
        installer: ``installerPackageName=`` or None.
        min_sdk / target_sdk: from the ``versionCode`` line, or None.
        first_install_time / last_update_time: as printed (``2022-08-31 05:51:21``) or None.
        users: per-user ``key=value`` pairs of every ``User N:`` line of the live block, plus the one-per-line
            values nested under it (``installReason``, ``firstInstallTime``, ``uninstallReason``).
        evidence: the exact lines that decided the fields (headers, versionName, versionCode, codePath, pkgFlags,
            the ``User N`` line; the same for the hidden copy; or the ``Unable to find package`` line; for a dump
            without the package's block, one explanatory line in parentheses).
        section: the package's ``Packages:`` block and its ``Hidden system packages:`` copy as text (for
            attaching to a report); empty when not found.
    """

    package: str
    user: int
    found: bool
    installed: bool
    version_name: str | None = None
    version_code: int | None = None
    code_path: str | None = None
    system: bool = False
    updated_system: bool = False
    factory_version_name: str | None = None
    factory_version_code: int | None = None
    factory_code_path: str | None = None
    enabled: bool = False
    enabled_state: int | None = None
    splits: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    private_flags: list[str] = field(default_factory=list)
    install_reason: int | None = None
    installer: str | None = None
    min_sdk: int | None = None
    target_sdk: int | None = None
    first_install_time: str | None = None
    last_update_time: str | None = None
    users: dict[int, dict[str, str]] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    section: str = ""


@dataclass
class _Block:
    """One ``Package [..]`` block: header line, its lines, first value line per key, per-user lines."""

    header: str
    lines: list[str]
    fields: dict[str, str] = field(default_factory=dict)  # key -> full line (first occurrence at field indent)
    users: dict[int, tuple[dict[str, str], str]] = field(default_factory=dict)
    repeated: list[str] = field(default_factory=list)  # decisive keys printed twice at field indent

    def rest(self, key: str) -> str | None:
        """Everything after ``key=`` on the key's line (the whole rest of the line), or None."""
        line = self.fields.get(key)
        if line is None:
            return None
        return line.split(key + "=", 1)[1]

    def token(self, key: str) -> str | None:
        """The ``key=value`` token value anywhere in the block's field lines (``minSdk`` on the versionCode line)."""
        pattern = re.compile(rf"(?<![\w.]){re.escape(key)}=(\S*)")
        for line in self.fields.values():
            m = pattern.search(line)
            if m:
                return m.group(1)
        return None


MULTI_USER_SDK = 17
"""Android 4.2 (API 17) brought multiple users: from then on every package block of ``dumpsys package`` has a
``User N:`` line per user (AOSP ``Settings.dumpPackageLPr``, ``for (UserInfo user : users)``); older builds
print none."""

DECISIVE_KEYS = ("versionName", "versionCode", "codePath", "pkgFlags", "flags")
"""Keys whose value decides a verdict: each is printed once per block; printed twice means the block is not what
it seems (a versionName whose continuation line looks like a field), and the dump is a parse problem."""


def _parse_block(header: str, lines: list[str]) -> _Block:
    """Fields, per-user lines and continuations of one block.

    ``versionName`` is the one free-text value of a block (the app's manifest string) and AOSP prints it with
    ``pw.println(name)``, newlines and all. Its continuation lines are kept in the value: any line *less* indented
    than the block's fields (column 0 included; nothing of a real block is, the block header itself is at 2
    spaces) is the continuation of the field line before it, and a line *more* indented right after
    ``versionName=`` is too (in every real dump the line after it is a field: ``splits=``, ``dataDir=``,
    ``apkSigningVersion=``).
    """
    block = _Block(header=header, lines=[header, *lines])
    indent: int | None = None
    user_kv: dict[str, str] | None = None  # the User N: line being continued by deeper lines
    last_key: str | None = None  # the field line that continuation lines extend
    for line in lines:
        if not line.strip():
            continue
        this_indent = len(line) - len(line.lstrip())
        if indent is None:
            indent = this_indent
        if last_key is not None and (this_indent < indent or (last_key == "versionName" and this_indent > indent)):
            if block.fields.get(last_key) is not None and last_key not in block.repeated:
                block.fields[last_key] += "\n" + line
            continue
        if this_indent != indent:
            # Nested lines. Under "User N:" Android 11+ print one-per-line per-user values
            # ("      installReason=0", "      firstInstallTime=2025-05-22 04:17:19"); other nested lists
            # (permissions, gids, overlay paths) are skipped.
            nm = re.match(r"\s*(\w+)=(.*)$", line)
            if user_kv is not None and this_indent > indent and nm:
                user_kv.setdefault(nm.group(1), nm.group(2).strip())
            last_key = None
            continue
        user_kv = None
        last_key = None
        um = _USER_LINE.match(line)
        if um:
            kv = dict(_KEY_VALUE.findall(um.group("rest")))
            block.users.setdefault(int(um.group("user")), (kv, line))
            user_kv = block.users[int(um.group("user"))][0]
            continue
        km = re.match(r"\s*(\w+)=", line)
        if km:
            key = km.group(1)
            if key in block.fields:
                if key in DECISIVE_KEYS and key not in block.repeated:
                    block.repeated.append(key)
            else:
                block.fields[key] = line
                last_key = key
    # Android 12+ print firstInstallTime/lastUpdateTime per user (deeper indent): take the first anywhere.
    for key in ("firstInstallTime", "lastUpdateTime"):
        if key not in block.fields:
            for line in lines:
                if line.strip().startswith(key + "="):
                    block.fields[key] = line
                    break
    return block


def _check_block(block: _Block, command: str, text: str) -> None:
    """ParseError when ``block`` cannot be trusted: a decisive key printed twice, or no versionCode / flags line
    (the block ends early: cut, or a versionName with an empty line in it)."""
    if block.repeated:
        raise ParseError(f"{block.header.strip()} prints {', '.join(block.repeated)} twice (a versionName whose "
                         "continuation line looks like a field?); the block cannot be read safely",
                         command=command, excerpt=excerpt(text))
    missing = [k for k in ("versionCode", "flags") if k not in block.fields and
               not (k == "flags" and "pkgFlags" in block.fields)]
    if missing:
        raise ParseError(f"{block.header.strip()} ends before its {' and '.join(missing)} line (cut short, or a "
                         "value spanning lines with an empty line in it)", command=command, excerpt=excerpt(text))


def _version_name(block: _Block | None) -> str | None:
    """``versionName=`` of ``block``; ``null`` (what AOSP prints for a package without one) is None."""
    if block is None:
        return None
    value = block.rest("versionName")
    return None if value == "null" else value


def _flag_names(value: str | None) -> list[str]:
    """``[ SYSTEM HAS_CODE ]`` → names; ``0x8be45`` / ``572997`` → decoded names (only the first token: Android
    2.3 goes on with ``installStatus=1 enabled=0`` on the same line); None → []."""
    if value is None:
        return []
    v = value.strip()
    if v.startswith("["):
        return v.strip("[] ").split()
    # Android 2.3 prints more on the same line: "pkgFlags=0x1 installStatus=1 enabled=0" (corpus bugreport 2.3)
    first = v.split()[0] if v else v
    try:
        mask = int(first, 16) if first.lower().startswith("0x") else int(first)
    except ValueError:
        return v.split()
    return [name for bit, name in sorted(APPLICATION_FLAGS.items()) if mask & bit]


def _block_flags(block: _Block | None) -> list[str]:
    """``pkgFlags`` of ``block`` (``flags`` when pkgFlags is absent) as names."""
    if block is None:
        return []
    return _flag_names(block.rest("pkgFlags") if "pkgFlags" in block.fields else block.rest("flags"))


def _header_name(header: str) -> str | None:
    m = _PKG_HEADER.match(header)
    return m.group("name") if m else None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    m = re.match(r"-?\d+", value.strip())
    return int(m.group(0)) if m else None


def _sections(lines: list[str]) -> dict[str, list[tuple[str, list[str]]]]:
    """Blocks of ``Packages:`` and ``Hidden system packages:`` by section name → [(header, lines)]."""
    out: dict[str, list[tuple[str, list[str]]]] = {"Packages": [], "Hidden system packages": []}
    current: str | None = None
    block: tuple[str, list[str]] | None = None
    blank_before = True
    for line in lines:
        blank, blank_before = blank_before, not line.strip()
        if line and not line[0].isspace():
            if block is not None and not blank:
                # dumpsys package prints an empty line before every section title (AOSP DumpState.onTitlePrinted;
                # every corpus dump shows it): column-0 text right after a block line is the rest of a value
                # printed with its newline (a versionName), not a new section.
                block[1].append(line)
                continue
            current = line[:-1] if line.endswith(":") and line[:-1] in out else None
            block = None
            continue
        if current is None:
            continue
        hm = _PKG_HEADER.match(line)
        if hm:
            block = (line, [])
            out[current].append(block)
        elif block is not None:
            block[1].append(line)
    return out


def _is_dumpsys_package(lines: list[str]) -> bool:
    for line in lines:
        if line and not line[0].isspace() and line.endswith(":") and line[:-1] in KNOWN_SECTIONS:
            return True
        if _PKG_HEADER.match(line):
            return True
    return False


def parse_dumpsys_package(text: str, package: str, user: int = 0, *, sdk: int | None = None) -> PackageDump:
    """Parse ``dumpsys package <package>`` output into a :class:`PackageDump` for ``user``.

    Args:
        text: the command's stdout (any line ending; may hold several packages, e.g. the all-packages dump).
        package: the package to report; only an exact ``Package [<package>]`` block matches.
        user: Android user id whose ``User N:`` line decides installed/enabled (default 0).
        sdk: the device's API level, when known. Android 6 (API 23) and older print **nothing** for an unknown
            package (every section header is printed only when something matched; ``Dexopt state:`` and
            ``Unable to find package`` came with Android 7), so empty output means "not found" there. From API 24
            on, empty output cannot be a real answer: with ``sdk >= 24`` it raises ParseError. With ``sdk``
            None empty output is taken as "not found", with a note in ``evidence``.

    Returns:
        ``found=False, installed=False`` for ``Unable to find package: <package>``, a dump without a block for
        the package, or empty output (see ``sdk``); otherwise the live block's fields and the hidden (factory)
        copy's.

    Raises:
        ParseError: (command ``dumpsys package <package>``) when the text is binary, not ``dumpsys package``
            output at all (no known section header and no package block, e.g. ``Can't find service: package``),
            empty while ``sdk >= 24`` (the package service did not answer; Tradefed likewise retries when 0
            packages are parsed), ``Unable to find package`` names a different package, or the package's live
            block has no ``User N:`` line while ``sdk >= 17`` (:data:`MULTI_USER_SDK`: cut or garbled).
    """
    command = f"dumpsys package {package}"
    reject_binary(text, command)
    norm = normalize(text)
    require_complete(norm, command)
    if not norm.strip():
        if sdk is not None and sdk >= 24:
            raise ParseError(f"empty output on API {sdk} (Android 7+ always print 'Unable to find package' or "
                             "section headers): the package manager did not answer", command=command)
        return PackageDump(package=package, user=user, found=False, installed=False, section="",
                           evidence=["(empty output: Android 6 and older print nothing for an unknown package)"])
    lines = [ln.rstrip("\n") for ln in norm.split("\n")]

    unable = _UNABLE.search(norm)
    if unable is None and not _is_dumpsys_package(lines):
        raise ParseError("not dumpsys package output (no known section header, no 'Package [..]' block)",
                         command=command, excerpt=excerpt(norm))

    sections = _sections(lines)
    live_raw = next((b for b in sections["Packages"] if _header_name(b[0]) == package), None)
    hidden_raw = next((b for b in sections["Hidden system packages"] if _header_name(b[0]) == package), None)
    if live_raw is None and hidden_raw is None:
        printed = norm.strip("\n") + "\n"  # what the device printed is the evidence of "not installed"
        if unable is not None:
            other = unable.group("pkg")
            if other and other != package:
                raise ParseError(f"output is about package {other!r}, not {package!r}", command=command,
                                 excerpt=excerpt(norm))
            return PackageDump(package=package, user=user, found=False, installed=False,
                               evidence=[unable.group(0).strip()], section=printed)
        return PackageDump(package=package, user=user, found=False, installed=False,
                           evidence=[f"(no 'Package [{package}]' block under Packages: or Hidden system packages:)"],
                           section=printed)

    live = _parse_block(*live_raw) if live_raw else None
    hidden = _parse_block(*hidden_raw) if hidden_raw else None
    for blk in (live, hidden):
        if blk is not None:
            _check_block(blk, command, norm)
    evidence: list[str] = []
    for blk in (live, hidden):
        if blk is None:
            continue
        evidence.append(blk.header)
        for key in ("versionName", "versionCode", "codePath", "pkgFlags" if "pkgFlags" in blk.fields else "flags"):
            if key in blk.fields:
                evidence.append(blk.fields[key])
        if blk is live and user in blk.users:
            evidence.append(blk.users[user][1])

    section_parts: list[str] = []
    if live:
        section_parts += ["Packages:", *live.lines]
    if hidden:
        section_parts += ["Hidden system packages:", *hidden.lines]
    section = "\n".join(section_parts).rstrip("\n") + "\n"

    flags = _block_flags(live) if live else []
    # A hidden (factory) copy alone can only come from an excerpt: it still proves the package is a system one.
    system = "SYSTEM" in (flags if live else _block_flags(hidden))
    updated = hidden is not None or "UPDATED_SYSTEM_APP" in flags

    installed = False
    enabled_state: int | None = None
    install_reason: int | None = None
    users: dict[int, dict[str, str]] = {}
    if live is not None:
        users = {uid: kv for uid, (kv, _line) in live.users.items()}
        if not users and sdk is not None and sdk >= MULTI_USER_SDK:
            raise ParseError(f"{live.header.strip().rstrip(':')} has no 'User N:' line: Android 4.2 (API "
                             f"{MULTI_USER_SDK}) and later print one per user in every package block (this is API "
                             f"{sdk}), so the block is cut or garbled; whether the app is installed cannot be told",
                             command=command, excerpt=excerpt(norm))
        if not users:
            installed = True
        elif user in users:
            installed = users[user].get("installed", "true") == "true"
            enabled_state = _int(users[user].get("enabled"))
            install_reason = _int(users[user].get("installReason"))
    enabled = installed and (enabled_state is None or enabled_state in (0, 1))

    def live_rest(key: str) -> str | None:
        return live.rest(key) if live else None

    splits_raw = live_rest("splits")
    splits = [s.strip() for s in splits_raw.strip().strip("[]").split(",") if s.strip()] if splits_raw else []
    installer = live_rest("installerPackageName")
    if installer in ("null", ""):
        installer = None
    return PackageDump(
        package=package, user=user, found=True, installed=installed,
        version_name=_version_name(live),
        version_code=_int(live.token("versionCode")) if live else None,
        code_path=live_rest("codePath"),
        system=system, updated_system=updated,
        factory_version_name=_version_name(hidden),
        factory_version_code=_int(hidden.token("versionCode")) if hidden else None,
        factory_code_path=hidden.rest("codePath") if hidden else None,
        enabled=enabled, enabled_state=enabled_state, splits=splits, flags=flags,
        private_flags=_flag_names(live_rest("privateFlags")) if live and "privateFlags" in live.fields else [],
        install_reason=install_reason, installer=installer,
        min_sdk=_int(live.token("minSdk")) if live else None,
        target_sdk=_int(live.token("targetSdk")) if live else None,
        first_install_time=live_rest("firstInstallTime"), last_update_time=live_rest("lastUpdateTime"),
        users=users, evidence=evidence, section=section,
    )


def dumpsys_package_names(text: str) -> list[str]:
    """Names of every package with a block in ``Packages:`` (in order); for all-package dumps."""
    lines = normalize(text).split("\n")
    return [m.group("name") for header, _ in _sections(lines)["Packages"] if (m := _PKG_HEADER.match(header))]


def is_package_name(name: str) -> bool:
    """True when ``name`` looks like an Android package name (``com.example.app``)."""
    return bool(PACKAGE_RE.match(name))
