"""Issue 9: the virtual device renders the hostile shapes real devices print, and the harness reads them right.

In process (the shell interpreter on a DeviceState) for the renderings, and through the real adb server for the
inventory: a versionName with a newline (item 1), ``versionName=null`` (item 4), a package dump cut by dumpsys'
timeout and its ``-t`` retry (item 2), the Android 13+ ActivityRecord shape (item 5) and ``dumpsys activity top``
(item 9). Images: tests/virtual_device/images/vd-hostile*.yaml and seed variants written to the test's tmp dir.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.adb import AdbServerLink, ServerAddress
from harness.device import Device
from harness.errors import DumpIncomplete
from harness.parsers import dumpsys_cut_marker, parse_dumpsys_package, parse_focus
from tests.virtual_device.conftest import image
from virtual_device.image import load_image
from virtual_device.shell import run
from virtual_device.state import DeviceState

WORD, EXCEL = "com.microsoft.office.word", "com.microsoft.office.excel"
LAUNCH = "com.microsoft.office.apphost.LaunchActivity"


def state_of(name: str, **props: str) -> DeviceState:
    img = load_image(image(name))
    img.props.update(props)
    return DeviceState.from_image(img)


def sh(state: DeviceState, cmd: str) -> tuple[str, str]:
    r = run(state, cmd)
    return r.stdout.decode(), r.stderr.decode()


# ---------------------------------------------------------------- renderings (in process)

def test_newline_and_null_version_names_are_printed_as_aosp_does():
    st = state_of("vd-hostile")
    out, _ = sh(st, f"dumpsys -t 30 package {WORD}")
    assert "    versionName=RED\nNEWLINE\n    splits=[base]\n" in out  # pw.println: the newline is raw
    d = parse_dumpsys_package(out, WORD, sdk=24)
    assert (d.version_name, d.system, d.code_path) == ("RED\nNEWLINE", True, "/system/app/Word")
    out, _ = sh(st, f"dumpsys -t 30 package {EXCEL}")
    assert "    versionName=null\n" in out
    assert parse_dumpsys_package(out, EXCEL, sdk=24).version_name is None


@pytest.mark.parametrize(("sdk", "marker", "count"), [
    ("24", "*** SERVICE DUMP TIMEOUT EXPIRED ***", 1),
    ("26", "*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***", 1),
    ("29", "*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***", 2),
])
def test_slow_dump_is_cut_with_the_marker_of_its_release(sdk: str, marker: str, count: int):
    st = state_of("vd-hostile", **{"ro.build.version.sdk": sdk})
    out, _ = sh(st, f"dumpsys package {WORD}")
    assert out.count(f"\n{marker}\n\n") == count and dumpsys_cut_marker(out) == marker
    assert "pkgFlags=" not in out  # cut before the end of the block
    with pytest.raises(DumpIncomplete):
        parse_dumpsys_package(out, WORD, sdk=int(sdk))
    whole, _ = sh(st, f"dumpsys -t 30 package {WORD}")
    assert dumpsys_cut_marker(whole) is None and "pkgFlags=" in whole
    ms, _ = sh(st, f"dumpsys -T 9000 package {WORD}")
    assert (dumpsys_cut_marker(ms) is None) == (int(sdk) < 28)  # -T only where it exists (else a service name)


def test_android6_dumpsys_has_no_t_option():
    st = state_of("vd-hostile", **{"ro.build.version.sdk": "23"})
    out, err = sh(st, f"dumpsys -t 30 package {WORD}")
    assert out == "" and err == "Can't find service: -t\n"
    whole, _ = sh(st, f"dumpsys package {WORD}")  # no timeout below API 24: never cut
    assert dumpsys_cut_marker(whole) is None and "pkgFlags=" in whole


def _launched(sdk: str) -> DeviceState:
    st = state_of("vd-hostile", **{"ro.build.version.sdk": sdk})
    sh(st, f"am start -W -n {WORD}/{LAUNCH}")
    return st


def test_android13_activity_record_keeps_task_and_user():
    st = _launched("33")
    out, _ = sh(st, "dumpsys window displays")
    line = next(ln for ln in out.splitlines() if "mFocusedApp=" in ln)
    assert line.startswith("  mFocusedApp=ActivityRecord{") and line.endswith("}") and "} t" in line
    f = parse_focus(out)
    assert (f.package, f.activity, f.user) == (WORD, LAUNCH, 0)
    assert f.task is not None and f"}} t{f.task}}}" in line


def test_dumpsys_activity_top_is_a_focus_source():
    st = _launched("19")
    out, _ = sh(st, "dumpsys activity top")
    f = parse_focus(out)
    assert (f.package, f.activity, f.source) == (WORD, LAUNCH, "ACTIVITY")


# ---------------------------------------------------------------- the inventory through the real adb server

def _device(virtual_farm, adb_server, path: Path) -> Device:
    farm = virtual_farm(path)
    link = AdbServerLink(ServerAddress("127.0.0.1", adb_server.port))
    serial = farm.devices[0].serial
    return Device(next(e for e in link.devices() if e.serial == serial), link.device(serial))


def test_inventory_reads_hostile_names_after_a_cut_dump(virtual_farm, adb_server):
    """Word stays a factory system app (never ``user at /system/app/Word``) and Excel has no versionName; every
    first dump was cut at 10 s, the one retry with ``dumpsys -t`` reads them whole."""
    dev = _device(virtual_farm, adb_server, image("vd-hostile"))
    inv = dev.inventory([WORD, EXCEL])
    word, excel = inv.packages[WORD], inv.packages[EXCEL]
    assert (word.install_kind, word.partition, word.version_name) == ("system", "system", "RED\nNEWLINE")
    assert excel.version_name is None and excel.install_kind == "system"
    assert inv.round_trips == 2 and "dumpsys -t 30 package" in inv.command


def test_inventory_cut_again_is_broken_and_asked_once(virtual_farm, adb_server):
    dev = _device(virtual_farm, adb_server, image("vd-hostile-stuck"))
    before = dev.link.round_trips
    for _ in range(3):
        with pytest.raises(DumpIncomplete) as exc:
            dev.inventory([WORD])
    assert "DUMP TIMEOUT" in str(exc.value) and exc.value.serial == dev.serial
    assert dev.link.round_trips - before == 3  # getprop, the inventory, its retry; never again


def test_image_rejects_negative_dump_time(tmp_path):
    data = yaml.safe_load(image("vd-hostile").read_text())
    data["behaviour"]["dumpsys_ms"]["package"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(Exception, match=r"bad.yaml:\d+: behaviour.dumpsys_ms"):
        load_image(bad)
