"""End to end: the compliance suites on the seed virtual farm, through the real adb server.

Each compliant image passes; each non-compliant image fails exactly the check it was built to break
(see virtual_device/images/ and device_profiles/), and nothing else fails or breaks.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import run_suites

# image -> the (check, app) pairs that must fail; app None = device-level check
EXPECTED_FAILURES = {
    "mi5-cn": set(),
    "mimax-in": {("launch", "Excel")},
    "mimax-in-updated": {("operator", None), ("home_screen", "Outlook")},  # a Vodafone (404-20) SIM
    "mi4s-cn": {("presence", "Excel"), ("launch", "PowerPoint")},
    "redmi-note3-in": {("version", "Word"), ("home_screen", "Skype"), ("signer", "Skype")},
    "redmi3-id": {("enabled", "Skype"), ("launch", "Outlook")},
    "redmi-note3-ru": {("region", None)},
    "redmi8a-cn-real": {("presence", "Outlook"), ("signer", "Excel")},
}

PACKAGE_SUITES = ("suites/test_presence.py", "suites/test_version.py", "suites/test_placement.py",
                  "suites/test_region.py")
ALL_SUITES = (*PACKAGE_SUITES, "suites/test_launch.py", "suites/test_home_screen.py", "suites/test_signer.py")


@pytest.fixture(scope="module")
def seed_run(seed_farm, tmp_path_factory):
    server, farm = seed_farm
    run = run_suites(tmp_path_factory.mktemp("seed"), f"127.0.0.1:{server.port}", suites=ALL_SUITES)
    return run, farm


def test_every_seed_device_is_checked(seed_run):
    run, farm = seed_run
    by_image = run.by_image(farm)
    assert set(by_image) == set(EXPECTED_FAILURES), run.output[-3000:]
    for image, records in by_image.items():
        checks = {r["check"] for r in records}
        assert {"presence", "version", "install_kind", "enabled", "region", "operator", "app_region", "launch",
                "home_screen", "signer"} <= checks, image


@pytest.mark.parametrize("image", sorted(EXPECTED_FAILURES))
def test_each_image_fails_exactly_what_it_breaks(seed_run, image):
    run, farm = seed_run
    records = run.by_image(farm)[image]
    failed = {(r["check"], r["app"]) for r in records if r["outcome"] == "failed"}
    broken = [r for r in records if r["outcome"] == "broken"]
    assert not broken, [r["reason"] for r in broken]
    assert failed == EXPECTED_FAILURES[image], [r["reason"] for r in records if r["outcome"] == "failed"]
    for r in records:
        if r["outcome"] == "failed":
            assert r["reason"] and r["expected"] and r["found"] and r["category"]


def test_failure_messages_name_device_package_expected_found(seed_run):
    run, _farm = seed_run
    out = run.output
    assert "[version mismatch] Redmi Note 3" in out
    assert "com.microsoft.office.word" in out and "16.0.6925.1000" in out
    assert "[missing app] MI 4S" in out
    assert "[disabled] Redmi 3" in out
    assert "[region not agreed] Redmi Note 3" in out
    assert "[not on home screen] Redmi Note 3" in out and "Skype has no icon on home screen page 1" in out
    assert "[not in folder] MI MAX" in out and 'Outlook is not in folder "Microsoft"' in out
    testkey, other = "a40da80a59d170caa950cf15c18c454d47a39b26989d8b640ecd745ba71bf5dc", "86c13887f12c98e3"
    assert "[test-key signed] Redmi Note 3" in out and testkey in out
    assert "[wrong signer] Redmi 8A" in out and other in out


def test_the_matrix_shows_each_home_screen_failure_kind(seed_run):
    """Every new failure kind reaches the compliance matrix as its own category (issue 10 part 3)."""
    from harness.reporting.matrix import build_matrix
    from harness.reporting.records import Record

    run, farm = seed_run
    image_of = {d.serial: d.name for d in farm.devices}
    matrix = build_matrix([Record.model_validate(r) for r in run.records])
    cells = {(image_of[d.serial], col): d.cells[col] for d in matrix.devices for col in matrix.columns}
    skype, outlook = cells[("redmi-note3-in", "Skype")], cells[("mimax-in-updated", "Outlook")]
    assert (skype.status, skype.check, skype.category) == ("failed", "home_screen", "Not on home screen")
    assert (outlook.status, outlook.check, outlook.category) == ("failed", "home_screen", "Not in folder")
    assert "Skype has no icon on home screen page 1" in skype.reason and "not in folder" in outlook.reason
    word = cells[("mi5-cn", "Word")]
    assert word.status == "passed" and any(c.check == "home_screen" and c.outcome == "passed" for c in word.checks)


def test_gate_exit_code_and_summary(seed_run):
    run, _farm = seed_run
    assert run.returncode == 1, run.output[-2000:]  # blocker/critical defects in the seed farm
    assert "gate FAIL (exit 1)" in run.output


def test_two_adb_round_trips_per_device_for_all_package_checks(seed_farm, tmp_path):
    """presence, version, placement and region checks of five apps cost one getprop + one inventory script."""
    server, farm = seed_farm
    run = run_suites(tmp_path, f"127.0.0.1:{server.port}", suites=PACKAGE_SUITES)
    line = next(ln for ln in run.output.splitlines() if ln.startswith("adb round trips per device"))
    trips = dict(re.findall(r"(\S+)=(\d+)", line))
    assert set(trips) == {d.serial for d in farm.devices}
    assert {int(v) for v in trips.values()} == {2}, line


def test_allure_results_carry_device_parameters(seed_run):
    import json

    run, _farm = seed_run
    results = [json.loads(p.read_text()) for p in run.results_dir.glob("*-result.json")]
    assert results
    failed = [r for r in results if r["status"] == "failed"]
    assert failed
    for r in failed:
        params = {p["name"] for p in r.get("parameters", [])}
        labels = {lb["name"]: lb["value"] for lb in r["labels"]}
        assert {"serial", "model", "region", "build fingerprint", "farm host"} <= params
        if labels["feature"] != "Device":
            assert "package" in params
        assert labels["epic"] and labels["feature"] and labels["story"] and labels["severity"]
        assert r.get("attachments"), r["name"]
    assert (run.results_dir / "environment.properties").exists()


def test_failures_print_their_message_not_harness_tracebacks(seed_run):
    run, _farm = seed_run
    out = run.output
    assert "[version mismatch] Redmi Note 3" in out and "expected: version_name == 16.0.7070.2036" in out
    for internal in ("self = <harness", "harness/plugin/outcome.py:", "raise AssertionError(message)", "def __call__"):
        assert internal not in out, internal


def test_an_infrastructure_error_prints_its_cause_and_remedy_not_a_traceback(tmp_path):
    from tests.e2e.conftest import variant_image
    from virtual_device.testing import AdbServer, Farm

    hang = variant_image(tmp_path, "mi5-cn", "hangs", behaviour={"hang_on": "dumpsys package"})
    with AdbServer() as server, Farm([hang], server):
        short = run_suites(tmp_path / "a", f"127.0.0.1:{server.port}", "--adb-timeout", "2", "--device-wait", "0",
                           suites=("suites/test_presence.py",))
        long = run_suites(tmp_path / "b", f"127.0.0.1:{server.port}", "--adb-timeout", "2", "--device-wait", "0",
                          "--tb=long", suites=("suites/test_presence.py",))
    assert "AdbTimeout: [127.0.0.1:" in short.output and "infrastructure, not a product defect" in short.output
    assert "check that the device is responsive" in short.output  # the remedy
    assert "harness/inventory.py" not in short.output and "harness/workers.py" not in short.output
    assert "harness/" in long.output  # --tb=long still shows where it came from


def test_devices_without_selected_tests_get_only_the_getprop_that_names_them(seed_farm, tmp_path):
    """`-k MI_4S`: the other devices are read once (their model names the tests), never inventoried or launched."""
    server, farm = seed_farm
    run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "-k", "MI_4S", suites=ALL_SUITES)
    line = next(ln for ln in run.output.splitlines() if ln.startswith("adb round trips per device"))
    trips = {serial: int(n) for serial, n in re.findall(r"(\S+)=(\d+)", line)}
    mi4s = next(d.serial for d in farm.devices if d.name == "mi4s-cn")
    assert trips.pop(mi4s) > 2
    assert set(trips.values()) == {1}, line
