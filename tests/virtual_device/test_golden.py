"""Golden tests: the virtual device's renderings have the STRUCTURE of real outputs of the same Android version.

Each test compares field order, indentation, section headers and line endings with a real sample from the
corpus (``tests/fixtures/corpus``, rows of ``/work/shared/corpus/README.md``), not package-specific values.
``shape()`` abstracts values: components ``pkg/act`` → ``C``, dotted names → ``P``, identity hashes and numbers
→ ``N``.
Where no sample exists for a version the expected layout comes from AOSP (cited in virtual_device/render/*).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from virtual_device.image import import_getprop, load_named_image, parse_getprop
from virtual_device.render.system import threadtime
from virtual_device.shell import run
from virtual_device.state import DeviceState

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
SKYPE = "com.skype.raider"
WORD = "com.microsoft.office.word"
LAUNCH = "com.microsoft.office.apphost.LaunchActivity"


def sample(name: str) -> str:
    data = (CORPUS / name).read_bytes().decode("utf-8")
    return data.lstrip("\ufeff")


def device(name: str) -> DeviceState:
    return DeviceState.from_image(load_named_image(name))


def sh(state: DeviceState, cmd: str) -> str:
    r = run(state, cmd)
    text = r.merged.decode("utf-8")
    assert "\r" not in text, f"{cmd}: renderings use LF line endings like the samples"
    return text


def shape(line: str) -> str:
    """Value-free shape of a line, keeping indentation, keys and punctuation."""
    s = re.sub(r"[\w.$]+/[\w.$]+", "C", line)
    s = re.sub(r"\b[A-Za-z_]\w*(\.[A-Za-z_]\w*)+\b", "P", s)
    s = re.sub(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{5,8}\b", "N", s)
    s = re.sub(r"\d+", "N", s)
    return re.sub(r"\[N(, N)*\]", "[N]", s)


def key_of(line: str) -> str:
    """``    versionCode=1 minSdk=2`` → ``versionCode``; ``    User 0: ...`` → ``User N``."""
    body = line.strip()
    m = re.match(r"(User \d+|[A-Za-z][\w ]*?)(?==|:)", body)
    return re.sub(r"\d+", "N", m.group(1)) if m else body


def package_block(text: str, package: str | None = None, section: str = "Packages:") -> list[str]:
    """Lines of the first ``  Package [..]`` block (up to and including its ``User 0:`` line) in ``section``."""
    lines = text.split("\n")
    start = lines.index(section)
    out: list[str] = []
    for ln in lines[start + 1:]:
        if ln.startswith("  Package [") and (package is None or f"[{package}]" in ln):
            out = [ln]
        elif out:
            out.append(ln)
            if ln.strip().startswith("User 0:"):
                return out
    raise AssertionError(f"no package block in {section}")


OPTIONAL_KEYS = {"sharedUser", "usesLibraries", "usesLibraryFiles", "usesOptionalLibraries", "declared permissions",
                 "requested permissions", "installerPackageName", "install permissions", "forceQueryable",
                 "queriesPackages", "queriesIntents", "overlayTarget", "overlayCategory", "grantedPermissions"}


def field_keys(block: list[str]) -> list[str]:
    return [key_of(ln) for ln in block[1:] if re.match(r"^    \S", ln)]


def assert_same_block_structure(ours: list[str], real: list[str]) -> None:
    assert re.fullmatch(r"  Package \[[\w.]+\] \([0-9a-f]+\):", ours[0]), ours[0]
    ours_keys, real_keys = field_keys(ours), field_keys(real)
    missing = [k for k in real_keys if k not in ours_keys and k not in OPTIONAL_KEYS]
    assert not missing, f"fields of the real block missing: {missing}"
    extra = [k for k in ours_keys if k not in real_keys and k not in OPTIONAL_KEYS]
    assert not extra, f"fields the real block of this version does not have: {extra}"
    common = [k for k in ours_keys if k in real_keys]
    assert common == [k for k in real_keys if k in ours_keys], "field order differs from the real block"
    # same value shapes for the structural lines
    for key in ("versionCode", "splits", "flags", "pkgFlags", "signatures", "timeStamp", "userId"):
        ours_line = next(ln for ln in ours if key_of(ln) == key)
        real_line = next(ln for ln in real if key_of(ln) == key)
        if key in ("flags", "pkgFlags"):
            assert re.fullmatch(r" {4}\w+=\[ ([A-Z_]+ )+\]", ours_line), ours_line
        elif key == "splits":
            assert re.fullmatch(r" {4}splits=\[base(, [\w.]+)*\]", ours_line)
        else:
            assert shape(ours_line) == shape(real_line), (ours_line, real_line)
    user_fields = [f.split("=")[0] for f in ours[-1].split(":", 1)[1].split()]
    real_fields = [f.split("=")[0] for f in real[-1].split(":", 1)[1].split()]
    assert user_fields == real_fields
    assert ours[-1].split(":", 1)[1][:2] == real[-1].split(":", 1)[1][:2], "spacing after `User 0:`"


# -- dumpsys package -------------------------------------------------------------------------------------------

def test_dumpsys_package_block_android10():
    """Corpus row dumpsys-package-packages-section_android10_samsung_system-apps.txt (SDK 29)."""
    real = package_block(sample("dumpsys-package-packages-section_android10_samsung_system-apps.txt"),
                         "com.sec.android.app.DataCreate")
    ours = package_block(sh(device("redmi8a-cn-real"), f"dumpsys package {WORD}"))
    assert_same_block_structure(ours, real)


def test_dumpsys_package_block_android5_era():
    """Corpus row dumpsys-package-packages-section_android5-era_wahoo-elemnt_*.txt (SDK 22: gids on the userId line,
    no minSdk, permissionsFixed/haveGids, double space after `User 0:`)."""
    real_text = sample("dumpsys-package-packages-section_android5-era_wahoo-elemnt_com.wahoofitness.bolt.txt")
    real = package_block(real_text)
    ours_text = sh(device("redmi3-id"), f"dumpsys package {SKYPE}")
    ours = package_block(ours_text)
    assert_same_block_structure(ours, real)
    assert "User 0:  installed=true" in ours[-1] and "enabled=3" in ours[-1]
    after_user = ours_text.split("\n")[ours_text.split("\n").index(ours[-1]) + 1:]
    assert any(ln == "    grantedPermissions:" for ln in after_user)


def test_dumpsys_package_sdk30_adds_distraction_flags():
    """Corpus row dumpsys-package-packages-section_android11_pixel_overlay-and-apex-app.txt (SDK 30)."""
    real = package_block(sample("dumpsys-package-packages-section_android11_pixel_overlay-and-apex-app.txt"),
                         "com.android.internal.display.cutout.emulation.noCutout")
    state = device("redmi8a-cn-real")
    state.props["ro.build.version.sdk"] = "30"
    ours = package_block(sh(state, f"dumpsys package {WORD}"))
    assert_same_block_structure(ours, real)


def section_headers(text: str) -> list[str]:
    return [re.sub(r"\d+", "N", ln) for ln in text.split("\n") if re.match(r"^[A-Z][\w ]+:$", ln)]


REAL_SECTION_ORDER: list[str] = []
for _name in ("dumpsys-package_wearos_user-app_com.tekartik.package2.txt",
              "dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1.txt"):
    for _h in section_headers(sample(_name)):
        if _h not in REAL_SECTION_ORDER:
            idx = REAL_SECTION_ORDER.index("Queries:") if _h == "Hidden system packages:" else len(REAL_SECTION_ORDER)
            REAL_SECTION_ORDER.insert(idx, _h)
# App links sections of Android 6..10 (no corpus sample; AOSP PackageManagerService.dump prints them after the
# resolver tables and before Permissions:)
_i = REAL_SECTION_ORDER.index("Permissions:")
REAL_SECTION_ORDER[_i:_i] = ["App verification status:", "App linkages for user N:"]


@pytest.mark.parametrize("name", ["mimax-in-updated", "mi5-cn", "redmi8a-cn-real"])
def test_dumpsys_package_sections_in_real_order(name):
    """Corpus rows dumpsys-package_wearos_*: sections separated by one blank line, in the real order; an updated
    system app has ``Hidden system packages:`` after ``Packages:`` with the factory copy."""
    text = sh(device(name), f"dumpsys package {WORD}")
    headers = section_headers(text)
    assert headers == sorted(headers, key=REAL_SECTION_ORDER.index)
    raw_headers = [ln for ln in text.split("\n") if re.match(r"^[A-Z][\w ]+:$", ln)]
    for h in raw_headers[1:]:
        i = text.index("\n" + h + "\n")
        assert text[i - 1] == "\n" and text[i - 2] != "\n", f"one blank line before {h}"
    if name == "mimax-in-updated":
        live, hidden = package_block(text), package_block(text, section="Hidden system packages:")
        assert "    codePath=/data/app/com.microsoft.office.word-1" in live
        assert "UPDATED_SYSTEM_APP" in live[field_keys(live).index("flags") + 1]
        assert "    codePath=/system/app/Word" in hidden and "    versionName=16.0.6925.1000" in hidden
        real = package_block(sample("dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1.txt"),
                             section="Hidden system packages:")
        assert real[0].startswith("  Package [") and hidden[0].startswith("  Package [")
    else:
        assert "Hidden system packages:" not in headers


def test_dumpsys_package_missing():
    """Corpus row dumpsys-package_not-installed_*: one line on SDK >= 26; older releases print only headers."""
    real = sample("dumpsys-package_not-installed_com.funnyenglish.app.txt")
    assert sh(device("redmi8a-cn-real"), "dumpsys package com.funnyenglish.app") == real
    n = sh(device("mi5-cn"), "dumpsys package com.funnyenglish.app")
    assert section_headers(n) == ["App verification status:", "App linkages for user N:", "Dexopt state:",
                                  "Compiler stats:"]
    assert "com.funnyenglish.app" not in n.replace("  Unable to find package: com.funnyenglish.app\n", "")
    m = sh(device("mimax-in"), "dumpsys package com.funnyenglish.app")
    assert section_headers(m) == ["App verification status:", "App linkages for user N:"]
    assert sh(device("redmi3-id"), "dumpsys package com.funnyenglish.app") == ""


# -- pm ---------------------------------------------------------------------------------------------------------

PM_F = re.compile(r"package:/(system|data)/[\w./-]+\.apk=[\w.]+")
PM_VC = re.compile(r"package:[\w.]+ versionCode:\d+")
PM_PATH = re.compile(r"package:/[\w./-]+\.apk")
PM_USER = re.compile(r"\s+UserInfo\{\d+:[^:}]+:[0-9a-f]+\} running")


def test_pm_list_packages_f_shape():
    """Corpus row pm-list-packages-f_android7-8_genymotion_excerpt.txt."""
    real = sample("pm-list-packages-f_android7-8_genymotion_excerpt.txt").splitlines()
    assert all(PM_F.fullmatch(ln) for ln in real)
    ours = sh(device("mi5-cn"), "pm list packages -f").splitlines()
    assert len(ours) > 20 and all(PM_F.fullmatch(ln) for ln in ours)
    assert "package:/system/framework/framework-res.apk=android" in ours  # as in the sample


def test_pm_list_packages_show_versioncode_shape():
    """Corpus row pm-list-packages-show-versioncode_android9_appium-adb-fixture.txt (API 28+)."""
    real = sample("pm-list-packages-show-versioncode_android9_appium-adb-fixture.txt").splitlines()
    assert all(PM_VC.fullmatch(ln) for ln in real)
    ours = sh(device("redmi8a-cn-real"), "pm list packages --show-versioncode").splitlines()
    assert all(PM_VC.fullmatch(ln) for ln in ours)


def test_pm_path_shape():
    """Corpus row pm-path_split-apks_android7-9_*: base first, splits beside it."""
    real = sample("pm-path_split-apks_android7-9_com.withbuddies.diceellen_excerpt.txt").splitlines()
    state = device("mi5-cn")
    pkg = state.package(WORD)
    state.set_package(pkg.model_copy(update={"kind": "user", "code_path": f"/data/app/{WORD}-1/base.apk",
                                             "splits": ["config.armeabi_v7a", "config.en"]}))
    ours = sh(state, f"pm path {WORD}").splitlines()
    assert all(PM_PATH.fullmatch(ln) for ln in real + ours)
    assert [shape(ln.replace(WORD, "P")) for ln in ours] == [
        shape(ln.replace("com.withbuddies.diceellen", "P")) for ln in real]


def test_pm_list_users_shape():
    """Corpus row pm-list-users_samsung_owner-and-secure-folder.txt (the post shows the tab as spaces)."""
    real = sample("pm-list-users_samsung_owner-and-secure-folder.txt").splitlines()
    ours = sh(device("redmi8a-cn-real"), "pm list users").splitlines()
    assert real[0] == ours[0] == "Users:"
    assert all(PM_USER.fullmatch(ln) for ln in real[1:] + ours[1:])
    assert ours[1] == "\tUserInfo{0:机主:13} running"


# -- am start ---------------------------------------------------------------------------------------------------

def keys(text: str) -> list[str]:
    return [ln.split(":")[0] for ln in text.splitlines()]


def test_am_start_w_cold_android10():
    """Corpus row am-start-W_android10plus_meta-device_status-ok-cold_*: Status, LaunchState, Activity, TotalTime,
    WaitTime, Complete."""
    real = sample("am-start-W_android10plus_meta-device_status-ok-cold_activity-differs_com.facebook.encapp.txt")
    state = device("redmi8a-cn-real")
    ours = sh(state, f"am start -W -a android.intent.action.MAIN -c android.intent.category.LAUNCHER -n {SKYPE}/.Main")
    assert keys(ours) == keys(real)
    assert shape(ours.splitlines()[0]) == shape(real.splitlines()[0].replace(" (has extras)", ""))
    assert "LaunchState: COLD" in ours


def test_am_start_w_brought_to_front_android10():
    """Corpus row am-start-W_android10plus_brought-to-front_status-ok-hot_*."""
    real = sample("am-start-W_android10plus_brought-to-front_status-ok-hot_io.appium.android.apis.txt")
    state = device("redmi8a-cn-real")
    cmd = f"am start -W -a android.intent.action.MAIN -c android.intent.category.LAUNCHER -n {SKYPE}/.Main"
    sh(state, cmd)
    ours = sh(state, cmd)
    assert keys(ours) == keys(real)
    assert ours.splitlines()[1] == real.splitlines()[1]
    assert "LaunchState: HOT" in ours


def test_am_start_w_before_android10_has_thistime():
    """No corpus sample for pre-10 ``-W`` (README gaps); AOSP P ActivityManagerShellCommand prints ThisTime."""
    ours = sh(device("mi5-cn"), f"am start -W -n {SKYPE}/.Main")
    assert keys(ours) == ["Starting", "Status", "Activity", "ThisTime", "TotalTime", "WaitTime", "Complete"]


def test_am_start_error_type_3_byte_exact():
    """Corpus row am-start_error-type-3_activity-class-does-not-exist_com.rctzhihudaily.txt (Android 5/6 era)."""
    real = sample("am-start_error-type-3_activity-class-does-not-exist_com.rctzhihudaily.txt")
    for name in ("redmi3-id", "mimax-in"):
        assert sh(device(name), "am start -n com.rctzhihudaily/.MainActivity") == real


# -- focus ------------------------------------------------------------------------------------------------------

def test_dumpsys_window_focus_lines_android7():
    """Corpus row dumpsys-window-windows-grep_android7-8_mCurrentFocus-mFocusedApp-AppWindowToken.txt (its first line
    lost the indent in the post; AOSP prints two spaces)."""
    real = sample("dumpsys-window-windows-grep_android7-8_mCurrentFocus-mFocusedApp-AppWindowToken.txt").splitlines()
    state = device("mi5-cn")
    sh(state, f"monkey -p {SKYPE} -c android.intent.category.LAUNCHER 1")
    ours = sh(state, "dumpsys window windows | grep -E 'mCurrentFocus|mFocusedApp'").splitlines()
    assert [shape(ln) for ln in ours] == ["  " + shape(real[0]), shape(real[1])]


def test_dumpsys_window_focused_app_android12_shape():
    """Corpus row dumpsys-window-displays-grep-mFocusedApp_android12_galaxy-zflip4_*: ActivityRecord directly."""
    real = sample("dumpsys-window-displays-grep-mFocusedApp_android12_galaxy-zflip4_null-subscreen-app.txt")
    state = device("redmi8a-cn-real")
    state.props["ro.build.version.sdk"] = "31"
    ours = sh(state, "dumpsys window displays | grep mFocusedApp").splitlines()
    assert shape(ours[0]) == shape(real.splitlines()[-1])
    assert "mFocusedApp" not in sh(state, "dumpsys window windows")  # per display since Android 10


def test_dumpsys_activity_activities_android5():
    """Corpus row dumpsys-activity-activities_android5_xtc-watch_* (blank lines were doubled by the poster)."""
    real = [ln for ln in sample("dumpsys-activity-activities_android5_xtc-watch_mResumedActivity_blank-line-separated"
                                ".txt").splitlines() if ln]
    state = device("redmi3-id")
    sh(state, f"am start -n {WORD}/{LAUNCH}")
    ours = sh(state, "dumpsys activity activities").splitlines()
    markers = ["ACTIVITY MANAGER ACTIVITIES", "Display #0", "  Stack #", "    Task id #", "    Running activities",
               "      TaskRecord{", "        Run #0:", "    mResumedActivity:"]

    def first(lines: list[str], m: str, after: int = 0) -> int:
        return next(i for i, ln in enumerate(lines) if i >= after and ln.startswith(m))

    for lines in (ours, real):
        idx = [first(lines, m) for m in markers[:5]]
        assert idx == sorted(idx)
    for m in markers:
        after_ours = first(ours, "    Running activities") if m == "      TaskRecord{" else 0
        after_real = first(real, "    Running activities") if m == "      TaskRecord{" else 0
        assert shape(ours[first(ours, m, after_ours)]) == shape(real[first(real, m, after_real)]), m
    assert f"{WORD}/{LAUNCH}" in ours[first(ours, "    mResumedActivity:")]


def test_dumpsys_activity_unknown_package_byte_exact():
    """Corpus row dumpsys-activity-pkg_no-activities-match_com.funnyenglish.app.txt."""
    real = sample("dumpsys-activity-pkg_no-activities-match_com.funnyenglish.app.txt")
    assert sh(device("redmi8a-cn-real"), "dumpsys activity com.funnyenglish.app") == real


# -- logcat -----------------------------------------------------------------------------------------------------

TT = re.compile(r"(\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) +(\d+) +(\d+) ([VDIWEF]) (\S+): (.*)")


def test_logcat_crash_threadtime_layout():
    """Corpus row logcat-crash_android14_emulator_fatal-exception-npe_*: marker line, threadtime columns, tab-indented
    stack frames."""
    real = sample("logcat-crash_android14_emulator_fatal-exception-npe_com.github.quarck.calnotify.txt").splitlines()
    real = real[real.index("--------- beginning of crash"):]
    state = device("mi4s-cn")
    sh(state, f"am start -n com.microsoft.office.powerpoint/{LAUNCH}")
    ours = sh(state, "logcat -d -b crash").splitlines()
    assert ours[0] == real[0]
    for lines in (ours, real):
        parsed = [TT.fullmatch(ln) for ln in lines[1:]]
        assert all(parsed)
        msgs = [m.group(6) for m in parsed]
        assert msgs[0] == "FATAL EXCEPTION: main"
        assert re.fullmatch(r"Process: [\w.]+, PID: \d+", msgs[1])
        assert all(m.group(5) == "AndroidRuntime" and m.group(4) == "E" for m in parsed)
        assert any(msg.startswith("\tat ") for msg in msgs[3:])
    # same column layout for 4-digit pids
    assert ours[1].index("E AndroidRuntime") == real[1].index("E AndroidRuntime")


def test_logcat_anr_lines():
    """Corpus row logcat-anr_android14plus_droidify_*: `ANR in pkg (pkg/.Act)`, `PID: N`, `Reason: ...`."""
    real = [ln.split(": ", 1)[1] for ln in sample(
        "logcat-anr_android14plus_droidify_input-dispatching-timeout_errorid-frozen.txt").splitlines()[:3]]
    state = device("redmi3-id")
    sh(state, "am start -n com.microsoft.office.outlook/.MainActivity")
    ours = [TT.fullmatch(ln) for ln in sh(state, "logcat -d -b system").splitlines()[1:4]]
    assert all(m and m.group(5) == "ActivityManager" and m.group(4) == "E" for m in ours)
    assert [shape(m.group(6)).split(" (")[0].split(":")[0] for m in ours] == [
        shape(r).split(" (")[0].split(":")[0] for r in real]


def test_threadtime_pid_padding():
    from virtual_device.state import LogEntry
    line = threadtime(LogEntry(0.5, 42, 7, "I", "Tag", "msg"))
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d:\d\d\.500    42     7 I Tag: msg", line)


# -- getprop ----------------------------------------------------------------------------------------------------

def test_getprop_roundtrip_of_the_real_dump():
    """Corpus row getprop_android10_miui12.5-cn_redmi8a.txt: the device prints the same props in the same format."""
    real_path = CORPUS / "getprop_android10_miui12.5-cn_redmi8a.txt"
    text = sh(device("redmi8a-cn-real"), "getprop")
    real_lines = set(real_path.read_text(encoding="utf-8").splitlines())
    assert real_lines <= set(text.splitlines())  # incl. the multi-line persist.sys.boot.reason.history value
    assert parse_getprop(text) == import_getprop(real_path)
    assert import_getprop(real_path) == load_named_image("redmi8a-cn-real").props


# -- what adbutils 2.12.0 parses (regexes quoted in shared/notes/adb-transport.md §3) -------------------------

def test_adbutils_regexes_match():
    state = device("mi5-cn")
    assert re.findall(r"^package:([^\s]+)\r?$", sh(state, "pm list packages"), re.M)
    sh(state, f"am start -n {SKYPE}/.Main")
    m = re.search(r"mCurrentFocus=Window{.*\s+(?P<package>[^\s]+)/(?P<activity>[^\s]+)\}",
                  sh(state, "dumpsys window windows"))
    assert m and (m["package"], m["activity"]) == (SKYPE, "com.skype.raider.Main")
    m = re.search(r"mResumedActivity: ActivityRecord\{.*?\s+(?P<package>[^\s]+)/(?P<activity>[^\s]+)\s.*?\}",
                  sh(state, "dumpsys activity activities"))
    assert m and m["package"] == SKYPE
    m = re.search(r"ACTIVITY (?P<package>[^\s]+)/(?P<activity>[^/\s]+) \w+ pid=(?P<pid>\d+)",
                  sh(state, "dumpsys activity top"))
    assert m and int(m["pid"]) == state.pid_of(SKYPE)
    assert re.search(r"Physical size: (\d+)x(\d+)", sh(state, "wm size")).groups() == ("1080", "1920")
    assert re.search(r".*?orientation=(\d+)", sh(state, "dumpsys display")).group(1) == "0"
    dump = sh(state, f"dumpsys package {WORD}")
    assert re.search(r"versionName=(\S+)", dump).group(1) == "16.0.7070.2036"
    assert re.search(r"versionCode=(\d+)", dump).group(1) == "2002707036"
    assert re.search(r"pkgFlags=\[\s*(.*)\s*\]", dump)
    assert re.search(r"firstInstallTime=([-\d]+\s+[:\d]+)", dump)
    assert re.search(r"PackageSignatures\{.*?\[(.*)\]\}", dump)
