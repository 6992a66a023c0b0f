"""Compliance matrix: worst status per cell, device column, reasons, and the three output files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.reporting.matrix import SCHEMA_VERSION, STATUS_ORDER, build_matrix, matrix_to_markdown, write_matrix

from .helpers import rec


def test_worst_status_order_failed_broken_passed_skipped() -> None:
    records = [
        rec("s1", "Word", "presence"), rec("s1", "Word", "launch", outcome="broken", reason="AdbTimeout"),
        rec("s1", "Word", "version", outcome="failed", reason="[version mismatch] 16.0.6925.1000"),
        rec("s1", "Excel", "presence"), rec("s1", "Excel", "launch", outcome="broken", reason="[s1] offline"),
        rec("s1", "PowerPoint", "presence"), rec("s1", "PowerPoint", "app_region", outcome="skipped", reason="n/a"),
    ]
    m = build_matrix(records)
    row = m.devices[0]
    assert row.cells["Word"].status == "failed"
    assert row.cells["Word"].reason.startswith("version: [version mismatch]")
    assert row.cells["Excel"].status == "broken"
    assert row.cells["PowerPoint"].status == "passed"  # a not-applicable skip does not hide a pass
    assert row.cells["PowerPoint"].reason == "1 check passed: presence (1 not applicable)"
    assert row.status == "failed"
    assert STATUS_ORDER == ("failed", "broken", "missing", "warning", "passed", "skipped", "not_run")


def test_all_skipped_cell_is_skipped_and_row_of_passes_and_skips_is_passed() -> None:
    m = build_matrix([rec("s1", "Word"), rec("s1", "Excel", "presence", outcome="skipped", reason="not required"),
                      rec("s1", "Excel", "launch", outcome="skipped", reason="not required")])
    assert m.devices[0].cells["Excel"].status == "skipped"
    assert m.devices[0].cells["Excel"].reason == "presence: not required (+1 more skipped)"
    assert m.devices[0].status == "passed"


def test_infrastructure_skip_shows_as_error_not_as_pass() -> None:
    m = build_matrix([rec("s1", "Word", "presence"),
                      rec("s1", "Word", "launch", outcome="skipped", category="Device offline or unauthorized",
                          reason="[s1] device offline")])
    cell = m.devices[0].cells["Word"]
    assert cell.status == "broken"
    assert cell.reason == "launch: [s1] skipped: device offline"


def test_cell_reason_drops_device_and_app_prefixes_and_evidence() -> None:
    reason = ("[missing app] MI 4S (s2): Excel (com.microsoft.office.excel): Excel is not installed "
              "expected: installed for user 0 found: not installed evidence: pm list packages --user 0: (none)")
    m = build_matrix([rec("s2", "Excel", outcome="failed", reason=reason)])
    assert m.devices[0].cells["Excel"].reason == ("presence: [missing app] Excel is not installed expected: "
                                                  "installed for user 0 found: not installed")


def test_device_level_checks_go_to_the_device_column_and_columns_are_sorted() -> None:
    m = build_matrix([rec("s1", "Word"), rec("s1", None, "region", outcome="failed", reason="[region not agreed] RU"),
                      rec("s1", "Excel")])
    assert m.columns == ("device", "Excel", "Word")
    assert m.devices[0].cells["device"].status == "failed"
    assert m.devices[0].cells["device"].package is None
    assert m.packages == {"Excel": "com.microsoft.office.excel", "Word": "com.microsoft.office.word"}


def test_missing_cell_is_not_run_and_rows_sorted_by_model() -> None:
    m = build_matrix([rec("s1", "Word"), rec("s2", "Excel")])
    assert [d.model for d in m.devices] == ["MI 4S", "MI 5"]
    mi5 = m.devices[1]
    assert mi5.cells["Excel"].status == "not_run"
    assert mi5.cells["Excel"].reason == "no check applies"
    assert mi5.status == "passed"


def test_same_status_reason_names_the_most_severe_and_counts_the_rest() -> None:
    m = build_matrix([
        rec("s1", "Word", "launch", outcome="failed", severity="normal", reason="[slow launch] 6000 ms"),
        rec("s1", "Word", "presence", outcome="failed", severity="blocker", reason="[missing app] Word"),
        rec("s1", "Word", "enabled", outcome="failed", severity="critical", reason="[disabled]"),
    ])
    cell = m.devices[0].cells["Word"]
    assert cell.reason == "presence: [missing app] Word (+1 more failed)"  # the normal one is a warning
    assert cell.severity == "blocker"
    assert [(c.check, c.outcome) for c in cell.checks] == [("presence", "failed"), ("enabled", "failed"),
                                                           ("launch", "warning")]


def test_all_passed_reason_lists_checks_and_reason_is_one_line() -> None:
    m = build_matrix([rec(check="presence"), rec(check="version"),
                      rec("s2", "Word", "launch", outcome="failed", reason="[launch crash]\nTraceback  line 2 "
                          + "x" * 300)])
    assert m.devices[1].cells["Word"].reason == "2 checks passed: presence, version"
    reason = m.devices[0].cells["Word"].reason
    assert reason.startswith("launch: [launch crash] Traceback line 2 xxx") and reason.endswith("…")
    assert len(reason) == len("launch: ") + 200


def test_rerun_replaces_the_earlier_attempt() -> None:
    m = build_matrix([rec(outcome="broken", reason="adb timeout"), rec(outcome="passed")])
    assert m.devices[0].cells["Word"].status == "passed"
    assert m.totals == {"passed": 1, "failed": 0, "broken": 0, "skipped": 0, "warning": 0, "missing": 0}


def test_empty_records_give_an_empty_matrix() -> None:
    m = build_matrix([])
    assert m.devices == () and m.status == "not_run" and m.columns == ("device",)


def test_write_matrix_files_and_json_schema(tmp_path: Path) -> None:
    records = [rec("s1", "Word"), rec("s2", "Excel", outcome="failed", reason="[missing app] Excel | x",
                                      category="Missing app", expected="installed", found="absent"),
               rec("s2", None, "region")]
    paths = write_matrix(build_matrix(records), tmp_path)
    assert set(paths) == {"md", "html", "json"}
    assert all(p.exists() and p.parent == tmp_path for p in paths.values())
    doc = json.loads(paths["json"].read_text())
    assert doc["schema_version"] == SCHEMA_VERSION == 2
    assert set(doc) == {"schema_version", "generated_at", "status", "status_order", "totals", "columns", "devices",
                        "gate_severity", "run_ids", "coverage_problems"}
    assert doc["coverage_problems"] == []
    assert doc["status"] == "failed"
    assert [c["name"] for c in doc["columns"]] == ["device", "Excel", "Word"]
    mi4s = next(d for d in doc["devices"] if d["serial"] == "s2")
    assert set(mi4s) == {"serial", "host", "model", "profile", "region", "fingerprint", "android", "sdk", "status",
                         "cells", "adb_serial", "device_serial", "build", "run_ids", "operator"}
    cell = mi4s["cells"]["Excel"]
    assert set(cell) == {"status", "reason", "check", "severity", "category", "package", "counts", "checks",
                         "found", "missing", "below_gate_not_run"}
    assert cell["status"] == "failed" and cell["category"] == "Missing app"
    assert cell["counts"] == {"passed": 0, "failed": 1, "broken": 0, "skipped": 0, "warning": 0, "missing": 0}
    assert cell["checks"][0] == {"check": "presence", "outcome": "failed", "severity": "critical",
                                 "reason": "[missing app] Excel | x (expected installed; found absent)",
                                 "expected": "installed", "found": "absent",
                                 "category": "Missing app", "nodeid": "suites/test_x.py::test_presence[s2-Excel]"}
    assert mi4s["cells"]["Word"]["status"] == "not_run"
    md = paths["md"].read_text()
    assert "[missing app] Excel \\| x" in md  # pipes escaped so the table keeps its columns
    assert "## Cells that block or warn" in md and "MI 4S · CN (s2)** / **Excel**" in md
    html = paths["html"].read_text()
    assert '<td class="failed" data-column="Excel" data-status="failed"' in html
    assert "<script" not in html and "http" not in html.split("</style>")[1]


def test_markdown_rows_have_one_cell_per_column() -> None:
    md = matrix_to_markdown(build_matrix([rec("s1", "Word"), rec("s1", "Excel", outcome="failed", reason="a|b")]))
    table = [line for line in md.splitlines() if line.startswith("| **")]
    assert len(table) == 1
    assert table[0].replace("\\|", "").count("|") == 3 + 2  # device label + device + Excel + Word


def test_same_serial_on_two_farm_hosts_is_two_rows():
    """Every farm host may serve an `emulator-5554`: rows are (host, serial), not serial alone."""
    records = [rec("emulator-5554", "Word", nodeid="a").model_copy(update={"host": "farm-a:5037"}),
               rec("emulator-5554", "Word", nodeid="b", outcome="failed",
                   reason="[missing app] x").model_copy(update={"host": "farm-b:5037"})]
    matrix = build_matrix(records)
    assert sorted((d.host, d.status) for d in matrix.devices) == [("farm-a:5037", "passed"), ("farm-b:5037", "failed")]


def _expected(serial, app, check, severity="critical"):
    from harness.reporting.records import ExpectedCheck

    from .helpers import APPS, DEVICES

    return ExpectedCheck(host="127.0.0.1:5037", serial=serial, check=check, package=APPS[app], app=app,
                         severity=severity, model=DEVICES[serial]["model"], region=DEVICES[serial]["region"])


def test_a_required_check_that_did_not_run_makes_its_cell_not_run_even_next_to_passes() -> None:
    records = [rec("s1", "Word", "version")]
    expected = [_expected("s1", "Word", "version"), _expected("s1", "Word", "presence"),
                _expected("s2", "Excel", "presence"), _expected("s1", "Word", "launch", severity="minor")]
    m = build_matrix(records, expected=expected)
    word = next(d for d in m.devices if d.serial == "s1").cells["Word"]
    assert word.status == "missing" and word.missing == ("presence",)  # launch is minor: below the gate
    assert word.below_gate_not_run == ("launch",)
    assert word.reason == "not run: presence (1 other check passed); not run (below the gate): launch"
    mi4s = next(d for d in m.devices if d.serial == "s2")  # a device with no record at all still has its row
    assert mi4s.cells["Excel"].status == "missing" and mi4s.model == "MI 4S"
    assert m.status == "missing" and m.totals["missing"] == 2  # the required ones only
    assert "NOT RUN" in matrix_to_markdown(m)


def test_only_a_minor_check_missing_does_not_block() -> None:
    m = build_matrix([rec("s1", "Word", "version")], expected=[_expected("s1", "Word", "launch", severity="minor")])
    assert m.devices[0].cells["Word"].status == "passed"


def test_a_failure_below_the_gate_is_a_warning() -> None:
    records = [rec("s1", "Word", "presence"), rec("s1", "Word", "launch", outcome="failed", severity="normal",
                                                 reason="[launch crash] x")]
    m = build_matrix(records, gate_severity="critical")
    assert m.devices[0].cells["Word"].status == "warning"
    assert m.devices[0].status == "warning"
    assert build_matrix(records, gate_severity="normal").devices[0].cells["Word"].status == "failed"
    assert "WARN" in matrix_to_markdown(m)


def test_a_pass_cell_shows_what_was_found() -> None:
    records = [rec("s1", "Word", "presence"),
               rec("s1", "Word", "version", found="version_name 16.0.7070.2036 (version_code 2002707036)"),
               rec("s1", "Word", "install_kind", found="system at /system/app/Word"),
               rec("s1", "Word", "launch", found="focused window com.x/.A in 812 ms; text \"Word\" shown")]
    cell = build_matrix(records).devices[0].cells["Word"]
    assert cell.reason.startswith("16.0.7070.2036 (2002707036) · system at /system/app/Word · launched in 812 ms · "
                                  "4 checks passed")


def test_device_text_is_neutralized_and_escaped_in_markdown_and_html() -> None:
    evil = "\x1b]0;title\x07\x1b[2J<script>alert(1)</script>"
    records = [rec("s1", "Word", "version", outcome="failed", reason=f"[version mismatch] {evil}", found=evil,
                   model="MI 5<b>")]
    m = build_matrix(records)
    md = matrix_to_markdown(m)
    assert "\x1b" not in md and "<script>" not in md and "<b>" not in md
    assert "&lt;script&gt;" in md and "\\x1b" in md
    from harness.reporting.matrix import matrix_to_html

    page = matrix_to_html(m)
    assert "\x1b" not in page and "<script>" not in page and "&lt;script&gt;" in page


def test_a_cell_whose_only_missing_checks_are_below_the_gate_is_not_run() -> None:
    m = build_matrix([rec("s1", "Word")], expected=[_expected("s1", "Excel", "launch", severity="minor")])
    cell = m.devices[0].cells["Excel"]
    assert cell.status == "not_run" and cell.reason == "not run (below the gate): launch"


def test_grid_header_lines_up_with_short_labels_and_uses_the_readme_words() -> None:
    from harness.reporting.matrix import grid_lines

    records = [rec("s1", "Word", model="A", region="CN"),
               rec("s2", "Excel", model="B", outcome="failed", reason="[missing app] x")]
    m = build_matrix(records, expected=[_expected("s1", "Excel", "presence")])
    head, rule, *rows = grid_lines(m)
    start = head.index("device")  # the first column starts at the same place in the header and in every row
    assert all(row[start - 1] == " " and row[start] != " " for row in rows), [head, *rows]
    assert len(rule) == len(head)
    import re

    words = re.compile(r"NOT RUN|PASS|FAIL|ERROR|WARN|SKIP|—")
    assert all(not words.sub("", row[start:]).strip() for row in rows), rows  # the README's words, nothing else
    assert "NOT RUN" in rows[0] and "FAIL" in rows[1] and "PASS" in rows[0]


def test_required_not_run_is_one_number_in_console_totals_and_cells() -> None:
    """A below-gate app (PowerPoint, normal) whose checks did not run is shown but never counted as required:
    the console's "N required not run", compliance.json totals.missing and the cells' missing lists agree."""
    from harness.reporting.gate import evaluate_gate, summary_lines
    from harness.reporting.matrix import matrix_to_json

    records = [rec("s1", "Excel", "version")]
    expected = [_expected(s, app, check, severity="normal" if app == "PowerPoint" else "critical")
                for s in ("s1", "s2") for app in ("Excel", "PowerPoint") for check in ("presence", "version")]
    m = build_matrix(records, expected=expected)
    doc = matrix_to_json(m)
    cells = [c for d in doc["devices"] for c in d["cells"].values()]
    lines = summary_lines(records, expected=expected)
    required = len(evaluate_gate(records, expected=expected).not_run)
    assert required == 3  # s1 Excel presence, s2 Excel presence and version
    assert doc["totals"]["missing"] == sum(len(c["missing"]) for c in cells) == required
    assert f", {required} required not run; 2 devices" in lines[1]
    assert f"NOT RUN {required} required checks on 2 devices" in "\n".join(lines)
    assert f"{required} required not run" in matrix_to_markdown(m)
    ppt = next(d for d in m.devices if d.serial == "s1").cells["PowerPoint"]
    assert ppt.status == "not_run" and ppt.missing == () and ppt.below_gate_not_run == ("presence", "version")
    assert ppt.reason == "not run (below the gate): presence, version" and ppt.counts()["missing"] == 0
    # at gate "normal" PowerPoint is required too: every view counts it
    m_normal = build_matrix(records, expected=expected, gate_severity="normal")
    assert m_normal.totals["missing"] == len(evaluate_gate(records, "normal", expected=expected).not_run) == 7


def test_the_summary_counts_the_devices_the_run_covers_not_only_those_with_a_record() -> None:
    """After a --lf run only some devices have records; "checks: …; N devices" and "NOT RUN … on N devices" agree."""
    from harness.reporting.gate import summary_lines

    expected = [_expected(s, "Word", "presence") for s in ("s1", "s2")]
    lines = summary_lines([rec("s1", "Word", "presence")], expected=expected)
    assert lines[1].endswith("; 2 devices") and "NOT RUN 1 required check on 1 device" in "\n".join(lines)


def test_legends_and_readme_name_every_status_as_the_matrix_shows_it() -> None:
    """compliance.json's `missing` is "NOT RUN" and `not_run` is "—": the README maps every status to its word,
    and the compliance.md / .html legends explain every word, "—" included."""
    from harness.reporting.matrix import STATUS_LABEL, matrix_to_html

    from .synthetic import REPO

    readme = (REPO / "README.md").read_text()
    for status, word in STATUS_LABEL.items():
        assert f"| `{status}` | {word} |" in readme, status
    m = build_matrix([rec("s1", "Word")])
    md, page = matrix_to_markdown(m), matrix_to_html(m)
    legend = next(line for line in md.splitlines() if line.startswith("Cell = "))
    for word in STATUS_LABEL.values():
        assert f"{word} (" in legend, word
        assert f"{word} (" in page, word


@pytest.mark.parametrize("gate", ["critical", "blocker"])
def test_console_and_matrix_count_failures_the_same_way(gate: str) -> None:
    """A failure below the gate is a warning in the console's "checks:" line as in compliance.md/json, never
    "failed" in one and "below the gate" in the other."""
    import re

    from harness.reporting.gate import summary_lines
    from harness.reporting.matrix import matrix_to_json

    records = [rec("s1", "Word"), rec("s1", "Excel", outcome="failed", reason="[missing app] gone"),
               rec("s2", "Word", "launch", outcome="failed", severity="normal", reason="[slow launch] 9 s"),
               rec("s2", "Excel", outcome="broken", reason="harness.errors.AdbTimeout: x")]
    console = summary_lines(records, gate)[1]
    m = build_matrix(records, gate_severity=gate)
    counts = re.compile(r"checks: (\d+ passed, \d+ failed, \d+ error \(infrastructure\), \d+ skipped"
                        r"(?:, \d+ below the gate \(warnings\))?)")
    said = counts.search(console)
    assert said is not None and said.group(1) == counts.search(matrix_to_markdown(m)).group(1), console
    totals = matrix_to_json(m)["totals"]
    failed, warnings = (1, 1) if gate == "critical" else (0, 2)
    assert (totals["failed"], totals["warning"]) == (failed, warnings)
    assert f"{failed} failed" in console and f"{warnings} below the gate (warnings)" in console


def test_coverage_problems_make_the_matrix_partial_like_the_gate(tmp_path: Path) -> None:
    """What the gate calls partial (a shard missing from a merge) the matrix shows too: overall NOT RUN
    (``missing``), never better, and the problems listed in md, html and json; a proven defect stays worse."""
    problem = "shard 2/2 missing from the merge: their devices were not checked"
    warned = [rec("s1", "Word"), rec("s1", "Word", "launch", outcome="failed", severity="normal", reason="[ANR] x")]
    m = build_matrix(warned, coverage_problems=[problem])
    assert build_matrix(warned).status == "warning" and m.status == "missing"
    paths = write_matrix(m, tmp_path)
    doc = json.loads(paths["json"].read_text())
    assert doc["status"] == "missing" and doc["coverage_problems"] == [problem]
    md = paths["md"].read_text()
    assert "overall **NOT RUN**" in md and f"- {problem}" in md and "PARTIAL" in md
    html = paths["html"].read_text()
    assert '<ul id="coverage"' in html and problem in html
    failing = build_matrix([rec("s1", "Word", outcome="failed", reason="[missing app] x")],
                           coverage_problems=[problem])
    assert failing.status == "failed"
    assert "coverage" not in matrix_to_markdown(build_matrix(warned)).lower()
