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
13   EXIT_PARTIAL               no defect and no infrastructure error, but required checks did not run: tests
                                deselected (``-k``, ``--lf``), a suite not selected, a run that stopped early, a
                                shard missing from a merge, or records without a run header (coverage unknown).
                                Nothing can ship on a run that did not look.
12   EXIT_USAGE                 the gate could not be evaluated: bad ``--gate-severity``, unreadable records,
                                report toolchain missing (tools/report.py)
==== ========================== ================================================================================

Precedence: 1 beats 10 beats 11 beats 13 beats 0 — a proven defect is reported even when other devices were
unreachable, and "ship" needs every required check of the run's contract (its ``expected`` list, see
:mod:`harness.reporting.records`) to have a record.

Rules, per record (reruns de-duplicated by nodeid, last attempt wins):

* A record is *required* when its severity is at or above the gate (``blocker`` > ``critical`` > ``normal`` >
  ``minor``). Failures below the gate do not change the code; :func:`summary_lines` lists them as warnings.
* ``failed`` = product defect, unless its category is an infrastructure category (then it counts as infra).
* ``broken`` = infrastructure. ``skipped`` counts as infrastructure when its category is an infrastructure
  category (a device that vanished skips its remaining checks); any other skip means "not applicable".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.errors import UsageError
from harness.reporting.allure_env import INFRA_CATEGORY_NAMES
from harness.reporting.matrix import outcome_totals, short_reason
from harness.reporting.records import SEVERITIES, ExpectedCheck, Record, latest_per_nodeid
from harness.reporting.text import neutralize

EXIT_SHIP = 0
EXIT_PRODUCT_DEFECT = 1
EXIT_INFRASTRUCTURE = 10
EXIT_NO_CHECKS = 11
EXIT_USAGE = 12
EXIT_PARTIAL = 13

EXIT_CODES: dict[int, str] = {
    EXIT_SHIP: "ship: every required check ran and passed",
    EXIT_PRODUCT_DEFECT: "product defect at or above the gate severity",
    EXIT_INFRASTRUCTURE: "infrastructure errors prevented required checks (no defect proven): fix what they name "
                         "(device, adb server, unreadable file), then rerun",
    EXIT_NO_CHECKS: "no required check ran",
    EXIT_PARTIAL: "partial: required checks did not run, nothing can ship on this run",
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
        not_run: required expected checks without a record (deselected, not selected, run stopped).
        coverage_problems: why coverage cannot be proven at all (no run header, a shard missing from a merge).
    """

    code: int
    gate_severity: str
    defects: tuple[Record, ...]
    infra: tuple[Record, ...]
    below_gate: tuple[Record, ...]
    required_ran: int
    counts: dict[str, int]
    not_run: tuple[ExpectedCheck, ...] = ()
    coverage_problems: tuple[str, ...] = ()

    @property
    def meaning(self) -> str:
        """One line for :attr:`code`."""
        return EXIT_CODES[self.code]


def missing_checks(records: Iterable[Record], expected: Iterable[ExpectedCheck]) -> list[ExpectedCheck]:
    """The ``expected`` checks without a record (matched on host, adb serial, check and package).

    A device whose problem was recorded (``device`` / ``profile_match``: unreachable, no profile) covers its
    expected checks: they are reported through that error, not as "not run".
    """
    recs = list(records)
    have = {(r.host, r.serial, r.check, r.package) for r in recs}
    down = {(r.host, r.serial) for r in recs if r.check in ("device", "profile_match")}
    return [e for e in expected if e.key not in have and (e.host, e.serial) not in down]


def evaluate_gate(records: Iterable[Record], gate_severity: str = "critical", *,
                  expected: Iterable[ExpectedCheck] | None = None,
                  coverage_problems: Iterable[str] = ()) -> GateResult:
    """Apply the gate rules (module docstring) to ``records``.

    ``expected``: the checks the run's contract requires (run headers); required ones without a record make the
    run partial (13). ``coverage_problems``: reasons coverage cannot be shown at all (also 13). Without
    ``expected`` the records alone decide (as for hand-made record files in tests).

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
    not_run = [e for e in missing_checks(recs, expected or ()) if SEVERITIES.index(e.severity) <= limit]
    problems = tuple(coverage_problems)
    if defects:
        code = EXIT_PRODUCT_DEFECT
    elif infra:
        code = EXIT_INFRASTRUCTURE
    elif required_ran == 0:
        code = EXIT_NO_CHECKS
    elif not_run or problems:
        code = EXIT_PARTIAL
    else:
        code = EXIT_SHIP
    by_sev = lambda r: SEVERITIES.index(r.severity)  # noqa: E731
    counts = Counter(r.outcome for r in recs)
    return GateResult(code=code, gate_severity=sev, defects=tuple(sorted(defects, key=by_sev)),
                      infra=tuple(sorted(infra, key=by_sev)), below_gate=tuple(sorted(below, key=by_sev)),
                      required_ran=required_ran,
                      counts={k: counts.get(k, 0) for k in ("passed", "failed", "broken", "skipped")},
                      not_run=tuple(sorted(not_run, key=lambda e: SEVERITIES.index(e.severity))),
                      coverage_problems=problems)


def gate_exit_code(records: Iterable[Record], gate_severity: str = "critical", *,
                   expected: Iterable[ExpectedCheck] | None = None) -> int:
    """The exit code for ``records`` at ``gate_severity`` (0, 1, 10, 11 or 13; see the module docstring).

    Raises:
        UsageError: ``gate_severity`` is not a known severity.
    """
    return evaluate_gate(records, gate_severity, expected=expected).code


def _where(r: Record) -> str:
    what = r.app or r.package or "device"
    who = r.device_serial or r.serial
    return neutralize(f"{r.model or '?'} · {r.region or '?'} ({who}) / {what} / {r.check} [{r.severity}]")


VERDICT_WORDS: dict[int, str] = {
    EXIT_SHIP: "PASS", EXIT_PRODUCT_DEFECT: "FAIL", EXIT_INFRASTRUCTURE: "ERROR", EXIT_NO_CHECKS: "NO CHECKS",
    EXIT_PARTIAL: "PARTIAL", EXIT_USAGE: "NOT EVALUATED",
}
"""The word after ``gate``: only 1 says FAIL (a product defect); 10 is an ERROR of the infrastructure, not of the
product; 13 a PARTIAL run."""


def _where_expected(e: ExpectedCheck) -> str:
    return neutralize(f"{e.model or '?'} · {e.region or '?'} ({e.device_serial or e.serial}) / "
                      f"{e.app or e.package or 'device'} / {e.check} [{e.severity}]")


def not_run_lines(not_run: Sequence[ExpectedCheck], examples: int = 3) -> list[str]:
    """Required checks that did not run, grouped: one line of counts per check, then a few examples.

    ``NOT RUN 36 required checks on 8 devices: presence 8, version 8, ... (deselected, not selected, or the run
    stopped)`` then ``NOT RUN e.g. MI 4S · CN (abc) / Excel / presence [critical]``.
    """
    per_check = Counter(e.check for e in not_run)
    devices = len({(e.host, e.serial) for e in not_run})
    lines = [f"NOT RUN {len(not_run)} required check{'s' if len(not_run) != 1 else ''} on {devices} "
             f"device{'s' if devices != 1 else ''}: " + ", ".join(f"{c} {n}" for c, n in per_check.most_common())
             + " (deselected, not selected, or the run stopped)"]
    lines += [f"NOT RUN e.g. {_where_expected(e)}" for e in not_run[:examples]]
    return lines


def summary_lines(records: Iterable[Record], gate_severity: str = "critical", *, limit: int = 50,
                  expected: Iterable[ExpectedCheck] | None = None, coverage_problems: Iterable[str] = ()) -> list[str]:
    """Human summary for the end of a run: the verdict line first, then counts, defects, infra, warnings.

    Example::

        gate FAIL (exit 1): product defect at or above the gate severity [gate: critical]
        checks: 38 passed, 2 failed, 1 error (infrastructure), 3 skipped, 1 below the gate (warnings); 8 devices
        DEFECT MI 4S · CN (abc) / Excel / presence [critical]: [missing app] Excel is not installed
        INFRA  Redmi 3 · ID (def) / Outlook / launch [critical]: harness.errors.AdbTimeout: [def] ...
        NOT RUN MI 5 · CN (ghi) / Word / presence [critical]
        below gate: MI 5 · CN (ghi) / PowerPoint / launch [normal]: [slow launch] ...

    The verdict word is :data:`VERDICT_WORDS` (an infrastructure-only run is an ERROR, not a FAIL). The counts
    are the matrix's (:func:`harness.reporting.matrix.outcome_totals`): "failed" is a failure at or above the gate,
    one below it is counted "below the gate (warnings)", as compliance.md/html/json count it. At most
    ``limit`` lines per section (then ``… and N more``); each reason is shortened as in the matrix
    (:func:`harness.reporting.matrix.short_reason`: no device/app prefix, no evidence, ≤ 240 characters).

    Raises:
        UsageError: ``gate_severity`` is not a known severity.
    """
    recs = latest_per_nodeid(list(records))
    expected = list(expected or ())
    g = evaluate_gate(recs, gate_severity, expected=expected, coverage_problems=coverage_problems)
    c = outcome_totals(recs, g.gate_severity)  # counted as the matrix counts: a failure below the gate is a warning
    # the run's devices: those with a record and those the run header expected checks on (a --lf or -k run
    # leaves some without a record), as the matrix counts its rows and "NOT RUN … on N devices" counts them
    devices = len({(r.host, r.serial) for r in recs} | {(e.host, e.serial) for e in expected})
    lines = [f"gate {VERDICT_WORDS[g.code]} (exit {g.code}): {g.meaning} [gate: {g.gate_severity}]",
             f"checks: {c['passed']} passed, {c['failed']} failed, {c['broken']} error (infrastructure), "
             f"{c['skipped']} skipped" + (f", {c['warning']} below the gate (warnings)" if c["warning"] else "")
             + (f", {len(g.not_run)} required not run" if g.not_run else "")
             + f"; {devices} device{'s' if devices != 1 else ''}"]
    lines += [f"PARTIAL {p}" for p in g.coverage_problems]
    for tag, items in (("DEFECT", g.defects), ("INFRA ", g.infra), ("below gate:", g.below_gate)):
        for r in items[:limit]:
            lines.append(f"{tag} {_where(r)}: {short_reason(r, 240)}")
        if len(items) > limit:
            lines.append(f"{tag} … and {len(items) - limit} more")
        if tag == "INFRA " and g.not_run:
            lines += not_run_lines(g.not_run)
    return lines
