"""Source kind ``bugreport``: judge a phone from its bugreport (``--bugreport PATH``), no phone needed.

Input: an ``adb bugreport`` zip (Android 7+) or a plain-text bugreport (older ``adb bugreport > file.txt``).
In a zip the main text is the member named by ``main_entry.txt`` (dumpstate writes it), else the one
``bugreport-*.txt`` / ``dumpstate-*.txt`` / ``dumpState_*.log`` member — the lookup order of the Mobile
Verification Toolkit (``mvt-project/mvt``: ``mvt/android/modules/bugreport/base.py`` ``_get_dumpstate_file``).
The text is streamed line by line (CRLF and lone CR read as line ends); only the two sections below are kept.

Sections, as AOSP dumpstate writes them (``frameworks/native/cmds/dumpstate``, ``cmds/dumpsys``; tags
``android-7.0.0_r1`` … ``android-15.0.0_r1``):

* **System properties** — the ``getprop`` output. Header ``------ SYSTEM PROPERTIES ------`` up to Android 7
  (``print_properties()``; corpus Android 2.3 file), ``------ SYSTEM PROPERTIES (getprop) ------`` from Android 8
  (``RunCommand``; corpus Android 8.1 file). It ends with ``------ 0.045s was the duration of 'SYSTEM
  PROPERTIES' ------`` — except on Android 10, whose ``DurationReporter`` printed that line only for sections
  that took 0.5 s or more, so there the next section's header and content follow directly; and on Android 2.3
  the dumpsys separator follows. dumpstate runs some commands concurrently, so other sections' ``------ … ------``
  and ``*** …`` lines can land inside the property list (seen in public parsers' fixtures): those are skipped;
  the section ends at its own duration line or at the first line that is neither a property (``[key]: [value]``
  or the continuation of a multi-line value) nor such a stray line.
* **Package service** — ``DUMP OF SERVICE package:`` (after a line of 79 ``-``; the same on every version, inside
  the ``DUMPSYS`` section), the full ``dumpsys package`` output, closed from Android 8 (API 26) by
  ``--------- 0.373s was the duration of dumpsys package, ending at: …``. Older reports end it at the next
  service (dumpsys's separator line and ``DUMP OF SERVICE …:``) or dumpstate section (``------ … ------``). No
  report, of any version, ends with the package service (dumpsys dumps more services after ``package``, and
  dumpstate writes more sections after dumpsys): a file that ends inside the dump, right after its last line or
  after a separator with nothing following, was cut. Only the ``Packages:`` and ``Hidden system packages:``
  lists are kept; :func:`harness.parsers.parse_dumpsys_package` reads them, exactly as for a live phone. A list
  ends only at a real section title: dumpsys package prints an empty line before every title but the first
  (AOSP ``DumpState.onTitlePrinted``; every corpus dump shows it) and a title is ``Words:`` at column 0. Any other
  column-0 line inside a list (a log line written into the dump, binary junk, a versionName printed across lines)
  makes the report broken at that line: the blocks around it cannot be told apart from it, and skipping it could
  hide a ``User 0: installed=false`` line or the packages after it.

A missing section, a property list that is cut or empty or lacks all of ``ro.product.model`` / ``device`` /
``name``, a package dump that the file ends inside (any Android version, above), one without its ``Packages:``
list, one that timed out (``*** SERVICE 'package' DUMP TIMEOUT``), a stray line inside its list, on Android 8+
(API 26) one that does not end with its closing line (a separator / another service / section comes first), on
API 17+ one whose ``Packages:`` list ends with a block without its ``User N:`` line (cut inside that block, then
another service or section), a line longer than :data:`MAX_LINE_CHARS`, a corrupt zip or zip member
(:mod:`harness.sources.zipmember`): a :class:`~harness.errors.SourceError` naming the file, the zip member, the
line and the section — the bugreport is *broken*, never passed; never a "missing app" read from a cut file. Any
other package block without a ``User N:`` line on API 17+ is a parse problem of that package
(:func:`harness.parsers.parse_dumpsys_package`).

Corpus: ``/work/shared/corpus/bugreports/`` (Android 2.3 CRLF without a fingerprint header line — an excerpt that
stops inside the package dump, so broken as stored; its original goes on with the next service; Android 8.1 from
an OEM phone; the MVT Android 10 fixture without a properties section).
"""

from __future__ import annotations

import fnmatch
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ParseError, SourceError
from harness.inventory import PackageState, state_from_dump
from harness.parsers import parse_dumpsys_package, parse_getprop
from harness.parsers.dumpsys_package import MULTI_USER_SDK
from harness.sources import Target
from harness.sources.zipmember import open_member, read_member

HOST = "bugreport"
"""What stands where a farm host stands, for a bugreport row."""

MAIN_PATTERNS = ("bugreport-*.txt", "dumpstate-*.txt", "dumpState_*.log", "bugreport*.txt")
"""Names of the main dumpstate text in a bugreport zip without ``main_entry.txt`` (first match wins)."""

MAX_LINE_CHARS = 1024 * 1024
"""A longer line makes the bugreport broken: lines are read with at most this many characters held, so memory
does not grow with a hostile file's longest line."""

PROPS_SECTION = "SYSTEM PROPERTIES"
PACKAGE_SECTION = "DUMP OF SERVICE package:"

_PROPS_HEADER = re.compile(r"^------ SYSTEM PROPERTIES(?: \([^)]*getprop[^)]*\))? ------$")
_PROPS_END = re.compile(r"^------ [0-9.]+s was the duration of 'SYSTEM PROPERTIES' ------$")
_STRAY = re.compile(r"^(?:------ .* ------|\*\*\* .*)$")
_PROP_LINE = re.compile(r"^\[[^\[\]\n]+\]: \[")
_PKG_FOOTER = re.compile(r"^-{9} [0-9.]+s was the duration of dumpsys package\b")
_SEPARATOR = re.compile(r"^-{70,}$")
_SECTION = re.compile(r"^------ .* ------$")
_TIMEOUT = re.compile(r"^\*\*\* SERVICE 'package' DUMP TIMEOUT")
_FINGERPRINT = re.compile(r"^Build fingerprint: '(?P<fp>[^']*)'")
_KEEP = ("Packages", "Hidden system packages")
_BLOCK = re.compile(r"^\s+Package \[(?P<name>[^\]]*)\]?")
_USER = re.compile(r"^\s+User -?\d+:")
_ZIP_REMEDY = "give the intact bugreport zip from adb bugreport (copy it again)"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_TITLE = re.compile(r"^[A-Za-z][^:/\t]*:$")
"""A ``dumpsys package`` section title (``Packages:``, ``Preferred Activities User 0:``): words, one colon at the
end, no ``/`` (a log line's ``W/Tag: text`` is not one)."""


@dataclass
class Sections:
    """What was read from a bugreport's text.

    Attributes:
        props_text: the property lines (``[key]: [value]``), stray lines removed; None if no section.
        props_line: 1-based line of the properties header.
        props_closed: the section ended at its own duration line.
        props_last_line: 1-based line of the last property line kept (None when there is none).
        package_text: header lines and the ``Packages:`` / ``Hidden system packages:`` lists of the package
            dump; None if no ``DUMP OF SERVICE package:``.
        package_line: 1-based line of ``DUMP OF SERVICE package:``.
        package_end: how the package dump ended: ``footer`` (dumpsys's closing duration line), ``separator`` (the
            line of ``-`` that dumpsys writes before the next service, followed by more text), ``section`` (a
            dumpstate ``------ … ------`` line), ``eof`` (the file ends inside the dump, or right after its last
            line or after a separator with nothing after it: there is no telling that the dump was complete).
        package_end_line: 1-based line where it ended (the last line read for ``eof``).
        package_last_block: ``(line, package)`` of the last ``Package [...]`` block of the ``Packages:`` list, or
            None when the list has none.
        package_last_block_users: that block has a ``User N:`` line (API 17+ print one per user in every block).
        package_stray: ``(line, text)`` of the first column-0 line inside the ``Packages:`` / ``Hidden system
            packages:`` list that is not a section title (not preceded by an empty line, or not shaped like
            ``Title:``): another writer's line (a log line) in the dump; None when there is none.
        package_timeout: line of a ``*** SERVICE 'package' DUMP TIMEOUT`` message, or None.
        header_fingerprint: the ``Build fingerprint: '…'`` header line's value, or None (Android 2.3 has none).
        lines: lines read.
    """

    props_text: str | None = None
    props_line: int | None = None
    props_closed: bool = False
    props_last_line: int | None = None
    package_text: str | None = None
    package_line: int | None = None
    package_end: str | None = None
    package_end_line: int | None = None
    package_stray: tuple[int, str] | None = None
    package_last_block: tuple[int, str] | None = None
    package_last_block_users: bool = False
    package_timeout: int | None = None
    header_fingerprint: str | None = None
    lines: int = 0
    notes: list[str] = field(default_factory=list)


def read_sections(lines: Iterator[str]) -> Sections:
    """Stream a bugreport's lines (no line ends) and keep the properties and the package dump (module docstring).

    Pure: no file access; :func:`load` feeds it. Never raises; :func:`check_sections` judges what was found.
    """
    out = Sections()
    state = "scan"
    props: list[str] = []
    in_value = False
    pkg: list[str] = []
    keep = False
    in_packages = False
    blank = True
    last_text = 0  # line of the last line holding more than white space
    dashes = False  # the package dump ended at a line of "-" (what comes after it must be seen)
    for number, line in enumerate(lines, start=1):
        out.lines = number
        if line.strip():
            last_text = number
        if state == "props":
            if in_value:
                props.append(line)
                out.props_last_line = number
                in_value = not line.endswith("]")
                continue
            if _PROPS_END.match(line):
                out.props_closed, state = True, "scan"
                continue
            if _PROP_LINE.match(line):
                props.append(line)
                out.props_last_line = number
                in_value = not line.endswith("]")
                continue
            if not line.strip() or _STRAY.match(line):
                continue
            state = "scan"  # the first line of some other section's content: the property list is over
        if state == "package":
            if _PKG_FOOTER.match(line):
                out.package_end, state, out.package_end_line = "footer", "scan", number
                continue
            if _SEPARATOR.match(line) or _SECTION.match(line) or line.startswith("DUMP OF SERVICE "):
                out.package_end, state = ("section" if _SECTION.match(line) else "separator"), "scan"
                out.package_end_line, dashes = number, bool(_SEPARATOR.match(line))
            else:
                if _TIMEOUT.match(line) and out.package_timeout is None:
                    out.package_timeout = number
                blank_before, blank = blank, not line.strip()
                if line and not line[0].isspace():
                    if keep and not (blank_before and _TITLE.match(line)):
                        # Not a title (dumpsys package prints an empty line before every title but the first):
                        # some other writer's line (a log line) inside the list. What follows may belong to the
                        # block before it or not: the list cannot be read safely.
                        if out.package_stray is None:
                            out.package_stray = (number, line)
                        continue
                    keep = line.endswith(":") and line[:-1] in _KEEP
                    in_packages = line == "Packages:"
                    pkg.append(line)
                elif keep:
                    pkg.append(line)
                    if in_packages and (m := _BLOCK.match(line)):
                        out.package_last_block, out.package_last_block_users = (number, m.group("name")), False
                    elif in_packages and _USER.match(line):
                        out.package_last_block_users = True
                continue
        if state == "scan":
            if out.header_fingerprint is None and out.props_text is None and (m := _FINGERPRINT.match(line)):
                out.header_fingerprint = m.group("fp")
            elif out.props_text is None and _PROPS_HEADER.match(line):
                state, out.props_line, props, in_value = "props", number, [], False
                out.props_text = ""
            elif out.package_text is None and line == PACKAGE_SECTION:
                state, out.package_line, pkg, keep, blank, in_packages = "package", number, [], False, True, False
                out.package_text = ""
        if state != "props" and out.props_line is not None and not out.props_text:
            out.props_text = "\n".join(props)
    if state == "props" or (out.props_line is not None and not out.props_text):
        out.props_text = "\n".join(props)
    if out.package_line is not None:
        out.package_text = "\n".join(pkg)
        if state == "package" or (dashes and last_text <= (out.package_end_line or 0)):
            # the file ends inside the dump, or right after the separator that dumpsys writes before a next service
            out.package_end, out.package_end_line = "eof", out.lines
    return out


def check_sections(sec: Sections, *, path: str, member: str | None) -> tuple[dict[str, str], int]:
    """The properties and API level of a bugreport whose sections are complete.

    Raises:
        SourceError: a section is missing, cut or empty (names file, member, line and the section).
    """
    remedy = "take a full bugreport (adb bugreport) and give the zip or its main text file"
    if sec.props_line is None:
        raise SourceError(f"no {PROPS_SECTION} section (dumpstate writes '------ SYSTEM PROPERTIES (getprop) "
                          "------'; Android 7 and older '------ SYSTEM PROPERTIES ------'): cannot tell the model, "
                          "build or region", path=path, member=member, remedy=remedy)
    try:
        props = parse_getprop(sec.props_text or "")
    except ParseError as exc:
        raise SourceError(f"{PROPS_SECTION} section unreadable: {exc.detail}", path=path, member=member,
                          line=sec.props_line, remedy=remedy) from None
    if not any((props.get(f"ro.product.{k}") or "").strip() for k in ("model", "device", "name")):
        last = f"; its last property is at line {sec.props_last_line}" if sec.props_last_line else ""
        raise SourceError(f"{PROPS_SECTION} section is incomplete: no ro.product.model, ro.product.device or "
                          f"ro.product.name among its {len(props)} properties{last} (cut short?): cannot tell the "
                          "device", path=path, member=member, line=sec.props_line, remedy=remedy)
    sdk_raw = (props.get("ro.build.version.sdk") or "").strip()
    if not sdk_raw.isdigit() or int(sdk_raw) == 0:
        raise SourceError(f"{PROPS_SECTION} section has no usable ro.build.version.sdk ({sdk_raw!r})", path=path,
                          member=member, line=sec.props_line, remedy=remedy)
    sdk = int(sdk_raw)
    if sec.package_line is None:
        raise SourceError(f"no '{PACKAGE_SECTION}' section (the dumpsys package output): cannot tell which apps "
                          "are installed", path=path, member=member, remedy=remedy)
    if sec.package_timeout is not None:
        raise SourceError("the package service dump timed out (*** SERVICE 'package' DUMP TIMEOUT): its package "
                          "list may be incomplete", path=path, member=member, line=sec.package_timeout, remedy=remedy)
    _check_package_end(sec, sdk, path=path, member=member)
    if "Packages:" not in (sec.package_text or "").split("\n"):
        raise SourceError(f"the '{PACKAGE_SECTION}' section has no 'Packages:' list (dumpsys package failed or was "
                          "cut)", path=path, member=member, line=sec.package_line, remedy=remedy)
    if sec.package_stray is not None:
        number, text = sec.package_stray
        raise SourceError(f"a line inside the package list of '{PACKAGE_SECTION}' (line {sec.package_line}) "
                          f"is not dumpsys package output: {text[:120]!r} (another writer's line, e.g. a log line, "
                          "or a value printed across lines); the package blocks around it cannot be read safely",
                          path=path, member=member, line=number, remedy=remedy)
    if sdk >= 26 and sec.package_end != "footer":
        how = f"line {sec.package_end_line} starts another {'section' if sec.package_end == 'section' else 'service'}"
        raise SourceError(f"the '{PACKAGE_SECTION}' section is cut short: {how} before dumpsys's closing "
                          "'--------- …s was the duration of dumpsys package' line (written since Android 8, "
                          f"API 26; this report is API {sdk})", path=path, member=member, line=sec.package_line,
                          remedy=remedy)
    block = sec.package_last_block
    if sdk >= MULTI_USER_SDK and block is not None and not sec.package_last_block_users:
        raise SourceError(f"the '{PACKAGE_SECTION}' section (line {sec.package_line}) is cut short: the last block "
                          f"of its Packages: list, 'Package [{block[1]}]', has no 'User N:' line (Android 4.2, API "
                          f"{MULTI_USER_SDK}, and later print one per user in every block; this report is API {sdk}) "
                          f"and line {sec.package_end_line} starts another "
                          f"{'section' if sec.package_end == 'section' else 'service'}: the dump stopped inside that "
                          "block, so the packages after it would look absent", path=path, member=member,
                          line=block[0], remedy=remedy)
    return props, sdk


def _check_package_end(sec: Sections, sdk: int, *, path: str, member: str | None) -> None:
    """Refuse a package dump that the file ends inside (every Android version: module docstring, "Package service").

    No real bugreport ends with the package service: dumpsys dumps more services after ``package`` and dumpstate
    writes more sections after dumpsys, so a file whose last line is inside the package dump (or its separator) was
    cut, and a package after the cut would look absent — a false "missing app".

    Raises:
        SourceError: naming the file, member, the section's line and the last package block when it is cut before
            its ``User N:`` line.
    """
    if sec.package_end != "eof":
        return
    block = sec.package_last_block
    inside = ""
    if block is not None and sdk >= MULTI_USER_SDK and not sec.package_last_block_users:
        inside = (f", inside the block 'Package [{block[1]}]' of line {block[0]} before its 'User N:' line (API "
                  f"{MULTI_USER_SDK}+ print one in every block)")
    raise SourceError(f"the '{PACKAGE_SECTION}' section is cut short: the file ends inside it, at line "
                      f"{sec.package_end_line}{inside}; a complete bugreport goes on after it (dumpsys's closing "
                      "'--------- …s was the duration of dumpsys package' line from Android 8; on every version the "
                      "next 'DUMP OF SERVICE …:' or '------ … ------' section), so a package after the cut would look "
                      f"absent (this report is API {sdk})",
                      path=path, member=member, line=sec.package_line,
                      remedy="the file was cut (a copy or download that stopped early?): take a complete bugreport "
                             "(adb bugreport) and give the zip or its whole main text file")


@contextmanager
def _main_text(path: Path) -> Iterator[tuple[io.TextIOBase, str | None]]:
    """The main dumpstate text of a bugreport zip or text file, as a text stream, and its zip member name."""
    if zipfile.is_zipfile(path):
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(f"corrupt zip: {exc}", path=str(path),
                              remedy="give the intact bugreport zip from adb bugreport") from None
        with zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            member: str | None = None
            if "main_entry.txt" in names:
                member = read_member(zf, "main_entry.txt", path=str(path), remedy=_ZIP_REMEDY).decode(
                    "utf-8", errors="replace").strip()
                if member not in names:
                    raise SourceError(f"main_entry.txt names {member!r}, which is not in the zip", path=str(path),
                                      member="main_entry.txt", remedy="the bugreport zip is incomplete")
            else:
                top = [n for n in names if "/" not in n]
                for pattern in MAIN_PATTERNS:
                    hits = sorted(fnmatch.filter(top, pattern))
                    if hits:
                        member = hits[0]
                        break
            if member is None:
                raise SourceError("no dumpstate text in the zip (no main_entry.txt, no bugreport-*.txt)",
                                  path=str(path), remedy="give the zip adb bugreport wrote, or its main .txt")
            with open_member(zf, member, path=str(path), remedy=_ZIP_REMEDY) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None), member
        return
    with open(path, "rb") as raw:
        head = raw.read(4096)
        if head.startswith(_ZIP_MAGIC) or path.suffix.lower() == ".zip":
            try:
                zipfile.ZipFile(path).close()
                detail = "not a readable zip archive"
            except (zipfile.BadZipFile, OSError) as exc:
                detail = str(exc)
            raise SourceError(f"corrupt zip: {detail}", path=str(path),
                              remedy="give the intact bugreport zip from adb bugreport (copy it again)")
        if b"\x00" in head:
            raise SourceError("binary data: neither a bugreport zip nor a bugreport text", path=str(path),
                              remedy="give the zip adb bugreport wrote, or its main .txt")
        raw.seek(0)
        yield io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None), None


def _lines(text: io.TextIOBase, *, path: str, member: str | None) -> Iterator[str]:
    """The lines of ``text`` without line ends, each read with at most :data:`MAX_LINE_CHARS` characters held.

    Raises:
        SourceError: a line is longer than :data:`MAX_LINE_CHARS` (names file, member and line).
    """
    number = 0
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise SourceError(f"line longer than {MAX_LINE_CHARS} characters: not dumpstate text (no real bugreport "
                              "line is that long); not read further", path=path, member=member, line=number,
                              remedy="give the zip adb bugreport wrote, or its main .txt")
        yield line.rstrip("\n")


def load(path: Path) -> list[Target]:
    """The one target of a bugreport: its properties and, per package, the state ``dumpsys package`` gave.

    Raises:
        SourceError: unreadable zip or text, or a section missing or cut (see :func:`check_sections`).
    """
    with _main_text(path) as (text, member):
        try:
            sec = read_sections(_lines(text, path=str(path), member=member))
        except OSError as exc:  # a text file (a damaged zip member raises SourceError: harness.sources.zipmember)
            raise SourceError(f"cannot read: {exc}", path=str(path), member=member,
                              remedy="the file is damaged: copy the bugreport again") from None
    props, sdk = check_sections(sec, path=str(path), member=member)
    if not props.get("ro.build.fingerprint") and sec.header_fingerprint:
        props["ro.build.fingerprint"] = sec.header_fingerprint
    where = f"{path.name}{'!' + member if member else ''}"
    package_text = sec.package_text or ""
    listing = ("bugreport: no 'pm list packages' output; 'listed' follows 'installed' for user 0 "
               f"(dumpsys package at {where}:{sec.package_line})")

    def lookup(pkg: str) -> PackageState:
        try:
            dump = parse_dumpsys_package(package_text, pkg, user=0, sdk=sdk)
        except ParseError as exc:
            raise exc.with_context(command=f"{PACKAGE_SECTION} ({where}:{sec.package_line})") from None
        return state_from_dump(pkg, dump, listed=dump.installed, list_evidence=listing)

    serial = re.sub(r"[^A-Za-z0-9._:@/+#-]", "_", f"bugreport:{path.name}")[:200]
    return [Target(serial=serial, host=HOST, props=props, packages=lookup, source=str(path))]
