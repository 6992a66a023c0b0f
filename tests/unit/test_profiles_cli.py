"""`python -m harness.profiles check|show`: output and exit codes, run as a real subprocess."""

from __future__ import annotations

import subprocess
import sys

from harness.profiles.loader import REPO_ROOT

FIX = "tests/fixtures/profiles"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.profiles", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def test_check_valid_profiles_prints_one_summary_line_per_profile():
    proc = run("check")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 7  # six profiles + the app set
    assert ("xiaomi-mi5: model=MI 5 device=gemini; regions CN,IN,TW,HK,SG,MY,PH,ID,BR; 5 apps "
            "(device_profiles/xiaomi-mi5.yaml)") in lines
    assert ("xiaomi-redmi8a: model=Redmi 8A device=olivelite fingerprint~^Xiaomi/olivelite/olivelite:; regions CN; "
            "5 apps (device_profiles/xiaomi-redmi8a.yaml)") in lines
    assert lines[-1] == "app set microsoft-office: 5 apps (device_profiles/apps/microsoft-office.yaml)"


def test_check_one_valid_file():
    proc = run("check", f"{FIX}/good-mini.yaml")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0] == f"good-mini: model=Mini 1; regions CN,IN; 2 apps ({FIX}/good-mini.yaml)"


def test_check_prints_every_error_one_per_line_and_exits_1():
    proc = run("check", f"{FIX}/many-errors.yaml", f"{FIX}/unknown-key.yaml")
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[-1] == "8 errors in device profiles"
    assert lines[0] == f"{FIX}/many-errors.yaml:4: match.modle: unknown key `modle` (did you mean `model`?)"
    assert f"{FIX}/unknown-key.yaml:6: apps[0].pakage: unknown key `pakage` (did you mean `package`?)" in lines
    assert (f"{FIX}/many-errors.yaml:16: overrides[com.example.beta].enabld: unknown key `enabld` "
            "(did you mean `enabled`?)") in lines
    assert all(line.startswith(f"{FIX}/") for line in lines[:-1])
    assert "Traceback" not in proc.stderr


def test_check_whole_fixture_folder_reports_all_files():
    proc = run("check", FIX)
    assert proc.returncode == 1
    files = {line.split(":", 1)[0] for line in proc.stderr.splitlines()[:-1]}
    assert f"{FIX}/duplicate-key.yaml" in files and f"{FIX}/apps/broken-set.yaml" in files
    assert len(files) == 13


def test_check_missing_path_exits_1():
    proc = run("check", "no/such/dir")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == "no/such/dir: file or directory not found (check the path)"


def test_show_prints_requirements_for_a_region():
    proc = run("show", "xiaomi-mimax", "--region", "IN")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "region: IN" in out
    skype = next(line for line in out.splitlines() if line.startswith("com.skype.raider"))
    assert "version_name in [7.06.0.582]" in skype and "blocker" in skype and "required" in skype
    word = next(line for line in out.splitlines() if line.startswith("com.microsoft.office.word"))
    assert "version_name == 16.0.7070.2036" in word and "system" in word


def test_show_region_not_agreed_and_override_source():
    proc = run("show", "xiaomi-redmi8a", "--region", "in")
    assert proc.returncode == 0
    assert "note: region IN is not agreed for this profile" in proc.stdout
    outlook = next(line for line in proc.stdout.splitlines() if line.startswith("com.microsoft.office.outlook"))
    assert "(override device_profiles/xiaomi-redmi8a.yaml:" in outlook


def test_show_usage_errors_exit_2():
    proc = run("show", "xiaomi-mi55")
    assert proc.returncode == 2
    assert "no profile 'xiaomi-mi55'; did you mean xiaomi-mi5" in proc.stderr
    proc = run("show", "xiaomi-mi5", "--region", "UKR")
    assert proc.returncode == 2
    assert "not an ISO 3166-1 alpha-2 code" in proc.stderr


def test_show_with_invalid_profiles_exits_1():
    proc = run("show", "many-errors", "--profiles", f"{FIX}/many-errors.yaml")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == "6 errors in device profiles"
