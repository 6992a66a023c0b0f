"""tools.release diff over two builds and over two runs' records: what changed, text and JSON, exit codes."""

from __future__ import annotations

import json

import pytest

from tests.offline.conftest import TEST_PROFILES
from tests.zipdamage import damage
from tools import release, romcheck


def _diff(old, new, tmp_path, *extra):
    out = tmp_path / "diff.json"
    rc = release.main(["diff", str(old), str(new), "--json", str(out), *extra])
    return rc, json.loads(out.read_text())


def _changes(data):
    return {(a["app"], c["what"], c.get("direction")) for r in data["rows"] for a in r["apps"] for c in a["changes"]}


def test_builds_version_up_down_kind_partition(builds, tmp_path, capsys):
    rc, data = _diff(builds["good"], builds["next-release"], tmp_path)
    assert rc == 1 and data["schema_version"] == 1 and data["summary"]["rows_changed"] == 1
    assert _changes(data) == {("Skype", "version", "up")}
    text = capsys.readouterr().out
    assert "Skype (com.skype.raider): version up 7.06.0.582 (67000582) → 7.07.0.611 (67000611)" in text
    assert "build V12.5.3.0.QCPCNXM → V12.5.4.0.QCPCNXM" in text
    rc, data = _diff(builds["good"], builds["wrong-version"], tmp_path)
    assert _changes(data) == {("Excel", "version", "down")}
    (app,) = data["rows"][0]["apps"]
    assert app["verdicts"] == [{"check": "version", "old": "passed", "new": "failed", "direction": "worse"}]
    _, data = _diff(builds["good"], builds["wrong-partition"], tmp_path)
    assert ("Word", "partition", None) in _changes(data)
    _, data = _diff(builds["good"], builds["wrong-kind"], tmp_path)
    assert ("Skype", "install_kind", None) in _changes(data)


def test_same_build_twice_is_no_difference(builds, tmp_path):
    rc, data = _diff(builds["good"], builds["good-target_files.zip"], tmp_path)
    assert rc == 0 and data["summary"]["rows_changed"] == 0 and data["rows"][0]["status"] == "same"


def test_region_rows_added(builds, tmp_path):
    _, data = _diff(builds["good"], builds["region-builds"], tmp_path, "--profiles", str(TEST_PROFILES))
    assert {(r["region"], r["status"]) for r in data["rows"]} == {("CN", "same"), ("IN", "added")}


def test_records_of_two_runs(builds, tmp_path):
    for name in ("good", "missing-app"):
        assert romcheck.main([str(builds[name]), "--out", str(tmp_path / name), "--no-html"]) in (0, 1)
    rc, data = _diff(tmp_path / "good" / "records.jsonl", tmp_path / "missing-app" / "records.jsonl", tmp_path)
    assert rc == 1 and ("Word", "vanished", None) in _changes(data)
    word = next(a for a in data["rows"][0]["apps"] if a["app"] == "Word")
    assert {"check": "presence", "old": "passed", "new": "failed", "direction": "worse"} in word["verdicts"]


def test_signer_and_enabled_changes_from_observed_states():
    old = {"installed": True, "version_name": "1", "version_code": 1, "install_kind": "system",
           "partition": "system", "enabled": True, "signer_digests": ["aa"]}
    new = dict(old, signer_digests=["bb"], enabled=False)
    assert [c["what"] for c in release.app_changes(old, new)] == ["signer", "enabled"]
    assert release.app_changes(old, dict(old, signer_digests=None))[0]["new"] is None
    assert release.app_changes(None, old)[0]["what"] == "appeared"


def test_unreadable_input_exits_10_and_usage_4(builds, tmp_path, capsys):
    assert release.main(["diff", str(builds["good"]), str(builds["broken-zip.zip"])]) == 10
    assert "corrupt zip" in capsys.readouterr().err
    assert release.main(["diff", str(builds["good"]), str(tmp_path / "nope")]) == 4
    assert release.main(["frobnicate"]) == 4


def test_a_records_file_that_is_not_json_lines_is_unreadable_input_10(tmp_path, capsys):
    """As the docstring and README say: an input that cannot be read exits 10 (not 4, a usage error), naming
    file:line, whether the file is binary or a run's file with a bad line."""
    good = _run_file(tmp_path / "good.jsonl", "r1", [("A", "presence", "passed")])
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\x00\x01\xff\xfe garbage")
    bad_line = tmp_path / "bad.jsonl"
    bad_line.write_bytes(good.read_bytes() + b"not json\n" + good.read_bytes().splitlines(keepends=True)[-1])
    for path, line in ((binary, 1), (bad_line, 3)):
        assert release.main(["diff", str(good), str(path)]) == 10
        err = capsys.readouterr().err
        assert f"{path}:{line}: not a JSON line" in err and "Traceback" not in err


@pytest.mark.parametrize("member", ["SYSTEM/app/Excel/Excel.apk", "SYSTEM/build.prop"])
def test_a_corrupt_zip_member_exits_10_never_1(builds, tmp_path, capsys, member):
    """A damaged member used to end in a zlib.error traceback with exit 1, the code for "differences found"."""
    bad = damage(builds["good-target_files.zip"], member, "deflate", tmp_path / "bad.zip")
    assert release.main(["diff", str(bad), str(builds["good"])]) == 10
    err = capsys.readouterr().err
    assert f"{bad}!{member}: corrupt zip member" in err and "Traceback" not in err


def _run_file(path, run_id, records, expected=()):
    from harness.reporting.records import ExpectedCheck, Record, RecordWriter, RunHeader

    writer = RecordWriter(path)
    writer.write_header(RunHeader(run_id=run_id, started="2026-12-01T00:00:00Z", expected=[
        ExpectedCheck(host="h", serial=s, check=c, package="p.word", app="Word", severity="critical")
        for s, c in expected]))
    for serial, check, outcome in records:
        writer.write(Record(nodeid=f"{serial}::{check}", check=check, serial=serial, host="h", model="MI MAX",
                            region="IN", package="p.word", app="Word", severity="critical", outcome=outcome,
                            run_id=run_id, device_serial=serial))
    writer.close()
    return path


def test_devices_of_one_model_and_region_stay_apart(tmp_path):
    """Two MI MAX · IN: one fails in NEW. Keyed by model/region alone, the passing one would hide it."""
    old = _run_file(tmp_path / "old.jsonl", "r1", [("A", "launch", "passed"), ("B", "launch", "passed")])
    new = _run_file(tmp_path / "new.jsonl", "r2", [("A", "launch", "failed"), ("B", "launch", "passed")])
    rc, data = _diff(old, new, tmp_path)
    assert rc == 1 and data["summary"]["rows"] == 2 and data["summary"]["rows_changed"] == 1
    (changed,) = [r for r in data["rows"] if r["status"] == "changed"]
    assert changed["device_serial"] == "A"
    assert changed["apps"][0]["verdicts"] == [{"check": "launch", "old": "passed", "new": "failed",
                                               "direction": "worse"}]


def test_checks_a_partial_run_did_not_run_are_not_compared(tmp_path, capsys):
    old = _run_file(tmp_path / "old.jsonl", "r1", [("A", "presence", "passed"), ("A", "version", "passed")])
    new = _run_file(tmp_path / "new.jsonl", "r2", [("A", "version", "passed")],
                    expected=[("A", "presence"), ("A", "version")])
    rc, data = _diff(old, new, tmp_path)
    assert rc == 0 and data["summary"]["rows_changed"] == 0 and data["summary"]["not_compared"] == 1
    assert data["notes"] == ["NEW is a partial run: 1 required check did not run; checks one side did not run "
                             "are not compared"]
    text = capsys.readouterr().out
    assert "None" not in text and "note: NEW is a partial run" in text
