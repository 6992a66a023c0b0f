"""Helpers for the end-to-end tests: run the compliance suites in a subprocess against a virtual farm."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from virtual_device.testing import AdbServer, Farm

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "virtual_device" / "images"
SEED_IMAGES = ["mi5-cn", "mimax-in", "mi4s-cn", "redmi-note3-in", "redmi3-id", "redmi-note3-ru",
               "redmi8a-cn-real", "mimax-in-updated"]


@dataclass
class SuiteRun:
    """A finished pytest run of suites/: exit code, console output, records (list of dicts) and run headers."""

    returncode: int
    output: str
    records: list[dict]
    results_dir: Path
    headers: list[dict] | None = None

    def by_image(self, farm: Farm) -> dict[str, list[dict]]:
        serial_to_image = {d.serial: d.name for d in farm.devices}
        out: dict[str, list[dict]] = {}
        for r in self.records:
            out.setdefault(serial_to_image.get(r["serial"], r["serial"]), []).append(r)
        return out


def run_suites(tmp_path: Path, server: str, *extra: str, suites: tuple[str, ...] = ("suites",),
               timeout: float = 600) -> SuiteRun:
    """Run ``pytest suites/`` in a subprocess (the real plugin, the real adb server at ``server``)."""
    records = tmp_path / "records.jsonl"
    results = tmp_path / "allure-results"
    argv = [sys.executable, "-m", "pytest", *[str(ROOT / s) for s in suites], "-p", "no:cacheprovider",
            "--adb-server", server, "--records", str(records), "--alluredir", str(results), "-q", *extra]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [json.loads(line) for line in records.read_text().splitlines()] if records.exists() else []
    recs = [r for r in lines if r.get("type") != "run"]
    headers = [r for r in lines if r.get("type") == "run"]
    return SuiteRun(proc.returncode, proc.stdout + proc.stderr, recs, results, headers)


def variant_image(tmp_path: Path, base: str, name: str, **changes: object) -> Path:
    """Write a copy of seed image ``base`` named ``name`` with top-level keys replaced by ``changes``."""
    data = yaml.safe_load((IMAGES / f"{base}.yaml").read_text())
    data["name"] = name
    for key, value in changes.items():
        data[key] = value
    if "props_from" in data and not Path(data["props_from"]).is_absolute():
        data["props_from"] = str((IMAGES / data["props_from"]).resolve())
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def seed_farm():
    """The eight seed images served by one process, on a private adb server (session-scoped)."""
    with AdbServer() as server, Farm(SEED_IMAGES, server) as farm:
        yield server, farm
