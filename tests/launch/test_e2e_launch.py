"""End to end: suites/test_launch.py in a pytest subprocess (the real plugin, the real adb server, unmodified
uiautomator2) against virtual farms whose images break launches in every way the issue names.

Images are variants of the seed ``mi5-cn`` (matched by the shipped ``xiaomi-mi5`` profile, cold-start limit
4000 ms for every app), written to the test's tmp dir.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "virtual_device" / "images"
EXCEL, OUTLOOK, PPT, WORD, SKYPE = ("com.microsoft.office.excel", "com.microsoft.office.outlook",
                                    "com.microsoft.office.powerpoint", "com.microsoft.office.word",
                                    "com.skype.raider")
PPT_ACTIVITY = "com.microsoft.office.apphost.LaunchActivity"
# Shell/exec commands the device answers before the 1st launch's `am start -W` when the run starts with a launch
# test: getprop (facts), the inventory script, dumpsys window (dialog check), resolve-activity, force-stop, date.
COMMANDS_BEFORE_FIRST_AM_START = 6


def variant(tmp_path: Path, name: str, launches: dict[str, dict], behaviour: dict | None = None) -> Path:
    """A copy of seed image mi5-cn named ``name`` with ``launch`` blocks replaced per package."""
    data = yaml.safe_load((IMAGES / "mi5-cn.yaml").read_text())
    data["name"] = name
    for pkg in data["packages"]:
        if pkg["package"] in launches:
            pkg["launch"] = launches[pkg["package"]]
    if behaviour:
        data["behaviour"] = behaviour
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_launch_suite(tmp_path: Path, server: str) -> tuple[int, str, list[dict], Path]:
    records, results = tmp_path / "records.jsonl", tmp_path / "allure-results"
    argv = [sys.executable, "-m", "pytest", str(ROOT / "suites" / "test_launch.py"), "-p", "no:cacheprovider",
            "--adb-server", server, "--records", str(records), "--alluredir", str(results), "-q"]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    recs = [json.loads(line) for line in records.read_text().splitlines()] if records.exists() else []
    recs = [r for r in recs if r.get("type") != "run"]
    return proc.returncode, proc.stdout + proc.stderr, recs, results


def allure_results(results: Path) -> dict[str, dict]:
    """Allure result JSON per test, keyed ``<adb serial>|<package>`` (also ``<serial parameter>|<package>``)."""
    out = {}
    for f in results.glob("*-result.json"):
        data = json.loads(f.read_text())
        params = {p["name"]: p["value"].strip("'") for p in data.get("parameters", [])}
        for key in ("adb serial", "serial"):
            if key in params:
                out[f"{params[key]}|{params.get('package', '')}"] = data
    return out


def test_every_launch_outcome_end_to_end(tmp_path, virtual_farm):
    faults = variant(tmp_path, "lt-faults", {
        EXCEL: {"outcome": "ok", "cold_start_ms": 4100},
        OUTLOOK: {"outcome": "anr", "cold_start_ms": 700},
        PPT: {"outcome": "crash", "cold_start_ms": 600, "exception": "java.lang.IllegalStateException: boom"},
        SKYPE: {"outcome": "not_found"},
    })
    window = variant(tmp_path, "lt-window", {WORD: {"outcome": "no_window"}, PPT: {"outcome": "crash"}})
    offline = variant(tmp_path, "lt-offline", {}, behaviour={"offline_after": COMMANDS_BEFORE_FIRST_AM_START})
    farm = virtual_farm(faults, window, offline)
    dev_faults, dev_window, dev_offline = farm.devices
    # a crash dialog left on lt-window by someone else before the run: the first launch there must not suffer
    farm.adb_devices[1].shell(["am", "start", "-n", f"{PPT}/{PPT_ACTIVITY}"])
    assert "Application Error" in farm.adb_devices[1].shell(["dumpsys", "window", "windows"])

    start = time.monotonic()
    rc, output, records, results = run_launch_suite(tmp_path, f"127.0.0.1:{farm.adb_server.port}")
    elapsed = time.monotonic() - start
    got = {(r["serial"], r["package"]): r for r in records}
    assert len(records) == 15, output[-3000:]

    def rec(dev, pkg):
        return got[(dev.serial, pkg)]

    # lt-faults: each fault with its own tag and message; Word (right after the PowerPoint crash) passes
    assert (rec(dev_faults, EXCEL)["outcome"], rec(dev_faults, EXCEL)["category"]) == ("failed", "Slow launch")
    assert "4100 ms" in rec(dev_faults, EXCEL)["reason"] and "4000 ms limit" in rec(dev_faults, EXCEL)["reason"]
    assert (rec(dev_faults, OUTLOOK)["outcome"], rec(dev_faults, OUTLOOK)["category"]) == ("failed", "ANR")
    assert (rec(dev_faults, PPT)["outcome"], rec(dev_faults, PPT)["category"]) == ("failed", "Launch crash")
    assert "java.lang.IllegalStateException: boom" in rec(dev_faults, PPT)["reason"]
    assert (rec(dev_faults, SKYPE)["outcome"], rec(dev_faults, SKYPE)["category"]) == ("failed", "No first screen")
    assert "launch failed" in rec(dev_faults, SKYPE)["reason"]
    assert rec(dev_faults, WORD)["outcome"] == "passed"
    # lt-window: the leftover dialog is closed first; no window is "no first screen"; the rest pass
    assert rec(dev_window, EXCEL)["outcome"] == "passed"
    assert (rec(dev_window, WORD)["outcome"], rec(dev_window, WORD)["category"]) == ("failed", "No first screen")
    assert "never showed a window" in rec(dev_window, WORD)["reason"]
    assert rec(dev_window, PPT)["category"] == "Launch crash"
    assert rec(dev_window, OUTLOOK)["outcome"] == rec(dev_window, SKYPE)["outcome"] == "passed"
    # lt-offline: the device vanished during the first launch: broken (infrastructure), never failed
    offline_recs = [r for r in records if r["serial"] == dev_offline.serial]
    assert {r["outcome"] for r in offline_recs} == {"broken"}
    assert {r["category"] for r in offline_recs} == {"Device offline or unauthorized"}
    shells = [s for s in dev_offline.services_log if s.startswith(("shell", "exec"))]
    assert "am start -W" in shells[-1].replace("'", ""), shells  # it vanished mid-launch, not before
    assert rc == 1  # critical product defects fail the gate

    allure = allure_results(results)
    for dev, pkg in [(dev_faults, EXCEL), (dev_faults, OUTLOOK), (dev_faults, PPT), (dev_window, WORD)]:
        res = allure[f"{dev.serial}|{pkg}"]
        assert res["status"] == "failed"
        names = {a["name"]: a["type"] for a in res.get("attachments", [])}
        assert names.get("screen after launch") == "image/jpg", names
        assert {"evidence", "logcat since launch", "window hierarchy", "am start -W"} <= set(names)
        assert any(p["name"] == "cold start ms" for p in res["parameters"])
    passed = allure[f"{dev_window.serial}|{EXCEL}"]
    assert passed["status"] == "passed"
    assert {a["name"] for a in passed["attachments"]} >= {"screen after launch", "dialogs closed before launch"}
    assert elapsed < 120, f"launch suite on 3 devices took {elapsed:.1f} s"
