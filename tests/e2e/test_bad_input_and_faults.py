"""End to end: bad input and infrastructure faults give clear errors, never tracebacks or silent passes.

Profiles with typos, unsafe values or no apps stop the run (exit 4) before any record is written;
no device / no adb server stops it with exit 10; devices that are unauthorized, unknown, hanging or
vanishing become *errors* (broken) for that device only, with the remedy in the message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, run_suites, variant_image
from virtual_device.testing import AdbServer, Farm, free_port

PROFILES = ROOT / "device_profiles"


def _profiles_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "profiles"
    shutil.copytree(PROFILES, dest, ignore=shutil.ignore_patterns("*.md"))
    return dest


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    with AdbServer() as server, Farm(["mi5-cn"], server) as farm:
        yield f"127.0.0.1:{server.port}", farm


def test_typo_in_profile_stops_the_run_with_file_line_and_hint(one_device, tmp_path):
    server, _ = one_device
    profiles = _profiles_copy(tmp_path)
    app_set = profiles / "apps" / "microsoft-office.yaml"
    app_set.write_text(app_set.read_text().replace("    severity: critical\n", "    severty: critical\n", 1))
    run = run_suites(tmp_path, server, "--profiles", str(profiles))
    assert run.returncode == 4, run.output[-2000:]
    assert "microsoft-office.yaml:" in run.output and "severty" in run.output
    assert "did you mean `severity`?" in run.output
    assert "Traceback" not in run.output
    assert run.records == []


@pytest.mark.parametrize("bad_value", ["com.microsoft.office.word; reboot", "com.x$(id)", "com.x`id`"])
def test_shell_metacharacters_in_package_are_rejected(one_device, tmp_path, bad_value):
    server, _ = one_device
    profiles = _profiles_copy(tmp_path)
    app_set = profiles / "apps" / "microsoft-office.yaml"
    app_set.write_text(app_set.read_text().replace("com.microsoft.office.word", bad_value.replace('"', ""), 1))
    run = run_suites(tmp_path, server, "--profiles", str(profiles))
    assert run.returncode == 4, run.output[-2000:]
    assert "package" in run.output and "Traceback" not in run.output
    assert run.records == []


def test_empty_app_list_is_an_error(one_device, tmp_path):
    server, _ = one_device
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "xiaomi-mi5.yaml").write_text(
        "profile: xiaomi-mi5\nname: Mi 5\nmatch: {model: [MI 5]}\nregions: [CN]\napps: []\n")
    run = run_suites(tmp_path, server, "--profiles", str(profiles))
    assert run.returncode == 4, run.output[-2000:]
    assert "xiaomi-mi5.yaml" in run.output and run.records == []


def test_no_device_attached(tmp_path):
    with AdbServer() as server:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}")
    assert run.returncode == 10, run.output[-2000:]
    assert "no device" in run.output.lower() and run.records == []


def test_unreachable_adb_server(tmp_path):
    port = free_port()  # nothing listens there; the harness must not start a server itself
    run = run_suites(tmp_path, f"127.0.0.1:{port}")
    assert run.returncode == 10, run.output[-2000:]
    assert f"no adb server at 127.0.0.1:{port}" in run.output
    assert "Traceback" not in run.output


def test_device_problems_are_errors_for_that_device_only(tmp_path):
    images = [
        "mi5-cn",
        variant_image(tmp_path, "mi5-cn", "unknown-model",
                      props={**_props("mi5-cn"), "ro.product.model": "MI 6", "ro.product.device": "sagit"}),
        variant_image(tmp_path, "mi5-cn", "hangs-on-dumpsys", behaviour={"hang_on": "dumpsys package"}),
        variant_image(tmp_path, "mi5-cn", "vanishes", behaviour={"offline_after": 1}),
    ]
    unauthorized = variant_image(tmp_path, "mi5-cn", "unauthorized", behaviour={"refuse_auth": True})
    with AdbServer() as server, Farm(images, server) as farm, \
            Farm([unauthorized], server, wait_state=("unauthorized",)) as locked:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "--adb-timeout", "3", "--device-wait", "2",
                         suites=("suites/test_presence.py", "suites/test_region.py"))
        by_image = run.by_image(farm)
        by_image.update(run.by_image(locked))
    good = by_image["mi5-cn"]
    assert {r["outcome"] for r in good} <= {"passed", "skipped"}, [r["reason"] for r in good]

    unknown = by_image["unknown-model"]
    assert [r["check"] for r in unknown] == ["profile_match"]
    assert unknown[0]["outcome"] == "broken" and "matches no device profile" in unknown[0]["reason"]

    locked_recs = by_image["unauthorized"]
    assert [r["outcome"] for r in locked_recs] == ["broken"]
    assert "unauthorized" in locked_recs[0]["reason"]
    assert locked_recs[0]["category"] == "Device offline or unauthorized"

    hang = by_image["hangs-on-dumpsys"]
    assert {r["outcome"] for r in hang if r["check"] == "presence"} == {"broken"}
    assert all(r["category"] == "adb timeout" for r in hang if r["check"] == "presence"), [r["reason"] for r in hang]
    # the timeout (3 s) is paid for the device's one inventory (plus its one rerun), not once per test
    assert sum(r["duration_s"] for r in hang) < 2 * 3 + 5
    assert [r["outcome"] for r in hang if r["check"] == "region"] == ["passed"]

    gone = by_image["vanishes"]  # answers getprop, then drops the link during the inventory
    presence = [r for r in gone if r["check"] == "presence"]
    assert presence and {r["outcome"] for r in presence} == {"broken"}, [r["reason"] for r in gone]
    assert all(r["category"] == "Device offline or unauthorized" for r in presence)
    assert "went away mid-command" in presence[0]["reason"]
    assert "offline for 2 s" in presence[0]["reason"]  # waited --device-wait for it, then gave up
    # one loss, not one wait per test: later tests fail at once with the stored error
    assert sum(r["duration_s"] for r in presence) < 10
    assert [r["outcome"] for r in gone if r["check"] == "region"] == ["passed"]  # judged on facts already read

    assert run.returncode == 10, run.output[-2000:]  # only infrastructure problems: no defect proven


def _props(image: str) -> dict:
    import yaml

    return dict(yaml.safe_load((ROOT / "virtual_device" / "images" / f"{image}.yaml").read_text())["props"])


def test_problem_devices_are_reported_even_when_their_tests_are_not_selected(tmp_path):
    """Running a subset (here only the presence suite, with -k) must not drop an unauthorized device."""
    unauthorized = variant_image(tmp_path, "mi5-cn", "unauthorized", behaviour={"refuse_auth": True})
    with AdbServer() as server, Farm(["mimax-in"], server) as good, \
            Farm([unauthorized], server, wait_state=("unauthorized",)) as locked:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "-k", "Word",
                         suites=("suites/test_presence.py",))
        locked_serial = locked.serials[0]
        good_serial = good.serials[0]
    assert run.returncode == 10, run.output[-2000:]
    mine = [r for r in run.records if r["serial"] == locked_serial]
    assert [(r["check"], r["outcome"]) for r in mine] == [("device", "broken")]
    assert "unauthorized" in mine[0]["reason"]
    assert {r["outcome"] for r in run.records if r["serial"] == good_serial} == {"passed"}
    assert "INFRA" in run.output


def test_parallel_workers_test_the_same_devices_even_when_one_is_flaky(tmp_path):
    """With -n 2 the controller discovers once; a device that dies after getprop is broken on both workers."""
    flaky = variant_image(tmp_path, "mi5-cn", "flaky", behaviour={"offline_after": 1})
    with AdbServer() as server, Farm(["mimax-in", "redmi-note3-in", flaky], server) as farm:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "-n", "2",
                         suites=("suites/test_presence.py", "suites/test_version.py", "suites/test_region.py"))
        by_image = run.by_image(farm)
    assert "Different tests were collected" not in run.output
    assert {r["outcome"] for r in by_image["mimax-in"]} <= {"passed", "skipped"}
    assert {(r["check"], r["app"]) for r in by_image["redmi-note3-in"] if r["outcome"] == "failed"} == {
        ("version", "Word")}
    flaky_presence = [r for r in by_image["flaky"] if r["check"] == "presence"]
    assert flaky_presence and {r["outcome"] for r in flaky_presence} == {"broken"}
    assert run.returncode == 1  # the version defect wins over the flaky device's errors


def test_bad_profile_with_parallel_workers(one_device, tmp_path):
    server, _ = one_device
    profiles = _profiles_copy(tmp_path)
    app_set = profiles / "apps" / "microsoft-office.yaml"
    app_set.write_text(app_set.read_text().replace("    severity: critical\n", "    severty: critical\n", 1))
    run = run_suites(tmp_path, server, "--profiles", str(profiles), "-n", "2")
    assert run.returncode == 4, run.output[-2000:]
    assert "did you mean `severity`?" in run.output
    assert run.records == []


def test_devices_sharing_ro_serialno_never_merge(tmp_path):
    """Cheap phones share `ro.serialno` (0123456789ABCDEF): ids and Allure history ids must stay distinct."""
    import json

    twin = variant_image(tmp_path, "redmi-note3-in", "twin-fixed",
                         packages=[dict(p, version_name="16.0.7070.2036", version_code=2002707036)
                                   if p["package"] == "com.microsoft.office.word" else p
                                   for p in _image("redmi-note3-in")["packages"]])
    with AdbServer() as server, Farm(["redmi-note3-in", twin], server) as farm:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", suites=("suites/test_version.py",))
        by_image = run.by_image(farm)
    assert {(r["app"], r["outcome"]) for r in by_image["redmi-note3-in"]} >= {("Word", "failed")}
    assert ("Word", "passed") in {(r["app"], r["outcome"]) for r in by_image["twin-fixed"]}
    results = [json.loads(p.read_text()) for p in run.results_dir.glob("*-result.json")]
    assert len(results) == 10
    assert len({r["historyId"] for r in results}) == 10
    assert run.returncode == 1


def _image(name: str) -> dict:
    import yaml

    return yaml.safe_load((ROOT / "virtual_device" / "images" / f"{name}.yaml").read_text())


@pytest.mark.parametrize("extra", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_run_with_no_checkable_device_ends_with_exit_10_and_one_message(one_device, tmp_path, extra):
    """--serial that does not exist: no per-app check can run; exit 10 (infrastructure), never an INTERNALERROR."""
    server, _ = one_device
    run = run_suites(tmp_path, server, "--serial", "NOSUCH123", *extra)
    assert run.returncode == 10, run.output[-2000:]
    assert "INTERNALERROR" not in run.output and "Traceback" not in run.output
    assert run.output.count("no device can be checked") == 1
    assert "NOSUCH123" in run.output and "not attached to any adb server" in run.output
    assert [(r["serial"], r["outcome"]) for r in run.records] == [("NOSUCH123", "broken")]


def test_only_device_unauthorized_or_unknown_ends_with_exit_10(tmp_path):
    unknown = variant_image(tmp_path, "mi5-cn", "unknown-model",
                            props={**_props("mi5-cn"), "ro.product.model": "MI 6", "ro.product.device": "sagit"})
    locked = variant_image(tmp_path, "mi5-cn", "unauthorized", behaviour={"refuse_auth": True})
    with AdbServer() as server, Farm([unknown], server), \
            Farm([locked], server, wait_state=("unauthorized",)):
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}")
    assert run.returncode == 10, run.output[-2000:]
    assert "INTERNALERROR" not in run.output
    assert "matches no device profile" in run.output and "unauthorized" in run.output
    assert sorted(r["check"] for r in run.records) == ["device", "profile_match"]


@pytest.mark.parametrize("mode", ["--setup-only", "--setup-plan"])
def test_modes_that_run_no_check_are_refused_not_shipped(one_device, tmp_path, mode):
    """``--setup-only`` / ``--setup-plan`` pass every fixture and call no test: never a verdict, never "ship"."""
    server, _ = one_device
    run = run_suites(tmp_path, server, mode)
    assert run.returncode == 4, run.output[-2000:]
    assert f"{mode}: runs no check" in run.output and "--collect-only" in run.output
    assert "gate PASS" not in run.output and "Traceback" not in run.output
    assert not [r for r in run.records if r["outcome"] == "passed"]
