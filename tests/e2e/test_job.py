"""End to end through the main job (tools/job.py, what `bash tools/run.sh` runs) on a small virtual farm.

What a release decision rests on: a subset of checks never says "ship", a report is one run, a run that could
not start never deletes the last good reports, and pytest's own selection options work through the job.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import ROOT, run_suites

IMAGES = ["mi4s-cn", "mi5-cn"]


def job(reports: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "tools.job", "--reports", str(reports), "--farm", "always", "--images", *IMAGES,
            "--no-html", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def _records(reports: Path) -> tuple[list[dict], list[dict]]:
    lines = [json.loads(x) for x in (reports / "records.jsonl").read_text().splitlines()]
    return [r for r in lines if r.get("type") != "run"], [r for r in lines if r.get("type") == "run"]


def test_a_subset_run_is_partial_never_ship(tmp_path):
    """`-k excel suites/test_version.py`: Excel is missing on the MI 4S, whose presence check was not selected."""
    done = job(tmp_path, "--", "-k", "excel", "suites/test_version.py")
    out = done.stdout + done.stderr
    assert done.returncode == 13, out[-3000:]
    assert "gate PARTIAL (exit 13)" in out and "gate PASS" not in out
    assert out.rstrip().splitlines()[-1].startswith("Exit code 13")
    recs, headers = _records(tmp_path)
    assert {r["check"] for r in recs} == {"version"}  # the path after -- replaced the default suites/
    assert len(headers) == 1 and all(r["run_id"] == headers[0]["run_id"] for r in recs)
    matrix = json.loads((tmp_path / "compliance.json").read_text())
    mi4s = next(d for d in matrix["devices"] if d["model"] == "MI 4S")
    assert mi4s["cells"]["Excel"]["status"] == "missing" and "presence" in mi4s["cells"]["Excel"]["missing"]
    assert matrix["status"] == "missing"


def test_a_usage_error_keeps_the_last_good_reports(tmp_path):
    reports = tmp_path / "reports"
    good = job(reports, "--", "suites/test_presence.py")
    assert good.returncode in (1, 13), good.stdout[-2000:]
    before = {p.name: p.stat().st_mtime_ns for p in reports.iterdir()}
    assert {"records.jsonl", "compliance.json", "junit.xml"} <= set(before)
    profiles = tmp_path / "bad-profiles"
    profiles.mkdir()
    (profiles / "x.yaml").write_text("profile: x\nname: X\nmatch: {model: [MI 5]}\nregions: [CN]\nappz: []\n")
    started = time.monotonic()
    bad = job(reports, "--profiles", str(profiles))
    assert bad.returncode == 4, bad.stdout + bad.stderr
    assert "appz" in bad.stderr and "unchanged" in bad.stderr
    assert "virtual device" not in bad.stdout  # stopped before any farm or device
    assert time.monotonic() - started < 60
    assert {p.name: p.stat().st_mtime_ns for p in reports.iterdir()} == before
    typo = job(reports, "--", "suites/test_verion.py")
    assert typo.returncode == 4 and "file or directory not found: suites/test_verion.py" in typo.stderr
    unknown = job(reports, "--", "--no-such-option")
    assert unknown.returncode == 4 and "--no-such-option" in unknown.stderr
    assert {p.name: p.stat().st_mtime_ns for p in reports.iterdir()} == before
    # every option value and -k/-m expression is checked before a farm starts
    for args, says in ((["--shard", "5/3"], "--shard '5/3'"), (["--device-wait", "-1"], "--device-wait '-1'"),
                       (["--operator", "abc"], "--operator 'abc'"), (["--", "-k", "Excel and"], "'-k'"),
                       (["--", "-m", "a or"], "'-m'"), (["--", "--shard", "0/2"], "--shard '0/2'"),
                       (["--", "--setup-only"], "--setup-only: runs no check")):
        wrong = job(reports, *args)
        assert wrong.returncode == 4 and says in wrong.stderr, (args, wrong.stdout + wrong.stderr)
        assert "virtual device" not in wrong.stdout and "_pytest.outcomes" not in wrong.stdout + wrong.stderr
    # a run that checked nothing (the one --serial is not attached) keeps its records aside, not in reports/
    nothing = job(reports, "--serial", "nosuch")
    assert nothing.returncode == 10, nothing.stdout + nothing.stderr
    assert "_pytest.outcomes" not in nothing.stdout + nothing.stderr
    assert "No check ran on any device (exit 10)" in nothing.stderr
    assert (reports / ".unpublished" / "records.jsonl").is_file()
    assert {p.name: p.stat().st_mtime_ns for p in reports.iterdir() if p.name != ".unpublished"} == before
    # a virtual farm started by the job has new ports every run: its shards would not add up
    shard = job(reports, "--shard", "1/2")
    assert shard.returncode == 4 and "every machine lists the same way" in shard.stderr
    assert "virtual device" not in shard.stdout


def test_a_no_html_run_removes_the_previous_html(tmp_path):
    argv = [sys.executable, "-m", "tools.job", "--reports", str(tmp_path), "--farm", "always", "--images", "mi5-cn"]
    html = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert html.returncode == 0, html.stdout[-2000:] + html.stderr
    assert (tmp_path / "allure-report").is_dir() and (tmp_path / "allure-report-single.html").is_file()
    assert (tmp_path / "history").is_dir()
    plain = job(tmp_path, "--", "suites/test_presence.py")
    assert plain.returncode == 1, plain.stdout[-2000:]  # MI 4S misses Excel
    assert not (tmp_path / "allure-report").exists() and not (tmp_path / "allure-report-single.html").exists()
    assert (tmp_path / "history").is_dir()  # the trend continues at the next HTML run


def test_last_failed_works_through_the_job(tmp_path):
    first = job(tmp_path, "--", "suites/test_presence.py")
    assert first.returncode == 1, first.stdout[-2000:]
    again = job(tmp_path, "--", "--lf", "suites/test_presence.py")
    out = again.stdout + again.stderr
    assert "unrecognized arguments" not in out
    recs, _ = _records(tmp_path)
    assert [(r["model"], r["app"], r["outcome"]) for r in recs] == [("MI 4S", "Excel", "failed")]
    assert again.returncode == 1  # the defect is still there; a defect wins over "partial"


def test_help_needs_no_setup_and_lists_every_option():
    started = time.monotonic()
    done = subprocess.run(["bash", "tools/run.sh", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and time.monotonic() - started < 10
    assert "setup:" not in done.stdout + done.stderr
    for option in ("--adb-server", "--serial", "--screenshots", "--shard", "--device-wait", "--reports", "--lf"):
        assert option in done.stdout, option


def test_a_records_file_with_two_runs_reports_only_the_latest(seed_farm, tmp_path):
    """Plain pytest appends to records.jsonl; tools.report still counts one run's devices."""
    server, farm = seed_farm
    records = tmp_path / "records.jsonl"
    for _ in range(2):
        run_suites(tmp_path, f"127.0.0.1:{server.port}", "--records", str(records),
                   suites=("suites/test_region.py",))
    done = subprocess.run([sys.executable, "-m", "tools.report", "--records", str(records), "--out", str(tmp_path),
                           "--no-html"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert "2 runs in this file; using the latest" in done.stdout
    assert f"; {len(farm.devices)} devices" in done.stdout
    matrix = json.loads((tmp_path / "compliance.json").read_text())
    assert len(matrix["devices"]) == len(farm.devices) and len(matrix["run_ids"]) == 1
    merged = subprocess.run([sys.executable, "-m", "tools.report", "--records", str(records), "--out",
                             str(tmp_path / "all"), "--no-html", "--all-runs"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    # the same tests twice: a rerun replaces the earlier attempt, and the required checks are counted once
    assert "2 runs in this file" not in merged.stdout
    assert merged.stdout.count("required not run") == 1 and "32 required not run" not in merged.stdout
    again = json.loads((tmp_path / "all" / "compliance.json").read_text())
    assert again["totals"]["missing"] == matrix["totals"]["missing"]


def test_ctrl_c_exits_130_and_keeps_the_reports(seed_farm, tmp_path):
    """Ctrl-C reaches the whole process group (job and pytest): exit 130, no word of a farm it never started."""
    import os
    import signal

    server, _farm = seed_farm
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "compliance.json").write_text("{}")
    proc = subprocess.Popen([sys.executable, "-m", "tools.job", "--reports", str(reports), "--adb-server",
                             f"127.0.0.1:{server.port}", "--no-html"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Running the compliance suites"):
            break
    os.killpg(proc.pid, signal.SIGINT)  # wherever it lands (starting pytest, mid-run, reporting): the same answer
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out[-2000:] + err[-2000:]
    assert "interrupted" in err and "virtual farm" not in err
    assert (reports / "compliance.json").read_text() == "{}"


def test_a_shard_with_no_device_writes_its_run_header_and_the_merge_counts_it(tmp_path):
    """One device, two shards: shard 2/2 is empty. It exits 11 (no check ran), writes its run header (the farm it
    listed, no device, nothing expected), and the merge of both shards is whole: it ships when the device passes."""
    from virtual_device.testing import AdbServer, Farm

    with AdbServer() as server, Farm(["mi5-cn"], server):
        shards = [run_suites(tmp_path / f"s{k}", f"127.0.0.1:{server.port}", "--shard", f"{k}/2") for k in (1, 2)]
    empty = shards[1]
    assert empty.returncode == 11, empty.output[-3000:]
    assert "shard 2/2 has no device: the farm lists 1 device(s)" in empty.output
    assert "Traceback" not in empty.output
    assert empty.records == [] and len(empty.headers) == 1
    header = empty.headers[0]
    assert header["shard"] == "2/2" and len(header["listed"]) == 1
    assert header["devices"] == [] and header["expected"] == []
    assert shards[0].returncode == 0, shards[0].output[-3000:]
    argv = [sys.executable, "-m", "tools.report", "--out", str(tmp_path / "merged"), "--no-html"]
    for s in shards:
        argv += ["--records", str(s.results_dir.parent / "records.jsonl")]
    merged = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "merged shards 1/2, 2/2" in merged.stdout and "missing from the merge" not in merged.stdout
    assert "shard 2/2 had no device" in merged.stdout


def test_reports_or_out_naming_a_file_is_a_usage_error(tmp_path):
    """`--reports FILE` (tools.job) and `--out FILE` (tools.romcheck, through the job) stop at once with exit 4,
    no traceback, before any device or farm, and leave the file as it was."""
    target = tmp_path / "a-file"
    target.write_text("keep me")
    for reports in (target, target / "sub", Path("/dev/null")):
        done = job(reports)
        assert done.returncode == 4, done.stdout + done.stderr
        assert "a file, not a directory" in done.stderr and "Traceback" not in done.stdout + done.stderr
        assert "virtual device" not in done.stdout
    build = ROOT / "examples" / "builds" / "xiaomi-redmi8a-cn"
    rom = subprocess.run([sys.executable, "-m", "tools.romcheck", str(build), "--out", str(target), "--no-html"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert rom.returncode == 4 and f"--out {target}: is a file, not a directory" in rom.stderr, rom.stdout + rom.stderr
    assert "Traceback" not in rom.stdout + rom.stderr
    assert target.read_text() == "keep me"
