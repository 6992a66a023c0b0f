"""The Allure HTML report from a real allure-pytest run: generated offline, history carried, analytics off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.reporting.allure_env import INFRA_CATEGORIES, PRODUCT_CATEGORIES
from harness.reporting.gate import EXIT_PRODUCT_DEFECT, EXIT_SHIP, EXIT_USAGE
from harness.reporting.html_report import (
    ANALYTICS_MARKERS,
    ReportGenerationError,
    ToolchainMissing,
    allure_executable,
    generate_report,
)

from .conftest import SyntheticRun
from .synthetic import REPO, run_synthetic


def widget(run: SyntheticRun, name: str) -> object:
    return json.loads((run.out / "allure-report" / "widgets" / f"{name}.json").read_text())


def test_report_layout_and_single_file(synthetic_run: SyntheticRun) -> None:
    out = synthetic_run.out
    assert (out / "allure-report" / "index.html").is_file()
    assert synthetic_run.second.single_file == out / "allure-report-single.html"
    single = synthetic_run.second.single_file.read_text()
    assert len(single) > 100_000 and "data/test-cases" in single  # everything inlined
    assert synthetic_run.second.size_bytes > 0 and synthetic_run.second.seconds > 0


def test_analytics_are_off(synthetic_run: SyntheticRun) -> None:
    for f in [synthetic_run.out / "allure-report" / "index.html", synthetic_run.out / "allure-report-single.html"]:
        text = f.read_text()
        assert not [m for m in ANALYTICS_MARKERS if m in text], f


def test_history_carries_over_and_second_run_has_a_trend(synthetic_run: SyntheticRun) -> None:
    assert synthetic_run.first.trend_points == 1
    assert synthetic_run.second.trend_points == 2
    trend = json.loads((synthetic_run.out / "history" / "history-trend.json").read_text())
    assert [t["buildOrder"] for t in trend] == [2, 1]
    assert trend[1]["data"]["failed"] == 4 and trend[0]["data"]["failed"] == 3  # Word version fixed in run 2
    # the fixed test carries its history: one earlier result
    cases = synthetic_run.out / "allure-report" / "data" / "test-cases"
    word = next(json.loads(f.read_text()) for f in cases.glob("*.json")
                if json.loads(f.read_text())["name"] == "Word version on Redmi Note 3 (rn3-in-0003)")
    assert word["status"] == "passed"
    assert [i["status"] for i in word["extra"]["history"]["items"]] == ["failed"]


def test_categories_split_product_and_infrastructure(synthetic_run: SyntheticRun) -> None:
    items = {i["name"]: i["statistic"] for i in widget(synthetic_run, "categories")["items"]}
    assert items["Missing app"]["failed"] == 1
    assert items["Region not agreed"]["failed"] == 1
    assert items["Slow launch"]["failed"] == 1
    assert items["adb timeout"]["broken"] == 1
    known = {n for n, _ in PRODUCT_CATEGORIES} | {n for n, _ in INFRA_CATEGORIES}
    assert set(items) <= known  # nothing fell into Allure's generic "Product defects"/"Test defects"


def test_environment_lists_every_device(synthetic_run: SyntheticRun) -> None:
    env = {i["name"]: i["values"] for i in widget(synthetic_run, "environment")}
    serials = {r.serial for r in synthetic_run.records}
    assert len(serials) == 5
    for s in serials:
        for field in ("model", "fingerprint", "android", "region", "farm_host"):
            assert f"{s}.{field}" in env, (s, field)
    assert env["rn3-ru-0005.region"] == ["RU"]
    assert env["mi4s-cn-0002.farm_host"] == ["127.0.0.1:5037"]


def test_navigation_is_model_region_then_app_then_check(synthetic_run: SyntheticRun) -> None:
    tree = json.loads((synthetic_run.out / "allure-report" / "data" / "behaviors.json").read_text())
    epics = {c["name"]: c for c in tree["children"]}
    assert set(epics) == {"MI 5 · CN", "MI 4S · CN", "Redmi Note 3 · IN", "Redmi 3 · ID", "Redmi Note 3 · RU"}
    features = {c["name"]: c for c in epics["MI 4S · CN"]["children"]}
    assert set(features) == {"Word", "Excel", "PowerPoint", "Outlook", "Skype", "device"}
    stories = {c["name"] for c in features["Excel"]["children"]}
    assert stories == {"presence", "launch"}


def test_missing_toolchain_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ToolchainMissing, match=r"run `bash tools/setup_report_toolchain.sh`"):
        allure_executable(tmp_path)
    results = tmp_path / "results"
    results.mkdir()
    (results / "x-result.json").write_text("{}")
    with pytest.raises(ToolchainMissing):
        generate_report(results, tmp_path / "out", toolchain_dir=tmp_path)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "tools.report", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_cli_builds_everything_and_exits_with_the_gate(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    proc = run_synthetic(tmp_path / "w", reports / "allure-results", reports / "records.jsonl")
    assert proc.returncode == 1, proc.stdout
    args = ["--results", str(reports / "allure-results"), "--records", str(reports / "records.jsonl"),
            "--out", str(reports)]
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == EXIT_PRODUCT_DEFECT, done.stdout + done.stderr
    for name in ("compliance.md", "compliance.html", "compliance.json", "allure-report/index.html",
                 "allure-report-single.html", "history/history-trend.json",
                 "allure-results/categories.json", "allure-results/environment.properties"):
        assert (reports / name).exists(), name
        assert str(reports / name.split("/")[0]) in done.stdout
    assert "gate FAIL (exit 1)" in done.stdout
    assert "DEFECT MI 4S · CN (mi4s-cn-0002) / Excel / presence [critical]: [missing app]" in done.stdout
    # Skype (the only blocker app) passed everywhere it applies: the blocker gate ships
    blocker = cli(*args, "--gate-severity", "blocker", "--no-html", cwd=tmp_path)
    assert blocker.returncode == EXIT_SHIP, blocker.stdout + blocker.stderr
    assert cli(*args, "--exit-zero", "--no-html", cwd=tmp_path).returncode == 0
    bad = cli(*args, "--gate-severity", "fatal", "--no-html", cwd=tmp_path)
    assert bad.returncode == EXIT_USAGE and "unknown severity 'fatal'" in bad.stderr
    (tmp_path / "broken.jsonl").write_text('{"nodeid": 1}\n')
    garbled = cli("--records", str(tmp_path / "broken.jsonl"), "--out", str(tmp_path / "o"), "--no-html",
                  cwd=tmp_path)
    assert garbled.returncode == EXIT_USAGE and "broken.jsonl:1:" in garbled.stderr


def fake_toolchain(tmp_path: Path, script: str) -> Path:
    """A toolchain dir whose `allure` is a shell script (to reach the generator's failure paths)."""
    exe = tmp_path / "tc" / "node_modules" / ".bin" / "allure"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)
    return tmp_path / "tc"


def results_dir(tmp_path: Path) -> Path:
    results = tmp_path / "results"
    results.mkdir()
    (results / "x-result.json").write_text("{}")
    return results


def test_generator_failure_keeps_the_previous_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "allure-report").mkdir(parents=True)
    (out / "allure-report" / "index.html").write_text("previous")
    tc = fake_toolchain(tmp_path, 'echo "java.lang.OutOfMemoryError: boom"; exit 3\n')
    with pytest.raises(ReportGenerationError, match=r"exited 3:\njava.lang.OutOfMemoryError: boom"):
        generate_report(results_dir(tmp_path), out, toolchain_dir=tc)
    assert (out / "allure-report" / "index.html").read_text() == "previous"


def test_report_with_analytics_is_refused(tmp_path: Path) -> None:
    # writes an index.html with a gtag snippet into the -o directory (argument 4)
    tc = fake_toolchain(tmp_path, 'mkdir -p "$4" && echo "<script src=https://www.googletagmanager.com/gtag/js>'
                                  '</script>" > "$4/index.html"\n')
    with pytest.raises(ReportGenerationError, match="contains analytics"):
        generate_report(results_dir(tmp_path), tmp_path / "out", toolchain_dir=tc)
    assert not (tmp_path / "out" / "allure-report").exists()


def test_empty_results_are_refused(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    with pytest.raises(ReportGenerationError, match="no allure results"):
        generate_report(tmp_path / "r", tmp_path / "out")


def test_a_partial_run_is_marked_and_kept_out_of_the_trend(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    proc = run_synthetic(tmp_path / "w", reports / "allure-results", reports / "records.jsonl")
    assert proc.returncode == 1, proc.stdout
    records = reports / "records.jsonl"
    whole = records.read_text()
    run_id = json.loads(whole.splitlines()[0])["run_id"]
    partial = tmp_path / "partial.jsonl"  # the next run, with one check's record missing (as after -k)
    partial.write_text("".join(whole.replace(run_id, run_id + "p").splitlines(keepends=True)[:-1]))
    later = tmp_path / "later.jsonl"  # a whole run after it
    later.write_text(whole.replace(run_id, run_id + "w"))
    base = ["--results", str(reports / "allure-results"), "--out", str(reports), "--no-single-file"]

    first = cli(*base, "--records", str(records), cwd=tmp_path)
    assert "trend points: 1" in first.stdout, first.stdout + first.stderr
    trend = (reports / "history" / "history-trend.json").read_text()

    marked = cli(*base, "--records", str(partial), cwd=tmp_path)
    assert "not updated: a partial run stays out of the trend" in marked.stdout, marked.stdout + marked.stderr
    assert (reports / "history" / "history-trend.json").read_text() == trend  # the next trend does not count it
    executors = json.loads((reports / "allure-report" / "widgets" / "executors.json").read_text())
    assert executors[0]["buildName"] == "run 2 (partial)"
    assert "partial: 1 required check not run" in executors[0]["reportName"]

    again = cli(*base, "--records", str(later), cwd=tmp_path)
    assert "trend points: 2" in again.stdout, again.stdout  # the whole runs only


def test_rebuilding_the_same_run_replaces_its_trend_point(tmp_path: Path) -> None:
    """Rebuilding the report of one run (tools.report again, e.g. after the job) never adds a trend point; the
    next run adds one, and rebuilding that one replaces it."""
    run = tmp_path / "run"
    proc = run_synthetic(tmp_path / "w", run / "allure-results", run / "records.jsonl")
    assert proc.returncode == 1, proc.stdout
    records = run / "records.jsonl"
    reports = tmp_path / "reports"
    base = ["--results", str(run / "allure-results"), "--out", str(reports), "--no-single-file"]
    run_id = json.loads(records.read_text().splitlines()[0])["run_id"]
    partial = tmp_path / "partial.jsonl"  # a partial run first: it is never counted, even in the first report
    partial.write_text("".join(records.read_text().replace(run_id, run_id + "p").splitlines(keepends=True)[:-1]))
    assert "trend points: 1" in cli(*base, "--records", str(partial), cwd=tmp_path).stdout
    for _ in range(3):
        done = cli(*base, "--records", str(records), cwd=tmp_path)
        assert "trend points: 1" in done.stdout, done.stdout + done.stderr
    trend = json.loads((reports / "history" / "history-trend.json").read_text())
    assert [t["buildOrder"] for t in trend] == [1]
    other = tmp_path / "next.jsonl"  # the next run (another run id)
    other.write_text(records.read_text().replace(run_id, run_id + "0"))
    for _ in range(2):
        done = cli(*base, "--records", str(other), cwd=tmp_path)
        assert "trend points: 2" in done.stdout, done.stdout + done.stderr
    trend = json.loads((reports / "history" / "history-trend.json").read_text())
    assert [t["buildOrder"] for t in trend] == [2, 1]


def test_a_report_elsewhere_never_writes_into_its_inputs(tmp_path: Path) -> None:
    """--out elsewhere: the run's results and records are read, never written (categories, environment, executor,
    history go to a copy in <out>/allure-results); a previous run's raw results there are set aside, not lost."""
    run = tmp_path / "run"
    proc = run_synthetic(tmp_path / "w", run / "allure-results", run / "records.jsonl")
    assert proc.returncode == 1, proc.stdout
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    reports = tmp_path / "reports"
    (reports / "allure-results").mkdir(parents=True)
    (reports / "allure-results" / "old-result.json").write_text("{}")
    args = ["--results", str(run / "allure-results"), "--records", str(run / "records.jsonl"), "--out", str(reports),
            "--no-single-file"]
    for _ in range(2):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == EXIT_PRODUCT_DEFECT, done.stdout + done.stderr
        assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    copy = reports / "allure-results"
    assert (copy / "categories.json").is_file() and (copy / "environment.properties").is_file()
    assert not (copy / "old-result.json").exists()
    (aside,) = (reports / ".replaced").iterdir()  # set aside once; our own copy is simply rebuilt
    assert (aside / "allure-results" / "old-result.json").is_file()
    assert (reports / "allure-report" / "index.html").is_file()
    assert [json.loads(x)["nodeid"] for x in (reports / "records.jsonl").read_text().splitlines()[1:]] == \
        [json.loads(x)["nodeid"] for x in (run / "records.jsonl").read_text().splitlines()[1:]]
