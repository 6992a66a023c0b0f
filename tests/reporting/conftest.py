"""Fixtures for the reporting tests: a real synthetic allure-pytest run (two runs, for history) and its reports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.reporting.allure_env import devices_from_records, write_categories, write_environment
from harness.reporting.html_report import ReportPaths, generate_report
from harness.reporting.matrix import build_matrix, write_matrix
from harness.reporting.records import Record, read_records

from .synthetic import run_synthetic


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: opens generated reports in headless Chromium (/usr/bin/chromium)")


@dataclass
class SyntheticRun:
    """Two synthetic runs into one reports/ directory: ``out`` holds the reports after run 2."""

    out: Path
    results: Path
    records: list[Record]
    first: ReportPaths
    second: ReportPaths
    matrix_paths: dict[str, Path]


def build_reports(workdir: Path, results: Path, records_path: Path, out: Path, variant: int) -> ReportPaths:
    proc = run_synthetic(workdir, results, records_path, variant=variant)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the suite fails on purpose
    records = read_records(records_path)
    write_categories(results)
    write_environment(results, devices_from_records(records))
    return generate_report(results, out)


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> SyntheticRun:
    base = tmp_path_factory.mktemp("synthetic")
    out = base / "reports"
    results = out / "allure-results"
    first = build_reports(base / "run1", results, base / "records1.jsonl", out, variant=1)
    second = build_reports(base / "run2", results, out / "records.jsonl", out, variant=2)
    records = read_records(out / "records.jsonl")
    paths = write_matrix(build_matrix(records), out)
    return SyntheticRun(out=out, results=results, records=records, first=first, second=second, matrix_paths=paths)
