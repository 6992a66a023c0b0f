"""Option values shared by the pytest plugin and the main job (``option_problems``): a mistake is a usage error
(exit 4) with the option, the value and an example, never "no device" (exit 10) or silently dropped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.plugin.session import option_problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("options", "part"), [
    ({"serials": [""]}, "--serial ''"),
    ({"serials": ["  "]}, "--serial '  '"),
    ({"adb_servers": ["foo"]}, "--adb-server 'foo': expected HOST:PORT"),
    ({"adb_servers": [":5037"]}, "--adb-server ':5037'"),
    ({"adb_servers": ["foo:"]}, "--adb-server 'foo:'"),
    ({"adb_servers": ["foo:0"]}, "port 1-65535"),
    ({"adb_servers": ["foo:65536"]}, "port 1-65535"),
    ({"adb_servers": ["foo:５０３７"]}, "--adb-server 'foo:５０３７'"),
    ({"adb_servers": ["far m:5037"]}, "--adb-server 'far m:5037'"),
    ({"adb_servers": [""]}, "--adb-server ''"),
    ({"operator": ""}, "--operator ''"),
    ({"shard": "²/4"}, "--shard '²/4'"),
])
def test_bad_option_values_are_usage_errors(options, part):
    [problem] = option_problems(**options)
    assert part in problem and ("e.g." in problem or "such as" in problem)


@pytest.mark.parametrize("spec", ["127.0.0.1:5037", "farm-host-3:5037", "farm-a:1", "farm-b:65535", "::1:5037"])
def test_good_adb_servers_pass(spec):
    assert option_problems(adb_servers=[spec], serials=["emulator-5554", "all"]) == []


def test_job_refuses_empty_serial_operator_and_bad_server_before_any_device():
    from tools import job

    args = job.build_parser().parse_args(["--serial", "", "--operator", "", "--adb-server", "foo",
                                          "--adb-server", ":5037"])
    problems = job.validate(args)[0]
    assert [p.split(":")[0] for p in problems] == ["--operator ''", "--serial ''", "--adb-server 'foo'",
                                                   "--adb-server '"]


def test_job_passes_an_empty_operator_on_instead_of_dropping_it():
    from tools import job

    args = job.build_parser().parse_args(["--operator", "", "--region", ""])
    argv = job._harness_options(args, [])
    assert argv[argv.index("--operator") + 1] == "" and argv[argv.index("--region") + 1] == ""


@pytest.mark.parametrize("option", ["--serial=", "--adb-server=foo", "--adb-server=:5037"])
def test_plain_pytest_stops_with_exit_4(tmp_path, option):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider", option,
                           "--records", str(tmp_path / "records.jsonl")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert option.split("=")[0] in proc.stdout + proc.stderr
