"""Compliance matrix: devices × apps, each cell the worst status of its checks with a one-line reason.

Worst-status order (documented, stable): ``failed`` > ``broken`` > ``missing`` > ``warning`` > ``passed`` >
``skipped`` > ``not_run``.

* ``failed`` — a product defect at or above the gate severity was proven: the worst verdict a cell can carry.
* ``broken`` — an infrastructure error stopped a check; nothing is proven either way. It ranks below
  ``failed`` (a proven defect outranks an unknown) but above everything else (an unknown must never look
  green), and it is shown distinctly ("ERROR", amber), never merged with failures. A *skipped* record whose
  category is an infrastructure category (e.g. the device went offline and its remaining checks were skipped)
  is shown as ``broken`` too, with "skipped: " before its reason.
* ``missing`` — a check the contract requires (the run header's ``expected`` list) has no record: it was
  deselected, its suite was not selected, or the run stopped ("NOT RUN"). Nothing can ship on it.
* ``warning`` — a product defect below the gate severity (e.g. a launch crash agreed as ``normal``): shown as
  WARN, it does not block the release.
* ``passed`` — every check that applied passed. The reason says what was found (version, install kind, launch
  time), the proof a release manager reads.
* ``skipped`` — every check of the cell was skipped as not applicable (e.g. "Excel may be present in this
  region"). Such skips rank *below* ``passed``: in this harness a skip means "does not apply".
* ``not_run`` — nothing was expected and nothing ran here (e.g. the app is not in this device's contract), or
  only checks below the gate severity were expected here and none of them ran ("—").

"Required" means one thing everywhere (console, totals, cells, gate): a check the run header expects whose
severity is at or above the gate severity. An expected check below the gate that did not run is shown (the cell's
reason and ``below_gate_not_run``) but never counted as required: it is not in ``missing``, ``counts`` or
``totals``.

Within a cell, the record that gives the cell its status and reason is the worst by that order, then by
severity (blocker first), then by file order. Reruns are de-duplicated by nodeid first (the last attempt wins).
The reason is one line: the record's reason without the ``<model> (<serial>): `` and ``<app> (<package>): ``
prefixes the plugin puts in failure messages, and cut before `` evidence:`` (the evidence is in the Allure
report), at most 200 characters.

Rows are devices, keyed by farm host and adb serial and labelled with the device's own serial (``ro.serialno``,
stable across runs) and its ROM build; sorted by model, region, device serial. Columns: ``"device"`` (shown as
"device checks": region, profile match, reachability) first, then the apps sorted by display name.

Every device-controlled string is neutralized (:mod:`harness.reporting.text`) and escaped for its format.

Outputs (:func:`write_matrix`): ``compliance.md``, ``compliance.html`` (self-contained, no scripts) and
``compliance.json`` (schema in :data:`SCHEMA_VERSION`, documented in the README).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.reporting.allure_env import INFRA_CATEGORY_NAMES
from harness.reporting.records import SEVERITIES, ExpectedCheck, Record, latest_per_nodeid
from harness.reporting.text import html_text, md_text, neutralize

#: Version of the compliance.json layout. Fields are only ever added within a version; a removed field, a
#: changed meaning or a new status value bumps it. 2: statuses ``missing`` and ``warning``; device identity
#: (``device_serial``, ``adb_serial``, ``build``), ``run_ids``, ``gate_severity``, cell ``missing``/``found``;
#: added within 2: ``coverage_problems``.
SCHEMA_VERSION = 2

#: Cell statuses from worst to best (see the module docstring).
STATUS_ORDER: tuple[str, ...] = ("failed", "broken", "missing", "warning", "passed", "skipped", "not_run")
DEVICE_COLUMN = "device"
DEVICE_COLUMN_LABEL = "device checks"

#: How each status is shown in Markdown/HTML.
STATUS_LABEL: dict[str, str] = {
    "failed": "FAIL", "broken": "ERROR", "missing": "NOT RUN", "warning": "WARN", "skipped": "SKIP",
    "passed": "PASS", "not_run": "—",
}
_STATUS_ICON: dict[str, str] = {"failed": "❌", "broken": "⚠️", "missing": "⭕", "warning": "🔸", "skipped": "⏭️",
                                "passed": "✅", "not_run": "➖"}


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status)


def _sev_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(neutralize(" ".join(str(text).split())).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


_INFRA_LOWER = frozenset(n.casefold() for n in INFRA_CATEGORY_NAMES)


def cell_outcome(record: Record, gate_severity: str | None = None) -> str:
    """The status a record shows in the matrix: its outcome, except that an infrastructure skip shows as
    ``broken`` and, given ``gate_severity``, a failure below it shows as ``warning``."""
    if record.outcome == "skipped" and record.category and record.category.casefold() in _INFRA_LOWER:
        return "broken"
    if record.outcome == "failed" and gate_severity is not None and _sev_rank(record.severity) > _sev_rank(
            gate_severity) and not (record.category and record.category.casefold() in _INFRA_LOWER):
        return "warning"
    return record.outcome


def short_reason(record: Record, limit: int = 200) -> str:
    """One line for a matrix cell: the reason without device/app prefixes, cut before `` evidence:``."""
    text = " ".join(record.reason.split())
    tag = ""
    if text.startswith("[") and "] " in text:
        tag, text = text[: text.index("] ") + 2], text[text.index("] ") + 2:]
    for prefix in (f"{record.model} ({record.serial}): ", f"{record.app} ({record.package}): "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    cut = text.find(" evidence:")
    if cut > 0:
        text = text[:cut]
    if record.outcome == "skipped" and cell_outcome(record) == "broken":
        text = "skipped: " + text
    if record.outcome == "failed" and record.found and "found:" not in text:
        # what a release manager needs in the cell: what was agreed and what the device has
        text += f" (expected {' '.join(record.expected.split()) if record.expected else '?'}; "
        text += f"found {' '.join(record.found.split())})"
    return _one_line(tag + text, limit)


_VERSION_FOUND_RE = re.compile(r"version_name (?P<name>.+?) \(version_code (?P<code>-?\d+)\)")
_LAUNCH_MS_RE = re.compile(r" in (?P<ms>\d+) ms")
_HOME_RE = re.compile(r'in folder "(?P<folder>[^"]+)" on page (?P<page>\d+)')


def found_summary(records: Iterable[Record]) -> str:
    """What passing checks found, for a PASS cell: ``16.0.7070.2036 (2002707036) · system at /system/app/Word ·
    launched in 812 ms · in folder Microsoft (page 1)`` (version, install kind, launch time, icon placement; the
    region and operator for the device column)."""
    parts: dict[str, str] = {}
    for r in records:
        if r.outcome != "passed" or not r.found:
            continue
        if r.check == "version":
            m = _VERSION_FOUND_RE.search(r.found)
            parts["version"] = f"{m['name']} ({m['code']})" if m else r.found
        elif r.check == "install_kind":
            parts["install_kind"] = r.found
        elif r.check == "launch":
            m = _LAUNCH_MS_RE.search(r.found)
            parts["launch"] = f"launched in {m['ms']} ms" if m else "launched"
        elif r.check == "region":
            parts["region"] = f"region {r.found}"
        elif r.check == "operator":
            parts["operator"] = f"operator {r.found}"
        elif r.check == "home_screen":
            m = _HOME_RE.search(r.found)
            parts["home_screen"] = (f"in folder {m['folder']} (page {m['page']})" if m and m["folder"] else
                                    "on the home screen")
    order = ("region", "operator", "version", "install_kind", "launch", "home_screen")
    return _one_line(" · ".join(parts[k] for k in order if k in parts), 240)


TOTAL_KEYS: tuple[str, ...] = ("passed", "failed", "broken", "skipped", "warning")


def outcome_totals(records: Iterable[Record], gate_severity: str) -> dict[str, int]:
    """Checks per outcome, counted one way for the matrix (``totals``) and the console's ``checks:`` line: the
    record's outcome, except that a product failure below ``gate_severity`` counts as ``warning`` (WARN), not
    ``failed``. Reruns are de-duplicated by nodeid first. Keys: :data:`TOTAL_KEYS`."""
    counts = Counter("warning" if cell_outcome(r, gate_severity) == "warning" else r.outcome
                     for r in latest_per_nodeid(list(records)))
    return {k: counts.get(k, 0) for k in TOTAL_KEYS}


@dataclass(frozen=True)
class CheckResult:
    """One check inside a cell: ``check`` name, ``outcome`` (matrix status), ``severity``, one-line ``reason``,
    ``nodeid``, ``expected``/``found`` text (or None) and ``category`` (or None)."""

    check: str
    outcome: str
    severity: str
    reason: str
    nodeid: str
    expected: str | None = None
    found: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Cell:
    """One device × column cell.

    Attributes:
        status: worst status (one of :data:`STATUS_ORDER`).
        reason: one line: ``"<check>: <reason>"`` of the worst check, plus ``" (+N more)"`` when other checks
            share that status; for a PASS cell what was found and how many checks passed.
        check: name of the check that gave the status, or None when ``not_run``.
        severity: its severity, or None.
        category: its category, or None.
        package: the app's package (None for the device column or ``not_run``).
        checks: every check of the cell, worst first.
        missing: required checks of the cell that did not run (the run header expected them, at or above the gate
            severity).
        below_gate_not_run: checks the run header expected below the gate severity that did not run (shown, not
            counted as required).
        found: for cells with passing checks, what they found (version, install kind, launch time).
    """

    status: str
    reason: str
    check: str | None = None
    severity: str | None = None
    category: str | None = None
    package: str | None = None
    checks: tuple[CheckResult, ...] = ()
    missing: tuple[str, ...] = ()
    found: str = ""
    below_gate_not_run: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """Checks per outcome: ``{"passed": n, "failed": n, "broken": n, "skipped": n, "warning": n,
        "missing": n}``."""
        c = Counter(ch.outcome for ch in self.checks)
        out = {k: c.get(k, 0) for k in ("passed", "failed", "broken", "skipped", "warning")}
        out["missing"] = len(self.missing)
        return out


@dataclass(frozen=True)
class DeviceRow:
    """One device: identity as recorded, its worst ``status`` and its ``cells`` keyed by column.

    ``serial`` is the adb serial (``host:port`` for a network device) and ``host`` the farm's adb server: the
    row's key within a run. ``device_serial`` is the device's own serial (``ro.serialno``), the identity that
    holds across runs; ``build`` the ROM build (``ro.build.version.incremental``).
    """

    serial: str
    host: str
    model: str | None
    profile: str | None
    region: str | None
    fingerprint: str | None
    android: str | None
    sdk: int | None
    status: str
    cells: dict[str, Cell] = field(default_factory=dict)
    device_serial: str | None = None
    build: str | None = None
    run_ids: tuple[str, ...] = ()
    operator: str | None = None

    @property
    def label(self) -> str:
        """``"<model> · <region>[ · <operator>] (<device serial>)"``, with ``?`` for unknown model/region."""
        op = f" · {self.operator}" if self.operator else ""
        return f"{self.model or '?'} · {self.region or '?'}{op} ({self.device_serial or self.serial})"


@dataclass(frozen=True)
class Matrix:
    """The compliance matrix: ``columns`` (``"device"`` then apps), ``packages`` (app → package),
    ``devices`` (rows), ``totals`` (checks per outcome), ``generated_at`` (UTC ISO-8601), ``gate_severity``
    (failures below it are warnings), ``run_ids`` (the runs it was built from) and ``coverage_problems`` (why the
    runs cannot show everything the contract requires: a shard missing from a merge, runs of different farms or
    contracts, records without a run header; the gate's own list, which makes it partial)."""

    columns: tuple[str, ...]
    packages: dict[str, str]
    devices: tuple[DeviceRow, ...]
    totals: dict[str, int]
    generated_at: str
    gate_severity: str = "critical"
    run_ids: tuple[str, ...] = ()
    coverage_problems: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """Worst status over all cells (``not_run`` when there are no devices); at best ``missing`` when there are
        :attr:`coverage_problems`: required checks did not run on devices no row shows (the gate's "partial")."""
        statuses = [d.status for d in self.devices] + (["missing"] if self.coverage_problems else [])
        return min(statuses, key=_rank) if statuses else "not_run"

    def failing(self) -> list[tuple[DeviceRow, str, Cell]]:
        """Every (device, column, cell) that blocks or warns: ``failed``, ``broken``, ``missing``, ``warning``."""
        return [(d, col, d.cells[col]) for d in self.devices for col in self.columns
                if d.cells[col].status in ("failed", "broken", "missing", "warning")]


def _cell(records: list[Record], package: str | None, missing: Sequence[ExpectedCheck], gate_severity: str) -> Cell:
    required = [e for e in missing if _sev_rank(e.severity) <= _sev_rank(gate_severity)]
    missing_names = tuple(dict.fromkeys(e.check for e in required))
    below_names = tuple(dict.fromkeys(e.check for e in missing if e not in required))
    below_note = f"not run (below the gate): {', '.join(below_names)}" if below_names else ""
    found = found_summary(records)
    if not records and not missing:
        return Cell(status="not_run", reason="no check applies", package=package)
    ordered = sorted(enumerate(records), key=lambda ir: (_rank(cell_outcome(ir[1], gate_severity)),
                                                         _sev_rank(ir[1].severity), ir[0]))
    recs = [r for _, r in ordered]
    checks = tuple(CheckResult(check=r.check, outcome=cell_outcome(r, gate_severity), severity=r.severity,
                               reason=short_reason(r), nodeid=r.nodeid, expected=r.expected, found=r.found,
                               category=r.category) for r in recs)
    worst = checks[0] if checks else None
    if required and (worst is None or _rank(worst.outcome) > _rank("missing")):
        reason = "not run: " + ", ".join(missing_names)
        if checks:
            n = sum(1 for c in checks if c.outcome == "passed")
            reason += f" ({n} other check{'s' if n != 1 else ''} passed)" if n else ""
        if below_note:
            reason += f"; {below_note}"
        first = required[0]
        return Cell(status="missing", reason=_one_line(reason, 300), check=first.check, severity=first.severity,
                    package=package, checks=checks, missing=missing_names, found=found,
                    below_gate_not_run=below_names)
    if worst is None:  # only checks below the gate are missing here
        return Cell(status="not_run", reason=_one_line(below_note, 300), package=package,
                    below_gate_not_run=below_names)
    if worst.outcome == "passed":
        n = sum(1 for c in checks if c.outcome == "passed")
        names = ", ".join(dict.fromkeys(c.check for c in checks if c.outcome == "passed"))
        reason = (found + " · " if found else "") + f"{n} check{'s' if n != 1 else ''} passed: {names}"
        skipped = len(checks) - n
        if skipped:
            reason += f" ({skipped} not applicable)"
    else:
        same = sum(1 for c in checks if c.outcome == worst.outcome) - 1
        reason = f"{worst.check}: {worst.reason or worst.outcome}"
        if same:
            reason += f" (+{same} more {worst.outcome})"
    if missing_names:  # required checks missing beside a worse verdict (a failure, an error)
        reason += f"; not run: {', '.join(missing_names)}"
    if below_note:
        reason += f"; {below_note}"
    return Cell(status=worst.outcome, reason=_one_line(reason, 300), check=worst.check, severity=worst.severity,
                category=worst.category, package=package, checks=checks, missing=missing_names, found=found,
                below_gate_not_run=below_names)


def build_matrix(records: Iterable[Record], *, expected: Iterable[ExpectedCheck] | None = None,
                 gate_severity: str = "critical", coverage_problems: Iterable[str] = ()) -> Matrix:
    """Build the matrix from records (any order; reruns de-duplicated by nodeid, last wins).

    ``expected``: the checks the runs' contract requires (run headers); those at or above ``gate_severity``
    without a record make their cell ``missing`` and are counted in ``totals["missing"]``; those below it are
    shown in their cell only (devices that no record mentions get a row too). ``gate_severity``: failures below it
    show as ``warning``. Rows are keyed by (farm host, adb serial); identity fields take the first non-null
    value seen for the row. Every row has a cell for every column. ``coverage_problems``: what the gate was
    given as reasons coverage cannot be shown (e.g. a shard missing from a merge); the matrix lists them and its
    overall status is at best ``missing``, the gate's "partial".
    """
    recs = latest_per_nodeid(list(records))
    from harness.reporting.gate import missing_checks  # the gate owns the "what did not run" rule

    missing = missing_checks(recs, list(expected or ()))
    by_device: dict[tuple[str, str], list[Record]] = {}
    missing_by_device: dict[tuple[str, str], list[ExpectedCheck]] = {}
    packages: dict[str, str] = {}
    idents: dict[tuple[str, str], ExpectedCheck] = {}
    for r in recs:
        by_device.setdefault((r.host, r.serial), []).append(r)
        if r.column != DEVICE_COLUMN and r.package:
            packages.setdefault(r.column, r.package)
    for e in missing:
        missing_by_device.setdefault((e.host, e.serial), []).append(e)
        by_device.setdefault((e.host, e.serial), [])
        idents.setdefault((e.host, e.serial), e)
        if e.package:
            packages.setdefault(e.app or e.package, e.package)
    columns = (DEVICE_COLUMN, *sorted(packages, key=str.casefold))
    rows: list[DeviceRow] = []
    for key, dev_recs in by_device.items():
        def first(attr: str, dev_recs: list[Record] = dev_recs) -> object:
            return next((getattr(r, attr) for r in dev_recs if getattr(r, attr) is not None), None)

        gone = missing_by_device.get(key, [])
        ident = idents.get(key)

        def col_of(e: ExpectedCheck) -> str:
            return DEVICE_COLUMN if e.package is None else (e.app or e.package)

        cells = {col: _cell([r for r in dev_recs if r.column == col],
                            None if col == DEVICE_COLUMN else packages.get(col),
                            [e for e in gone if col_of(e) == col], gate_severity) for col in columns}
        ran = [c.status for c in cells.values() if c.status != "not_run"]
        rows.append(DeviceRow(
            serial=key[1], host=key[0], model=first("model") or (ident.model if ident else None),  # type: ignore[arg-type]
            profile=first("profile"), region=first("region") or (ident.region if ident else None),  # type: ignore[arg-type]
            fingerprint=first("fingerprint"), android=first("android"), sdk=first("sdk"),  # type: ignore[arg-type]
            status=min(ran, key=_rank) if ran else "not_run", cells=cells,
            device_serial=first("device_serial") or (ident.device_serial if ident else None),  # type: ignore[arg-type]
            build=first("build"), operator=first("operator"),  # type: ignore[arg-type]
            run_ids=tuple(dict.fromkeys(r.run_id for r in dev_recs if r.run_id))))
    rows.sort(key=lambda d: ((d.model or "").casefold(), d.region or "", d.device_serial or d.serial, d.host))
    return Matrix(columns=columns, packages=packages, devices=tuple(rows),
                  totals=outcome_totals(recs, gate_severity)
                  | {"missing": sum(1 for e in missing if _sev_rank(e.severity) <= _sev_rank(gate_severity))},
                  generated_at=_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                  gate_severity=gate_severity, run_ids=tuple(dict.fromkeys(r.run_id for r in recs if r.run_id)),
                  coverage_problems=tuple(coverage_problems))


def matrix_to_json(matrix: Matrix) -> dict[str, object]:
    """The compliance.json document (schema version :data:`SCHEMA_VERSION`; see the README)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": matrix.generated_at,
        "gate_severity": matrix.gate_severity,
        "run_ids": list(matrix.run_ids),
        "status": matrix.status,
        "status_order": list(STATUS_ORDER),
        "totals": matrix.totals,
        "coverage_problems": list(matrix.coverage_problems),
        "columns": [{"name": c, "package": matrix.packages.get(c)} for c in matrix.columns],
        "devices": [
            {
                "serial": d.serial, "adb_serial": d.serial, "device_serial": d.device_serial, "host": d.host,
                "model": d.model, "profile": d.profile, "region": d.region, "operator": d.operator, "build": d.build,
                "fingerprint": d.fingerprint, "android": d.android, "sdk": d.sdk, "status": d.status,
                "run_ids": list(d.run_ids),
                "cells": {
                    col: {
                        "status": c.status, "reason": c.reason, "check": c.check, "severity": c.severity,
                        "category": c.category, "package": c.package, "counts": c.counts(),
                        "found": c.found, "missing": list(c.missing),
                        "below_gate_not_run": list(c.below_gate_not_run),
                        "checks": [{"check": ch.check, "outcome": ch.outcome, "severity": ch.severity,
                                    "reason": ch.reason, "expected": ch.expected, "found": ch.found,
                                    "category": ch.category, "nodeid": ch.nodeid} for ch in c.checks],
                    }
                    for col, c in d.cells.items()
                },
            }
            for d in matrix.devices
        ],
    }


OFFLINE_HOSTS = frozenset({"rom-build", "bugreport"})
"""What stands where a farm host stands for a row judged from a file (:mod:`harness.sources`)."""


def _reached(d: DeviceRow) -> str:
    """How the row was read: ``adb 127.0.0.1:33343 @ farm-a:5037``, or the row's own ``build:x.zip`` /
    ``bugreport:x.txt`` for a file (the serial already names the kind: not ``bugreport bugreport:x.txt``)."""
    return d.serial if d.host in OFFLINE_HOSTS else f"adb {d.serial} @ {d.host}"


def _column_label(col: str) -> str:
    return DEVICE_COLUMN_LABEL if col == DEVICE_COLUMN else col


def _totals_line(matrix: Matrix) -> str:
    t = matrix.totals
    text = (f"{len(matrix.devices)} device{'s' if len(matrix.devices) != 1 else ''} · checks: {t['passed']} passed, "
            f"{t['failed']} failed, {t['broken']} error (infrastructure), {t['skipped']} skipped")
    if t.get("warning"):
        text += f", {t['warning']} below the gate (warnings)"
    if t.get("missing"):
        text += f", {t['missing']} required not run"
    return text


_LEGEND = ("Cell = worst status of its checks: FAIL (product defect at or above the gate) > ERROR (infrastructure "
           "stopped a check; nothing proven) > NOT RUN (a required check did not run) > WARN (a defect below the "
           "gate) > PASS (what was found) > SKIP (no check applied) > — (nothing expected here, or only checks "
           "below the gate that did not run).")


def _coverage_intro(matrix: Matrix) -> str:
    n = len(matrix.coverage_problems)
    return (f"PARTIAL: the runs do not cover everything the contract requires ({n} problem{'s' if n != 1 else ''}; "
            "nothing can ship on them):")


def matrix_to_markdown(matrix: Matrix) -> str:
    """compliance.md: a summary line, the table (one row per device) and a list of failing cells.

    Device text is neutralized and HTML-escaped (Markdown renders raw HTML).
    """
    lines = [
        "# Compliance matrix",
        "",
        f"Generated {matrix.generated_at} · overall **{STATUS_LABEL[matrix.status]}** · {_totals_line(matrix)}"
        f" · gate: {matrix.gate_severity}",
        "",
        *([f"**{_coverage_intro(matrix)}**", "", *(f"- {md_text(p)}" for p in matrix.coverage_problems), ""]
          if matrix.coverage_problems else []),
        _LEGEND,
        "",
        "| Device | " + " | ".join(md_text(_column_label(c)) for c in matrix.columns) + " |",
        "|---" * (len(matrix.columns) + 1) + "|",
    ]
    for d in matrix.devices:
        cells = [f"{_STATUS_ICON[c.status]} {STATUS_LABEL[c.status]}: {md_text(c.reason)}"
                 for c in (d.cells[col] for col in matrix.columns)]
        head = (f"**{md_text(d.model or '?')} · {md_text(d.region or '?')}"
                + (f" · {md_text(d.operator)}" if d.operator else "") + "**"
                f"<br>`{md_text(d.device_serial or d.serial)}`"
                + (f"<br>build {md_text(d.build)}" if d.build else "")
                + f"<br>{md_text(_reached(d))}")
        lines.append(f"| {head} | " + " | ".join(cells) + " |")
    failing = matrix.failing()
    lines += ["", "## Cells that block or warn", ""]
    if not failing:
        lines.append("None.")
    for d, col, c in failing:
        lines.append(f"- {STATUS_LABEL[c.status]} **{md_text(d.label)}** / **{md_text(_column_label(col))}** "
                     f"[{md_text(c.severity or '')}]: {md_text(c.reason)}")
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #ccc;padding:6px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f3f3f3;position:sticky;top:0}thead th:first-child{width:12em}
.failed{background:#fde2e1}.broken{background:#fff1cc}.missing{background:#e9e3f7}.warning{background:#fff7e0}
.skipped{background:#eef0f3}.passed{background:#e3f6e3}
.not_run{background:#fafafa;color:#888}.st{font-weight:700}.reason{font-size:12px}
.badge{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:700}
ul.failing li{margin:.2em 0}code{font-size:12px}
"""


def matrix_to_html(matrix: Matrix) -> str:
    """compliance.html: a self-contained page (inline CSS, no scripts, no external resources).

    Elements tests and people rely on: ``#summary``, ``ul#coverage`` (only when there are coverage problems),
    ``table#matrix`` with ``tr[data-serial]`` rows and ``td[data-column][data-status]`` cells, and ``ul#failing``
    listing every cell that blocks or warns.
    """
    e = html_text
    head = "".join(f"<th>{e(_column_label(c))}"
                   + (f"<br><code>{e(matrix.packages[c])}</code>" if c in matrix.packages else "")
                   + "</th>" for c in matrix.columns)
    rows = []
    for d in matrix.devices:
        tds = []
        for col in matrix.columns:
            c = d.cells[col]
            tip = "\n".join(f"{ch.outcome.upper()} {ch.check} [{ch.severity}]: {ch.reason}" for ch in c.checks)
            if c.missing:
                tip += ("\n" if tip else "") + "NOT RUN " + ", ".join(c.missing)
            if c.below_gate_not_run:
                tip += ("\n" if tip else "") + "not run (below the gate) " + ", ".join(c.below_gate_not_run)
            tds.append(f'<td class="{c.status}" data-column="{e(col)}" data-status="{c.status}" title="{e(tip)}">'
                       f'<span class="st">{STATUS_LABEL[c.status]}</span> '
                       f'<span class="reason">{e(c.reason)}</span></td>')
        build = f"<br><small>build {e(d.build)}</small>" if d.build else ""
        rows.append(f'<tr data-serial="{e(d.serial)}" data-device-serial="{e(d.device_serial or "")}">'
                    f'<td class="dev {d.status}"><b>{e(d.model or "?")} · {e(d.region or "?")}'
                    + (f" · {e(d.operator)}" if d.operator else "") + '</b><br>'
                    f'<code>{e(d.device_serial or d.serial)}</code>{build}<br><small>Android {e(d.android or "?")}'
                    f' · {e(_reached(d))}</small></td>{"".join(tds)}</tr>')
    failing = "".join(
        f'<li class="{c.status}"><span class="badge">{STATUS_LABEL[c.status]}</span> <b>{e(d.label)}</b> / '
        f'<b>{e(_column_label(col))}</b> [{e(c.severity or "")}]: {e(c.reason)}</li>'
        for d, col, c in matrix.failing()
    ) or "<li>None.</li>"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Compliance matrix</title>"
        f"<style>{_CSS}</style></head><body>\n<h1>Compliance matrix</h1>\n"
        f'<p id="summary">Generated {e(matrix.generated_at)} · overall <b class="{matrix.status}">'
        f"{STATUS_LABEL[matrix.status]}</b> · {e(_totals_line(matrix))} · gate: {e(matrix.gate_severity)}</p>\n"
        + (f'<p class="missing"><b>{e(_coverage_intro(matrix))}</b></p>\n<ul id="coverage" class="missing">'
           + "".join(f"<li>{e(p)}</li>" for p in matrix.coverage_problems) + "</ul>\n"
           if matrix.coverage_problems else "")
        + f"<p>{e(_LEGEND)} Hover a cell for every check.</p>\n"
        f'<table id="matrix"><thead><tr><th>Device</th>{head}</tr></thead><tbody>\n'
        + "\n".join(rows)
        + '\n</tbody></table>\n<h2>Cells that block or warn</h2>\n<ul id="failing" class="failing">'
        + failing + "</ul>\n</body></html>\n"
    )


_GRID_HEAD = "model · region (serial)"


def grid_lines(matrix: Matrix, width: int = 120) -> list[str]:
    """The matrix as a compact text grid for the end of a console run: one line per device, one short column
    per app with the matrix's own words (:data:`STATUS_LABEL`: ``PASS``, ``FAIL``, ``ERROR``, ``NOT RUN``,
    ``WARN``, ``SKIP``, ``—``, as in the README), the device checks first.

    Device text is neutralized; app names are cut to the column width. The label column is as wide as its header
    or its longest label (within ``width``), so the header stays aligned with the rows.
    """
    if not matrix.devices:
        return ["(no device)"]
    cols = list(matrix.columns)

    def label(c: str) -> str:
        return "device" if c == DEVICE_COLUMN else c

    words = max(len(w) for w in STATUS_LABEL.values())
    col_w = max(words, min(11, max(len(label(c)) for c in cols)))
    natural = max(len(_GRID_HEAD), max(len(neutralize(d.label)) for d in matrix.devices))
    label_w = max(12, min(width - len(cols) * (col_w + 1) - 1, natural))

    def cut(text: str, w: int) -> str:
        return text if len(text) <= w else text[: w - 1] + "…"

    head = f"{cut(_GRID_HEAD, label_w):<{label_w}} " + " ".join(f"{cut(label(c), col_w):<{col_w}}" for c in cols)
    lines = [head.rstrip(), "-" * len(head.rstrip())]
    for d in matrix.devices:
        cells = " ".join(f"{STATUS_LABEL[d.cells[c].status]:<{col_w}}" for c in cols)
        lines.append(f"{cut(neutralize(d.label), label_w):<{label_w}} {cells}".rstrip())
    return lines


def write_matrix(matrix: Matrix, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``compliance.md``, ``compliance.html`` and ``compliance.json`` into ``out_dir`` (created).

    Returns ``{"md": path, "html": path, "json": path}``. Each file is written to a temporary name and
    renamed, so a reader never sees half a file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    contents = {
        "md": matrix_to_markdown(matrix),
        "html": matrix_to_html(matrix),
        "json": json.dumps(matrix_to_json(matrix), indent=2, ensure_ascii=False) + "\n",
    }
    paths: dict[str, Path] = {}
    for kind, text in contents.items():
        path = out / f"compliance.{kind}"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        paths[kind] = path
    return paths
