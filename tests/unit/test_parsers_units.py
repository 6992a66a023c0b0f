"""Layout variants the corpus files show in part, built from them or from AOSP's print statements.

Where a case derives from a corpus file, the test edits that file's text (cited) rather than inventing a layout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ParseError
from harness.parsers import (
    dumpsys_package_names,
    focus_windows,
    parse_am_start,
    parse_devices,
    parse_dumpsys_package,
    parse_focus,
    parse_getprop,
    parse_logcat_crash,
    parse_pm_list_packages,
    parse_pm_list_users,
    parse_pm_path,
    parse_resolve_activity,
)

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "corpus"


def _read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")  # bytes as captured: no newline translation


# ---------------------------------------------------------------- getprop

def test_getprop_multiline_and_odd_first_key_redmi10() -> None:
    """Corpus getprop_android13_miui14-global_redmi10-2022.txt: odd first line, multi-line values."""
    props = parse_getprop(_read("getprop_android13_miui14-global_redmi10-2022.txt"))
    assert next(iter(props)) == "Build.BRAND" and props["Build.BRAND"] == "MTK"
    assert props["persist.sys.boot.reason.history"] == (
        "cold,rtc,1755046188\ncold,powerkey,1754959482\ncold,rtc,1754700588\ncold,rtc,1754614187")
    assert props["persist.vendor.sys.pq.picmode"] == "0\n"
    assert props["persist.vendor.sys.pq.shp.idx"] == "2"  # the line after a multi-line value is a record again
    assert props["persist.sys.country"] == ""
    assert props["ro.boot.hwc"] == "CN"


def test_getprop_crlf_values_have_no_cr_xiaomi14() -> None:
    """Corpus getprop_android15_hyperos2_xiaomi14_crlf.txt: CRLF capture; no key or value keeps a CR."""
    raw = _read("getprop_android15_hyperos2_xiaomi14_crlf.txt")
    assert "\r\n" in raw
    props = parse_getprop(raw)
    assert not [k for k, v in props.items() if "\r" in k or "\r" in v]
    assert props["ro.mi.os.version.incremental"] == "OS2.0.212.0.VNCCNXM"
    assert props == parse_getprop(raw.replace("\r\n", "\n"))


def test_getprop_utf8_values_redmi8a() -> None:
    """Corpus getprop_android10_miui12.5-cn_redmi8a.txt: UTF-8 operator names, partial dump."""
    props = parse_getprop(_read("getprop_android10_miui12.5-cn_redmi8a.txt"))
    assert props["gsm.sim.operator.alpha"] == "小米移动"
    assert next(iter(props)) == "gsm.operator.orig.alpha"


def test_getprop_unterminated_value_is_an_error() -> None:
    with pytest.raises(ParseError) as exc:
        parse_getprop("[ro.a]: [1]\n[ro.b]: [never closed\nmore")
    assert exc.value.command == "getprop" and "ro.b" in str(exc.value)


def test_getprop_value_with_brackets_inside() -> None:
    assert parse_getprop("[ro.x]: [a [b] c]\n") == {"ro.x": "a [b] c"}


# ---------------------------------------------------------------- dumpsys package

_WAHOO = "dumpsys-package-packages-section_android5-era_wahoo-elemnt_com.wahoofitness.bolt.txt"
_PKG1 = "dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1.txt"


def test_dumpsys_evidence_and_section_updated_system_app() -> None:
    """Corpus row dumpsys-package_wearos_updated-vendor-app: evidence lines are the exact deciding lines."""
    d = parse_dumpsys_package(_read(_PKG1), "com.tekartik.package1")
    assert d.evidence[0] == "  Package [com.tekartik.package1] (da25746):"
    assert "    versionName=1.0.16" in d.evidence and "    versionName=1.0.11" in d.evidence
    assert any(line.startswith("    User 0: ceDataInode=2135 installed=true") for line in d.evidence)
    assert d.section.startswith("Packages:\n  Package [com.tekartik.package1] (da25746):")
    assert "Hidden system packages:\n  Package [com.tekartik.package1] (65903ba):" in d.section
    assert "Queries:" not in d.section  # only the package's own blocks
    assert d.installer == "com.android.vending" and d.min_sdk == 27 and d.target_sdk == 36
    assert "VENDOR" in d.private_flags and d.users[0]["enabled"] == "0"


@pytest.mark.parametrize("state, enabled", [(0, True), (1, True), (2, False), (3, False), (4, False)])
def test_dumpsys_enabled_states(state: int, enabled: bool) -> None:
    """COMPONENT_ENABLED_STATE_*: 0 default and 1 are enabled, 2/3/4 disabled (Wahoo corpus file, edited)."""
    text = _read(_WAHOO).replace("notLaunched=false enabled=0", f"notLaunched=false enabled={state}")
    d = parse_dumpsys_package(text, "com.wahoofitness.bolt")
    assert d.enabled_state == state and d.enabled is enabled and d.installed


def test_dumpsys_uninstalled_for_user_and_second_user() -> None:
    """``pm uninstall -k --user 0``: block stays, ``installed=false`` for user 0; user 10 still has it."""
    text = _read(_WAHOO).replace(
        "    User 0:  installed=true hidden=false stopped=false notLaunched=false enabled=0",
        "    User 0:  installed=false hidden=false stopped=true notLaunched=true enabled=0\n"
        "    User 10:  installed=true hidden=false stopped=false notLaunched=false enabled=3 installReason=4")
    d0 = parse_dumpsys_package(text, "com.wahoofitness.bolt", user=0)
    assert d0.found and not d0.installed and not d0.enabled
    d10 = parse_dumpsys_package(text, "com.wahoofitness.bolt", user=10)
    assert d10.installed and d10.enabled_state == 3 and not d10.enabled and d10.install_reason == 4
    d11 = parse_dumpsys_package(text, "com.wahoofitness.bolt", user=11)
    assert d11.found and not d11.installed


def test_dumpsys_per_user_values_on_nested_lines() -> None:
    """Android 11+ print installReason/firstInstallTime on their own lines under ``User N:`` (AOSP
    Settings.dumpPackageLPr); corpus Wear OS user-app file edited to that shape, two users."""
    text = _read("dumpsys-package_wearos_user-app_com.tekartik.package2.txt").replace(
        "      lastDisabledCaller: com.android.vending\n",
        "      installReason=3\n      firstInstallTime=2025-06-18 08:27:04\n      uninstallReason=0\n"
        "      lastDisabledCaller: com.android.vending\n"
        "    User 10: ceDataInode=0 installed=true hidden=false suspended=false stopped=true enabled=2\n"
        "      installReason=4\n", 1)
    d0 = parse_dumpsys_package(text, "com.tekartik.package2")
    assert d0.install_reason == 3 and d0.users[0]["firstInstallTime"] == "2025-06-18 08:27:04"
    assert d0.users[0]["uninstallReason"] == "0" and d0.enabled
    d10 = parse_dumpsys_package(text, "com.tekartik.package2", user=10)
    assert (d10.install_reason, d10.enabled_state, d10.enabled) == (4, 2, False)


def test_dumpsys_hex_pkgflags_old_layout() -> None:
    """Very old builds print pkgFlags as a number (Tradefed PackageInfo decodes it the same way)."""
    text = _read(_WAHOO).replace("pkgFlags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP LARGE_HEAP ]",
                                 "pkgFlags=0x8be85").replace("    flags=[ HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP"
                                                             " LARGE_HEAP ]\n", "")
    d = parse_dumpsys_package(text, "com.wahoofitness.bolt")
    # 0x8be85 = SYSTEM|HAS_CODE|ALLOW_CLEAR_USER_DATA|UPDATED_SYSTEM_APP|… bits
    assert d.system and d.updated_system
    assert {"SYSTEM", "HAS_CODE", "UPDATED_SYSTEM_APP", "ALLOW_BACKUP"} <= set(d.flags)


def test_dumpsys_picks_exact_package_among_several() -> None:
    """Corpus Samsung file holds two packages; a name that is a prefix of another does not match."""
    text = _read("dumpsys-package-packages-section_android10_samsung_system-apps.txt")
    assert dumpsys_package_names(text) == ["com.samsung.android.provider.filterprovider",
                                           "com.sec.android.app.DataCreate"]
    d = parse_dumpsys_package(text, "com.sec.android.app.DataCreate")
    assert d.code_path == "/system/app/AutomationTest_FB"
    assert "filterprovider" not in d.section
    missing = parse_dumpsys_package(text, "com.samsung.android.provider")
    assert not missing.found and not missing.installed


def test_dumpsys_headers_only_is_not_found() -> None:
    """Older builds answer a missing package with section headers and no block (valid, not an error)."""
    text = "Activity Resolver Table:\n\nKey Set Manager:\n\nPackages:\n\nDexopt state:\n\nCompiler stats:\n"
    d = parse_dumpsys_package(text, "com.example.missing")
    assert not d.found and not d.installed and d.version_name is None
    assert d.section == text  # what the device printed is attached as evidence (issue 9, item 17)


def test_dumpsys_indented_unable_to_find_under_dexopt() -> None:
    text = "Dexopt state:\n  Unable to find package: com.example.gone\n\nCompiler stats:\n" \
           "  Unable to find package: com.example.gone\n"
    d = parse_dumpsys_package(text, "com.example.gone")
    assert not d.found and d.evidence == ["Unable to find package: com.example.gone"]


def test_dumpsys_unable_for_another_package_is_an_error() -> None:
    with pytest.raises(ParseError) as exc:
        parse_dumpsys_package("Unable to find package: com.other.app\n", "com.example.app")
    assert exc.value.command == "dumpsys package com.example.app"


def test_dumpsys_crlf_and_bom_lufthansa() -> None:
    """Corpus Android 4.4 Lufthansa file starts with a BOM; a CRLF copy parses identically."""
    raw = _read("dumpsys-package_android4.4_lufthansa_com.lufthansa.android.lufthansa.txt")
    assert raw.startswith("\ufeff")
    a = parse_dumpsys_package(raw, "com.lufthansa.android.lufthansa")
    b = parse_dumpsys_package(raw.replace("\n", "\r\n"), "com.lufthansa.android.lufthansa")
    assert a == b and a.version_name == "4.7.1"


def test_dumpsys_version_name_keeps_spaces_and_brackets() -> None:
    """Corpus hidden-section Pixel file: versionName is the whole rest of the line."""
    d = parse_dumpsys_package(_read(
        "dumpsys-package-hidden-section_android11_pixel_com.android.vending_versionname-spaces.txt"),
        "com.android.vending")
    assert d.factory_version_name == "22.4.25-21 [0] [PR] 337959405"
    assert d.version_name is None  # hidden copies are not the installed version


# ---------------------------------------------------------------- pm

def test_pm_list_all_suffixes_and_equals_in_path() -> None:
    """AOSP runListPackages order: path=pkg, versionCode, two spaces + installer, uid."""
    text = ("package:/data/app/~~ab==/com.a.b-xy==/base.apk=com.a.b versionCode:42  installer=com.android.vending"
            " uid:10123\r\npackage:/system/app/X/X.apk=com.x.y versionCode:1  installer=null uid:1000\r\n\r\n")
    a, b = parse_pm_list_packages(text)
    assert (a.package, a.code_path, a.version_code, a.installer, a.uid) == (
        "com.a.b", "/data/app/~~ab==/com.a.b-xy==/base.apk", 42, "com.android.vending", 10123)
    assert (b.package, b.installer, b.uid) == ("com.x.y", None, 1000)


def test_pm_list_empty_is_valid_and_errors_raise() -> None:
    assert parse_pm_list_packages("") == [] and parse_pm_list_packages("\n  \n") == []
    with pytest.raises(ParseError) as exc:
        parse_pm_list_packages("java.lang.SecurityException: Shell does not have permission to access user 150\n")
    assert exc.value.command == "pm list packages"


def test_pm_path_base_first_and_errors() -> None:
    assert parse_pm_path("package:/d/split_config.en.apk\npackage:/d/base.apk\n") == [
        "/d/base.apk", "/d/split_config.en.apk"]
    assert parse_pm_path("") == []
    with pytest.raises(ParseError):
        parse_pm_path("Error: package not found\n")


def test_pm_list_users_name_with_colon_and_not_running() -> None:
    users = parse_pm_list_users("Users:\n\tUserInfo{0:Owner:c13} running\n\tUserInfo{10:Work: profile:1030}\n")
    assert [(u.id, u.name, u.flags, u.running) for u in users] == [(0, "Owner", 0xC13, True),
                                                                     (10, "Work: profile", 0x1030, False)]
    with pytest.raises(ParseError):
        parse_pm_list_users("hello\n")


# ---------------------------------------------------------------- am

def test_am_start_pre_q_thistime_and_timeout() -> None:
    ok = parse_am_start("Starting: Intent { cmp=com.a/.Main }\nStatus: ok\nActivity: com.a/.Main\nThisTime: 300\n"
                        "TotalTime: 300\nWaitTime: 320\nComplete\n")
    assert (ok.status, ok.this_time_ms, ok.target_confirmed, ok.launch_state) == ("ok", 300, True, None)
    to = parse_am_start("Starting: Intent { cmp=com.a/.Main }\nStatus: timeout\nActivity: com.a/.Main\nComplete\n")
    assert to.status == "timeout"


def test_am_start_plain_and_security_exception() -> None:
    plain = parse_am_start("Starting: Intent { cmp=com.a/.Main }\n")
    assert plain.status == "ok" and plain.activity is None and plain.target_confirmed is None
    err = parse_am_start("Starting: Intent { cmp=com.a/.Secret }\n"
                         "java.lang.SecurityException: Permission Denial: starting Intent { cmp=com.a/.Secret }\n")
    assert err.status == "error" and "Permission Denial" in (err.error or "")


def test_resolve_activity() -> None:
    text = ("priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true\n"
            "com.android.settings/.Settings\n")
    assert parse_resolve_activity(text) == "com.android.settings/.Settings"
    assert parse_resolve_activity("No activity found\n") is None
    with pytest.raises(ParseError):
        parse_resolve_activity("")


# ---------------------------------------------------------------- focus

def test_focus_single_null_line_means_unknown() -> None:
    """Corpus android4.x null-interleaved sequence: a lone ``null`` poll → no package (retry)."""
    first = _read("dumpsys-window-grep-mCurrentFocus_android4.x_null-interleaved-sequence.txt").splitlines()[0]
    f = parse_focus(first)
    assert f.package is None and f.activity is None and f.source is None


def test_focus_every_line_of_the_poll_log() -> None:
    """Corpus android4.x poll log line by line: StartActivity, nulls, then the activity-less window."""
    lines = _read("dumpsys-window-grep-mCurrentFocus_android4.x_null-interleaved-sequence.txt").splitlines()
    got = [(f.package, f.activity) for f in map(parse_focus, lines)]
    assert got[1] == ("com.lookout.enterprise", "com.lookout.enterprise.ui.android.activity.StartActivity")
    assert got[4] == (None, None)
    assert got[-1] == ("com.lookout.enterprise", None)


@pytest.mark.parametrize("title, kind", [("Application Error: com.bad.app", "crash"),
                                         ("Application Not Responding: com.bad.app", "anr")])
def test_focus_crash_and_anr_dialogs(title: str, kind: str) -> None:
    text = (f"  mCurrentFocus=Window{{41e4 u0 {title}}}\n"
            "  mFocusedApp=ActivityRecord{9a u0 com.bad.app/.Main t7}\n")
    f = parse_focus(text)
    assert (f.package, f.activity, f.window, f.kind) == ("com.bad.app", None, title, kind)
    wins = focus_windows(text)
    assert [(w.kind, w.package) for w in wins] == [(kind, "com.bad.app"), ("activity", "com.bad.app")]


def test_focus_windows_lists_unfocused_dialogs() -> None:
    text = ("  Window #3 Window{a1 u0 Application Error: com.bad.app}:\n"
            "  Window #2 Window{b2 u0 com.good.app/com.good.app.Main}:\n"
            "  Window #1 Window{c3 u0 StatusBar}:\n"
            "  mCurrentFocus=Window{b2 u0 com.good.app/com.good.app.Main}\n")
    wins = focus_windows(text)
    assert [(w.kind, w.package) for w in wins] == [("crash", "com.bad.app"), ("activity", "com.good.app"),
                                                   ("system", "com.android.systemui")]
    assert parse_focus(text).package == "com.good.app"


def test_focus_top_focused_display_wins() -> None:
    text = ("Display: mDisplayId=0\n  mFocusedApp=ActivityRecord{1 u0 com.main.app/.Main t5}\n"
            "Display: mDisplayId=1\n  mFocusedApp=ActivityRecord{2 u0 com.other.app/.Main t6}\n"
            "  mTopFocusedDisplayId=0\n")
    f = parse_focus(text)
    assert (f.package, f.task) == ("com.main.app", 5)


def test_focus_ownerless_window_falls_back_to_focused_app() -> None:
    text = "  mCurrentFocus=Window{5e u0 PopupWindow:1f2e}\n  mFocusedApp=ActivityRecord{9a u0 com.a.b/.Main t7}\n"
    f = parse_focus(text)
    assert (f.package, f.activity, f.window, f.source, f.task) == ("com.a.b", "com.a.b.Main", "PopupWindow:1f2e",
                                                                   "mFocusedApp", 7)
    alone = parse_focus("  mCurrentFocus=Window{5e u0 PopupWindow:1f2e}\n")
    assert (alone.package, alone.window) == (None, "PopupWindow:1f2e")


def test_focus_android41_window_without_user() -> None:
    f = parse_focus("  mCurrentFocus=Window{41a1d5e8 com.android.launcher/com.android.launcher2.Launcher "
                    "paused=false}\n")
    assert (f.package, f.activity) == ("com.android.launcher", "com.android.launcher2.Launcher")


def test_focus_garbage_raises() -> None:
    with pytest.raises(ParseError) as exc:
        parse_focus("hello world\n")
    assert exc.value.command == "dumpsys window"


# ---------------------------------------------------------------- devices

def test_devices_daemon_chatter_no_permissions_and_empty() -> None:
    text = ("* daemon not running; starting now at tcp:5037\n* daemon started successfully\n"
            "List of devices attached\n"
            "0123456789ABCDEF       no permissions (user in plugdev group; are your udev rules wrong?); see "
            "[http://developer.android.com/tools/device.html] usb:1-1 transport_id:2\n"
            "192.168.1.5:5555       device product:gemini model:MI_5 device:gemini transport_id:3\n")
    a, b = parse_devices(text)
    assert (a.serial, a.state, a.transport_id) == ("0123456789ABCDEF", "no permissions", 2)
    assert (b.serial, b.model, b.product) == ("192.168.1.5:5555", "MI_5", "gemini")
    assert parse_devices("List of devices attached\n\n") == []
    with pytest.raises(ParseError):
        parse_devices("SERIAL0001\tflying\n")


# ---------------------------------------------------------------- logcat

def test_logcat_brief_format_pre_lollipop_and_native_crash() -> None:
    text = ("E/AndroidRuntime( 812): FATAL EXCEPTION: main\n"
            "E/AndroidRuntime( 812): java.lang.IllegalStateException: boom\n"
            "E/AndroidRuntime( 812): \tat com.a.Main.onCreate(Main.java:10)\n"
            "E/AndroidRuntime( 812): Caused by: java.lang.RuntimeException: inner\n"
            "I/ActivityManager(  400): Process com.a (pid 812) has died\n"
            "F/libc    ( 901): Fatal signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0 in tid 905 "
            "(RenderThread), pid 901 (com.native.app)\n")
    crash, native = parse_logcat_crash(text)
    assert (crash.package, crash.exception, crash.pid, crash.reason) == (None, "java.lang.IllegalStateException",
                                                                       812, "boom")
    assert len(crash.lines) == 4
    assert (native.package, native.kind, native.exception, native.pid) == ("com.native.app", "crash", "SIGSEGV", 901)


def test_logcat_crash_block_stops_at_other_pid() -> None:
    """Corpus calnotify crash with an unrelated AndroidRuntime line of another pid appended."""
    text = _read("logcat-crash_android14_emulator_fatal-exception-npe_com.github.quarck.calnotify.txt")
    text += "04-22 21:34:21.000  3000  3000 D AndroidRuntime: Shutting down VM\n"
    (rec,) = parse_logcat_crash(text)
    assert rec.lines[-1].endswith("ZygoteInit.main(ZygoteInit.java:971)")
    assert len(rec.lines) == 14  # FATAL EXCEPTION, Process, exception line, 11 frames


def test_logcat_no_crash_and_empty() -> None:
    assert parse_logcat_crash("") == []
    assert parse_logcat_crash("04-22 21:34:18.023  2886  2886 I AndroidRuntime: Using default boot image\n") == []
    with pytest.raises(ParseError):
        parse_logcat_crash("this is not a log\nat all\n")
