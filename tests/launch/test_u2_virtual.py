"""uiautomator2 3.7.1 (unmodified) against the virtual device, through the real adb server, via harness.uidriver.

Covers the u2.jar set-up (md5 check, push, ``app_process``), the JSON-RPC calls the launch check uses, the screen
per foreground app (hierarchy, screenshot), dialog dismissal, the enforced deadlines and the infrastructure
failures (server that will not start, a hung server), and LaunchCheck sequences on one device.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import xml.etree.ElementTree as ET

import pytest
import uiautomator2

from harness.errors import DeviceUnavailable, LaunchInfraError
from harness.launch import CAT_CRASH, LaunchCheck, summarize_hierarchy
from virtual_device.state import Focus
from virtual_device.u2server import U2_JAR

WORD = "com.microsoft.office.word"
PPT = "com.microsoft.office.powerpoint"
ACT = "com.microsoft.office.apphost.LaunchActivity"
LOCAL_JAR = os.path.join(os.path.dirname(uiautomator2.__file__), "assets", "u2.jar")


def _am_start(rig, package: str) -> None:
    rig.adb.shell(["am", "start", "-n", f"{package}/{ACT}"])


def test_connect_pushes_the_jar_once_and_starts_the_server(rig_factory):
    rig = rig_factory("mi4s-cn")
    rig.driver.connect()
    state = rig.vdev.state
    local_md5 = hashlib.md5(open(LOCAL_JAR, "rb").read()).hexdigest()
    assert hashlib.md5(state.fs.read(U2_JAR)).hexdigest() == local_md5
    assert local_md5 in rig.adb.shell(["toybox", "md5sum", U2_JAR])
    log = list(rig.vdev.services_log)
    assert "sync:" in log
    assert any("app_process" in s and "com.wetest.uia2.Main" in s for s in log)
    assert 9008 in state.tcp_services
    # a second driver (new process view) finds the jar and the live server: no push, no second app_process
    from harness.uidriver import UiDriver

    second = UiDriver(rig.device)
    try:
        second.connect()
        new = rig.vdev.services_log[len(log):]
        assert "sync:" not in new and not any("app_process" in s for s in new)
    finally:
        second._u2 = None  # noqa: SLF001 - it did not start the server; do not stop it
        second.close()


def test_hierarchy_follows_the_foreground_app_in_the_dumper_format(rig_factory):
    rig = rig_factory("mi4s-cn")
    home = rig.driver.hierarchy()
    assert home.startswith("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\r\n<hierarchy rotation=\"0\">")
    first = home.split("\r\n")[2].strip()
    assert first.startswith('<node index="0" text="" resource-id="" class="android.widget.FrameLayout" '
                            'package="com.miui.home" content-desc="" checkable="false"')
    assert 'drawing-order="' in first  # API >= 24
    assert WORD not in summarize_hierarchy(home).package_nodes
    _am_start(rig, WORD)
    app = summarize_hierarchy(rig.driver.hierarchy())
    assert app.package_nodes.get(WORD, 0) >= 3 and app.dialog is None
    root = ET.fromstring(rig.driver.hierarchy().encode())
    assert any(n.get("text") == "Word" and n.get("package") == WORD for n in root.iter("node"))


def test_screenshot_is_a_jpeg_that_changes_with_the_foreground(rig_factory):
    rig = rig_factory("mi4s-cn")
    home = rig.driver.screenshot_jpeg()
    _am_start(rig, WORD)
    word = rig.driver.screenshot_jpeg()
    _am_start(rig, PPT)  # crashes: dialog over the launcher
    crash = rig.driver.screenshot_jpeg()
    assert all(s.startswith(b"\xff\xd8") for s in (home, word, crash))
    assert len({home, word, crash}) == 3
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(word)).size == (1080, 1920)


def test_wait_for_blocks_up_to_its_timeout_and_finds_present_nodes(rig_factory):
    rig = rig_factory("mi4s-cn")
    _am_start(rig, WORD)
    t = time.monotonic()
    assert rig.driver.wait_for(text="Word", timeout=3) is True
    assert time.monotonic() - t < 1.5
    t = time.monotonic()
    assert rig.driver.wait_for(text="Not on this screen", timeout=1.0) is False
    assert 0.9 <= time.monotonic() - t < 3.0


def test_crash_dialog_is_visible_to_u2_and_back_dismisses_it(rig_factory):
    rig = rig_factory("mi4s-cn")
    _am_start(rig, PPT)
    assert rig.driver.info()["currentPackageName"] == "android"
    assert rig.driver.exists(resource_id="android:id/aerr_close")
    assert "Application Error: com.microsoft.office.powerpoint" in rig.adb.shell(["dumpsys", "window", "windows"])
    rig.driver.press("back")
    assert not rig.driver.exists(resource_id="android:id/aerr_close")
    assert "Application Error" not in rig.adb.shell(["dumpsys", "window", "windows"])


def test_anr_dialog_on_android_5_uses_the_alert_dialog_buttons(rig_factory):
    rig = rig_factory("redmi3-id")
    rig.adb.shell(["am", "start", "-n", "com.microsoft.office.outlook/com.microsoft.office.outlook.MainActivity"])
    summary = summarize_hierarchy(rig.driver.hierarchy())
    assert summary.dialog == "anr"
    assert rig.driver.exists(resource_id="android:id/button2")  # Wait (SDK < 24 AlertDialog)


def test_a_hung_server_costs_one_deadline_then_fails_fast(rig_factory):
    rig = rig_factory("mi4s-cn", rpc_deadline=2.0, socket_timeout=1.5)
    rig.driver.connect()

    async def hang(reader, writer):  # accepts the request, never answers
        await asyncio.sleep(3600)

    rig.vdev.state.tcp_services[9008] = hang
    t = time.monotonic()
    with pytest.raises(LaunchInfraError):
        rig.driver.hierarchy()
    assert time.monotonic() - t < 4.0
    t = time.monotonic()
    with pytest.raises(LaunchInfraError, match="hung"):
        rig.driver.screenshot_jpeg()
    assert time.monotonic() - t < 0.5


def test_a_server_that_will_not_start_is_launch_infra_error(rig_factory):
    rig = rig_factory("mi4s-cn", connect_deadline=20.0)

    async def broken(reader, writer):  # something else on 9008 answering HTTP 500
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    rig.vdev.state.tcp_services[9008] = broken
    with pytest.raises(LaunchInfraError) as err:
        rig.driver.connect()
    assert "already registered" in str(err.value)
    assert rig.device.gone is None  # the device itself is fine


def test_launch_check_after_a_crash_leaves_no_dialog_for_the_next_app(rig_factory):
    rig = rig_factory("mi4s-cn")
    check = LaunchCheck(rig.device, rig.driver)
    crash = check.run(PPT, "PowerPoint", limit_ms=4000, first_text="PowerPoint")
    assert crash.verdict.category == CAT_CRASH
    assert crash.screenshot and crash.texts["logcat since launch"].count("FATAL EXCEPTION") == 1
    assert "Application Error" not in rig.adb.shell(["dumpsys", "window", "windows"])
    word = check.run(WORD, "Word", limit_ms=4000, first_text="Word")
    assert word.verdict.status == "pass", word.verdict.message("dev")
    assert "dialogs closed before launch" not in word.texts


def test_launch_check_closes_a_dialog_left_by_someone_else(rig_factory):
    rig = rig_factory("mi4s-cn")
    _am_start(rig, WORD)
    _am_start(rig, PPT)  # crash dialog, no cleanup
    _am_start(rig, WORD)  # Word again: the dialog stays on top
    assert "Application Error: com.microsoft.office.powerpoint" in rig.adb.shell(["dumpsys", "window", "windows"])
    report = LaunchCheck(rig.device, rig.driver).run("com.skype.raider", "Skype", limit_ms=4000, first_text="Sign in")
    assert report.verdict.status == "pass", report.verdict.message("dev")
    assert "force-stopped com.microsoft.office.powerpoint" in report.texts["dialogs closed before launch"]


def test_a_crash_after_the_first_frame_is_still_a_launch_crash(rig_factory):
    rig = rig_factory("mi4s-cn")
    state = rig.vdev.state
    real_shot = rig.driver.screenshot_jpeg

    def shot_then_crash():  # the app dies right after its first screen was seen
        data = real_shot()
        with state.lock:
            state._log_crash(state.package(WORD), state.pid_of(WORD) or 4242)  # noqa: SLF001 - VD helper
            home_pkg, home_act = state.launcher.split("/", 1)
            state.running.pop(WORD, None)
            state.focus = Focus(home_pkg, home_act, f"Application Error: {WORD}")
        return data

    rig.driver.screenshot_jpeg = shot_then_crash
    report = LaunchCheck(rig.device, rig.driver).run(WORD, "Word", limit_ms=4000, first_text="Word")
    assert report.verdict.category == CAT_CRASH, report.verdict.message("dev")
    assert "later" in (report.observation.dialog_evidence or "")
    assert "Application Error" not in rig.adb.shell(["dumpsys", "window", "windows"])


def test_device_vanishing_under_uiautomator2_is_device_unavailable(rig_factory):
    rig = rig_factory("mi4s-cn", rpc_deadline=15.0, socket_timeout=5.0)
    rig.driver.connect()
    rig.server.go_offline(rig.vdev)
    t = time.monotonic()
    with pytest.raises(DeviceUnavailable):
        rig.driver.hierarchy()
    assert time.monotonic() - t < 16.0
    assert rig.device.gone is not None
    with pytest.raises(DeviceUnavailable):  # later calls fail at once, without touching adb
        LaunchCheck(rig.device, rig.driver).run(WORD, "Word")


def test_without_uiautomator2_the_check_uses_adb_only_and_screencap(rig_factory):
    rig = rig_factory("mi4s-cn")
    report = LaunchCheck(rig.device, None).run(WORD, "Word", limit_ms=4000, first_text="Word")
    assert report.verdict.status == "pass"
    assert report.screenshot_type == "png" and report.screenshot.startswith(b"\x89PNG")
    assert report.observation.package_nodes is None and report.observation.first_screen_found is None


def test_a_crash_is_reported_even_when_uiautomator2_cannot_start(rig_factory):
    rig = rig_factory("mi4s-cn", connect_deadline=20.0)

    async def broken(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    rig.vdev.state.tcp_services[9008] = broken
    check = LaunchCheck(rig.device, rig.driver)
    crash = check.run(PPT, "PowerPoint", limit_ms=4000, first_text="PowerPoint")
    assert crash.verdict.category == CAT_CRASH
    assert "already registered" in (crash.observation.ui_error or "")
    with pytest.raises(LaunchInfraError):  # no product evidence: the harness fault is reported as such
        check.run(WORD, "Word", limit_ms=4000, first_text="Word")
