"""Compliance matrix: devices × apps, each cell the worst status of its checks with a one-line reason.

Worst-status order (documented, stable): ``failed`` > ``broken`` > ``passed`` > ``skipped`` > ``not_run``.

* ``failed`` — a product defect was proven (an assertion failed): the worst verdict a cell can carry.
* ``broken`` — an infrastructure error stopped a check; nothing is proven either way. It ranks below
  ``failed`` (a proven defect outranks an unknown) but above ``passed`` (an unknown must never look green),
  and it is shown distinctly ("ERROR", amber), never merged with failures. A *skipped* record whose category
  is an infrastructure category (e.g. the device went offline and its remaining checks were skipped) is
  shown as ``broken`` too, with "skipped: " before its reason.
* ``passed`` — every check that applied passed.
* ``skipped`` — every check of the cell was skipped as not applicable (e.g. "Excel may be present in this
  region"). Such skips rank *below* ``passed``: in this harness a skip means "does not apply", so a cell with
  four passed checks and one not-applicable skip is PASS, not SKIP.
* ``not_run`` — no record at all for this device × column (e.g. the run died before it).

Within a cell, the record that gives the cell its status and reason is the worst by that order, then by
severity (blocker first), then by file order. Reruns are de-duplicated by nodeid first (the last attempt wins).
The reason is one line: the record's reason without the ``<model> (<serial>): `` and ``<app> (<package>): ``
prefixes the plugin puts in failure messages, and cut before `` evidence:`` (the evidence is in the Allure
report), at most 200 characters.

Columns: ``"device"`` (device-level checks: region, profile_match, device reachable) first, then the apps
sorted by display name. Rows: devices sorted by model, region, serial.

Outputs (:func:`write_matrix`): ``compliance.md``, ``compliance.html`` (self-contained, no scripts) and
``compliance.json`` (schema in :data:`SCHEMA_VERSION` and harness/reporting/README_SECTION.md).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.reporting.allure_env import INFRA_CATEGORY_NAMES
from harness.reporting.records import SEVERITIES, Record, latest_per_nodeid

#: Version of the compliance.json layout; bumped only on an incompatible change (fields are only ever added).
SCHEMA_VERSION = 1

#: Cell statuses from worst to best (see the module docstring for why ``skipped`` ranks below ``passed``).
STATUS_ORDER: tuple[str, ...] = ("failed", "broken", "passed", "skipped", "not_run")
DEVICE_COLUMN = "device"

#: How each status is shown in Markdown/HTML.
STATUS_LABEL: dict[str, str] = {
    "failed": "FAIL", "broken": "ERROR", "skipped": "SKIP", "passed": "PASS", "not_run": "NOT RUN",
}
_STATUS_ICON: dict[str, str] = {"failed": "❌", "broken": "⚠️", "skipped": "⏭️", "passed": "✅", "not_run": "➖"}


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status)


def _sev_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


_INFRA_LOWER = frozenset(n.casefold() for n in INFRA_CATEGORY_NAMES)


def cell_outcome(record: Record) -> str:
    """The outcome a record shows in the matrix: its own, except an infrastructure skip shows as ``broken``."""
    if record.outcome == "skipped" and record.category and record.category.casefold() in _INFRA_LOWER:
        return "broken"
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


@dataclass(frozen=True)
class CheckResult:
    """One check inside a cell: ``check`` name, ``outcome``, ``severity``, one-line ``reason``, ``nodeid``,
    ``expected``/``found`` text (or None) and ``category`` (or None)."""

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
            share that status; for an all-passed cell ``"<n> checks passed: a, b, …"``.
        check: name of the check that gave the status, or None when ``not_run``.
        severity: its severity, or None.
        category: its category, or None.
        package: the app's package (None for the device column or ``not_run``).
        checks: every check of the cell, worst first.
    """

    status: str
    reason: str
    check: str | None = None
    severity: str | None = None
    category: str | None = None
    package: str | None = None
    checks: tuple[CheckResult, ...] = ()

    def counts(self) -> dict[str, int]:
        """Checks per outcome: ``{"passed": n, "failed": n, "broken": n, "skipped": n}``."""
        c = Counter(ch.outcome for ch in self.checks)
        return {k: c.get(k, 0) for k in ("passed", "failed", "broken", "skipped")}


@dataclass(frozen=True)
class DeviceRow:
    """One device: identity as recorded (``serial``, ``host``, ``model``, ``profile``, ``region``,
    ``fingerprint``, ``android``, ``sdk``), its worst ``status`` and its ``cells`` keyed by column."""

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

    @property
    def label(self) -> str:
        """``"<model> · <region> (<serial>)"``, with ``?`` for unknown parts."""
        return f"{self.model or '?'} · {self.region or '?'} ({self.serial})"


@dataclass(frozen=True)
class Matrix:
    """The compliance matrix: ``columns`` (``"device"`` then apps), ``packages`` (app → package),
    ``devices`` (rows), ``totals`` (checks per outcome) and ``generated_at`` (UTC ISO-8601)."""

    columns: tuple[str, ...]
    packages: dict[str, str]
    devices: tuple[DeviceRow, ...]
    totals: dict[str, int]
    generated_at: str

    @property
    def status(self) -> str:
        """Worst status over all cells, ``not_run`` when there are no devices."""
        statuses = [d.status for d in self.devices]
        return min(statuses, key=_rank) if statuses else "not_run"

    def failing(self) -> list[tuple[DeviceRow, str, Cell]]:
        """Every (device, column, cell) whose status is ``failed`` or ``broken``, in row/column order."""
        return [(d, col, d.cells[col]) for d in self.devices for col in self.columns
                if d.cells[col].status in ("failed", "broken")]


def _cell(records: list[Record], package: str | None) -> Cell:
    if not records:
        return Cell(status="not_run", reason="no check ran", package=package)
    ordered = sorted(enumerate(records),
                     key=lambda ir: (_rank(cell_outcome(ir[1])), _sev_rank(ir[1].severity), ir[0]))
    recs = [r for _, r in ordered]
    checks = tuple(CheckResult(check=r.check, outcome=cell_outcome(r), severity=r.severity, reason=short_reason(r),
                               nodeid=r.nodeid, expected=r.expected, found=r.found, category=r.category)
                   for r in recs)
    worst = checks[0]
    if worst.outcome == "passed":
        names = ", ".join(dict.fromkeys(c.check for c in checks if c.outcome == "passed"))
        n = sum(1 for c in checks if c.outcome == "passed")
        reason = f"{n} check{'s' if n != 1 else ''} passed: {names}"
        skipped = len(checks) - n
        if skipped:
            reason += f" ({skipped} not applicable)"
    else:
        same = sum(1 for c in checks if c.outcome == worst.outcome) - 1
        reason = f"{worst.check}: {worst.reason or worst.outcome}"
        if same:
            reason += f" (+{same} more {worst.outcome})"
    return Cell(status=worst.outcome, reason=_one_line(reason, 300), check=worst.check, severity=worst.severity,
                category=worst.category, package=package, checks=checks)


def build_matrix(records: Iterable[Record]) -> Matrix:
    """Build the matrix from records (any order; reruns de-duplicated by nodeid, last wins).

    Rows are keyed by (farm host, serial). Device identity fields take the first non-null value seen for the
    row. Every row has a cell for every
    column (``not_run`` where no record exists).
    """
    recs = latest_per_nodeid(list(records))
    # a row is one device on one farm host: two hosts may both serve an `emulator-5554`
    by_serial: dict[tuple[str, str], list[Record]] = {}
    packages: dict[str, str] = {}
    for r in recs:
        by_serial.setdefault((r.host, r.serial), []).append(r)
        if r.column != DEVICE_COLUMN and r.package:
            packages.setdefault(r.column, r.package)
    columns = (DEVICE_COLUMN, *sorted(packages, key=str.casefold))
    rows: list[DeviceRow] = []
    for (_host, serial), dev_recs in by_serial.items():
        def first(attr: str, dev_recs: list[Record] = dev_recs) -> object:
            return next((getattr(r, attr) for r in dev_recs if getattr(r, attr) is not None), None)

        cells = {col: _cell([r for r in dev_recs if r.column == col],
                            None if col == DEVICE_COLUMN else packages.get(col)) for col in columns}
        ran = [c.status for c in cells.values() if c.status != "not_run"]
        rows.append(DeviceRow(serial=serial, host=str(first("host")), model=first("model"),  # type: ignore[arg-type]
                              profile=first("profile"), region=first("region"),  # type: ignore[arg-type]
                              fingerprint=first("fingerprint"), android=first("android"),  # type: ignore[arg-type]
                              sdk=first("sdk"), status=min(ran, key=_rank) if ran else "not_run",  # type: ignore[arg-type]
                              cells=cells))
    rows.sort(key=lambda d: ((d.model or "").casefold(), d.region or "", d.serial))
    totals = Counter(r.outcome for r in recs)
    return Matrix(columns=columns, packages=packages, devices=tuple(rows),
                  totals={k: totals.get(k, 0) for k in ("passed", "failed", "broken", "skipped")},
                  generated_at=_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"))


def matrix_to_json(matrix: Matrix) -> dict[str, object]:
    """The compliance.json document (schema version :data:`SCHEMA_VERSION`; see README_SECTION.md)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": matrix.generated_at,
        "status": matrix.status,
        "status_order": list(STATUS_ORDER),
        "totals": matrix.totals,
        "columns": [{"name": c, "package": matrix.packages.get(c)} for c in matrix.columns],
        "devices": [
            {
                "serial": d.serial, "host": d.host, "model": d.model, "profile": d.profile, "region": d.region,
                "fingerprint": d.fingerprint, "android": d.android, "sdk": d.sdk, "status": d.status,
                "cells": {
                    col: {
                        "status": c.status, "reason": c.reason, "check": c.check, "severity": c.severity,
                        "category": c.category, "package": c.package, "counts": c.counts(),
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


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def matrix_to_markdown(matrix: Matrix) -> str:
    """compliance.md: a summary line, the table (one row per device) and a list of failing cells."""
    t = matrix.totals
    lines = [
        "# Compliance matrix",
        "",
        f"Generated {matrix.generated_at} · overall **{STATUS_LABEL[matrix.status]}** · "
        f"{len(matrix.devices)} devices · checks: {t['passed']} passed, {t['failed']} failed, "
        f"{t['broken']} error (infrastructure), {t['skipped']} skipped",
        "",
        "Cell = worst status of its checks (FAIL > ERROR > PASS > SKIP) and the reason. "
        "FAIL is a product defect; ERROR means infrastructure stopped the check (nothing proven); "
        "SKIP means no check applied.",
        "",
        "| Device | " + " | ".join(_md_escape(c) for c in matrix.columns) + " |",
        "|---" * (len(matrix.columns) + 1) + "|",
    ]
    for d in matrix.devices:
        cells = [f"{_STATUS_ICON[c.status]} {STATUS_LABEL[c.status]}: {_md_escape(c.reason)}"
                 for c in (d.cells[col] for col in matrix.columns)]
        head = f"**{_md_escape(d.model or '?')} · {_md_escape(d.region or '?')}**<br>`{_md_escape(d.serial)}`"
        lines.append(f"| {head} | " + " | ".join(cells) + " |")
    failing = matrix.failing()
    lines += ["", "## Failing cells", ""]
    if not failing:
        lines.append("None.")
    for d, col, c in failing:
        lines.append(f"- {STATUS_LABEL[c.status]} **{_md_escape(d.label)}** / **{_md_escape(col)}** "
                     f"[{c.severity}]: {_md_escape(c.reason)}")
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #ccc;padding:6px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f3f3f3;position:sticky;top:0}thead th:first-child{width:12em}
.failed{background:#fde2e1}.broken{background:#fff1cc}.skipped{background:#eef0f3}.passed{background:#e3f6e3}
.not_run{background:#fafafa;color:#888}.st{font-weight:700}.reason{font-size:12px}
.badge{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:700}
ul.failing li{margin:.2em 0}code{font-size:12px}
"""


def matrix_to_html(matrix: Matrix) -> str:
    """compliance.html: a self-contained page (inline CSS, no scripts, no external resources).

    Elements tests and people rely on: ``#summary``, ``table#matrix`` with ``tr[data-serial]`` rows and
    ``td[data-column][data-status]`` cells, and ``ul#failing`` listing every failed/broken cell.
    """
    e = html.escape
    t = matrix.totals
    head = "".join(f"<th>{e(c)}" + (f"<br><code>{e(matrix.packages[c])}</code>" if c in matrix.packages else "")
                   + "</th>" for c in matrix.columns)
    rows = []
    for d in matrix.devices:
        tds = []
        for col in matrix.columns:
            c = d.cells[col]
            tip = "\n".join(f"{ch.outcome.upper()} {ch.check} [{ch.severity}]: {ch.reason}" for ch in c.checks)
            tds.append(f'<td class="{c.status}" data-column="{e(col)}" data-status="{c.status}" title="{e(tip)}">'
                       f'<span class="st">{STATUS_LABEL[c.status]}</span> '
                       f'<span class="reason">{e(c.reason)}</span></td>')
        rows.append(f'<tr data-serial="{e(d.serial)}"><td class="dev {d.status}"><b>{e(d.model or "?")} · '
                    f'{e(d.region or "?")}</b><br><code>{e(d.serial)}</code><br><small>Android {e(d.android or "?")}'
                    f' · {e(d.host)}</small></td>{"".join(tds)}</tr>')
    failing = "".join(
        f'<li class="{c.status}"><span class="badge">{STATUS_LABEL[c.status]}</span> <b>{e(d.label)}</b> / '
        f'<b>{e(col)}</b> [{e(c.severity or "")}]: {e(c.reason)}</li>' for d, col, c in matrix.failing()
    ) or "<li>None.</li>"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Compliance matrix</title>"
        f"<style>{_CSS}</style></head><body>\n<h1>Compliance matrix</h1>\n"
        f'<p id="summary">Generated {e(matrix.generated_at)} · overall <b class="{matrix.status}">'
        f"{STATUS_LABEL[matrix.status]}</b> · {len(matrix.devices)} devices · checks: {t['passed']} passed, "
        f"{t['failed']} failed, {t['broken']} error (infrastructure), {t['skipped']} skipped</p>\n"
        "<p>Cell = worst status of its checks (FAIL &gt; ERROR &gt; PASS &gt; SKIP). FAIL is a product defect; "
        "ERROR means infrastructure stopped the check (nothing proven); SKIP means no check applied. "
        "Hover a cell for every check.</p>\n"
        f'<table id="matrix"><thead><tr><th>Device</th>{head}</tr></thead><tbody>\n'
        + "\n".join(rows)
        + '\n</tbody></table>\n<h2>Failing cells</h2>\n<ul id="failing" class="failing">'
        + failing + "</ul>\n</body></html>\n"
    )


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
