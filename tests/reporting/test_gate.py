"""Release gate exit codes and summary."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.reporting.gate import (
    EXIT_CODES,
    EXIT_INFRASTRUCTURE,
    EXIT_NO_CHECKS,
    EXIT_PARTIAL,
    EXIT_PRODUCT_DEFECT,
    EXIT_SHIP,
    EXIT_USAGE,
    evaluate_gate,
    gate_exit_code,
    summary_lines,
)

from .helpers import rec


def test_codes_are_distinct_and_avoid_pytest_codes() -> None:
    codes = [EXIT_SHIP, EXIT_PRODUCT_DEFECT, EXIT_INFRASTRUCTURE, EXIT_NO_CHECKS, EXIT_USAGE, EXIT_PARTIAL]
    assert len(set(codes)) == len(codes) and set(codes) == set(EXIT_CODES)
    assert not set(codes) & {2, 3, 4, 5}


def test_all_passed_ships() -> None:
    assert gate_exit_code([rec(), rec("s2", "Excel")]) == EXIT_SHIP


def test_failed_critical_is_a_product_defect() -> None:
    assert gate_exit_code([rec(), rec("s2", outcome="failed", reason="[missing app]")]) == EXIT_PRODUCT_DEFECT


def test_failure_below_gate_ships_with_a_warning() -> None:
    records = [rec(), rec("s2", "PowerPoint", "launch", outcome="failed", severity="normal", reason="[slow launch]")]
    assert gate_exit_code(records) == EXIT_SHIP
    assert gate_exit_code(records, "normal") == EXIT_PRODUCT_DEFECT
    assert any(line.startswith("below gate:") and "[slow launch]" in line for line in summary_lines(records))


def test_gate_severity_blocker_ignores_critical_failures() -> None:
    records = [rec(severity="blocker"), rec("s2", outcome="failed", severity="critical")]
    assert gate_exit_code(records, "blocker") == EXIT_SHIP
    assert gate_exit_code(records, "critical") == EXIT_PRODUCT_DEFECT


def test_infrastructure_only_is_distinct() -> None:
    records = [rec(), rec("s2", outcome="broken", reason="harness.errors.AdbTimeout: [s2] timeout",
                          category="adb timeout")]
    assert gate_exit_code(records) == EXIT_INFRASTRUCTURE


def test_defect_beats_infrastructure() -> None:
    records = [rec(outcome="failed"), rec("s2", outcome="broken")]
    assert gate_exit_code(records) == EXIT_PRODUCT_DEFECT


def test_skip_with_infra_category_is_infrastructure_other_skips_are_not_applicable() -> None:
    gone = rec("s2", outcome="skipped", category="Device offline or unauthorized", reason="device gone")
    assert gate_exit_code([rec(), gone]) == EXIT_INFRASTRUCTURE
    na = rec("s2", "Word", "app_region", outcome="skipped", reason="no region rule")
    assert gate_exit_code([rec(), na]) == EXIT_SHIP


def test_failed_with_infra_category_counts_as_infrastructure() -> None:
    # e.g. an assert in a fixture about the harness itself, tagged as a harness error by the plugin
    assert gate_exit_code([rec(), rec("s2", outcome="failed", category="Harness error")]) == EXIT_INFRASTRUCTURE


def test_nothing_ran() -> None:
    assert gate_exit_code([]) == EXIT_NO_CHECKS
    assert gate_exit_code([rec(outcome="skipped")]) == EXIT_NO_CHECKS
    assert gate_exit_code([rec(severity="minor")]) == EXIT_NO_CHECKS  # nothing at or above critical


def test_rerun_that_passed_ships() -> None:
    assert gate_exit_code([rec(outcome="broken"), rec(outcome="passed")]) == EXIT_SHIP


def test_bad_severity_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--gate-severity: unknown severity 'fatal'; use one of blocker"):
        gate_exit_code([rec()], "fatal")
    assert evaluate_gate([rec()], " Critical ").gate_severity == "critical"


def test_summary_lines() -> None:
    records = [rec(), rec("s2", "Excel", outcome="failed", reason="[missing app] Excel\nnot installed"),
               rec("s2", "Word", "launch", outcome="broken", reason="harness.errors.AdbTimeout: [s2] am start")]
    lines = summary_lines(records)
    assert lines[0] == "gate FAIL (exit 1): product defect at or above the gate severity [gate: critical]"
    assert lines[1] == "checks: 1 passed, 1 failed, 1 error (infrastructure), 0 skipped; 2 devices"
    assert lines[2] == "DEFECT MI 4S · CN (s2) / Excel / presence [critical]: [missing app] Excel not installed"
    assert lines[3].startswith("INFRA  MI 4S · CN (s2) / Word / launch [critical]: harness.errors.AdbTimeout")
    assert summary_lines([rec()])[0].startswith("gate PASS (exit 0)")


def test_summary_is_bounded() -> None:
    records = [rec(f"s{i}", outcome="failed", nodeid=f"t{i}") for i in range(60)]
    lines = summary_lines(records, limit=5)
    assert sum(line.startswith("DEFECT") for line in lines) == 6
    assert lines[-1] == "DEFECT … and 55 more"
