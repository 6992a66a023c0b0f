"""Every real sample of the corpus, with the answer its row in /work/shared/corpus/README.md gives.

Each case names its README section and file (= the row). The same expectation is checked twice: through the
Python API (attributes of the returned dataclasses) and through ``python -m harness.parsers`` (JSON keys).
The samples are byte-identical copies in tests/fixtures/corpus/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.facts import DeviceFacts
from harness.parsers import (
    parse_am_start,
    parse_devices,
    parse_dumpsys_package,
    parse_focus,
    parse_getprop,
    parse_logcat_crash,
    parse_pm_list_packages,
    parse_pm_list_users,
    parse_pm_path,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
SHARED = Path("/work/shared/corpus/samples")


@dataclass(frozen=True)
class Case:
    """One README row: ``file`` parsed as ``kind`` must give ``expect`` (a subset of the CLI JSON)."""

    section: str
    file: str
    kind: str
    expect: Any
    package: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.section}:{self.file}" + (f"[{self.package}]" if self.package else "")


def _pkg(**kw: Any) -> dict[str, Any]:
    return kw


CASES: list[Case] = [
    # ---- README § getprop (full dumps) ----
    Case("getprop", "getprop_android13_miui14-global_redmi10-2022.txt", "getprop",
         {"sdk": 33, "release": "13", "model": "21121119SG", "device": "selene", "manufacturer": "Xiaomi",
          "region": "HK", "emulator": False, "brand": "Redmi", "marketname": "Redmi 10 2022", "miui_version": "V140",
          "miui_version_code": 14, "rom_flavour": "global", "region_source": "ro.miui.region",
          "region_conflicts": []}),
    Case("getprop", "getprop_android15_hyperos2_xiaomi14_crlf.txt", "getprop",
         {"sdk": 35, "release": "15", "model": "23127PN0CC", "device": "houji", "manufacturer": "Xiaomi",
          "region": "CN", "emulator": False, "marketname": "Xiaomi 14", "hyperos_version": "OS2.0",
          "miui_version": "V816", "miui_version_code": 816, "region_source": "ro.miui.region", "rom_flavour": "cn"}),
    Case("getprop", "getprop_android10_miui12.5-cn_redmi8a.txt", "getprop",
         {"sdk": 29, "release": "10", "model": "Redmi 8A", "device": "olivelite", "manufacturer": "Xiaomi",
          "region": "CN", "emulator": False, "miui_version": "V125", "miui_version_code": 11,
          "region_source": "ro.miui.region", "rom_flavour": "cn"}),
    Case("getprop", "getprop_android14_oneui6.1_samsung-galaxy-s24.txt", "getprop",
         {"sdk": 34, "release": "14", "model": "SM-S9210", "device": "e1q", "manufacturer": "samsung",
          "region": "CN", "emulator": False, "miui_version": None, "region_source": "ro.csc.sales_code",
          "rom_flavour": "CHC"}),
    Case("getprop", "getprop_android15_google_pixel6.txt", "getprop",
         {"sdk": 35, "release": "15", "model": "Pixel 6", "device": "oriole", "manufacturer": "Google",
          "region": None, "emulator": False, "brand": "google", "region_source": None, "miui_version": None}),
    Case("getprop", "getprop_android7.1.2-reports-9.1_rockchip-rk322x-tvbox.txt", "getprop",
         {"sdk": 25, "release": "9.1", "model": "TV BOX", "device": "rk322x_box", "manufacturer": "rockchip",
          "region": "BR", "emulator": False, "brand": "Android", "region_source": "weak:persist.sys.locale"}),
    # ---- README § dumpsys package ----
    Case("dumpsys package", "dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1.txt",
         "dumpsys-package", _pkg(
             installed=True, version_name="1.0.16", version_code=20,
             code_path="/data/app/~~GSfSdCYUCkDXHTY6qu0DAw==/com.tekartik.package1-fNrHlgqJDWTgDoY2Akzmgw==",
             system=True, updated_system=True, factory_version_name="1.0.11", factory_version_code=15,
             factory_code_path="/vendor/app/com.tekartik.package1", enabled=True, found=True, enabled_state=0,
             splits=["base", "config.fr", "config.xhdpi"], installer="com.android.vending"),
         package="com.tekartik.package1"),
    Case("dumpsys package", "dumpsys-package_wearos_user-app_com.tekartik.package2.txt", "dumpsys-package", _pkg(
        installed=True, version_name="1.4.73", version_code=248, min_sdk=26,
        code_path="/data/app/~~xqbiWjKB6B-7o9e2pctQzw==/com.tekartik.package2-st3BfMMlLpFakWOwfpm2CA==",
        system=False, updated_system=False, factory_version_name=None, factory_version_code=None,
        factory_code_path=None, enabled=True, enabled_state=0,
        splits=["base", "config.armeabi_v7a", "config.fr", "config.xhdpi"]), package="com.tekartik.package2"),
    Case("dumpsys package", "dumpsys-package-hidden-section_android11_pixel_com.android.vending_versionname-spaces.txt",
         "dumpsys-package", _pkg(
             installed=False, version_name=None, version_code=None, code_path=None, found=True, system=True,
             updated_system=True, factory_version_name="22.4.25-21 [0] [PR] 337959405",
             factory_version_code=82242510, factory_code_path="/product/priv-app/Phonesky", enabled=False),
         package="com.android.vending"),
    Case("dumpsys package", "dumpsys-package-hidden-section_android11_pixel_com.android.vending_versionname-spaces.txt",
         "dumpsys-package", _pkg(
             installed=False, version_name=None, version_code=None, found=True, updated_system=True,
             factory_version_name="86.0.4240.185", factory_version_code=424018533,
             factory_code_path="/product/app/WebViewGoogle"),
         package="com.google.android.webview"),
    Case("dumpsys package", "dumpsys-package-packages-section_android11_pixel_overlay-and-apex-app.txt",
         "dumpsys-package", _pkg(
             installed=True, version_name="1.0", version_code=1, code_path="/product/overlay/DisplayCutoutNoCutout",
             system=True, updated_system=False, enabled=True),
         package="com.android.internal.display.cutout.emulation.noCutout"),
    Case("dumpsys package", "dumpsys-package-packages-section_android11_pixel_overlay-and-apex-app.txt",
         "dumpsys-package", _pkg(
             installed=True, version_name="11-6970168", version_code=30,
             code_path="/apex/com.android.tethering/priv-app/TetheringGoogle", system=True, updated_system=False,
             enabled=True),
         package="com.google.android.networkstack.tethering"),
    Case("dumpsys package", "dumpsys-package-packages-section_android10_samsung_system-apps.txt", "dumpsys-package",
         _pkg(installed=True, version_name="5.0.07", version_code=500700000, code_path="/system/app/FilterProvider",
              system=True, updated_system=False, enabled=True),
         package="com.samsung.android.provider.filterprovider"),
    Case("dumpsys package", "dumpsys-package-packages-section_android10_samsung_system-apps.txt", "dumpsys-package",
         _pkg(installed=True, version_name="1.0", version_code=1, code_path="/system/app/AutomationTest_FB",
              system=True, updated_system=False, enabled=True),
         package="com.sec.android.app.DataCreate"),
    Case("dumpsys package", "dumpsys-package-packages-section_android5-era_wahoo-elemnt_com.wahoofitness.bolt.txt",
         "dumpsys-package", _pkg(
             installed=True, version_name="1.60.0.70", version_code=15152,
             code_path="/data/app/com.wahoofitness.bolt-1", system=False,
             updated_system=False, enabled=True, min_sdk=None, last_update_time="2022-08-31 05:51:21"),
         package="com.wahoofitness.bolt"),
    Case("dumpsys package", "dumpsys-package_android4.4_lufthansa_com.lufthansa.android.lufthansa.txt",
         "dumpsys-package", _pkg(
             installed=True, version_name="4.7.1", version_code=10210,
             code_path="/data/app/com.lufthansa.android.lufthansa-1.apk", system=False, updated_system=False,
             enabled=True),
         package="com.lufthansa.android.lufthansa"),
    Case("dumpsys package", "dumpsys-package_not-installed_com.funnyenglish.app.txt", "dumpsys-package",
         _pkg(installed=False, found=False, version_name=None, version_code=None, enabled=False),
         package="com.funnyenglish.app"),
    # ---- README § pm list / pm path / pm list users ----
    Case("pm list", "pm-list-packages-f_android7-8_genymotion_excerpt.txt", "pm-list-packages", {
        "count": 16,
        "android": {"code_path": "/system/framework/framework-res.apk"},
        "com.phonegap.camerasample": {"code_path": "/data/app/com.phonegap.camerasample-2/base.apk"},
        "com.android.contacts": {"code_path": "/system/priv-app/Contacts/Contacts.apk"}}),
    Case("pm list", "pm-list-packages-show-versioncode_android9_appium-adb-fixture.txt", "pm-list-packages", {
        "count": 3,
        "com.android.chrome": {"version_code": 636771932, "code_path": None},
        "com.android.managedprovisioning": {"version_code": 35},
        "com.google.android.apps.wallpaper.nexus": {"version_code": 170000000}}),
    Case("pm list", "pm-list-users_samsung_owner-and-secure-folder.txt", "pm-list-users",
         [{"id": 0, "running": True}, {"id": 150, "name": "Secure Folder", "running": True}]),
    Case("pm list", "pm-path_split-apks_android7-9_com.withbuddies.diceellen_excerpt.txt", "pm-path", [
        "/data/app/com.withbuddies.diceellen-1/base.apk",
        "/data/app/com.withbuddies.diceellen-1/split_config.armeabi_v7a.apk",
        "/data/app/com.withbuddies.diceellen-1/split_config.en.apk"]),
    # ---- README § am start ----
    Case("am start", "am-start-W_android10plus_meta-device_status-ok-cold_activity-differs_com.facebook.encapp.txt",
         "am-start", {"status": "ok", "launch_state": "COLD", "total_time_ms": 1479, "wait_time_ms": 1482,
                      "activity": "com.facebook.alohaapps.launcher/com.facebook.aloha.app.home.touch.HomeActivity",
                      "error": None, "target_confirmed": False},
         package="com.facebook.encapp/.MainActivity"),
    Case("am start", "am-start-W_android10plus_brought-to-front_status-ok-hot_io.appium.android.apis.txt",
         "am-start", {"status": "ok", "launch_state": "HOT", "total_time_ms": 122,
                      "activity": "io.appium.android.apis/.view.WebView1", "error": None, "brought_to_front": True,
                      "target_confirmed": True},
         package="io.appium.android.apis/.ApiDemos"),
    Case("am start", "am-start_error-type-3_activity-class-does-not-exist_com.rctzhihudaily.txt", "am-start",
         {"status": "error", "launch_state": None, "total_time_ms": None, "activity": None,
          "error": "Error type 3: Activity class {com.rctzhihudaily/com.rctzhihudaily.MainActivity} does not exist."},
         package="com.rctzhihudaily"),
    # ---- README § foreground / focus ----
    Case("focus", "dumpsys-window-grep-mCurrentFocus_android4.x_null-interleaved-sequence.txt", "focus",
         {"package": "com.lookout.enterprise", "activity": None, "window": "com.lookout.enterprise",
          "kind": "window"}),
    Case("focus", "dumpsys-window-windows-grep_android7-8_mCurrentFocus-mFocusedApp-AppWindowToken.txt", "focus",
         {"package": "com.google.android.apps.photos", "activity": "com.google.android.apps.photos.home.HomeActivity",
          "task": 15}),
    Case("focus", "dumpsys-window-displays-grep-mFocusedApp_android12_galaxy-zflip-5g_cover-screen-first.txt", "focus",
         {"package": "eu.niko.smart.universal", "activity": "crc648a3abc16689e594e.MainActivity", "task": 409,
          "source": "mFocusedApp"}),
    Case("focus", "dumpsys-window-displays-grep-mCurrentFocus_android12_galaxy-zflip-5g_null-then-app.txt", "focus",
         {"package": "eu.niko.smart.universal", "activity": "crc648a3abc16689e594e.MainActivity",
          "window": "eu.niko.smart.universal/crc648a3abc16689e594e.MainActivity"}),
    Case("focus", "dumpsys-window-displays-grep-mFocusedApp_android12_galaxy-zflip4_null-subscreen-app.txt", "focus",
         {"package": "jp.naver.line.android", "activity": "jp.naver.line.android.activity.main.MainActivity",
          "task": 285}),
    Case("focus", "dumpsys-activity-activities_android5_xtc-watch_mResumedActivity_blank-line-separated.txt",
         "focus", {"package": "com.xtc.watch", "activity": "com.xtc.watch.view.home.activity.XtcHomeActivity",
                   "task": 653, "source": "mResumedActivity"}),
    Case("focus", "dumpsys-activity-pkg_no-activities-match_com.funnyenglish.app.txt", "focus",
         {"package": None, "activity": None,
          "error": "Bad activity command, or no activities match: com.funnyenglish.app"}),
    # ---- README § adb devices ----
    Case("adb devices", "adb-devices-l_wahoo-elemnt_device.txt", "devices", [
        {"serial": "SERIAL0001", "state": "device", "model": "ELEMNT_BOLT", "transport_id": 33},
        {"serial": "SERIAL0002", "state": "device", "model": "ELEMNT_BOLT2", "transport_id": 4},
        {"serial": "SERIAL0003", "state": "device", "model": "ELEMNT", "device": "goertek2601_l"}]),
    Case("adb devices", "adb-devices-l_wahoo-elemnt_unauthorized-and-device.txt", "devices", [
        {"serial": "SERIAL0002", "state": "unauthorized", "model": None, "product": None, "transport_id": 39},
        {"serial": "SERIAL0001", "state": "device", "model": "ELEMNT_BOLT"}]),
    Case("adb devices", "adb-devices-l_android-n_features-field.txt", "devices", [
        {"serial": "SERIAL0003", "state": "device", "model": "Nexus_6", "product": "shamu"}]),
    Case("adb devices", "adb-devices-l_nexus7_device.txt", "devices", [
        {"serial": "SERIAL0001", "state": "device", "model": "Nexus_7", "transport_id": None}]),
    Case("adb devices", "adb-devices_emulator-offline_tab-separated.txt", "devices", [
        {"serial": "emulator-5554", "state": "offline", "model": None}]),
    Case("adb devices", "adb-devices_two-devices_tab-separated.txt", "devices", [
        {"serial": "SERIAL0001", "state": "device", "model": None},
        {"serial": "SERIAL0002", "state": "device", "model": None}]),
    # ---- README § crash / ANR ----
    Case("crash/ANR", "logcat-crash_android14_emulator_fatal-exception-npe_com.github.quarck.calnotify.txt",
         "logcat-crash", [{"package": "com.github.quarck.calnotify", "kind": "crash",
                           "exception": "java.lang.NullPointerException", "pid": 2977}]),
    Case("crash/ANR", "logcat-anr_android14plus_droidify_input-dispatching-timeout_errorid-frozen.txt",
         "logcat-crash", [{"package": "com.looker.droidify", "kind": "anr", "exception": None, "pid": 17681,
                           "component": "com.looker.droidify/.MainActivity"}]),
]


def _read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def _api_view(case: Case) -> Any:
    """The parser's answer, shaped like the CLI JSON but built from the dataclass attributes."""
    text = _read(case.file)
    if case.kind == "getprop":
        f = DeviceFacts.from_props(parse_getprop(text))
        return {"sdk": f.sdk, "release": f.release, "model": f.model, "device": f.device,
                "manufacturer": f.manufacturer, "region": f.region.region, "emulator": f.emulator, "brand": f.brand,
                "marketname": f.marketname, "miui_version": f.miui_version, "miui_version_code": f.miui_version_code,
                "hyperos_version": f.hyperos_version, "rom_flavour": f.region.rom_flavour,
                "region_source": f.region.source, "region_conflicts": f.region.conflicts}
    if case.kind == "dumpsys-package":
        d = parse_dumpsys_package(text, case.package)
        return {k: getattr(d, k) for k in case.expect}
    if case.kind == "pm-list-packages":
        return _pm_view([{"package": p.package, "code_path": p.code_path, "version_code": p.version_code}
                         for p in parse_pm_list_packages(text)])
    if case.kind == "pm-list-users":
        return [{"id": u.id, "name": u.name, "running": u.running} for u in parse_pm_list_users(text)]
    if case.kind == "pm-path":
        return parse_pm_path(text)
    if case.kind == "am-start":
        r = parse_am_start(text, case.package)
        return {k: getattr(r, k) for k in case.expect}
    if case.kind == "focus":
        fo = parse_focus(text)
        return {k: getattr(fo, k) for k in case.expect}
    if case.kind == "devices":
        return [{"serial": e.serial, "state": e.state, "model": e.model, "product": e.product, "device": e.device,
                 "transport_id": e.transport_id} for e in parse_devices(text)]
    if case.kind == "logcat-crash":
        return [{"package": r.package, "kind": r.kind, "exception": r.exception, "pid": r.pid,
                 "component": r.component} for r in parse_logcat_crash(text)]
    raise AssertionError(case.kind)


def _pm_view(entries: list[dict[str, Any]]) -> dict[str, Any]:
    view: dict[str, Any] = {"count": len(entries)}
    view.update({e["package"]: e for e in entries})
    return view


def _assert_subset(expect: Any, got: Any, where: str) -> None:
    if isinstance(expect, dict):
        assert isinstance(got, dict), f"{where}: expected an object, got {got!r}"
        for key, value in expect.items():
            assert key in got, f"{where}: key {key!r} missing from {sorted(got)}"
            _assert_subset(value, got[key], f"{where}.{key}")
    elif isinstance(expect, list) and expect and isinstance(expect[0], dict):
        assert isinstance(got, list), f"{where}: expected a list, got {got!r}"
        assert len(got) == len(expect), f"{where}: {len(expect)} entries expected, got {got!r}"
        for i, (e, g) in enumerate(zip(expect, got, strict=True)):
            _assert_subset(e, g, f"{where}[{i}]")
    else:
        assert got == expect, f"{where}: expected {expect!r}, got {got!r}"


def test_every_corpus_sample_has_a_case() -> None:
    """All files of the corpus are covered by a README row case (and copied byte-identically)."""
    covered = {c.file for c in CASES}
    files = {p.name for p in CORPUS.iterdir() if p.suffix == ".txt"}
    assert files == covered, f"uncovered: {sorted(files - covered)}; missing files: {sorted(covered - files)}"
    if SHARED.is_dir():
        shared = {p.name for p in SHARED.iterdir()}
        assert covered <= shared
        for name in covered:
            assert (CORPUS / name).read_bytes() == (SHARED / name).read_bytes(), f"{name} differs from the corpus"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_corpus_row_api(case: Case) -> None:
    """README row ``case.id``: the Python API gives the row's right answer."""
    _assert_subset(case.expect, _api_view(case), case.id)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.parsers", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_corpus_row_cli(case: Case) -> None:
    """README row ``case.id``: ``python -m harness.parsers KIND FILE`` prints the row's right answer as JSON."""
    args = [case.kind, str(CORPUS / case.file)]
    if case.package:
        args += ["--package", case.package]
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    if case.kind == "pm-list-packages":
        data = _pm_view(data)
    _assert_subset(case.expect, data, case.id)


REQUIRED_KEYS = {
    "dumpsys-package": ["installed", "version_name", "version_code", "code_path", "system", "updated_system",
                        "factory_version_name", "factory_version_code", "factory_code_path", "enabled"],
    "getprop": ["sdk", "release", "model", "device", "manufacturer", "region", "emulator"],
    "focus": ["package", "activity"],
    "am-start": ["status", "launch_state", "total_time_ms", "activity", "error"],
}
REQUIRED_ITEM_KEYS = {"devices": ["serial", "state", "model"], "logcat-crash": ["package", "kind", "exception"]}


@pytest.mark.parametrize("kind", sorted({c.kind for c in CASES}))
def test_cli_key_order(kind: str) -> None:
    """The CLI JSON starts with exactly the agreed keys, in the agreed order, for each KIND."""
    case = next(c for c in CASES if c.kind == kind)
    args = [kind, str(CORPUS / case.file)] + (["--package", case.package] if case.package else [])
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    if kind in REQUIRED_KEYS:
        keys = REQUIRED_KEYS[kind]
        assert list(data)[: len(keys)] == keys
    if kind in REQUIRED_ITEM_KEYS:
        keys = REQUIRED_ITEM_KEYS[kind]
        assert data and all(list(item)[: len(keys)] == keys for item in data)
