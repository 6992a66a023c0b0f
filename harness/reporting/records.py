"""One JSON line per test: the record the pytest plugin appends and every report is built from.

File format (``reports/records.jsonl``): UTF-8, one JSON object per line, written by :class:`RecordWriter`
(each record one ``write(2)`` straight into the file, so a run that dies keeps every record written before it
died; ``fsync`` at most once a second and at the end, against power loss). Fields
(see :class:`Record`)::

    {"nodeid": "suites/test_apps.py::test_version[SERIAL-Word]", "check": "version",
     "serial": "SERIAL", "host": "127.0.0.1:5037", "model": "MI 5", "profile": "xiaomi-mi5",
     "region": "CN", "fingerprint": "Xiaomi/gemini/...", "android": "7.0", "sdk": 24,
     "package": "com.microsoft.office.word", "app": "Word", "severity": "critical",
     "outcome": "failed", "category": "Version mismatch", "reason": "[version mismatch] ...",
     "expected": "16.0.7070.2036", "found": "16.0.6925.1000", "duration_s": 0.12}

A device-level check (``region``, ``profile_match``, ``device``) has ``package`` null; the matrix shows it in
its "device" column. Unknown extra keys are ignored (forward compatible); missing or mistyped known keys are
an error naming the file, line and key.

Runs. Every pytest run of the suites starts its lines with a *run header* (``{"type": "run", "run_id": ...}``,
:class:`RunHeader`): when it started, the harness version, its options, a digest of the profile set, its shard,
every device the adb servers listed and every check the contract requires on the devices it covers
(``expected``). Each record carries the ``run_id``. A file may hold several runs (plain pytest appends);
:func:`read_runs` keeps them apart, and a report is built from one run unless several are merged on purpose
(``tools.report`` with several ``--records``, e.g. the shards of one farm). ``expected`` is what lets the gate
see checks that never ran (deselected with ``-k``, another suite not selected, a run that died).
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import Error

Check = Literal["presence", "version", "install_kind", "enabled", "region", "operator", "app_region", "launch",
                "home_screen", "signer", "profile_match", "device"]

#: The checks the suites run per (device, required app), and per device. A run's ``expected`` list is built
#: from these; ``tests/e2e`` checks that the suites define exactly these.
APP_CHECKS: tuple[str, ...] = ("presence", "version", "install_kind", "enabled", "app_region", "launch",
                               "home_screen", "signer")
DEVICE_LEVEL_CHECKS: tuple[str, ...] = ("region", "operator")
Severity = Literal["blocker", "critical", "normal", "minor"]
Outcome = Literal["passed", "failed", "broken", "skipped"]

#: Severities from most to least important (Allure's order, without "trivial").
SEVERITIES: tuple[str, ...] = ("blocker", "critical", "normal", "minor")
#: Checks that concern the device rather than one app (``package`` is null for them).
DEVICE_CHECKS: frozenset[str] = frozenset({"region", "operator", "profile_match", "device"})


class RecordsFileError(Error):
    """``records.jsonl`` is unreadable or a line in it is invalid; the message names file, line and key."""


class Record(BaseModel):
    """One test's outcome on one device (one line of ``records.jsonl``); immutable.

    Attributes:
        nodeid: pytest node id; the key that de-duplicates reruns (the last record of a nodeid wins).
        check: which check this test performs; the device-level ones are in :data:`DEVICE_CHECKS`.
        serial: adb serial of the device (``ro.serialno`` or the transport's ``host:port``).
        host: adb server of the farm host that serves the device, ``"host:port"``.
        model: ``ro.product.model``, or None if the device could not be read.
        profile: device profile name that matched, or None.
        region: MIUI region (``ro.miui.region``), or None.
        fingerprint: ``ro.build.fingerprint``, or None.
        android: ``ro.build.version.release`` (e.g. ``"7.0"``), or None.
        sdk: ``ro.build.version.sdk`` as int, or None.
        package: Android package of the app under test; None for a device-level check.
        app: display name of the app (e.g. ``"Word"``); None for a device-level check.
        severity: contract severity of the check; the release gate compares it with ``--gate-severity``.
        outcome: pytest/Allure outcome: ``failed`` = product defect, ``broken`` = infrastructure error.
        category: product or infrastructure category name (:mod:`harness.reporting.allure_env`), or None.
        reason: one line saying why (the failure message, or what passed).
        expected: what the contract wants, as text, or None.
        found: what the device has, as text, or None.
        duration_s: test duration in seconds: its host time plus the device work it rests on, without the time
            it waited for its device's turn.
        device_s: seconds of device work charged to this test (its launch; the device's inventory, which all its
            package checks share, is charged to the first of them only), or None.
        recovered_after_s: the device dropped during that work and came back after this many seconds; the work
            ran again (once). None when nothing dropped.
        run_id: the run that wrote the record (its :class:`RunHeader`), or None for records of older harnesses.
        device_serial: the device's own serial (``ro.serialno``; host-qualified when two devices share one): the
            identity that stays the same across runs, unlike a network device's adb serial ``host:port``.
        build: ``ro.build.version.incremental`` (the ROM build), or None.
        operator: the device's mobile operator (MCC-MNC, ``460-11``), or None when unknown.
        observed: for an app check, the package state the check looked at (:func:`observed_state`: installed,
            versions, install kind, partition, code path, enabled, factory copy, signer digests), or None. Lets
            ``tools.release diff`` compare two runs without re-reading the devices.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    nodeid: str
    check: Check
    serial: str
    host: str
    model: str | None = None
    profile: str | None = None
    region: str | None = None
    fingerprint: str | None = None
    android: str | None = None
    sdk: int | None = None
    package: str | None = None
    app: str | None = None
    severity: Severity
    outcome: Outcome
    category: str | None = None
    reason: str = ""
    expected: str | None = None
    found: str | None = None
    duration_s: float = 0.0
    device_s: float | None = None
    recovered_after_s: float | None = None
    run_id: str | None = None
    device_serial: str | None = None
    build: str | None = None
    operator: str | None = None
    observed: dict[str, Any] | None = None

    @property
    def column(self) -> str:
        """Matrix column of this record: ``"device"`` for device-level checks, else the app name (or package)."""
        if self.package is None or self.check in DEVICE_CHECKS:
            return "device"
        return self.app or self.package


OBSERVED_FIELDS: tuple[str, ...] = (
    "installed", "version_name", "version_code", "install_kind", "partition", "code_path", "enabled",
    "updated_system", "factory_version_name", "factory_version_code", "factory_partition", "signer_digests")
"""The fields of a package state a record keeps as ``observed``."""


def observed_state(state: Any) -> dict[str, Any]:
    """The :data:`OBSERVED_FIELDS` of a :class:`harness.inventory.PackageState` as JSON-ready values."""
    out: dict[str, Any] = {}
    for name in OBSERVED_FIELDS:
        value = getattr(state, name, None)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


class ExpectedCheck(BaseModel):
    """One check the contract requires in a run: device (``host``, ``serial``), ``check``, ``package`` (None for
    device-level checks), ``app`` and ``severity``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    host: str
    serial: str
    check: str
    package: str | None = None
    app: str | None = None
    severity: Severity
    model: str | None = None
    region: str | None = None
    device_serial: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        """``(host, serial, check, package)``: how records are matched to it."""
        return (self.host, self.serial, self.check, self.package)


class RunHeader(BaseModel):
    """The first line a run writes (``"type": "run"``).

    Attributes:
        run_id: unique id (``<UTC start>-<random>``), repeated in every record of the run.
        started: UTC ISO-8601 start time. harness_version: the preload-harness version.
        argv: the pytest arguments. options: the harness options (servers, serials, region, gate severity...).
        profiles_digest: ``sha256:`` of the profile files' bytes (which contract was checked).
        shard: ``"K/N"`` when the run took only the K-th of N shards of the farm, else None.
        listed: every device the adb servers listed, ``"host/serial"``, before ``--serial`` / ``--shard``.
        devices: the devices this run covers (``host``, ``serial``, ``device_serial``, ``model``, ``region``,
            ``profile``, ``fingerprint``, ``build``, ``problem``).
        expected: every check the contract requires on the covered devices (:class:`ExpectedCheck`).
        merged_runs: in a records file ``tools.report`` wrote for a merge (its ``--out``), the run ids merged
            together: a report of that file uses all of them, not only its latest run. Empty otherwise.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["run"] = "run"
    run_id: str
    started: str
    harness_version: str = ""
    argv: list[str] = []
    options: dict[str, Any] = {}
    profiles_digest: str | None = None
    shard: str | None = None
    listed: list[str] = []
    devices: list[dict[str, Any]] = []
    expected: list[ExpectedCheck] = []
    merged_runs: list[str] = []


@dataclass
class Run:
    """One run read from a records file: its ``header`` (None for records without one) and ``records``."""

    header: RunHeader | None
    records: list[Record] = field(default_factory=list)
    source: str = ""

    @property
    def run_id(self) -> str | None:
        """The header's run id (None for a header-less run)."""
        return self.header.run_id if self.header else None


def new_run_id() -> str:
    """``20261201T031500Z-3f9a1c``: UTC start time and 6 random hex digits."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def read_runs(path: str | os.PathLike[str]) -> list[Run]:
    """The runs in a records file, in the order they started (see the module docstring).

    Records without a ``run_id`` (older files) form one header-less run. Raises :class:`RecordsFileError`
    like :func:`read_records`.
    """
    runs: dict[str | None, Run] = {}
    for item in _read_lines(path):
        if isinstance(item, RunHeader):
            runs.setdefault(item.run_id, Run(header=item, source=str(path))).header = item
        else:
            runs.setdefault(item.run_id, Run(header=None, source=str(path))).records.append(item)
    return list(runs.values())


def read_records(path: str | os.PathLike[str]) -> list[Record]:
    """Read ``records.jsonl`` into records, in file order (duplicates kept; see :func:`latest_per_nodeid`).

    Blank lines are skipped. A last line that is not newline-terminated, starts like a JSON object (``{``) and
    does not parse is the trace of a run killed mid-write: it is dropped silently. Any other bad line is an error,
    so is a file that is not JSON lines at all (binary, one long line of text), whether newline-terminated or not.

    Raises:
        RecordsFileError: the file is missing/unreadable, or a complete line is not valid JSON or misses or
            mistypes a field (message: ``<path>:<line>: <key>: <problem>``).
    """
    return [r for r in _read_lines(path) if isinstance(r, Record)]


def _read_lines(path: str | os.PathLike[str]) -> list[Record | RunHeader]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RecordsFileError(f"{p}: cannot read records ({exc.strerror}); run the suite first, "
                               "it writes one JSON line per test") from exc
    lines = raw.split(b"\n")
    truncated_tail = not raw.endswith(b"\n")
    records: list[Record | RunHeader] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        # what a run killed mid-write leaves: the start of one JSON object, without its newline
        is_cut_tail = truncated_tail and lineno == len(lines) and line.lstrip().startswith(b"{")
        try:
            data = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if is_cut_tail:
                break
            raise RecordsFileError(f"{p}:{lineno}: not a JSON line ({exc}); a records file holds one JSON object "
                                   "per line as a pytest run of the suites writes it (--records): give that file, "
                                   "or fix or remove this line") from exc
        if not isinstance(data, dict):
            raise RecordsFileError(f"{p}:{lineno}: expected a JSON object, got {type(data).__name__}")
        try:
            records.append(RunHeader.model_validate(data) if data.get("type") == "run"
                           else Record.model_validate(data))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or '<record>'}: {e['msg']}"
                                 for e in exc.errors())
            raise RecordsFileError(f"{p}:{lineno}: {problems}") from exc
    return records


def latest_per_nodeid(records: list[Record]) -> list[Record]:
    """Keep the last record of each nodeid (a rerun replaces its earlier attempt), in first-seen order."""
    latest: dict[str, Record] = {}
    for rec in records:
        latest[rec.nodeid] = rec
    return list(latest.values())


class RecordWriter:
    """Append records to a JSONL file, one line per call.

    Each :meth:`write` encodes one line and appends it with a single ``write(2)`` on an ``O_APPEND`` file
    descriptor under an exclusive ``flock``, so writers never interleave and a process that dies (killed,
    crashed) loses at most the line being written: the kernel holds what was written. ``fsync`` runs at most
    once per ``sync_interval`` seconds and at :meth:`close`, so a power loss costs at most that much (an fsync
    per record cost a farm run more than its device work). Usable as a context manager.

    Args:
        path: the JSONL file; its parent directories are created.
        sync_interval: seconds between two fsyncs (0: fsync every record).
    """

    def __init__(self, path: str | os.PathLike[str], *, sync_interval: float = 1.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.sync_interval = sync_interval
        self._last_sync = time.monotonic()
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write_header(self, header: RunHeader) -> RunHeader:
        """Append a run header line (at the start of a run)."""
        self._append((header.model_dump_json() + "\n").encode())
        return header

    def write(self, record: Record | dict[str, object]) -> Record:
        """Validate ``record`` (a :class:`Record` or a dict of its fields) and append it; return the Record.

        Raises:
            RecordsFileError: the record is invalid (names the key), or the writer is closed.
        """
        if self._fd is None:
            raise RecordsFileError(f"{self.path}: RecordWriter is closed")
        if not isinstance(record, Record):
            try:
                record = Record.model_validate(record)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
                raise RecordsFileError(f"{self.path}: invalid record: {problems}") from exc
        line = (json.dumps(record.model_dump(), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self._append(line)
        return record

    def _append(self, line: bytes) -> None:
        if self._fd is None:
            raise RecordsFileError(f"{self.path}: RecordWriter is closed")
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            os.write(self._fd, line)
            if time.monotonic() - self._last_sync >= self.sync_interval:
                os.fsync(self._fd)
                self._last_sync = time.monotonic()
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """fsync and close the file (idempotent)."""
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
