"""Release gate: one exit code CI can trust, computed from ``records.jsonl``.

Exit codes (stable; chosen not to collide with pytest's own 2 = interrupted, 3 = internal error,
4 = usage error, 5 = no tests collected, which .ci/run may pass through unchanged):

==== ========================== ================================================================================
code constant                   meaning
==== ========================== ================================================================================
0    EXIT_SHIP                  every required check ran and passed (required = severity at or above the gate)
1    EXIT_PRODUCT_DEFECT        at least one required check **failed** (a product defect: missing app, wrong
                                version, …). Same meaning as pytest's 1 "tests failed".
10   EXIT_INFRASTRUCTURE        no required check failed, but infrastructure errors (``broken``: device offline,
                                adb timeout, uiautomator2 server, harness error) or an infrastructure skip
                                stopped at least one required check from running: nothing is proven, rerun
11   EXIT_NO_CHECKS             no required check ran at all (empty or missing records, all skipped)
12   EXIT_USAGE                 the gate could not be evaluated: bad ``--gate-severity``, unreadable records,
                                report toolchain missing (tools/report.py)
==== ========================== ================================================================================

Precedence: 1 beats 10 beats 11 — a proven defect is reported even when other devices were unreachable.

Rules, per record (reruns de-duplicated by nodeid, last attempt wins):

* A record is *required* when its severity is at or above the gate (``blocker`` > ``critical`` > ``normal`` >
  ``minor``). Failures below the gate do not change the code; :func:`summary_lines` lists them as warnings.
* ``failed`` = product defect, unless its category is an infrastructure category (then it counts as infra).
* ``broken`` = infrastructure. ``skipped`` counts as infrastructure when its category is an infrastructure
  category (a device that vanished skips its remaining checks); any other skip means "not applicable".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from harness.errors import UsageError
from harness.reporting.allure_env import INFRA_CATEGORY_NAMES
from harness.reporting.matrix import short_reason
from harness.reporting.records import SEVERITIES, Record, latest_per_nodeid

EXIT_SHIP = 0
EXIT_PRODUCT_DEFECT = 1
EXIT_INFRASTRUCTURE = 10
EXIT_NO_CHECKS = 11
EXIT_USAGE = 12

EXIT_CODES: dict[int, str] = {
    EXIT_SHIP: "ship: every required check ran and passed",
    EXIT_PRODUCT_DEFECT: "product defect at or above the gate severity",
    EXIT_INFRASTRUCTURE: "infrastructure errors prevented required checks (no defect proven); rerun",
    EXIT_NO_CHECKS: "no required check ran",
    EXIT_USAGE: "gate could not be evaluated (usage error, unreadable records or missing toolchain)",
}

_INFRA_NAMES_LOWER = frozenset(n.casefold() for n in INFRA_CATEGORY_NAMES)


def _is_infra_category(category: str | None) -> bool:
    return category is not None and category.casefold() in _INFRA_NAMES_LOWER


def check_severity(gate_severity: str) -> str:
    """Validate a ``--gate-severity`` value; return it lower-cased.

    Raises:
        UsageError: not one of blocker, critical, normal, minor.
    """
    sev = gate_severity.strip().lower()
    if sev not in SEVERITIES:
        raise UsageError(f"--gate-severity: unknown severity {gate_severity!r}; use one of {', '.join(SEVERITIES)}")
    return sev


@dataclass(frozen=True)
class GateResult:
    """Verdict of the gate.

    Attributes:
        code: the exit code (see module docstring).
        gate_severity: the severity threshold used.
        defects: required records that failed (product defects), worst severity first.
        infra: required records stopped by infrastructure (broken, or failed/skipped with an infra category).
        below_gate: failed or broken records below the gate severity (warnings only).
        required_ran: number of required records that ran (passed or failed).
        counts: outcome counts over all de-duplicated records.
    """

    code: int
    gate_severity: str
    defects: tuple[Record, ...]
    infra: tuple[Record, ...]
    below_gate: tuple[Record, ...]
    required_ran: int
    counts: dict[str, int]

    @property
    def meaning(self) -> str:
        """One line for :attr:`code`."""
        return EXIT_CODES[self.code]


def evaluate_gate(records: Iterable[Record], gate_severity: str = "critical") -> GateResult:
    """Apply the gate rules (module docstring) to ``records``.

    Raises:
        UsageError: ``gate_severity`` is not a known severity.
    """
    sev = check_severity(gate_severity)
    limit = SEVERITIES.index(sev)
    recs = latest_per_nodeid(list(records))
    defects: list[Record] = []
    infra: list[Record] = []
    below: list[Record] = []
    required_ran = 0
    for r in recs:
        required = SEVERITIES.index(r.severity) <= limit
        is_infra = r.outcome == "broken" or (r.outcome in ("failed", "skipped") and _is_infra_category(r.category))
        is_defect = r.outcome == "failed" and not is_infra
        if not required:
            if is_defect or r.outcome == "broken":
                below.append(r)
            continue
        if is_defect:
            defects.append(r)
        elif is_infra:
            infra.append(r)
        if r.outcome in ("passed", "failed") and not is_infra:
            required_ran += 1
    if defects:
        code = EXIT_PRODUCT_DEFECT
    elif infra:
        code = EXIT_INFRASTRUCTURE
    elif required_ran == 0:
        code = EXIT_NO_CHECKS
    else:
        code = EXIT_SHIP
    by_sev = lambda r: SEVERITIES.index(r.severity)  # noqa: E731
    counts = Counter(r.outcome for r in recs)
    return GateResult(code=code, gate_severity=sev, defects=tuple(sorted(defects, key=by_sev)),
                      infra=tuple(sorted(infra, key=by_sev)), below_gate=tuple(sorted(below, key=by_sev)),
                      required_ran=required_ran,
                      counts={k: counts.get(k, 0) for k in ("passed", "failed", "broken", "skipped")})


def gate_exit_code(records: Iterable[Record], gate_severity: str = "critical") -> int:
    """The exit code for ``records`` at ``gate_severity`` (0, 1, 10 or 11; see the module docstring).

    Raises:
        UsageError: ``gate_severity`` is not a known severity.
    """
    return evaluate_gate(records, gate_severity).code


def _where(r: Record) -> str:
    what = r.app or r.package or "device"
    return f"{r.model or '?'} · {r.region or '?'} ({r.serial}) / {what} / {r.check} [{r.severity}]"


def summary_lines(records: Iterable[Record], gate_severity: str = "critical", *, limit: int = 50) -> list[str]:
    """Human summary for the end of a run: the verdict line first, then counts, defects, infra, warnings.

    Example::

        gate FAIL (exit 1): product defect at or above the gate severity [gate: critical]
        checks: 38 passed, 2 failed, 1 error (infrastructure), 3 skipped; 8 devices
        DEFECT MI 4S · CN (abc) / Excel / presence [critical]: [missing app] Excel is not installed
        INFRA  Redmi 3 · ID (def) / Outlook / launch [critical]: harness.errors.AdbTimeout: [def] ...
        below gate: MI 5 · CN (ghi) / PowerPoint / launch [normal]: [slow launch] ...

    At most ``limit`` lines per section (then ``… and N more``); each reason is shortened as in the matrix
    (:func:`harness.reporting.matrix.short_reason`: no device/app prefix, no evidence, ≤ 240 characters).

    Raises:
        UsageError: ``gate_severity`` is not a known severity.
    """
    recs = latest_per_nodeid(list(records))
    g = evaluate_gate(recs, gate_severity)
    verdict = "PASS" if g.code == EXIT_SHIP else "FAIL"
    c = g.counts
    lines = [f"gate {verdict} (exit {g.code}): {g.meaning} [gate: {g.gate_severity}]",
             f"checks: {c['passed']} passed, {c['failed']} failed, {c['broken']} error (infrastructure), "
             f"{c['skipped']} skipped; {len({(r.host, r.serial) for r in recs})} devices"]
    for tag, items in (("DEFECT", g.defects), ("INFRA ", g.infra), ("below gate:", g.below_gate)):
        for r in items[:limit]:
            lines.append(f"{tag} {_where(r)}: {short_reason(r, 240)}")
        if len(items) > limit:
            lines.append(f"{tag} … and {len(items) - limit} more")
    return lines
