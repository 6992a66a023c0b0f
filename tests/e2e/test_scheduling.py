"""End to end: a verdict does not depend on how the run was scheduled.

The seed farm (all six suites, launches included) runs serially, with ``-n 2`` and ``-n 4``, under xdist's default
distribution and under ``--dist loadgroup``; every test's verdict (outcome, category, expected, found) must be the
same in every run, and under xdist every device's tests must have run in one worker process.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import run_suites

SCHEDULES = {
    "serial": (),
    "-n 2": ("-n", "2"),
    "-n 4": ("-n", "4"),
    "-n 2 --dist loadgroup": ("-n", "2", "--dist", "loadgroup"),
    "-n 4 --dist loadgroup": ("-n", "4", "--dist", "loadgroup"),
}


def _verdicts(run):
    return {r["nodeid"]: (r["outcome"], r["category"], r["expected"], r["found"]) for r in run.records}


@pytest.fixture(scope="module")
def runs(seed_farm, tmp_path_factory):
    server, farm = seed_farm
    out = {}
    for name, extra in SCHEDULES.items():
        out[name] = run_suites(tmp_path_factory.mktemp(name.replace(" ", "_").replace("-", "")),
                               f"127.0.0.1:{server.port}", *extra, "--progress", "lines")
    return out, farm


def test_every_schedule_gives_the_same_verdicts(runs):
    out, _farm = runs
    serial = _verdicts(out["serial"])
    assert len(serial) == 288, out["serial"].output[-2000:]  # 8 devices x (1 + 5 apps x 7 app checks)
    assert sum(1 for v in serial.values() if v[0] == "failed") == 10
    assert not [n for n, v in serial.items() if v[0] == "broken"]
    for name, run in out.items():
        assert run.returncode == 1, (name, run.output[-2000:])
        verdicts = _verdicts(run)
        diff = {n: (serial.get(n), verdicts.get(n)) for n in set(serial) | set(verdicts)
                if serial.get(n) != verdicts.get(n)}
        assert not diff, f"{name}: {len(diff)} verdicts differ from the serial run: {list(diff.items())[:3]}"


@pytest.mark.parametrize("name", [n for n in SCHEDULES if n != "serial"])
def test_each_device_is_driven_by_one_process(runs, name):
    """Allure's ``thread`` label names the process (``<pid>-<thread>``) that ran each test."""
    out, _farm = runs
    run = out[name]
    owners: dict[str, set[str]] = {}
    for path in run.results_dir.glob("*-result.json"):
        result = json.loads(path.read_text())
        params = {p["name"]: p["value"] for p in result.get("parameters", [])}
        thread = next(lb["value"] for lb in result["labels"] if lb["name"] == "thread")
        owners.setdefault(params["adb serial"], set()).add(thread.split("-", 1)[0])
    assert len(owners) == 8
    assert all(len(pids) == 1 for pids in owners.values()), owners
    assert len({next(iter(p)) for p in owners.values()}) > 1  # and the work was really spread


def test_a_replaced_dist_mode_is_said_once(runs):
    out, _farm = runs
    assert "--dist loadgroup replaced by device scheduling" in out["-n 2 --dist loadgroup"].output
    assert "replaced by device scheduling" not in out["-n 2"].output


def test_progress_lines_name_each_device_once(runs):
    out, farm = runs
    for name in ("serial", "-n 2"):
        lines = [ln for ln in out[name].output.splitlines() if ln.startswith("preload-harness: [")]
        assert len(lines) == 8, (name, lines)
        assert lines[-1].startswith("preload-harness: [8/8 devices · 288/288 checks]"), lines[-1]


def test_launch_durations_are_the_launch_not_the_wait(runs):
    """The launch's own device time is the test's Allure duration (Excel on MI MAX IN takes a 6 s cold start)."""
    out, _farm = runs
    run = out["serial"]
    launches = [json.loads(p.read_text()) for p in run.results_dir.glob("*-result.json")]
    slow = [r for r in launches if r["status"] == "failed" and "[slow launch]" in r["statusDetails"]["message"]]
    assert len(slow) == 1
    assert slow[0]["stop"] - slow[0]["start"] >= 6000
    params = {p["name"]: p["value"] for p in slow[0]["parameters"]}
    assert "launch Excel" in params["device work"]
    recs = [r for r in run.records if r["check"] == "launch" and r["outcome"] == "failed"
            and "slow launch" in r["reason"]]
    assert recs and recs[0]["device_s"] >= 6.0 and recs[0]["duration_s"] >= 6.0
    # a package check's record is charged the shared inventory only once per device
    inventory_charged = [r for r in run.records if r["check"] == "presence" and r.get("device_s")]
    assert len({r["serial"] for r in inventory_charged}) == len(inventory_charged)
