"""Runs in records files (run headers), and how tools.report picks and merges them."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reporting.gate import EXIT_PARTIAL, EXIT_SHIP, evaluate_gate
from harness.reporting.records import ExpectedCheck, RecordWriter, RunHeader, read_runs
from tools.report import select_runs

from .helpers import rec


def _write(path: Path, run_id: str, serial: str, *, shard: str | None = None, listed=("h/s1", "h/s2"),
           digest: str | None = "sha256:0a", options: dict | None = None, outcome: str = "passed") -> None:
    with RecordWriter(path) as w:
        w.write_header(RunHeader(run_id=run_id, started=f"2026-12-01T00:00:0{run_id[-1]}Z", shard=shard,
                                 listed=list(listed), profiles_digest=digest, options=options or {},
                                 expected=[ExpectedCheck(host="127.0.0.1:5037", serial=serial, check="presence",
                                                         package="com.microsoft.office.word", app="Word",
                                                         severity="critical")]))
        w.write(rec(serial, "Word", "presence", outcome=outcome,
                    reason="ok" if outcome == "passed" else "[missing app] Word is not installed")
                .model_copy(update={"run_id": run_id}))


def test_read_runs_keeps_runs_apart(tmp_path):
    path = tmp_path / "records.jsonl"
    _write(path, "r1", "s1")
    _write(path, "r2", "s2")
    runs = read_runs(path)
    assert [r.run_id for r in runs] == ["r1", "r2"]
    assert [[x.serial for x in r.records] for r in runs] == [["s1"], ["s2"]]


def test_latest_run_unless_all_runs(tmp_path):
    path = tmp_path / "records.jsonl"
    _write(path, "r1", "s1")
    _write(path, "r2", "s2")
    sel = select_runs([path])
    assert [r.serial for r in sel.records] == ["s2"] and "using the latest (r2)" in sel.notes[0]
    assert evaluate_gate(sel.records, expected=sel.expected).code == EXIT_SHIP
    both = select_runs([path], all_runs=True)
    assert sorted(r.serial for r in both.records) == ["s1", "s2"]


def test_a_missing_shard_makes_the_merge_partial(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, "r1", "s1", shard="1/2")
    _write(b, "r2", "s2", shard="2/2")
    whole = select_runs([a, b])
    assert not whole.coverage_problems and "merged shards 1/2, 2/2" in whole.notes
    assert evaluate_gate(whole.records, expected=whole.expected).code == EXIT_SHIP
    half = select_runs([a])
    assert half.coverage_problems == ["shard 2/2 missing from the merge: their devices were not checked"]
    assert evaluate_gate(half.records, expected=half.expected,
                         coverage_problems=half.coverage_problems).code == EXIT_PARTIAL


def test_the_matrix_of_a_merge_with_a_missing_shard_says_partial_as_the_gate_does(tmp_path, capsys):
    """Console, compliance.md/html/json: one verdict. Only shard 1/2 (with a below-gate warning) is given."""
    import json

    from tools.report import main

    a = tmp_path / "a.jsonl"
    _write(a, "r1", "s1", shard="1/2")
    with RecordWriter(a) as w:  # a failure below the gate in the same run: the matrix alone would say WARN
        w.write(rec("s1", "Word", "launch", outcome="failed", severity="normal", reason="[ANR] x")
                .model_copy(update={"run_id": "r1"}))
    out = tmp_path / "out"
    assert main(["--records", str(a), "--out", str(out), "--no-html"]) == EXIT_PARTIAL
    assert "PARTIAL shard 2/2 missing from the merge" in capsys.readouterr().out
    doc = json.loads((out / "compliance.json").read_text())
    assert doc["status"] == "missing"
    assert doc["coverage_problems"] == ["shard 2/2 missing from the merge: their devices were not checked"]
    md = (out / "compliance.md").read_text()
    assert "overall **NOT RUN**" in md and "shard 2/2 missing from the merge" in md
    assert "shard 2/2 missing from the merge" in (out / "compliance.html").read_text()


def test_shards_that_saw_different_farms_are_flagged(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, "r1", "s1", shard="1/2")
    _write(b, "r2", "s2", shard="2/2", listed=("h/s1", "h/s2", "h/s3"))
    assert any("different farms" in p for p in select_runs([a, b]).coverage_problems)


@pytest.mark.parametrize("b_started", ["older", "newer"])
def test_a_shard_run_of_another_farm_is_never_dropped_as_a_rerun(tmp_path, b_started, capsys):
    """Shards 1/2 and 2/2 of farm A, and shard 1/2 of farm B (another device list) with a defect: whichever ran
    later, B's run is not taken for a rerun of A's shard 1/2: every run is kept, the merge names the runs of each
    farm, and the verdict is the same both ways (never ship; B's defect is shown)."""
    from harness.reporting.gate import EXIT_PRODUCT_DEFECT
    from tools.report import main

    a1, a2, b1 = tmp_path / "a1.jsonl", tmp_path / "a2.jsonl", tmp_path / "b1.jsonl"
    _write(a1, "a5", "s1", shard="1/2")
    _write(a2, "a6", "s2", shard="2/2")
    _write(b1, "b1" if b_started == "older" else "b9", "t1", shard="1/2", listed=("g/t1", "g/t2"),
           outcome="failed")
    sel = select_runs([a1, a2, b1])
    assert sorted(r.serial for r in sel.records) == ["s1", "s2", "t1"]
    assert not any("ran twice" in n for n in sel.notes), sel.notes
    farms = next(p for p in sel.coverage_problems if "different farms" in p)
    assert "shard 1/2 (run a5" in farms and "(run b" in farms and "g/t1, g/t2" in farms and "h/s1, h/s2" in farms
    assert any(p.startswith("shard 2/2 of the farm listing g/t1, g/t2") for p in sel.coverage_problems)
    assert main([*(x for f in (a1, a2, b1) for x in ("--records", str(f))), "--out", str(tmp_path / "out"),
                 "--no-html"]) == EXIT_PRODUCT_DEFECT
    said = capsys.readouterr().out
    assert "PARTIAL the merged shard runs saw different farms" in said and "DEFECT" in said
    # without B's defect: partial (13), never ship
    _write(b1, "b2" if b_started == "older" else "b8", "t1", shard="1/2", listed=("g/t1", "g/t2"))
    sel = select_runs([a1, a2, b1])
    assert evaluate_gate(sel.records, expected=sel.expected,
                         coverage_problems=sel.coverage_problems).code == EXIT_PARTIAL


def test_a_shard_run_twice_on_the_same_farm_keeps_the_later_run(tmp_path):
    a, b, again = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "again.jsonl"
    _write(a, "r1", "s1", shard="1/2", outcome="failed")
    _write(b, "r2", "s2", shard="2/2")
    _write(again, "r3", "s1", shard="1/2")  # shard 1/2 again, later, same farm and contract: the defect is fixed
    for order in ([a, b, again], [again, b, a]):
        sel = select_runs(order)
        assert "shard 1/2 ran twice (r1, r3); using the later" in sel.notes
        assert sorted(r.run_id for r in sel.runs) == ["r2", "r3"] and not sel.coverage_problems
        assert evaluate_gate(sel.records, expected=sel.expected).code == EXIT_SHIP


def test_a_shard_rerun_against_another_contract_keeps_both_runs(tmp_path):
    """The same shard run twice with different profiles: neither run is dropped as the other's rerun; the merge
    names both and is partial."""
    a, b, again = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "again.jsonl"
    _write(a, "r1", "s1", shard="1/2")
    _write(b, "r2", "s2", shard="2/2")
    _write(again, "r3", "s1", shard="1/2", digest="sha256:1b")
    sel = select_runs([a, b, again])
    assert sorted(r.run_id for r in sel.runs) == ["r1", "r2", "r3"]
    (problem,) = sel.coverage_problems
    assert "different contracts" in problem and "run r1" in problem and "run r3" in problem
    assert evaluate_gate(sel.records, expected=sel.expected,
                         coverage_problems=sel.coverage_problems).code == EXIT_PARTIAL


def test_a_malformed_shard_in_a_header_is_an_error_naming_the_file(tmp_path):
    from harness.reporting.records import RecordsFileError

    a = tmp_path / "a.jsonl"
    _write(a, "r1", "s1", shard="2/1")
    with pytest.raises(RecordsFileError, match=r"a\.jsonl: run r1: shard '2/1' is not K/N"):
        select_runs([a])


def test_records_without_a_header_cannot_ship(tmp_path):
    path = tmp_path / "records.jsonl"
    with RecordWriter(path) as w:
        w.write(rec("s1", "Word"))
    sel = select_runs([path])
    assert sel.expected is None and "without a run header" in sel.coverage_problems[0]
    assert evaluate_gate(sel.records, coverage_problems=sel.coverage_problems).code == EXIT_PARTIAL


def test_shards_checked_against_different_contracts_never_ship(tmp_path):
    """Shard 3/3 ran with a lax --profiles (another profiles digest): the merge names the shards and is partial."""
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    _write(a, "r1", "s1", shard="1/3", listed=("h/s1", "h/s2", "h/s3"))
    _write(b, "r2", "s2", shard="2/3", listed=("h/s1", "h/s2", "h/s3"))
    _write(c, "r3", "s3", shard="3/3", listed=("h/s1", "h/s2", "h/s3"), digest="sha256:1b")
    sel = select_runs([a, b, c])
    assert len(sel.coverage_problems) == 1, sel.coverage_problems
    problem = sel.coverage_problems[0]
    assert "different contracts" in problem and "shard 3/3 (run r3" in problem and "shard 1/3 (run r1" in problem
    assert evaluate_gate(sel.records, expected=sel.expected, coverage_problems=sel.coverage_problems).code \
        == EXIT_PARTIAL
    _write(c, "r4", "s3", shard="3/3", listed=("h/s1", "h/s2", "h/s3"))  # shard 3/3 again, with the contract
    assert not select_runs([a, b, c]).coverage_problems


def test_runs_merged_with_different_region_or_operator_overrides_never_ship(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, "r1", "s1", options={"region": None, "operator": "460-00"})
    _write(b, "r2", "s2", options={"region": "IN", "operator": "460-00"})
    problems = select_runs([a, b]).coverage_problems
    assert len(problems) == 1 and "different --region" in problems[0] and "IN" in problems[0]
    _write(b, "r3", "s2", options={"region": None, "operator": "46000"})  # written another way: the same
    assert not select_runs([a, b]).coverage_problems
    _write(b, "r4", "s2", options={"region": None, "operator": "405-857"})
    both = select_runs([a, b]).coverage_problems  # b's latest run (r4) only
    assert len(both) == 1 and "different --operator" in both[0]


def test_the_report_gates_at_the_runs_own_severity_unless_told(tmp_path):
    """A run gated at "normal" is not re-gated at "critical" by a rebuild that did not say so."""
    from tools.report import main

    path = tmp_path / "records.jsonl"
    with RecordWriter(path) as w:
        w.write_header(RunHeader(run_id="r1", started="2026-12-01T00:00:01Z", options={"gate_severity": "normal"}))
        w.write(rec("s1", "Word", "presence").model_copy(update={"run_id": "r1"}))
        w.write(rec("s1", "Word", "launch", outcome="failed", severity="normal",
                    reason="[launch crash] x").model_copy(update={"run_id": "r1"}))
    assert main(["--records", str(path), "--out", str(tmp_path / "out"), "--no-html"]) == 1
    assert main(["--records", str(path), "--out", str(tmp_path / "out"), "--no-html",
                 "--gate-severity", "critical"]) == 0


def test_relative_records_and_alluredir_land_side_by_side_from_any_directory(tmp_path):
    """pytest started outside the project: a relative --records is taken from the current directory, as
    --alluredir is, so one run's outputs are not split between the project and the current directory."""
    import os
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    argv = [sys.executable, "-m", "pytest", str(ROOT / "suites" / "test_presence.py"), "-p", "no:cacheprovider",
            "--build", str(ROOT / "examples" / "builds" / "xiaomi-redmi8a-cn"), "-q",
            "--records", "out/records.jsonl", "--alluredir", "out/allure-results"]
    done = subprocess.run(argv, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, timeout=300, check=False)
    assert (tmp_path / "out" / "allure-results").is_dir(), done.stdout + done.stderr
    assert (tmp_path / "out" / "records.jsonl").is_file(), done.stdout + done.stderr
    assert read_runs(tmp_path / "out" / "records.jsonl")[0].records


def test_merged_shards_write_their_records_into_out_and_read_back_as_the_merge(tmp_path, capsys):
    """The out dir of a merge is one report: its records.jsonl holds the merged runs (header first per run) and
    reports as the merge again; the previous run's records.jsonl and junit.xml there are set aside, not lost."""
    import json

    from tools.report import main

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, "r1", "s1", shard="1/2")
    _write(b, "r2", "s2", shard="2/2")
    out = tmp_path / "reports"
    out.mkdir()
    _write(out / "records.jsonl", "r0", "s9")  # the previous run of this reports/ directory
    (out / "junit.xml").write_text("<testsuites/>")
    previous = (out / "records.jsonl").read_bytes()
    assert main(["--records", str(a), "--records", str(b), "--out", str(out), "--no-html"]) == EXIT_SHIP
    lines = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert [(x.get("type"), x["run_id"]) for x in lines] == [("run", "r1"), (None, "r1"), ("run", "r2"), (None, "r2")]
    assert not (out / "junit.xml").exists()
    (aside,) = (out / ".replaced").iterdir()
    assert (aside / "records.jsonl").read_bytes() == previous and (aside / "junit.xml").is_file()
    said = capsys.readouterr().out
    assert "moved to" in said and "records:" in said
    # the out dir reports as the merge it holds; a rebuild of the same merge changes nothing there
    sel = select_runs([out / "records.jsonl"])
    assert [r.run_id for r in sel.runs] == ["r1", "r2"] and not sel.coverage_problems
    assert main(["--records", str(out / "records.jsonl"), "--out", str(out), "--no-html"]) == EXIT_SHIP
    assert main(["--records", str(a), "--records", str(b), "--out", str(out), "--no-html"]) == EXIT_SHIP
    assert len(list((out / ".replaced").iterdir())) == 1


def test_out_that_is_a_file_is_a_usage_error_without_a_traceback(tmp_path, capsys):
    from harness.reporting.gate import EXIT_USAGE
    from tools.report import main

    path = tmp_path / "records.jsonl"
    _write(path, "r1", "s1")
    target = tmp_path / "not-a-dir"
    target.write_text("keep me")
    for out in (target, target / "sub"):
        assert main(["--records", str(path), "--out", str(out), "--no-html"]) == EXIT_USAGE
        err = capsys.readouterr().err
        assert "a file, not a directory" in err and "Traceback" not in err
    assert target.read_text() == "keep me"


def test_setting_aside_twice_within_a_second_keeps_both(tmp_path):
    from tools.report import set_aside

    for text in ("first", "second"):
        (tmp_path / "records.jsonl").write_text(text)
        set_aside(tmp_path, ["records.jsonl", "junit.xml"])
    kept = sorted(p.read_text() for p in (tmp_path / ".replaced").rglob("records.jsonl"))
    assert kept == ["first", "second"]


def test_no_html_sets_an_earlier_allure_report_aside(tmp_path, capsys):
    """A ``--no-html`` report does not leave an earlier run's Allure report (or screenshots) beside its matrix."""
    from tools.report import main

    records = tmp_path / "r.jsonl"
    _write(records, "r1", "s1")
    out = tmp_path / "reports"
    (out / "allure-report").mkdir(parents=True)
    (out / "allure-report" / "index.html").write_text("earlier run")
    (out / "allure-report-single.html").write_text("earlier run")
    (out / "screenshots").mkdir()
    assert main(["--records", str(records), "--out", str(out), "--no-html"]) == EXIT_SHIP
    assert not (out / "allure-report").exists() and not (out / "allure-report-single.html").exists()
    assert not (out / "screenshots").exists()
    (aside,) = (out / ".replaced").iterdir()
    assert (aside / "allure-report" / "index.html").read_text() == "earlier run"
    assert "allure-report, allure-report-single.html, screenshots, which this report does not make" in \
        capsys.readouterr().out
    # nothing stale: a second --no-html report sets nothing aside
    assert main(["--records", str(records), "--out", str(out), "--no-html"]) == EXIT_SHIP
    assert len(list((out / ".replaced").iterdir())) == 1
