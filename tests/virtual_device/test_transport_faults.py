"""Faults a farm device can show, seen through the real adb server and adbutils: drop-off mid-command, hang,
unauthorized, slow answers, reboot. Each test asserts the client sees the fault (an error), never a silent success."""

from __future__ import annotations

import time

import adbutils
import pytest


def test_offline_mid_command_v2_raises_and_device_stays_offline(virtual_farm, vd_image, adb_server):
    farm = virtual_farm(vd_image("vd-offline"))  # behaviour.offline_after: 1
    dev, d = farm.devices[0], farm.adb_devices[0]
    assert d.shell2("echo first", v2=True).stdout == "first\n"
    with pytest.raises((EOFError, adbutils.AdbError)):
        d.shell2("echo second-command-output", v2=True)  # half an output packet, then the link drops
    assert adb_server.wait_state(dev.serial, ("offline", "absent")) in ("offline", "absent")
    with pytest.raises(adbutils.AdbError):
        d.shell("echo third")
    assert dev.offline and dev.commands == 2  # the third call never reached the device


def test_offline_mid_command_v1_shell2_raises(virtual_farm, vd_image, adb_server):
    farm = virtual_farm(vd_image("vd-offline"))
    dev, d = farm.devices[0], farm.adb_devices[0]
    assert d.shell2("echo first").returncode == 0
    with pytest.raises(adbutils.AdbError, match="shell output invalid"):
        d.shell2("echo second-command-output")  # truncated before adbutils' X4EXIT marker
    adb_server.wait_state(dev.serial, ("offline", "absent"))
    res = adb_server.adb("-s", dev.serial, "shell", "echo hi")
    assert res.returncode != 0 and "hi" not in res.stdout


def test_offline_plain_v1_shell_is_truncated_then_next_call_fails(virtual_farm, vd_image, adb_server):
    # shell protocol v1 has no end marker: a drop looks like a short output (same on a real phone, notes §4).
    # What the client MUST see is the error of the next call.
    farm = virtual_farm(vd_image("vd-offline"))
    dev, d = farm.devices[0], farm.adb_devices[0]
    d.shell("echo first")
    assert d.shell("echo second-command-output") != "second-command-output"
    adb_server.wait_state(dev.serial, ("offline", "absent"))
    with pytest.raises(adbutils.AdbError):
        d.shell("echo third")


def test_hanging_command_hits_client_timeout(virtual_farm, vd_image):
    farm = virtual_farm(vd_image("vd-hang"))  # behaviour.hang_on: hang-here
    d = farm.adb_devices[0]
    t0 = time.monotonic()
    with pytest.raises(adbutils.AdbTimeout):
        d.shell("echo hang-here", timeout=2)
    assert 1.5 < time.monotonic() - t0 < 6
    t0 = time.monotonic()
    with pytest.raises(adbutils.AdbTimeout):
        d.shell2("echo hang-here", timeout=2, v2=True)
    assert time.monotonic() - t0 < 6
    assert d.shell("echo still-alive") == "still-alive"  # only matching commands hang


def test_unauthorized_device(virtual_farm, vd_image, adb_server):
    farm = virtual_farm(vd_image("vd-unauthorized"), wait_state=("unauthorized",))
    dev, d = farm.devices[0], farm.adb_devices[0]
    out = adb_server.adb("devices", "-l", check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith(dev.serial))
    assert line.split()[1] == "unauthorized"
    with pytest.raises(adbutils.AdbError, match="unauthorized"):
        d.shell("echo hi")
    res = adb_server.adb("-s", dev.serial, "shell", "echo hi")
    assert res.returncode == 1 and "unauthorized" in res.stderr
    assert dev.services_log == []  # no stream was ever opened
    assert dev.serial not in [x.serial for x in adb_server.client.device_list()]


def test_latency_is_added_to_every_command(virtual_farm, vd_image):
    farm = virtual_farm(vd_image("vd-slow"))  # behaviour.latency_ms: 150
    d = farm.adb_devices[0]
    t0 = time.monotonic()
    assert d.shell("echo slow") == "slow"
    assert time.monotonic() - t0 >= 0.15


def test_reboot_drops_link_and_device_comes_back(basic, adb_server):
    _farm, dev, d = basic
    adb_server.adb("-s", dev.serial, "reboot", check=True)
    assert "reboot:" in dev.services_log
    adb_server.wait_state(dev.serial, ("device",))
    deadline = time.monotonic() + 10
    while True:  # the server reconnects 0.25-3 s after the drop; poll for a working shell
        try:
            if d.shell("echo back") == "back":
                break
        except adbutils.AdbError:
            pass
        assert time.monotonic() < deadline, "device did not come back after reboot"
        time.sleep(0.05)
