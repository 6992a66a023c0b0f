"""Parsers for ``pm list packages``, ``pm path`` and ``pm list users``.

``pm list packages [-f] [--show-versioncode] [-i] [-U]`` prints one line per package, assembled by
``PackageManagerShellCommand.runListPackages`` (AOSP) in this order::

    package:[<sourceDir>=]<pkg>[ versionCode:<n>][  installer=<pkg|null>][ uid:<uid>]

(``--show-versioncode`` needs API 28, ``-U`` API 26.) The path may itself contain ``=``, so the package is what
follows the *last* ``=`` of the first field. Corpus rows (``/work/shared/corpus/README.md`` § pm list / pm path):
``pm-list-packages-f_android7-8_genymotion_excerpt.txt`` (``-f`` with /system/app, /system/priv-app,
/system/framework, /data/app/<pkg>-2/base.apk) and ``pm-list-packages-show-versioncode_android9_appium-adb-fixture.txt``
(``versionCode:`` suffix, no final newline).

``pm path <pkg>`` prints ``package:<apk path>`` per APK, base first (corpus
``pm-path_split-apks_android7-9_com.withbuddies.diceellen_excerpt.txt``), nothing when the package is not
installed for the user.

``pm list users`` prints ``Users:`` then ``\\tUserInfo{<id>:<name>:<flags hex>} [running]`` (corpus
``pm-list-users_samsung_owner-and-secure-folder.txt``: owner 0 and Samsung Secure Folder 150).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import ParseError
from harness.parsers._text import PACKAGE_RE, excerpt, normalize, reject_binary

_LIST_LINE = re.compile(
    r"^package:(?P<body>\S.*?)"
    r"(?: versionCode:(?P<vc>-?\d+))?"
    r"(?:\s+installer=(?P<inst>\S*))?"
    r"(?: uid:(?P<uid>\d+)(?:,\d+)*)?"
    r"\s*$"
)
_USER_RE = re.compile(r"UserInfo\{(?P<id>-?\d+):(?P<name>.*):(?P<flags>[0-9a-fA-F]+)\}(?P<rest>.*)$")


@dataclass(frozen=True)
class PmPackage:
    """One line of ``pm list packages``.

    Attributes:
        package: package name.
        code_path: APK path (``-f``), or None.
        version_code: ``versionCode:`` (``--show-versioncode``), or None.
        uid: ``uid:`` (``-U``; the first one when several are printed), or None.
        installer: ``installer=`` (``-i``; None when printed as ``null``).
        line: the line as printed (evidence).
    """

    package: str
    code_path: str | None = None
    version_code: int | None = None
    uid: int | None = None
    installer: str | None = None
    line: str = ""


@dataclass(frozen=True)
class AndroidUser:
    """One ``UserInfo{id:name:flags}`` entry of ``pm list users``; ``flags`` is the hex mask as int."""

    id: int
    name: str
    flags: int
    running: bool


def _content_lines(text: str, command: str) -> list[str]:
    reject_binary(text, command)
    return [ln.strip() for ln in normalize(text).split("\n") if ln.strip()]


def parse_pm_list_packages(text: str) -> list[PmPackage]:
    """Parse ``pm list packages`` / ``cmd package list packages`` output (any of ``-f``, ``--show-versioncode``,
    ``-i``, ``-U``), CRLF and trailing blanks tolerated.

    Returns:
        One :class:`PmPackage` per line, in output order; an empty list for empty output (a filter such as
        ``-d`` that matches nothing prints nothing).

    Raises:
        ParseError: (command ``pm list packages``) a non-blank line is not a ``package:`` line (e.g.
            ``java.lang.SecurityException: Shell does not have permission to access user 150``, ``Error: …``),
            or a package name is malformed.
    """
    command = "pm list packages"
    out: list[PmPackage] = []
    for line in _content_lines(text, command):
        m = _LIST_LINE.match(line)
        if not m:
            raise ParseError(f"unexpected line {line[:200]!r}", command=command, excerpt=excerpt(text))
        body = m.group("body").strip()
        path: str | None = None
        if "=" in body:
            path, _, pkg = body.rpartition("=")
        else:
            pkg = body
        if not PACKAGE_RE.match(pkg) and pkg != "android":
            raise ParseError(f"malformed package name {pkg!r} in {line[:200]!r}", command=command,
                             excerpt=excerpt(text))
        inst = m.group("inst")
        out.append(PmPackage(
            package=pkg, code_path=path or None,
            version_code=int(m.group("vc")) if m.group("vc") else None,
            uid=int(m.group("uid")) if m.group("uid") else None,
            installer=None if inst in (None, "", "null") else inst,
            line=line,
        ))
    return out


def parse_pm_path(text: str) -> list[str]:
    """Parse ``pm path <pkg>`` output into APK paths, the base APK (``…/base.apk``) first, then the splits in
    output order.

    Returns:
        Paths; an empty list for empty output (package not installed for that user).

    Raises:
        ParseError: (command ``pm path``) a non-blank line is not ``package:<absolute path>``.
    """
    command = "pm path"
    paths: list[str] = []
    for line in _content_lines(text, command):
        if not line.startswith("package:/"):
            raise ParseError(f"unexpected line {line[:200]!r}", command=command, excerpt=excerpt(text))
        paths.append(line[len("package:"):])
    base = [p for p in paths if p.endswith("/base.apk")]
    return base + [p for p in paths if not p.endswith("/base.apk")]


def parse_pm_list_users(text: str) -> list[AndroidUser]:
    """Parse ``pm list users`` output.

    Returns:
        One :class:`AndroidUser` per ``UserInfo{…}`` line, in output order (names may contain spaces).

    Raises:
        ParseError: (command ``pm list users``) no ``Users:`` header and no ``UserInfo`` line, or a line that is
            neither.
    """
    command = "pm list users"
    lines = _content_lines(text, command)
    users: list[AndroidUser] = []
    header = False
    for line in lines:
        if line == "Users:":
            header = True
            continue
        m = _USER_RE.search(line)
        if not m:
            raise ParseError(f"unexpected line {line[:200]!r}", command=command, excerpt=excerpt(text))
        users.append(AndroidUser(id=int(m.group("id")), name=m.group("name"), flags=int(m.group("flags"), 16),
                                 running="running" in m.group("rest")))
    if not header and not users:
        raise ParseError("no 'Users:' header and no UserInfo line", command=command, excerpt=excerpt(text))
    return users
