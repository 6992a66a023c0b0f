"""Package inventory: the state of every required package of one device in ONE adb round trip.

One shell script (:func:`build_inventory_script`) runs ``pm list packages -f --user 0`` (plus
``--show-versioncode`` from API 28, the level that added it) and ``dumpsys package <pkg>`` for each
required package, each section introduced by a marker line that carries a random nonce, so device
output cannot forge a section boundary. The host splits the output (:func:`split_sections`) and the
pure parsers of :mod:`harness.parsers` read each section. The number of round trips is constant in
the number of packages: one for the whole inventory (``getprop`` is one more, in :mod:`harness.device`), plus
one when a ``dumpsys`` was cut short by its timeout (the cut packages are dumped again with ``dumpsys -t``).

Install kinds (``PackageState.install_kind``), from ``dumpsys package`` flags and the code path:

* ``system``: SYSTEM flag, not updated: a factory app on a read-only partition.
* ``updated_system``: UPDATED_SYSTEM_APP, or a copy in ``Hidden system packages:``: the factory
  APK stays on the partition (``factory_*`` fields), the active copy lives in ``/data/app``.
* ``removable_preload``: no SYSTEM flag, APK in a data-app folder of the image (MIUI
  ``/system/data-app``, ``/product/data-app``, ``/vendor/data-app``, ``/cust/app``, ``/data/miui/app``).
* ``user``: anything else (installed by the user, from a store, or by PAI/setup in ``/data/app``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from harness.adb import CommandResult, DeviceLink, ShellScript
from harness.errors import ParseError
from harness.parsers import PackageDump, dumpsys_cut_marker, parse_dumpsys_package, parse_pm_list_packages
from harness.profiles.models import is_package_name

DATA_APP_DIRS = ("/system/data-app/", "/product/data-app/", "/vendor/data-app/", "/cust/app/", "/data/miui/app/")
"""Folders of removable preloads (MIUI and others): APKs shipped on the image but not flagged SYSTEM."""

_PARTITIONS = (
    ("/system/product/", "product"), ("/system/system_ext/", "system_ext"), ("/system/vendor/", "vendor"),
    ("/system/", "system"), ("/product/", "product"), ("/system_ext/", "system_ext"), ("/vendor/", "vendor"),
    ("/odm/", "odm"), ("/oem/", "oem"), ("/apex/", "apex"), ("/cust/", "cust"), ("/data/", "data"),
)

ENABLED_STATE_NAMES = {0: "default", 1: "enabled", 2: "disabled", 3: "disabled-user", 4: "disabled-until-used"}
"""PackageManager.COMPONENT_ENABLED_STATE_* values as printed in ``dumpsys package`` ``enabled=``."""


def partition_of(path: str | None) -> str | None:
    """Partition name of a code path: ``/system/app/Word/Word.apk`` → ``system``; None for None/unknown."""
    if not path:
        return None
    for prefix, name in _PARTITIONS:
        if path.startswith(prefix):
            return name
    return None


def is_data_app_path(path: str | None) -> bool:
    """True for a code path inside a removable-preload folder (see :data:`DATA_APP_DIRS`)."""
    return bool(path) and any(path.startswith(d) or path + "/" == d for d in DATA_APP_DIRS)


@dataclass(frozen=True)
class PackageState:
    """What one device says about one package, for user 0.

    ``known``: the package manager knows the package (installed for some user or present on a
    partition); ``installed``: installed for user 0; ``listed``: present in ``pm list packages
    --user 0``. Versions are the ACTIVE copy's; ``factory_*`` describe the factory copy of an updated
    system app. ``evidence`` holds the exact output lines that decided the fields; ``section`` the
    package's full ``dumpsys package`` text (attached to reports). ``signer_digests``: SHA-256 (hex) of the
    signer certificates when the source can read them (a ROM build's APK), else None (not known).
    """

    package: str
    known: bool
    installed: bool
    listed: bool
    version_name: str | None = None
    version_code: int | None = None
    code_path: str | None = None
    partition: str | None = None
    install_kind: str | None = None
    system: bool = False
    updated_system: bool = False
    factory_version_name: str | None = None
    factory_version_code: int | None = None
    factory_code_path: str | None = None
    factory_partition: str | None = None
    enabled: bool | None = None
    enabled_state: int | None = None
    splits: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    section: str = ""
    signer_digests: tuple[str, ...] | None = None

    @property
    def enabled_state_name(self) -> str:
        """``default``, ``enabled``, ``disabled``, ``disabled-user``, ``disabled-until-used`` or ``unknown``."""
        return ENABLED_STATE_NAMES.get(self.enabled_state, "unknown") if self.enabled_state is not None else "unknown"

    def to_json(self) -> dict[str, object]:
        """JSON-ready dict (for attachments and ``tools``)."""
        data = asdict(self)
        data.pop("section")
        data["splits"] = list(self.splits)
        data["evidence"] = list(self.evidence)
        data["signer_digests"] = list(self.signer_digests) if self.signer_digests is not None else None
        return data


@dataclass(frozen=True)
class Inventory:
    """The package states of one device: ``packages[name] -> PackageState``; ``raw`` the whole output."""

    serial: str
    packages: dict[str, PackageState]
    command: str
    raw: str = field(repr=False, default="")
    round_trips: int = 1


def validate_package_name(name: str) -> str:
    """Return ``name`` if it is a valid Java package name; raise ValueError otherwise (never reaches a shell)."""
    if not is_package_name(name):
        raise ValueError(f"invalid package name {name!r}")
    return name


DUMPSYS_TIMEOUT_MIN_SDK = 24
"""``dumpsys -t SECONDS`` exists from Android 7 (API 24), the first dumpsys that runs the dump on a thread with a
timeout (see :mod:`harness.parsers.dumpsys`); older ones dump directly, with no timeout and no ``-t`` option."""

RETRY_DUMPSYS_TIMEOUT_S = 30
"""``dumpsys -t`` of the second attempt at a dump that was cut by dumpsys' own 10 s timeout."""


def dumpsys_argv(args: Sequence[str], sdk: int, timeout_s: int | None = None) -> list[str]:
    """``["dumpsys", *args]``, with ``-t <timeout_s>`` when asked for and the device has it (API >= 24)."""
    if timeout_s is not None and sdk >= DUMPSYS_TIMEOUT_MIN_SDK:
        return ["dumpsys", "-t", str(int(timeout_s)), *args]
    return ["dumpsys", *args]


def build_inventory_script(packages: Sequence[str], sdk: int, nonce: str, *, with_pm_list: bool = True,
                           dumpsys_timeout_s: int | None = None) -> ShellScript:
    """The one shell script that collects the inventory of ``packages`` on a device of API level ``sdk``.

    Sections, each opened by ``@@PH:<nonce>:<name>@@`` and closed by ``@@PH:<nonce>:rc:<exit code>``:
    ``pm-list`` (unless ``with_pm_list`` is False) then ``dumpsys:<package>`` per package. ``nonce`` must be hex.
    ``dumpsys_timeout_s`` runs each dump as ``dumpsys -t <s> package <pkg>`` (API >= 24; see :func:`dumpsys_argv`).
    """
    if not re.fullmatch(r"[0-9a-f]{8,64}", nonce):
        raise ValueError("nonce must be 8-64 lowercase hex digits")
    script = ShellScript()
    if with_pm_list:
        pm_list = ["pm", "list", "packages", "-f", "--user", "0"]
        if sdk >= 28:
            pm_list.append("--show-versioncode")
        script.add_raw(f"echo @@PH:{nonce}:pm-list@@").add(pm_list).add_raw(f"echo @@PH:{nonce}:rc:$?")
    for pkg in packages:
        validate_package_name(pkg)
        script.add_raw(f"echo @@PH:{nonce}:dumpsys:{pkg}@@")
        script.add(dumpsys_argv(["package", pkg], sdk, dumpsys_timeout_s))
        script.add_raw(f"echo @@PH:{nonce}:rc:$?")
    return script


def split_sections(output: str, nonce: str) -> dict[str, tuple[str, int | None]]:
    """Split the script's output into ``{section name: (text, exit code)}``.

    Raises :class:`~harness.errors.ParseError` when a section's closing marker is missing (the
    output was cut) or no marker at all is found.
    """
    start_re = re.compile(rf"^@@PH:{nonce}:(?P<name>[^@\r\n]+)@@\r?$", re.M)
    rc_re = re.compile(rf"^@@PH:{nonce}:rc:(?P<rc>\d+)\r?$", re.M)
    sections: dict[str, tuple[str, int | None]] = {}
    starts = list(start_re.finditer(output))
    if not starts:
        raise ParseError("no section markers in the output", command="inventory script", excerpt=output[:300])
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(output)
        body = output[m.end():end]
        rc_matches = list(rc_re.finditer(body))
        if not rc_matches:
            raise ParseError(f"section {m.group('name')!r} has no end marker (output cut short?)",
                             command=f"{m.group('name')} (inventory script)", excerpt=body[-300:])
        text = body[: rc_matches[-1].start()].lstrip("\r\n")
        sections[m.group("name")] = (text, int(rc_matches[-1].group("rc")))
    return sections


def state_from_dump(pkg: str, dump: PackageDump, *, listed: bool, list_evidence: str) -> PackageState:
    """The :class:`PackageState` of ``pkg`` from its parsed ``dumpsys package`` (install kind rules above).

    ``listed`` says whether a package listing names it, ``list_evidence`` the evidence line about that listing
    (``pm list packages --user 0: package:…`` on a device; a bugreport, which has no such listing, says so).
    """
    code_path = dump.code_path
    if dump.updated_system:
        kind = "updated_system"
    elif dump.system:
        kind = "system"
    elif is_data_app_path(code_path):
        kind = "removable_preload"
    elif dump.found:
        kind = "user"
    else:
        kind = None
    return PackageState(
        package=pkg, known=dump.found, installed=dump.installed, listed=listed,
        version_name=dump.version_name, version_code=dump.version_code, code_path=code_path,
        partition=partition_of(code_path), install_kind=kind, system=dump.system,
        updated_system=dump.updated_system, factory_version_name=dump.factory_version_name,
        factory_version_code=dump.factory_version_code, factory_code_path=dump.factory_code_path,
        factory_partition=partition_of(dump.factory_code_path), enabled=dump.enabled,
        enabled_state=dump.enabled_state, splits=tuple(dump.splits), evidence=(*dump.evidence, list_evidence),
        section=dump.section,
    )


def cut_packages(sections: dict[str, tuple[str, int | None]], packages: Sequence[str]) -> list[str]:
    """The packages whose ``dumpsys:<pkg>`` section holds a cut marker (:func:`harness.parsers.dumpsys_cut_marker`)."""
    return [pkg for pkg in packages
            if f"dumpsys:{pkg}" in sections and dumpsys_cut_marker(sections[f"dumpsys:{pkg}"][0]) is not None]

def _state_from(pkg: str, dump: PackageDump, listed: bool, list_line: str | None) -> PackageState:
    return state_from_dump(pkg, dump, listed=listed,
                           list_evidence=f"pm list packages --user 0: {list_line}" if list_line
                           else "pm list packages --user 0: (not listed)")


def parse_inventory(output: str, packages: Sequence[str], nonce: str, *, serial: str = "",
                    command: str = "", sdk: int | None = None,
                    sections: dict[str, tuple[str, int | None]] | None = None) -> Inventory:
    """Turn the inventory script's output into an :class:`Inventory` (pure; no device needed).

    ``sdk`` (API level) lets the parser tell "unknown package" from "no output": Android 6 and older
    print nothing for an unknown package, newer versions print ``Unable to find package``. ``sections``, when
    given, are the already split sections (``output`` is then only kept as ``raw``).

    Raises :class:`~harness.errors.ParseError` naming the command whose output could not be read, and its
    :class:`~harness.errors.DumpIncomplete` kind for a dump that is cut short.
    """
    if sections is None:
        sections = split_sections(output, nonce)
    if "pm-list" not in sections:
        raise ParseError("pm list section missing", command="pm list packages -f --user 0", serial=serial)
    list_text, list_rc = sections["pm-list"]
    if list_rc != 0:
        raise ParseError(f"exit code {list_rc}: {list_text.strip()[:200]}", command="pm list packages -f --user 0",
                         serial=serial)
    try:
        listed = {e.package: e for e in parse_pm_list_packages(list_text)}
    except ParseError as exc:
        raise exc.with_context(command="pm list packages -f --user 0", serial=serial,
                               excerpt=list_text[:300]) from None
    states: dict[str, PackageState] = {}
    for pkg in packages:
        name = f"dumpsys:{pkg}"
        if name not in sections:
            raise ParseError("section missing", command=f"dumpsys package {pkg}", serial=serial)
        text, _rc = sections[name]
        try:
            dump = parse_dumpsys_package(text, pkg, user=0, sdk=sdk)
        except ParseError as exc:
            raise exc.with_context(command=f"dumpsys package {pkg}", serial=serial, excerpt=text[:300]) from None
        if pkg in listed and not dump.found:
            raise ParseError("`pm list packages --user 0` lists the package but its dumpsys section does not "
                             "describe it", command=f"dumpsys package {pkg}", serial=serial, excerpt=text[:300])
        states[pkg] = _state_from(pkg, dump, pkg in listed, listed[pkg].line if pkg in listed else None)
    return Inventory(serial=serial, packages=states, command=command, raw=output)


def collect_inventory(link: DeviceLink, packages: Sequence[str], sdk: int, *,
                      timeout: float | None = None) -> Inventory:
    """Collect the inventory of ``packages`` from the device behind ``link`` in one round trip.

    A ``dumpsys package`` cut short by dumpsys' own timeout (or a failure while dumping) is "unknown", never read as
    if it were whole: those packages are dumped again in one more round trip with ``dumpsys -t``
    (:data:`RETRY_DUMPSYS_TIMEOUT_S`; the same command below API 24, which has no dumpsys timeout), and a dump cut
    again raises :class:`~harness.errors.DumpIncomplete`.

    Raises the :mod:`harness.errors` device errors (timeouts, offline) and ParseError.
    """
    pkgs = sorted(set(packages))
    nonce = secrets.token_hex(8)
    script = build_inventory_script(pkgs, sdk, nonce)
    result: CommandResult = link.shell(script, timeout=timeout)
    # Markers and command output are on stdout; stderr (v2 shells keep it apart) only matters for errors.
    sections = split_sections(result.stdout, nonce)
    cut = cut_packages(sections, pkgs)
    if dumpsys_cut_marker(result.stderr) is not None:  # a dumpsys failure on stderr cannot be tied to a section
        cut = [p for p in pkgs if f"dumpsys:{p}" in sections]
    raw, command, round_trips = result.stdout, script.render(), 1
    if cut:
        nonce2 = secrets.token_hex(8)
        again = build_inventory_script(cut, sdk, nonce2, with_pm_list=False,
                                       dumpsys_timeout_s=RETRY_DUMPSYS_TIMEOUT_S)
        wait = max(timeout if timeout is not None else link.default_timeout, RETRY_DUMPSYS_TIMEOUT_S + 10.0)
        retried = link.shell(again, timeout=wait)
        sections.update(split_sections(retried.stdout, nonce2))
        raw += retried.stdout
        command += "\n" + again.render()
        round_trips += 1
    inv = parse_inventory(raw, pkgs, nonce, serial=link.serial, command=command, sdk=sdk, sections=sections)
    return Inventory(serial=inv.serial, packages=inv.packages, command=command, raw=raw, round_trips=round_trips)
