"""Run context: which devices this run checks, their facts and matched profiles (no pytest imports).

:func:`discover` is called once per pytest process (lazily, when the first compliance test is
parametrized). It lists the devices of every ``--adb-server``, keeps those chosen by ``--serial``,
reads each device's properties (one ``getprop`` round trip, devices in parallel), matches each to
exactly one device profile and resolves its requirements for the device's region. Every problem
becomes a :class:`DeviceCase` with ``problem`` set, so a device is never silently dropped: its
device-level test reports the problem as an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from harness import errors
from harness.adb import AdbServerLink, DeviceEntry, ServerAddress, servers_from_specs
from harness.device import Device
from harness.errors import AdbServerError, DeviceError, DeviceUnavailable, Error, ProfileMatchError, UsageError
from harness.facts import DeviceFacts
from harness.profiles import AppRequirement, DeviceProfile, ProfileSet
from harness.workers import await_return, recoverable

ALL = "all"


@dataclass
class DeviceCase:
    """One device of the run: its facts and profile, or the problem that stops its checks."""

    serial: str
    server: str
    device: Device | None = None
    facts: DeviceFacts | None = None
    profile: DeviceProfile | None = None
    requirements: list[AppRequirement] = field(default_factory=list)
    problem: Error | None = None

    @property
    def model(self) -> str | None:
        """ro.product.model, or the adb listing's model, or None."""
        if self.facts:
            return self.facts.model
        return self.device.entry.model if self.device else None

    @property
    def region(self) -> str | None:
        """Resolved region (ISO alpha-2) or None."""
        return self.facts.region.region if self.facts else None

    @property
    def operator(self) -> str | None:
        """Resolved operator (MCC-MNC) or None."""
        return self.facts.operator.operator if self.facts else None

    @property
    def live(self) -> bool:
        """False for a target judged from a file (ROM build, bugreport): launch and UI checks do not apply."""
        return bool(getattr(self.device, "live", True))

    shared_serialno: bool = False
    """Set when another device of the run reports the same ``ro.serialno`` (cheap phones, one phone on two hosts)."""

    @property
    def device_serial(self) -> str:
        """The device's identity in test ids and Allure history.

        Its own serial (``ro.serialno``) when known and unique in the run: stable across runs, unlike
        the adb serial of a network device (``host:port``). When two devices report the same
        ``ro.serialno``, ``<ro.serialno>@<farm host>/<adb serial>`` so their results never merge.
        """
        own = self.facts.props.get("ro.serialno") if self.facts else None
        if own and not self.shared_serialno:
            return own
        if own:
            return f"{own}@{self.server}/{self.serial}"
        return self.serial

    @property
    def id(self) -> str:
        """Readable, run-stable pytest id: ``MI_5-8c2b2ca4`` (model and ro.serialno).

        ASCII letters, digits and ``._:@/+-`` only (anything else becomes ``_``): device text never reaches a
        test id raw, pytest never escapes it, and the xdist device scheduler can find the device in the id.
        """
        return safe_id(f"{self.model or 'unknown'}-{self.device_serial}")

    def __repr__(self) -> str:
        return self.id

    def all_packages(self) -> list[str]:
        """Every package this device's requirements name (for the one-round-trip inventory)."""
        return sorted({r.package for r in self.requirements})


_UNSAFE_ID_RE = re.compile(r"[^A-Za-z0-9._:@/+-]")


def safe_id(text: str) -> str:
    """``text`` with every character outside ``[A-Za-z0-9._:@/+-]`` replaced by ``_`` (spaces included)."""
    return _UNSAFE_ID_RE.sub("_", text)[:200] or "_"


def mark_shared_serialnos(cases: Sequence[DeviceCase]) -> None:
    """Flag devices whose ``ro.serialno`` another device of the run also reports (see ``device_serial``)."""
    counts: dict[str, int] = {}
    for c in cases:
        own = c.facts.props.get("ro.serialno") if c.facts else None
        if own:
            counts[own] = counts.get(own, 0) + 1
    for c in cases:
        own = c.facts.props.get("ro.serialno") if c.facts else None
        c.shared_serialno = bool(own) and counts[own] > 1


@dataclass
class AppCase:
    """One (device, app requirement) pair: the unit of the app-level checks."""

    device_case: DeviceCase
    requirement: AppRequirement

    @property
    def id(self) -> str:
        """Readable pytest id: ``MI_5-8c2b2ca4-com.microsoft.office.word``."""
        return f"{self.device_case.id}-{self.requirement.package}"

    def __repr__(self) -> str:
        return self.id


@dataclass
class RunContext:
    """Everything discovered for this run.

    ``listed``: every device the adb servers listed (``host/serial``), before ``--serial`` and ``--shard`` chose;
    ``shard``: ``"K/N"`` when the run covers only the K-th of N shards of that list.
    """

    servers: list[str]
    devices: list[DeviceCase]
    listed: list[str] = field(default_factory=list)
    shard: str | None = None
    sources: list[tuple[str, str]] = field(default_factory=list)
    """``(kind, path)`` of the ROM builds / bugreports judged instead of adb devices (empty for a device run)."""

    def app_cases(self) -> list[AppCase]:
        """All (device, app) pairs of devices without a problem, in device then package order."""
        return [AppCase(d, r) for d in self.devices if d.problem is None
                for r in sorted(d.requirements, key=lambda r: r.package)]


class NoDevicesError(Error):
    """No device to check: nothing attached, or nothing matched ``--serial``."""


def _prepare(case: DeviceCase, profiles: ProfileSet, device_wait: float = 0.0) -> None:
    """Wait for a device listed offline (up to ``device_wait`` s), read facts, match a profile; record any
    problem on the case. A device lost during its ``getprop`` is waited for (up to ``device_wait`` s, adb's
    wait-for-device through the server) and read once more, like a device lost during its checks."""
    assert case.device is not None
    device = case.device

    def read_facts() -> DeviceFacts:
        device.check_reachable()
        return device.facts()

    def wait_back(state: RetryCallState) -> None:  # tenacity before_sleep: the getprop lost the device
        cause = state.outcome.exception() if state.outcome else None
        device.log.warning("%s during discovery (getprop); waiting up to %g s for the device", cause, device_wait)
        waited = await_return(device, device_wait, "discovery (`getprop`)", cause)
        device.log.warning("back after %.1f s; reading its properties again", waited)

    try:
        device.await_online(device_wait)
        # a device that drops during its getprop is waited for and read once more, as during the checks
        for attempt in Retrying(stop=stop_after_attempt(2 if device_wait > 0 else 1),
                                retry=retry_if_exception(recoverable), before_sleep=wait_back, reraise=True):
            with attempt:
                case.facts = read_facts()
    except DeviceError as exc:
        case.problem = exc
        return
    _match_profile(case, profiles)


def _match_profile(case: DeviceCase, profiles: ProfileSet) -> None:
    """Match the case's facts to exactly one profile and resolve its requirements, or set a problem."""
    assert case.facts is not None
    matches = profiles.match(case.facts.props)
    f = case.facts
    what = f"{f.model} (ro.product.model={f.model!r}, ro.product.device={f.device!r}, ro.product.name={f.name!r})"
    if not matches:
        known = ", ".join(sorted(p.id for p in profiles.profiles)) or "none"
        case.problem = ProfileMatchError(
            f"[{case.serial}] {what} matches no device profile; add a profile under device_profiles/ "
            f"whose match names this model, or leave the device out with --serial (profiles: {known})")
        return
    if len(matches) > 1:
        case.problem = ProfileMatchError(
            f"[{case.serial}] {what} matches {len(matches)} profiles: "
            + ", ".join(f"{p.id} ({p.path})" for p in matches) + "; narrow their `match:` so exactly one applies")
        return
    case.profile = matches[0]
    case.requirements = list(case.profile.requirements(f.region.region, f.operator.operator))


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """``"2/4"`` → ``(2, 4)``; None for None. Raises :class:`~harness.errors.UsageError` for anything else."""
    if spec is None:
        return None
    k, sep, n = spec.strip().partition("/")
    if not sep or not k.isdigit() or not n.isdigit() or not 1 <= int(k) <= int(n):
        raise UsageError(f"--shard {spec!r}: expected K/N with 1 <= K <= N, e.g. 1/4 (the first of four shards)")
    return int(k), int(n)


def option_problems(*, region: str | None = None, operator: str | None = None, shard: str | None = None,
                    device_wait: object = None, adb_timeout: object = None, serials: Sequence[str] = (),
                    adb_servers: Sequence[str] = ()) -> list[str]:
    """The usage errors in the harness's option values (None = not given), one sentence each with an example.

    Shared by the pytest plugin and the main job (``tools/job.py``), which checks them before it starts a farm.
    ``device_wait`` / ``adb_timeout``: seconds, as given (a string from the job's command line, a float from
    pytest's parser). ``serials`` / ``adb_servers``: every ``--serial`` / ``--adb-server`` value; a serial must not
    be empty, a server is ``HOST:PORT`` with a port 1..65535 (a mistake there is a usage error, exit 4, not "no
    device", exit 10).
    """
    import math

    from harness.operator import ascii_digits_hint, normalize_code
    from harness.profiles.models import ISO_REGIONS

    problems: list[str] = []
    if region is not None and region.strip().upper() not in ISO_REGIONS:
        problems.append(f"--region {region!r}: expected an ISO 3166-1 alpha-2 code such as CN, IN or ID")
    if operator is not None and normalize_code(operator) is None:
        problems.append(f"--operator {operator!r}: expected MCC-MNC such as 405-857 or 460-11"
                        + (f" ({hint})" if (hint := ascii_digits_hint(operator)) else ""))
    if shard is not None and not shard.isascii():
        problems.append(f"--shard {shard!r}: expected K/N in ASCII digits, e.g. 1/4 (the first of four shards)")
    else:
        try:
            parse_shard(shard)
        except UsageError as exc:
            problems.append(str(exc))
    for serial in serials:
        if not serial.strip():
            problems.append(f"--serial {serial!r}: expected a device serial as `adb devices` lists it (e.g. "
                            "emulator-5554 or 192.168.1.7:5555) or the device's own serial (ro.serialno)")
    for spec in adb_servers:
        host, sep, port = spec.strip().rpartition(":")
        if not sep or not host or any(c.isspace() for c in host) or not (port.isascii() and port.isdigit()) \
                or not 1 <= int(port) <= 65535:
            problems.append(f"--adb-server {spec!r}: expected HOST:PORT with a port 1-65535, e.g. 127.0.0.1:5037 or "
                            "farm-host-3:5037")
    for name, value, least, example in (("--device-wait", device_wait, "seconds >= 0", "30"),
                                        ("--adb-timeout", adb_timeout, "a positive number of seconds", "30")):
        if value is None:
            continue
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0 or (name == "--adb-timeout" and seconds == 0):
            problems.append(f"{name} {value!r}: expected {least}, e.g. {example}")
    return problems


def in_shard(index: int, shard: tuple[int, int] | None) -> bool:
    """Whether the ``index``-th device (0-based, in the sorted farm list) belongs to ``shard`` (``(K, N)``)."""
    return shard is None or index % shard[1] == shard[0] - 1


def discover(*, server_specs: Sequence[str] | None, serials: Sequence[str] | None, profiles: ProfileSet,
             region_override: str | None = None, operator_override: str | None = None,
             command_timeout: float = 30.0, workers: int = 256,
             shard: tuple[int, int] | None = None, device_wait: float = 0.0) -> RunContext:
    """List, select and prepare the devices of this run.

    Every device's ``getprop`` runs at the same time (up to ``workers`` threads): a farm's discovery costs one
    round trip of its slowest device, not one per device. A device listed ``offline`` is waited for up to
    ``device_wait`` seconds (offline is often transient), at the same time as the others. ``shard`` ``(K, N)``
    keeps the devices whose position in the farm list (every server's devices plus missing ``--serial`` names,
    sorted by farm host then serial) is K-1 modulo N, so N machines running ``--shard 1/N`` … ``--shard N/N``
    against the same farm check every device exactly once.

    Raises :class:`NoDevicesError` when no server answers and no device is listed, or when nothing
    is attached; a server that does not answer while others do becomes a problem case. A shard with no device
    (more shards than listed devices) is not an error: its context has no device and the farm it listed.
    """
    links: list[AdbServerLink] = servers_from_specs(server_specs, command_timeout=command_timeout)
    wanted = [s for s in (serials or []) if s != ALL]
    cases: list[DeviceCase] = []
    server_errors: list[AdbServerError] = []
    for link in links:
        try:
            entries: list[DeviceEntry] = link.devices()
        except AdbServerError as exc:
            server_errors.append(exc)
            cases.append(DeviceCase(serial=f"adb-server-{link.address}", server=str(link.address), problem=exc))
            continue
        for entry in entries:
            if wanted and entry.serial not in wanted:
                continue
            cases.append(DeviceCase(serial=entry.serial, server=str(link.address),
                                    device=Device(entry, link.device(entry.serial), region_override=region_override,
                                                  operator_override=operator_override)))
    if server_errors and len(server_errors) == len(links):
        raise NoDevicesError("\n".join(str(e) for e in server_errors))
    found = {c.serial for c in cases}
    for serial in wanted:
        if serial not in found:
            cases.append(DeviceCase(serial=serial, server=",".join(str(lk.address) for lk in links),
                                    problem=DeviceUnavailable(
                                        "not attached to any adb server of this run", serial=serial,
                                        remedy="check the serial (`adb devices -l`) and --adb-server")))
    listed = sorted(f"{c.server}/{c.serial}" for c in cases if c.device is not None)
    if shard is not None:
        cases.sort(key=lambda c: (c.server, c.serial))
        cases = [c for i, c in enumerate(cases) if in_shard(i, shard)]
    if not any(c.device for c in cases) and not wanted:
        servers = ", ".join(str(lk.address) for lk in links)
        if shard is not None and listed:
            # more shards than devices: this shard is empty. It is a run all the same (the caller writes its run
            # header with the farm it saw), so a merge of the N shards counts it as present.
            return RunContext(servers=[str(lk.address) for lk in links], devices=cases, listed=listed,
                              shard=f"{shard[0]}/{shard[1]}")
        raise NoDevicesError(f"no device attached to the adb server(s) {servers}; attach a device, point "
                             "--adb-server at a farm host, or run the bundled virtual farm (see README)")
    live = [c for c in cases if c.device is not None and c.problem is None]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(live) or 1))) as pool:
        list(pool.map(lambda c: _prepare(c, profiles, device_wait), live))
    mark_shared_serialnos(cases)
    return RunContext(servers=[str(lk.address) for lk in links], devices=cases, listed=listed,
                      shard=f"{shard[0]}/{shard[1]}" if shard else None)


def discover_offline(sources: Sequence[tuple[str, str]], *, profiles: ProfileSet,
                     region_override: str | None = None, operator_override: str | None = None) -> RunContext:
    """The targets of ROM builds / bugreports (``(kind, path)`` pairs, see :mod:`harness.sources`) as device cases.

    A source that cannot be read becomes a case with its :class:`~harness.errors.SourceError` as the problem
    (reported as broken for that source), never a silent gap. Inputs of a kind that share a file or folder name
    get rows named with their parent folders (:func:`harness.sources.source_labels`), so none collapses into another.
    """
    from harness.sources import OfflineDevice, load_targets, source_labels

    kinds = sorted({kind for kind, _ in sources})
    labels: dict[int, str] = {}
    for k in kinds:  # rows are build:<label> / bugreport:<label>: same-named inputs of a kind get parent folders
        index = [i for i, (kind, _) in enumerate(sources) if kind == k]
        labels.update(zip(index, source_labels([sources[i][1] for i in index]), strict=True))
    cases: list[DeviceCase] = []
    for i, (kind, path) in enumerate(sources):
        try:
            targets = load_targets(kind, path, label=labels[i])
        except Error as exc:
            cases.append(DeviceCase(serial=safe_id(f"{kind}:{labels[i]}"), server=kind, problem=exc))
            continue
        for target in targets:
            if target.problem is not None:  # one unreadable build of a folder of builds: broken row of its own
                cases.append(DeviceCase(serial=target.serial, server=target.host, problem=target.problem))
                continue
            device = OfflineDevice(target, region_override=region_override, operator_override=operator_override)
            case = DeviceCase(serial=target.serial, server=target.host, device=device)  # type: ignore[arg-type]
            case.facts = device.facts()
            _match_profile(case, profiles)
            cases.append(case)
    mark_shared_serialnos(cases)
    return RunContext(servers=[], devices=cases, listed=[f"{c.server}/{c.serial}" for c in cases],
                      sources=[(k, str(p)) for k, p in sources])


def to_wire(ctx: RunContext) -> dict[str, Any]:
    """The run context as plain data (for pytest-xdist workers, which must test the same devices).

    Shape: ``{"servers": [...], "listed": [...], "shard": "K/N" | None, "devices": [{"serial", "server",
    "entry": {...} | None, "props": {...} | None, "problem": {"cls", "message"} | None}]}``. Profile matches
    are not sent: workers recompute them from the properties with the same profiles.
    """
    devices = []
    for c in ctx.devices:
        entry = None
        if c.device is not None:
            e = c.device.entry
            entry = {"serial": e.serial, "state": e.state, "model": e.model, "product": e.product,
                     "device": e.device, "transport_id": e.transport_id}
        problem = None
        if c.problem is not None and not isinstance(c.problem, ProfileMatchError):
            problem = {"cls": type(c.problem).__name__, "message": str(c.problem)}
        devices.append({"serial": c.serial, "server": c.server, "entry": entry,
                        "props": dict(c.facts.props) if c.facts else None, "problem": problem})
    return {"servers": list(ctx.servers), "listed": list(ctx.listed), "shard": ctx.shard, "devices": devices,
            "sources": [list(s) for s in ctx.sources]}


def from_wire(data: dict[str, Any], *, profiles: ProfileSet, region_override: str | None = None,
              operator_override: str | None = None,
              command_timeout: float = 30.0) -> RunContext:
    """Rebuild the controller's run context in a worker, without any device round trip.

    For ROM builds / bugreports the worker reads the same files again (:func:`discover_offline`).
    """
    if data.get("sources"):
        return discover_offline([(k, p) for k, p in data["sources"]], profiles=profiles,
                                region_override=region_override, operator_override=operator_override)
    links = {spec: AdbServerLink(ServerAddress.parse(spec), command_timeout=command_timeout)
             for spec in data["servers"]}
    cases: list[DeviceCase] = []
    for d in data["devices"]:
        case = DeviceCase(serial=d["serial"], server=d["server"])
        if d["entry"] is not None and d["server"] in links:
            link = links[d["server"]]
            entry = DeviceEntry(server=link.address, **d["entry"])
            case.device = Device(entry, link.device(entry.serial), region_override=region_override,
                                 operator_override=operator_override)
        if d["problem"] is not None:
            cls = getattr(errors, d["problem"]["cls"], None)
            cls = cls if isinstance(cls, type) and issubclass(cls, Error) else Error
            problem = cls.__new__(cls)
            Exception.__init__(problem, d["problem"]["message"])
            case.problem = problem
        elif d["props"] is not None:
            case.facts = DeviceFacts.from_props(d["props"], region_override=region_override,
                                                operator_override=operator_override)
            if case.device is not None:
                case.device.preset_facts(case.facts)
            _match_profile(case, profiles)
        cases.append(case)
    mark_shared_serialnos(cases)
    return RunContext(servers=list(data["servers"]), devices=cases, listed=list(data.get("listed", [])),
                      shard=data.get("shard"))


def default_profiles_dir() -> Path:
    """``device_profiles/`` of this checkout."""
    return Path(__file__).resolve().parents[2] / "device_profiles"


__all__ = ["ALL", "AppCase", "DeviceCase", "NoDevicesError", "RunContext", "ServerAddress", "discover",
           "default_profiles_dir", "from_wire", "to_wire"]
