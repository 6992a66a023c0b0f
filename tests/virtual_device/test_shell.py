"""The shell interpreter and the device commands (no transport: ``virtual_device.shell.run`` directly)."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from PIL import Image as PILImage

from virtual_device.image import load_named_image
from virtual_device.shell import run
from virtual_device.state import DeviceState

WORD = "com.microsoft.office.word"
LAUNCH = "com.microsoft.office.apphost.LaunchActivity"


@pytest.fixture
def dev():
    """A fresh MI 5 (SDK 24) device state."""
    return DeviceState.from_image(load_named_image("mi5-cn"))


def make(name: str) -> DeviceState:
    return DeviceState.from_image(load_named_image(name))


def out(state, cmd):
    r = run(state, cmd)
    return r.stdout.decode(), r.stderr.decode(), r.exit_code


# -- interpreter ------------------------------------------------------------------------------------------------

def test_list_operators_and_status(dev):
    assert out(dev, "echo a; false; echo $?") == ("a\n1\n", "", 0)
    assert out(dev, "true && echo yes || echo no") == ("yes\n", "", 0)
    assert out(dev, "false && echo yes || echo no") == ("no\n", "", 0)
    assert out(dev, "false || false") == ("", "", 1)
    assert out(dev, "false; true")[2] == 0


def test_x4exit_suffix_as_adbutils_sends_it(dev):
    assert out(dev, f"pm path {WORD}; echo X4EXIT:$?")[0].endswith("X4EXIT:0\n")
    assert out(dev, "pm path com.nope; echo X4EXIT:$?")[0] == "X4EXIT:1\n"


def test_exit_stops_the_list(dev):
    r = run(dev, "echo before; exit 3; echo X4EXIT:$?")
    assert r.stdout == b"before\n" and r.exit_code == 3
    assert run(dev, "false; exit").exit_code == 1


def test_unknown_command_127_on_stderr(dev):
    stdout, stderr, rc = out(dev, "frobnicate --now; echo $?")
    assert stderr == "/system/bin/sh: frobnicate: inaccessible or not found\n"
    assert stdout == "127\n" and rc == 0
    assert run(dev, "frobnicate").exit_code == 127


def test_quotes_variables_and_assignments(dev):
    assert out(dev, "echo 'a  b' \"c $USER\" d\\ e")[0] == "a  b c shell d e\n"
    assert out(dev, "X=1; echo $X ${X}y '$X'")[0] == "1 1y $X\n"
    assert out(dev, "X=5 echo $X")[0] == "\n"  # prefix assignment only reaches the command's environment
    assert out(dev, "echo -n hi")[0] == "hi"


def test_pipes_into_grep(dev):
    assert out(dev, "pm list packages | grep -E 'office\\.(word|excel)$' | grep -v excel")[0] == f"package:{WORD}\n"
    assert out(dev, "getprop | grep -i 'RO.PRODUCT.MODEL'")[0] == "[ro.product.model]: [MI 5]\n"
    assert out(dev, "pm list packages | grep -e skype -e outlook | wc -l")[0] == "2\n"
    assert out(dev, "echo abc | grep zzz")[2] == 1
    assert out(dev, "echo 'a.c' | grep 'a.c'")[0] == "a.c\n"
    assert out(dev, "echo 'a|b' | grep 'a|b'")[0] == "a|b\n"  # basic regex: | is literal


def test_redirections(dev):
    assert out(dev, "echo hi > /data/local/tmp/f; echo more >> /data/local/tmp/f; cat /data/local/tmp/f")[0] == \
        "hi\nmore\n"
    assert out(dev, "ls /nope 2>/dev/null; echo $?") == ("1\n", "", 0)
    assert out(dev, "ls /nope 2>&1") == ("ls: /nope: No such file or directory\n", "", 1)
    assert out(dev, "echo x > /no/such/dir/f")[1].startswith("/system/bin/sh: can't create")


def test_syntax_errors_are_reported_not_raised(dev):
    for bad in ("echo $(id)", "echo `id`", "if true; then echo; fi", "echo 'open", "&& echo"):
        r = run(dev, bad)
        assert r.exit_code == 2 and r.stderr.startswith(b"/system/bin/sh: "), bad


def test_stdout_stderr_order_preserved(dev):
    r = run(dev, "echo one; ls /nope; echo two")
    assert [fd for fd, _ in r.chunks] == [1, 2, 1]
    assert r.merged == b"one\nls: /nope: No such file or directory\ntwo\n"


# -- getprop, files ---------------------------------------------------------------------------------------------

def test_getprop_all_and_one(dev):
    text = out(dev, "getprop")[0]
    lines = text.splitlines()
    assert all(re.fullmatch(r"\[[^\]]+\]: \[.*\]", ln) for ln in lines)
    assert lines == sorted(lines)
    assert out(dev, "getprop ro.miui.region")[0] == "CN\n"
    assert out(dev, "getprop no.such.prop")[0] == "\n"


def test_apks_are_files(dev):
    data = dev.fs.read("/system/app/Word/Word.apk")
    digest = hashlib.md5(data).hexdigest()
    assert out(dev, "md5sum /system/app/Word/Word.apk")[0] == f"{digest}  /system/app/Word/Word.apk\n"
    assert out(dev, "toybox md5sum /system/app/Word/Word.apk")[0].startswith(hashlib.md5(data).hexdigest())
    assert "Word\n" in out(dev, "ls /system/app")[0]
    missing = "md5sum: /data/local/tmp/u2.jar: No such file or directory\n"
    assert out(dev, "md5sum /data/local/tmp/u2.jar") == ("", missing, 1)


def test_mkdir_rm_cat(dev):
    assert out(dev, "mkdir -p /data/local/tmp/a/b && echo ok")[0] == "ok\n"
    assert out(dev, "mkdir /data/local/tmp/a")[2] == 1
    assert out(dev, "rm -f /data/local/tmp/none; echo $?")[0] == "0\n"
    assert out(dev, "rm /data/local/tmp/none")[2] == 1
    assert out(dev, "cat /nope") == ("", "cat: /nope: No such file or directory\n", 1)


# -- package manager by SDK -------------------------------------------------------------------------------------

def test_pm_list_flags_per_sdk():
    m = make("redmi3-id")  # SDK 22
    assert out(m, "pm list packages -U") == ("", "Error: Unknown option: -U\n", 1)
    n = make("mi5-cn")  # SDK 24: -U exists, --show-versioncode does not (stdout, rc 255)
    assert re.search(rf"^package:{WORD} uid:\d+$", out(n, "pm list packages -U")[0], re.M)
    assert out(n, "pm list packages --show-versioncode") == ("Error: Unknown option: --show-versioncode\n", "", 255)
    q = make("redmi8a-cn-real")  # SDK 29
    assert re.search(rf"^package:/system/app/Word/Word.apk={WORD} versionCode:2002707036 uid:\d+$",
                     out(q, "pm list packages -f -U --show-versioncode")[0], re.M)


def test_pm_list_filters(dev):
    def names(cmd):
        return set(re.findall(r"^package:(?:\S+=)?([\w.]+)", out(dev, cmd)[0], re.M))
    system, third = names("pm list packages -s"), names("pm list packages -3")
    assert WORD in system and "com.skype.raider" in third and not system & third
    assert names("pm list packages") == system | third
    assert names("pm list packages office") == {WORD, "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
                                                "com.microsoft.office.outlook"}
    assert names("pm list packages --user 7") == set()


def test_disabled_and_uninstalled_for_user():
    d = make("redmi3-id")
    assert "package:com.skype.raider\n" == out(d, "pm list packages -d")[0]
    assert "com.skype.raider" not in out(d, "pm list packages -e")[0]
    r = make("redmi8a-cn-real")
    assert "outlook" not in out(r, "pm list packages")[0]
    assert "package:com.microsoft.office.outlook\n" in out(r, "pm list packages -u")[0]
    assert out(r, "pm path com.microsoft.office.outlook") == ("", "", 1)


def test_pm_path_splits_and_updated(dev):
    u = make("mimax-in-updated")
    assert out(u, f"pm path {WORD}")[0] == "package:/data/app/com.microsoft.office.word-1/base.apk\n"
    pkg = dev.package(WORD).model_copy(update={"splits": ["config.xhdpi"], "code_path":
                                               "/data/app/com.microsoft.office.word-2/base.apk", "kind": "user"})
    dev.set_package(pkg)
    assert out(dev, f"pm path {WORD}")[0] == ("package:/data/app/com.microsoft.office.word-2/base.apk\n"
                                              "package:/data/app/com.microsoft.office.word-2/split_config.xhdpi.apk\n")


def test_resolve_activity_by_sdk():
    n = make("mi5-cn")
    text = out(n, f"cmd package resolve-activity --brief -c android.intent.category.LAUNCHER {WORD}")[0]
    assert text.splitlines() == ["priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true",
                                 f"{WORD}/{LAUNCH}"]
    assert out(n, "cmd package resolve-activity --brief com.nope")[0] == "No activity found\n"
    m = make("mimax-in")  # SDK 23: no cmd binary
    assert out(m, f"cmd package resolve-activity --brief {WORD}") == (
        "", "/system/bin/sh: cmd: inaccessible or not found\n", 127)


def test_pm_disable_enable_roundtrip(dev):
    assert out(dev, "pm disable-user com.skype.raider")[0] == "Package com.skype.raider new state: disabled-user\n"
    assert "enabled=3" in out(dev, "dumpsys package com.skype.raider")[0]
    assert out(dev, "pm enable com.skype.raider")[2] == 0
    assert "enabled=1" in out(dev, "dumpsys package com.skype.raider")[0]
    assert out(dev, "pm install /data/local/tmp/x.apk")[0].startswith("Failure [")


# -- launching and focus ----------------------------------------------------------------------------------------

def focus_line(state):
    return out(state, "dumpsys window windows | grep mCurrentFocus")[0].strip()


def test_launch_ok_then_brought_to_front(dev):
    assert re.fullmatch(r"mCurrentFocus=Window\{[0-9a-f]+ u0 com\.miui\.home/com\.miui\.home\.launcher\.Launcher\}",
                        focus_line(dev))
    first = out(dev, f"am start -W -n {WORD}/{LAUNCH}")[0]
    assert "Status: ok" in first and "ThisTime: 500" in first and "Warning" not in first
    assert f"u0 {WORD}/{LAUNCH}}}" in focus_line(dev)
    second = out(dev, f"am start -W -n {WORD}/{LAUNCH}")[0]
    assert "Warning: Activity not started, its current task has been brought to the front" in second
    out(dev, f"am force-stop {WORD}")
    assert "com.miui.home" in focus_line(dev) and dev.pid_of(WORD) is None


def test_launch_crash_writes_crash_buffer_and_dialog():
    d = make("mi4s-cn")
    text = out(d, f"am start -W -n com.microsoft.office.powerpoint/{LAUNCH}")[0]
    assert "Activity: com.miui.home/.launcher.Launcher" in text
    assert focus_line(d).endswith("u0 Application Error: com.microsoft.office.powerpoint}")
    log = out(d, "logcat -d -b crash")[0]
    assert log.startswith("--------- beginning of crash\n")
    assert "E AndroidRuntime: FATAL EXCEPTION: main" in log
    assert re.search(r"Process: com\.microsoft\.office\.powerpoint, PID: \d+", log)
    assert "libmso20android.so" in log
    assert len(out(d, "logcat -d -b crash -t 2")[0].splitlines()) == 3
    assert out(d, "logcat -c -b crash; logcat -d -b crash")[0] == ""


def test_launch_anr_and_no_window_and_not_found():
    d = make("redmi3-id")
    out(d, "am start -W -n com.microsoft.office.outlook/.MainActivity")
    assert focus_line(d).endswith("u0 Application Not Responding: com.microsoft.office.outlook}")
    assert "ANR in com.microsoft.office.outlook" in out(d, "logcat -d -b system")[0]
    skype = out(d, "am start -W -n com.skype.raider/.Main")  # disabled for user 0
    assert skype[1] == "Error type 3\nError: Activity class {com.skype.raider/com.skype.raider.Main} does not exist.\n"
    dev = make("mi5-cn")
    pkg = dev.package(WORD)
    dev.set_package(pkg.model_copy(update={"launch": pkg.launch.model_copy(update={"outcome": "no_window"})}))
    text = out(dev, f"am start -W -n {WORD}/{LAUNCH}")[0]
    assert "Status: timeout" in text and focus_line(dev) == "mCurrentFocus=null"
    dev.set_package(pkg.model_copy(update={"launch": pkg.launch.model_copy(update={"outcome": "not_found"})}))
    assert out(dev, f"monkey -p {WORD} -c android.intent.category.LAUNCHER 1") == (
        "", "** No activities found to run, monkey aborted.\n", 251)


def test_monkey_launches_and_keyevent_home(dev):
    stdout, _, rc = out(dev, "monkey -p com.skype.raider -c android.intent.category.LAUNCHER 1")
    assert rc == 0 and stdout.startswith("Events injected: 1\n## Network stats: elapsed time=")
    assert "com.skype.raider/com.skype.raider.Main" in focus_line(dev)
    out(dev, "input keyevent KEYCODE_HOME")
    assert "com.miui.home" in focus_line(dev)


def test_start_activity_exists_from_24():
    old = out(make("mimax-in"), f"am start-activity -n {WORD}/{LAUNCH}")
    assert old[1] == "Error: Unknown command: start-activity\n"
    assert out(make("mi5-cn"), f"am start-activity -n {WORD}/{LAUNCH}")[0].startswith("Starting: Intent")


# -- screen, hierarchy, processes -------------------------------------------------------------------------------

def test_screencap_is_a_png_of_the_display(dev):
    r = run(dev, "screencap -p")
    img = PILImage.open(io.BytesIO(r.stdout))
    assert img.format == "PNG" and img.size == (1080, 1920)
    assert run(make("redmi8a-cn-real"), "screencap -p").stdout[:8] == b"\x89PNG\r\n\x1a\n"


def test_uiautomator_dump_writes_first_screen(dev):
    out(dev, "monkey -p com.microsoft.office.outlook -c android.intent.category.LAUNCHER 1")
    cmd = "rm -f /data/local/tmp/uidump.xml; uiautomator dump /data/local/tmp/uidump.xml && echo success"
    stdout = out(dev, cmd)[0]
    assert stdout == "UI hierchary dumped to: /data/local/tmp/uidump.xml\nsuccess\n"
    xml = dev.fs.read("/data/local/tmp/uidump.xml").decode()
    assert xml.startswith("<?xml") and 'text="Add account"' in xml and 'package="com.microsoft.office.outlook"' in xml


def test_ps_columns(dev):
    q = make("redmi8a-cn-real")
    lines = out(q, "ps -A")[0].splitlines()
    assert all(len(ln.split()) >= 9 for ln in lines) and lines[-1].split()[-1] == "com.miui.home"
    old = out(dev, "ps")[0].splitlines()
    assert all(len(ln.split()) >= 9 for ln in old[1:])
    assert len(out(dev, "ps -A")[0].splitlines()) == 1  # toolbox ps takes -A as a name filter


def test_misc_commands(dev):
    assert out(dev, "wm size")[0] == "Physical size: 1080x1920\n"
    assert out(dev, "wm density")[0] == "Physical density: 480\n"
    assert out(dev, "settings get global adb_enabled")[0] == "1\n"
    assert out(dev, "settings get system nope")[0] == "null\n"
    assert out(dev, "id")[0].startswith("uid=2000(shell) gid=2000(shell)")
    assert "mHoldingDisplaySuspendBlocker=true" in out(dev, "dumpsys power")[0]
    out(dev, "input keyevent 26")
    assert "mHoldingDisplaySuspendBlocker=false" in out(dev, "dumpsys power")[0]
    assert out(dev, "dumpsys nosuchservice")[1] == "Can't find service: nosuchservice\n"
    assert out(dev, "input keyevent notakey") == ("", "Error: Unknown keycode: notakey\n", 1)
    assert out(dev, "input frob")[2] == 1


def test_logcat_time_filter_and_tags(dev):
    import datetime as _dt
    import time as _time

    now = _time.time()
    dev.log("crash", "E", "AndroidRuntime", "old line", 100, when=now - 3600)
    dev.log("crash", "E", "AndroidRuntime", "new line", 200, when=now)
    since = (dev.now() - _dt.timedelta(seconds=60)).strftime("%m-%d %H:%M:%S.000")
    text = out(dev, f"logcat -d -b crash -T '{since}'")[0]
    assert "new line" in text and "old line" not in text
    assert "old line" in out(dev, "logcat -d -b crash -t 2")[0]
    dev.log("main", "I", "Other", "noise", 300, when=now)
    only = out(dev, "logcat -d -b main,crash AndroidRuntime:E '*:S'")[0]
    assert "noise" not in only and "new line" in only
    assert out(dev, "logcat -d -T 'yesterday'")[2] == 1
    assert out(dev, "logcat -d -b nosuch") == ("", "unknown buffer nosuch\n", 1)


def test_date_uses_the_device_time_zone_like_logcat(dev):
    import datetime as _dt

    stamp = out(dev, "date +'%m-%d %H:%M:%S'")[0].strip()
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d:\d\d", stamp)
    expected = _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=8)))  # mi5-cn: Asia/Shanghai, no DST
    got = _dt.datetime.strptime(f"{expected.year}-{stamp}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=expected.tzinfo)
    assert abs((got - expected).total_seconds()) < 120
    out(dev, f"am start -n com.microsoft.office.powerpoint/{LAUNCH}")  # no crash on mi5-cn: nothing logged
    dev.log("crash", "E", "AndroidRuntime", "FATAL EXCEPTION: main", 4321)
    line = out(dev, f"logcat -d -b crash -T '{stamp}.000'")[0].splitlines()[-1]
    logged = _dt.datetime.strptime(f"{expected.year}-{line[:14]}", "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=expected.tzinfo)
    assert abs((logged - got).total_seconds()) < 120  # logcat and `date` show the same clock
    assert out(dev, "date 010100002020")[2] == 1


@pytest.mark.parametrize("line", ["", ";", "|", "||", "&&&", "echo 'x", 'echo "x', "2>", "> ", "echo >", "a=", "=a",
                                  "exit abc", "echo ${", "\\", "echo a | | grep a", "cat <", "ls -Z", "pm", "am",
                                  "dumpsys", "cmd", "grep", "logcat -b", "input", "settings get", "wm size 12"])
def test_garbage_never_raises(dev, line):
    r = run(dev, line)
    assert 0 <= r.exit_code <= 255
    assert b"internal error" not in r.stderr
