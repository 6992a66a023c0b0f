"""Command-line tools end quietly when their reader goes away (``… | head``): no BrokenPipeError traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOGCAT = next(iter(sorted((ROOT / "tests" / "fixtures" / "corpus").glob("logcat-*"))))


@pytest.mark.parametrize("argv", [
    ["harness.profiles", "show", "xiaomi-mimax", "--region", "IN"],
    ["harness.parsers", "logcat-crash", str(LOGCAT)],
])
def test_a_closed_stdout_ends_quietly(argv):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write: every write fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=60, check=False)
    finally:
        os.close(write)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
