"""records.jsonl: writer durability and concurrency, reader tolerance and errors."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from harness.reporting.records import (
    Record,
    RecordsFileError,
    RecordWriter,
    RunHeader,
    latest_per_nodeid,
    read_records,
)

from .helpers import rec


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "records.jsonl"
    original = [rec(), rec("s2", "Excel", outcome="failed", reason="[missing app] Excel", category="Missing app",
                           expected="installed", found="absent"), rec("s1", None, "region")]
    with RecordWriter(path) as w:
        for r in original[:2]:
            w.write(r)
        w.write(original[2].model_dump())  # dicts are accepted too
    assert read_records(path) == original


def test_truncated_last_line_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    with RecordWriter(path) as w:
        w.write(rec())
        w.write(rec("s2"))
    with path.open("ab") as f:
        f.write(json.dumps(rec("s2", "Excel").model_dump()).encode()[:57])  # killed mid-write
    assert [r.serial for r in read_records(path)] == ["s1", "s2"]


def test_truncated_line_in_the_middle_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = json.dumps(rec().model_dump())
    path.write_text(good + "\n" + good[:40] + "\n" + good + "\n")
    with pytest.raises(RecordsFileError, match=r"records\.jsonl:2: not a JSON line"):
        read_records(path)


def test_missing_key_and_bad_value_are_named(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    data = rec().model_dump()
    del data["serial"]
    data["outcome"] = "exploded"
    path.write_text("\n" + json.dumps(data) + "\n")
    with pytest.raises(RecordsFileError) as exc:
        read_records(path)
    text = str(exc.value)
    assert "records.jsonl:2:" in text and "serial: Field required" in text and "outcome:" in text


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordsFileError, match="cannot read records .* run the suite first"):
        read_records(tmp_path / "nope.jsonl")


def test_writer_rejects_invalid_record_and_closed_use(tmp_path: Path) -> None:
    w = RecordWriter(tmp_path / "r.jsonl")
    with pytest.raises(RecordsFileError, match="severity"):
        w.write({**rec().model_dump(), "severity": "huge"})
    w.close()
    w.close()
    with pytest.raises(RecordsFileError, match="closed"):
        w.write(rec())
    assert (tmp_path / "r.jsonl").read_text() == ""


def test_unknown_keys_are_ignored_for_forward_compatibility(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({**rec().model_dump(), "new_field": 1}) + "\n")
    assert read_records(path) == [rec()]


def test_latest_per_nodeid_keeps_the_rerun() -> None:
    first = rec(outcome="broken", reason="adb timeout")
    again = rec(outcome="passed")
    other = rec("s2")
    assert latest_per_nodeid([first, other, again]) == [again, other]


def _write_many(path: str, worker: int, n: int) -> None:
    with RecordWriter(path) as w:
        for i in range(n):
            w.write(rec(f"w{worker}", reason="x" * 3000, nodeid=f"t::{worker}-{i}"))


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(path), k, 200)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    records = read_records(path)
    assert len(records) == 600
    assert {r.nodeid for r in records} == {f"t::{k}-{i}" for k in range(3) for i in range(200)}
    assert all(isinstance(r, Record) for r in records)


@pytest.mark.parametrize("content", [b"\x00\x01\xff\xfe garbage", b"a" * 200_000, b"a" * 200_000 + b"\n",
                                     b"not json at all"])
def test_a_file_that_is_not_json_lines_is_an_error_not_empty(tmp_path: Path, content: bytes) -> None:
    """Binary or text that is not JSON is no cut line of a killed run: it is named (file:1), never read as empty."""
    path = tmp_path / "bin.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordsFileError, match=r"bin\.jsonl:1: not a JSON line"):
        read_records(path)


def test_a_complete_last_object_without_newline_is_validated(tmp_path: Path) -> None:
    """A last line that parses as JSON was not cut: a missing key in it is an error, not dropped."""
    path = tmp_path / "records.jsonl"
    data = rec().model_dump()
    del data["serial"]
    path.write_text(json.dumps(rec().model_dump()) + "\n" + json.dumps(data))
    with pytest.raises(RecordsFileError, match=r"records\.jsonl:2: serial"):
        read_records(path)


def test_tools_report_says_a_binary_records_file_is_unreadable(tmp_path: Path, capsys) -> None:
    """Alone or merged with a good shard: exit 12 with file:line, not "empty" (11) nor a missing shard (13)."""
    from harness.reporting.gate import EXIT_USAGE
    from tools.report import main

    path = tmp_path / "bin.jsonl"
    path.write_bytes(b"\x00\x01\xff\xfe garbage")
    good = tmp_path / "good.jsonl"
    with RecordWriter(good) as w:
        w.write_header(RunHeader(run_id="r1", started="2026-12-01T00:00:01Z", shard="2/2"))
        w.write(rec().model_copy(update={"run_id": "r1"}))
    for files in ([path], [good, path]):
        argv = [x for f in files for x in ("--records", str(f))]
        assert main([*argv, "--out", str(tmp_path / "out"), "--no-html"]) == EXIT_USAGE
        said = capsys.readouterr()
        assert f"{path}:1: not a JSON line" in said.err and "Traceback" not in said.err
        assert "empty" not in said.out and "missing" not in said.out
