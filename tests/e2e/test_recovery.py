"""End to end: a device that drops mid-run is waited for; its interrupted check is rerun once when it is back.

Virtual devices with ``behaviour.offline_after`` drop their adb connection mid-command (the adb server marks them
``offline``); with ``back_after_s`` they accept connections again a little later and the adb server reconnects them
on its own, as it does for a network phone whose Wi-Fi blinked.
"""

from __future__ import annotations

from tests.e2e.conftest import run_suites, variant_image
from virtual_device.testing import AdbServer, Farm

PACKAGE_SUITES = ("suites/test_presence.py", "suites/test_version.py", "suites/test_region.py")


def test_a_device_that_comes_back_is_checked_as_if_nothing_happened(tmp_path):
    blink = variant_image(tmp_path, "mi5-cn", "blinks", behaviour={"offline_after": 1, "back_after_s": 1.0})
    with AdbServer() as server, Farm(["mimax-in", blink], server) as farm:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "--device-wait", "30", "--progress", "lines",
                         suites=PACKAGE_SUITES)
        by_image = run.by_image(farm)
        drops = farm.devices[1].drops
    assert drops == 1
    blinked = by_image["blinks"]
    assert {r["outcome"] for r in blinked} <= {"passed", "skipped"}, [r["reason"] for r in blinked]
    assert any(r.get("recovered_after_s") for r in blinked), "the rerun after the drop is not recorded"
    assert "dropped during inventory" in run.output and "is back" in run.output
    assert run.returncode == 13, run.output[-2000:]  # no defect, nothing broken; only a subset of suites ran


def test_a_device_that_drops_during_discovery_is_waited_for_and_read_again(tmp_path):
    """The drop hits the device's first command, the getprop that names it: waited for, read again, checked."""
    blink = variant_image(tmp_path, "mi5-cn", "blinks-early", behaviour={"offline_after": 0, "back_after_s": 1.0})
    with AdbServer() as server, Farm([blink], server) as farm:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "--device-wait", "30", suites=PACKAGE_SUITES)
        drops = farm.devices[0].drops
    assert drops == 1
    assert run.records and {r["outcome"] for r in run.records} <= {"passed", "skipped"}, run.output[-2000:]
    assert run.returncode == 13, run.output[-2000:]  # nothing broken; only a subset of suites ran


def test_a_device_that_drops_during_discovery_and_stays_away_is_broken(tmp_path):
    gone = variant_image(tmp_path, "mi5-cn", "gone-early", behaviour={"offline_after": 0})
    with AdbServer() as server, Farm(["mimax-in", gone], server) as farm:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "--device-wait", "2", suites=PACKAGE_SUITES)
        by_image = run.by_image(farm)
    assert {r["outcome"] for r in by_image["gone-early"]} == {"broken"}
    assert all("dropped during discovery" in r["reason"] and "--device-wait 2" in r["reason"]
               for r in by_image["gone-early"]), by_image["gone-early"][0]["reason"]
    assert {r["outcome"] for r in by_image["mimax-in"]} <= {"passed", "skipped"}
    assert run.returncode == 10


def test_a_device_that_stays_away_is_broken_for_its_own_checks_only(tmp_path):
    gone = variant_image(tmp_path, "mi5-cn", "gone", behaviour={"offline_after": 1})
    with AdbServer() as server, Farm(["mimax-in", gone], server) as farm:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "--device-wait", "2", suites=PACKAGE_SUITES)
        by_image = run.by_image(farm)
    lost = [r for r in by_image["gone"] if r["check"] not in ("region", "operator")]
    assert lost and {r["outcome"] for r in lost} == {"broken"}
    assert all("offline for 2 s" in r["reason"] for r in lost), lost[0]["reason"]
    assert [r["outcome"] for r in by_image["gone"] if r["check"] == "region"] == ["passed"]  # facts read before
    assert {r["outcome"] for r in by_image["mimax-in"]} <= {"passed", "skipped"}
    assert run.returncode == 10


def test_a_launch_interrupted_by_a_drop_is_rerun(tmp_path):
    """The device drops in the middle of the first launch; uiautomator2 is set up again and the launch rerun."""
    blink = variant_image(tmp_path, "mi5-cn", "blinks-in-launch",
                          behaviour={"offline_after": 6, "back_after_s": 1.0})
    with AdbServer() as server, Farm([blink], server) as farm:
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "--device-wait", "30",
                         suites=("suites/test_launch.py",))
        drops = farm.devices[0].drops
    assert drops == 1
    launches = [r for r in run.records if r["check"] == "launch"]
    assert len(launches) == 5
    assert {r["outcome"] for r in launches} == {"passed"}, [r["reason"] for r in launches]
    assert [r for r in launches if r.get("recovered_after_s")]
    assert run.returncode == 13, run.output[-2000:]  # passed; the other suites were not selected


def test_a_device_listed_offline_at_the_start_is_waited_for(tmp_path):
    """`offline` is often transient (the adb server reconnects a network device): discovery waits for it, with
    backoff, up to --device-wait; one that stays offline is reported as "offline for N s" for itself only."""
    back = variant_image(tmp_path, "mi5-cn", "back-soon", behaviour={"back_after_s": 2.0})
    away = variant_image(tmp_path, "mimax-in", "stays-away")
    with AdbServer() as server, Farm([back, away], server) as farm:
        for dev in farm.devices:
            farm.vfarm.server.go_offline(dev)
        for serial in farm.serials:
            server.wait_state(serial, ("offline",))
        run = run_suites(tmp_path, f"127.0.0.1:{server.port}", "--device-wait", "12", suites=PACKAGE_SUITES)
        by_image = run.by_image(farm)
    assert {r["outcome"] for r in by_image["back-soon"]} <= {"passed", "skipped"}, run.output[-3000:]
    away_recs = by_image["stays-away"]
    assert [(r["check"], r["outcome"]) for r in away_recs] == [("device", "broken")]
    assert "offline for 12 s" in away_recs[0]["reason"]
    assert run.returncode == 10
