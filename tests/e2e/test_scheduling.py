"""End to end: a verdict does not depend on how the run was scheduled.

The seed farm (every suite, launches, home screens and signers included) runs serially, with ``-n 2`` and
``-n 4``, under xdist's default distribution and under ``--dist loadgroup``; every test's verdict (outcome,
category, expected, found) must be the same in every run, and under xdist every device's tests must have run in
one worker process.
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
    from tests.e2e.test_seed_farm import EXPECTED_FAILURES

    serial = _verdicts(out["serial"])
    header = out["serial"].headers[0]
    assert len(serial) == len(header["expected"]), out["serial"].output[-2000:]  # every required check ran
    assert sum(1 for v in serial.values() if v[0] == "failed") == sum(len(f) for f in EXPECTED_FAILURES.values())
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
    """Serial: a line when a device's worker ran out of work; with -n the controller reports devices whose
    tests all reported."""
    out, farm = runs
    for name, says in (("serial", "device work done"), ("-n 2", "checks reported")):
        lines = [ln for ln in out[name].output.splitlines() if ln.startswith("preload-harness: [")]
        assert len(lines) == 8 and all(says in ln for ln in lines), (name, lines)
        assert lines[-1].startswith("preload-harness: [8/8 devices"), lines[-1]
        labels = {ln.split("] ", 1)[1].split(":")[0] for ln in lines}
        assert len(labels) == 8


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


def test_shards_on_several_machines_merge_into_the_same_verdicts(runs, seed_farm, tmp_path):
    """Three `--shard K/3` runs (as three CI machines would run them) merged by tools.report: every device checked
    once, the same verdicts as one serial run, one gate; a missing shard makes the merge partial."""
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    out, _farm = runs
    server, farm = seed_farm
    shard_runs = [run_suites(tmp_path / f"s{k}", f"127.0.0.1:{server.port}", "--shard", f"{k}/3")
                  for k in (1, 2, 3)]
    covered = [{r["serial"] for r in s.records} for s in shard_runs]
    assert sum(len(c) for c in covered) == len(farm.devices) == len(set().union(*covered))
    merged = {n: v for s in shard_runs for n, v in _verdicts(s).items()}
    assert merged == _verdicts(out["serial"])

    def report(*shards):
        argv = [sys.executable, "-m", "tools.report", "--out", str(tmp_path / "merged"), "--no-html"]
        for s in shards:
            argv += ["--records", str(s.results_dir.parent / "records.jsonl"), "--results", str(s.results_dir)]
        return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    whole = report(*shard_runs)
    assert whole.returncode == 1, whole.stdout + whole.stderr
    assert "merged shards 1/3, 2/3, 3/3" in whole.stdout
    assert f"; {len(farm.devices)} devices" in whole.stdout
    doc = json.loads((tmp_path / "merged" / "compliance.json").read_text())
    assert len(doc["devices"]) == len(farm.devices) and len(doc["run_ids"]) == 3
    part = report(*shard_runs[:2])
    assert "shard 3/3 missing from the merge" in part.stdout
    assert part.returncode == 1  # the proven defects still win; without them the merge would be partial (13)


@pytest.mark.parametrize("stop", [("-x",), ("--maxfail", "1")])
def test_an_early_stop_gets_the_same_exit_code_with_and_without_xdist(tmp_path, stop):
    """xdist ends a ``-x`` run as an interruption (exit 2); the plugin gates it like the serial run (partial or
    defect, never "interrupted, no verdict"), so the exit code does not depend on ``-n``."""
    from virtual_device.testing import AdbServer, Farm

    with AdbServer() as server, Farm(["mi5-cn", "mi4s-cn"], server):
        spec = f"127.0.0.1:{server.port}"
        suites = ("suites/test_presence.py", "suites/test_version.py")
        serial = run_suites(tmp_path / "serial", spec, *stop, suites=suites)
        xdist = run_suites(tmp_path / "n2", spec, "-n", "2", *stop, suites=suites)
    assert serial.returncode not in (0, 2), serial.output[-2000:]
    assert xdist.returncode == serial.returncode, xdist.output[-2000:]
    assert "run interrupted" not in xdist.output and "gate " in xdist.output
