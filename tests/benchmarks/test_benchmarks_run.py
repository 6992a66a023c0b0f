"""The benchmarks still run: each one, at its smallest size, prints its table and ends without a traceback.

They are not timed here (figures belong to the benchmark's own printout); this only proves that a change to the
harness (a new record line, a new exit code) did not leave a benchmark that crashes when someone needs its figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.mark.timeout(300)
def test_farm_benchmark_small_farm_prints_every_row_and_ratio() -> None:
    proc = _run(["benchmarks/farm.py", "--latency-ms", "0", "--devices", "2", "--launch-devices", "2", "--big", "2",
                 "--hosts", "2", "--skip", "naive,xdist"], timeout=280)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert proc.returncode in (0, 1), out[-3000:]  # 1: a ratio missed its target (tiny farms prove nothing)
    for label in ("non-launch suites, 1 device", "non-launch suites, 2 devices", "launch suite, 2 devices",
                  "non-launch suites, 2 devices on 2 adb servers", "host cost per pytest item", "ratios (target):"):
        assert label in out, out[-3000:]
    # every pytest run counted its checks (records parsed), none of them exited with an unexpected code
    assert "rc 0 " in out or "rc 13" in out, out[-3000:]
    assert "passed" in out, out[-3000:]


@pytest.mark.timeout(300)
def test_signers_benchmark_prints_bytes_read_per_variant() -> None:
    proc = _run(["benchmarks/signers.py"], timeout=280)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert proc.returncode == 0, out[-3000:]
    for variant in ("partner-v1v2", "partner-v1v2-3000", "partner-v1v2-50m"):
        assert variant in out


@pytest.mark.timeout(300)
def test_rom_build_benchmark_small_tree(tmp_path: Path) -> None:
    proc = _run(["benchmarks/rom_build.py", "--size-gb", "0.01", "--apps", "5", "--zip"], timeout=280)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert proc.returncode == 0, out[-3000:]
