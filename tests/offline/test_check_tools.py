"""tools.romcheck and tools.bugreportcheck end to end: pytest on suites/, records, matrix, gate exit code.

Each run is a real subprocess run of the suites (as tools/job.py does for devices), without the Allure HTML.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from harness.reporting.records import read_runs
from tests.offline.conftest import ROOT, TEST_PROFILES
from tests.zipdamage import damage
from tools import bugreportcheck, romcheck

EXAMPLES = ROOT / "examples"
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "bugreports"


def _records(out: Path):
    (run,) = read_runs(out / "records.jsonl")
    return run


def _failed(run) -> set[tuple[str, str | None, str]]:
    return {(r.serial, r.app, r.check) for r in run.records if r.outcome == "failed"}


def test_a_good_build_ships_as_zip_and_as_tree(builds, tmp_path):
    rc = romcheck.main([str(builds["good"]), str(builds["good-target_files.zip"]), "--out", str(tmp_path),
                        "--no-html"])
    assert rc == 0
    run = _records(tmp_path)
    assert {d["serial"] for d in run.header.devices} == {"build:good", "build:good-target_files.zip"}
    launch = [r for r in run.records if r.check == "launch"]
    assert launch and all(r.outcome == "skipped" and "needs a live device" in r.reason for r in launch)
    signer = [r for r in run.records if r.check == "signer"]
    assert len(signer) == 10 and all(r.outcome == "passed" for r in signer)  # 5 apps x 2 builds, from the APKs
    matrix = json.loads((tmp_path / "compliance.json").read_text())
    assert matrix["status"] == "passed" and all(d["fingerprint"] for d in matrix["devices"])


def test_a_build_with_a_foreign_signer_fails_the_signer_check(builds, tmp_path):
    rc = romcheck.main([str(builds["wrong-signer"]), "--out", str(tmp_path), "--no-html"])
    assert rc == 1
    run = _records(tmp_path)
    assert _failed(run) == {("build:wrong-signer", "Excel", "signer")}
    (excel,) = [r for r in run.records if r.check == "signer" and r.app == "Excel"]
    assert "wrong signer" in excel.reason


def test_each_failing_build_fails_its_check(builds, tmp_path):
    names = ["missing-app", "wrong-version", "wrong-kind", "wrong-partition", "disabled", "region-ru",
             "region-builds"]
    rc = romcheck.main([*(str(builds[n]) for n in names), "--profiles", str(TEST_PROFILES), "--out", str(tmp_path),
                        "--no-html"])
    assert rc == 1
    failed = _failed(_records(tmp_path))
    assert failed == {
        ("build:missing-app", "Word", "presence"),
        ("build:wrong-version", "Excel", "version"),
        ("build:wrong-kind", "Skype", "install_kind"),
        ("build:wrong-partition", "Word", "install_kind"),
        ("build:disabled", "Word", "enabled"),
        ("build:region-ru", None, "region"),
        ("build:region-ru", "Skype", "app_region"),  # RU is not agreed: Skype must be absent there
        ("build:region-builds#IN", "Skype", "app_region"),  # Skype is agreed for CN only
    }


def test_unreadable_builds_are_broken_never_passed(builds, tmp_path):
    rc = romcheck.main([str(builds["broken-zip.zip"]), str(builds["bad-manifest"]), str(builds["good"]),
                        "--out", str(tmp_path), "--no-html"])
    assert rc == 10
    run = _records(tmp_path)
    broken = {r.serial: r.reason for r in run.records if r.outcome == "broken"}
    assert "corrupt zip" in broken["build:broken-zip.zip"]
    assert "bad-manifest!system/app/Outlook/Outlook.apk: unparsable AndroidManifest.xml" in broken[
        "build:bad-manifest"]
    assert not any(r.outcome == "passed" and r.serial != "build:good" for r in run.records)


def test_bugreports_same_verdicts_as_the_phones(tmp_path):
    rc = bugreportcheck.main([str(EXAMPLES / "bugreports" / "bugreport-mi5-cn.txt"),
                              str(EXAMPLES / "bugreports" / "bugreport-redmi8a-cn.txt"),
                              str(CORPUS / "bugreport_10_mvt-fixture-samsung.txt"), "--out", str(tmp_path),
                              "--no-html"])
    assert rc == 1
    run = _records(tmp_path)
    assert _failed(run) == {("bugreport:bugreport-redmi8a-cn.txt", "Outlook", "presence")}  # not installed for user 0
    broken = [r for r in run.records if r.outcome == "broken"]
    assert len(broken) == 1 and "no SYSTEM PROPERTIES section" in broken[0].reason
    mi5 = [r for r in run.records if r.serial == "bugreport:bugreport-mi5-cn.txt"]
    assert mi5 and {r.outcome for r in mi5} <= {"passed", "skipped"}


def test_a_corrupt_zip_member_is_broken_exit_10_not_a_traceback(builds, tmp_path):
    """romcheck on a target_files zip whose Excel.apk member has a damaged deflate stream, bugreportcheck on a
    bugreport zip whose text member is damaged: both used to end in zlib.error / BadZipFile tracebacks (exit 2)."""
    bad = damage(builds["good-target_files.zip"], "SYSTEM/app/Excel/Excel.apk", "deflate", tmp_path / "crc.zip")
    assert romcheck.main([str(bad), str(builds["good"]), "--out", str(tmp_path / "rom"), "--no-html"]) == 10
    run = _records(tmp_path / "rom")
    broken = {r.reason for r in run.records if r.serial == "build:crc.zip"}
    assert broken and all(f"{bad}!SYSTEM/app/Excel/Excel.apk: corrupt zip member" in b for b in broken)
    assert {r.outcome for r in run.records if r.serial == "build:crc.zip"} == {"broken"}
    text = (EXAMPLES / "bugreports" / "bugreport-mi5-cn.txt").read_bytes()
    with zipfile.ZipFile(tmp_path / "br.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("main_entry.txt", "bugreport-mi5.txt")
        z.writestr("bugreport-mi5.txt", text)
    bad_br = damage(tmp_path / "br.zip", "bugreport-mi5.txt", "deflate", tmp_path / "br-bad.zip")
    assert bugreportcheck.main([str(bad_br), str(tmp_path / "br.zip"), "--out", str(tmp_path / "br"),
                                "--no-html"]) == 10
    run = _records(tmp_path / "br")
    assert {r.outcome for r in run.records if r.serial == "bugreport:br-bad.zip"} == {"broken"}
    assert all(f"{bad_br}!bugreport-mi5.txt: corrupt zip member" in r.reason for r in run.records
               if r.serial == "bugreport:br-bad.zip")
    assert {r.outcome for r in run.records if r.serial == "bugreport:br.zip"} <= {"passed", "skipped"}


def test_a_bugreport_cut_inside_the_package_dump_is_broken_not_missing_apps(tmp_path):
    """An Android 7 bugreport cut after line 315 (inside dumpsys package) was judged 'Excel is not installed'
    (exit 1): a product failure made up by a cut file. It is broken (exit 10), naming the section."""
    lines = (EXAMPLES / "bugreports" / "bugreport-mi5-cn.txt").read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.txt"
    cut.write_bytes(b"".join(lines[:315]))
    whole = EXAMPLES / "bugreports" / "bugreport-mi5-cn.txt"
    assert bugreportcheck.main([str(cut), str(whole), "--out", str(tmp_path / "out"), "--no-html"]) == 10
    run = _records(tmp_path / "out")
    assert not _failed(run)
    mine = [r for r in run.records if r.serial == "bugreport:cut.txt"]
    assert mine and {r.outcome for r in mine} == {"broken"}
    assert all(f"{cut}:68: the 'DUMP OF SERVICE package:' section is cut short" in r.reason for r in mine)


def test_usage_errors_exit_4(tmp_path, capsys):
    assert romcheck.main([str(tmp_path / "nope"), "--out", str(tmp_path)]) == 4
    assert "no such file" in capsys.readouterr().err


def test_an_input_of_the_wrong_type_is_a_usage_error_not_a_traceback(tmp_path, capsys):
    """A directory given to bugreportcheck, a device node given to romcheck: exit 4 with a message (they used to
    reach pytest collection and end in a traceback, exit 2)."""
    assert bugreportcheck.main([str(EXAMPLES / "bugreports"), "--out", str(tmp_path)]) == 4
    assert "a directory: give a bugreport zip or text file" in capsys.readouterr().err
    assert romcheck.main(["/dev/null", "--out", str(tmp_path)]) == 4
    assert "not a regular file or directory" in capsys.readouterr().err
    assert not (tmp_path / "records.jsonl").exists()


def test_two_builds_with_the_same_folder_name_are_two_rows(builds, tmp_path):
    """Two inputs named 'good' used to collapse into one matrix row ('1 device'); the row label used to read
    'rom-build build:…' / 'bugreport bugreport:…'."""
    import shutil

    other = tmp_path / "x" / "good"
    shutil.copytree(builds["good"], other)
    out = tmp_path / "out"
    assert romcheck.main([str(builds["good"]), str(other), "--out", str(out), "--no-html"]) == 0
    matrix = json.loads((out / "compliance.json").read_text())
    assert {d["serial"] for d in matrix["devices"]} == {f"build:{builds['good'].parent.name}/good", "build:x/good"}
    md = (out / "compliance.md").read_text()
    assert "rom-build build:" not in md and "<br>build:x/good" in md
