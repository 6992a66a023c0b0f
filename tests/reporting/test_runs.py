"""Runs in records files (run headers), and how tools.report picks and merges them."""

from __future__ import annotations

from pathlib import Path

from harness.reporting.gate import EXIT_PARTIAL, EXIT_SHIP, evaluate_gate
from harness.reporting.records import ExpectedCheck, RecordWriter, RunHeader, read_runs
from tools.report import select_runs

from .helpers import rec


def _write(path: Path, run_id: str, serial: str, *, shard: str | None = None, listed=("h/s1", "h/s2")) -> None:
    with RecordWriter(path) as w:
        w.write_header(RunHeader(run_id=run_id, started=f"2026-12-01T00:00:0{run_id[-1]}Z", shard=shard,
                                 listed=list(listed),
                                 expected=[ExpectedCheck(host="127.0.0.1:5037", serial=serial, check="presence",
                                                         package="com.microsoft.office.word", app="Word",
                                                         severity="critical")]))
        w.write(rec(serial, "Word", "presence").model_copy(update={"run_id": run_id}))


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


def test_shards_that_saw_different_farms_are_flagged(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, "r1", "s1", shard="1/2")
    _write(b, "r2", "s2", shard="2/2", listed=("h/s1", "h/s2", "h/s3"))
    assert any("different farms" in p for p in select_runs([a, b]).coverage_problems)


def test_records_without_a_header_cannot_ship(tmp_path):
    path = tmp_path / "records.jsonl"
    with RecordWriter(path) as w:
        w.write(rec("s1", "Word"))
    sel = select_runs([path])
    assert sel.expected is None and "without a run header" in sel.coverage_problems[0]
    assert evaluate_gate(sel.records, coverage_problems=sel.coverage_problems).code == EXIT_PARTIAL
