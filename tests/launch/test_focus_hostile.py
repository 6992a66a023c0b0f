"""Issue 9, items 3, 5 and 9 at the launch check: window focus and resumed activity that disagree, the user and
task of Android 13+ records, ``dumpsys activity top`` for old devices, and a cut focus dump.

Focus lines are the corpus shapes (tests/fixtures/corpus, rows "foreground / focus" of shared/corpus/README.md)
with the package, user or task changed; the end-to-end cases run the launch check against the virtual device.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.adb import CommandResult
from harness.errors import DumpIncomplete
from harness.launch import CAT_NO_SCREEN, LaunchCheck, LaunchObservation, decide_launch, focus_outcome
from harness.parsers import focus_windows, parse_am_start, parse_focus
from tests.virtual_device.conftest import image

PKG = "com.microsoft.office.word"
ACT = "com.microsoft.office.apphost.LaunchActivity"
HOME = "com.android.launcher/com.android.launcher2.Launcher"
AM_OK = (f"Starting: Intent {{ cmp={PKG}/{ACT} }}\nStatus: ok\nActivity: {PKG}/{ACT}\nThisTime: 812\n"
         "TotalTime: 812\nWaitTime: 830\nComplete\n")

# Android 4.4 head unit: the launcher's overlay window keeps input focus while Word is resumed and the focused
# app (shapes of corpus dumpsys-window-windows-grep_android7-8_* and dumpsys-activity-activities_android5_*).
HEAD_UNIT = (f"  mCurrentFocus=Window{{42b1c3a8 u0 {HOME}}}\n"
             f"  mFocusedApp=AppWindowToken{{42c0d7e0 token=Token{{42a8f1b8 ActivityRecord{{42a8ee40 u0 "
             f"{PKG}/com.microsoft.office.apphost.LaunchActivity t12}}}}}}\n"
             f"    mResumedActivity: ActivityRecord{{42a8ee40 u0 {PKG}/com.microsoft.office.apphost.LaunchActivity "
             "t12}\n")


def test_disagreeing_focus_reports_both():
    f = parse_focus(HEAD_UNIT)
    assert (f.package, f.window) == ("com.android.launcher", HOME)
    assert f.app is not None and (f.app.package, f.app.activity, f.app.task, f.app.user) == (PKG, ACT, 12, 0)
    assert f.overlaid


def test_disagreeing_focus_is_its_own_launch_outcome():
    f = parse_focus(HEAD_UNIT)
    state, kind, evidence = focus_outcome(PKG, f, focus_windows(HEAD_UNIT))
    assert (state, kind, evidence) == ("overlaid", None, HOME)
    v = decide_launch(LaunchObservation(package=PKG, name="Word", activity=ACT, am=parse_am_start(AM_OK, PKG),
                                        focus=f, focused=False, overlay=HOME))
    assert v.status == "fail" and v.category == CAT_NO_SCREEN
    assert "resumed but another window has focus" in v.reason and HOME in v.reason
    assert "never showed a window" not in v.reason
    assert f"over the resumed activity {PKG}/{ACT}" in v.found


def test_android13_record_keeps_task_and_user():
    text = f"  mFocusedApp=ActivityRecord{{1a70f4a u0 {PKG}/.apphost.LaunchActivity}} t6294}}\n"
    f = parse_focus(text)
    assert (f.package, f.task, f.user) == (PKG, 6294, 0)


def test_focused_app_of_another_user_is_not_the_launched_app():
    """A secondary user (u10) or a work profile showing the same package is not the app launched for user 0."""
    text = (f"  mCurrentFocus=Window{{5c4591 u10 {PKG}/{ACT}}}\n"
            f"  mFocusedApp=ActivityRecord{{b3a1ec9 u10 {PKG}/.apphost.LaunchActivity t82}}\n")
    f = parse_focus(text)
    assert (f.user, f.app.user if f.app else None) == (10, 10)
    assert focus_outcome(PKG, f, focus_windows(text))[0] == "waiting"
    ours = text.replace("u10", "u0")
    assert focus_outcome(PKG, parse_focus(ours), focus_windows(ours))[0] == "focused"


# ---------------------------------------------------------------- LaunchCheck.read_focus over scripted dumps

class ScriptedDevice:
    """Answers ``dumpsys`` commands from a table ``{argv tail: text}``; records every argv."""

    serial = "scripted0002"
    gone = None

    def __init__(self, sdk: int, answers: dict[tuple[str, ...], str | list[str]]) -> None:
        self._sdk = sdk
        self.answers = answers
        self.calls: list[list[str]] = []

    def facts(self):  # noqa: ANN201 - a DeviceFacts stand-in
        return type("Facts", (), {"sdk": self._sdk})()

    def shell(self, argv, *, timeout=None) -> CommandResult:
        self.calls.append(list(argv))
        tail = tuple(a for a in argv[1:] if a not in ("-t", "30"))
        answer = self.answers.get(tail, "")
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        return CommandResult(command=" ".join(argv), exit_code=0, stdout=answer)


TOP_4_4 = (f"TASK com.android.launcher id=1\n  ACTIVITY {HOME} 41bd2f48 pid=602\n"
           f"TASK {PKG} id=12\n  ACTIVITY {PKG}/{ACT} 42a8ee40 pid=3134\n"
           "    Local Activity 42b0a1c8 State:\n      mResumed=true mStopped=false mFinished=false\n")


def test_old_device_without_focus_lines_uses_dumpsys_activity_top():
    """An old build whose window and activity dumps name no focus: the LAST ``ACTIVITY`` of ``dumpsys activity
    top`` is the top one (the launcher's stack is printed first)."""
    dev = ScriptedDevice(19, {("window", "windows"): "WINDOW MANAGER WINDOWS (dumpsys window windows)\n",
                              ("activity", "activities"): "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n",
                              ("activity", "top"): TOP_4_4})
    focus, _windows, text = LaunchCheck(dev, None).read_focus()  # type: ignore[arg-type]
    assert (focus.package, focus.activity, focus.source, focus.task) == (PKG, ACT, "ACTIVITY", 12)
    assert ["dumpsys", "activity", "top"] in dev.calls
    assert focus_outcome(PKG, focus, [], "mCurrentFocus" in text)[0] == "focused"


MARKER = "*** SERVICE 'window' DUMP TIMEOUT (10000ms) EXPIRED ***"


def test_cut_focus_dump_is_retried_with_dumpsys_t():
    cut = f"  mCurrentFocus=Window{{1 u0 {HOME}}}\n\n{MARKER}\n\n"
    whole = f"  mCurrentFocus=Window{{1a2b3c u0 {PKG}/{ACT}}}\n"
    dev = ScriptedDevice(29, {("window", "displays"): [cut, whole]})
    focus, _w, _t = LaunchCheck(dev, None).read_focus()  # type: ignore[arg-type]
    assert focus.package == PKG
    assert dev.calls == [["dumpsys", "window", "displays"], ["dumpsys", "-t", "30", "window", "displays"]]


def test_focus_dump_cut_twice_is_broken():
    cut = f"  mCurrentFocus=Window{{1 u0 {HOME}}}\n\n{MARKER}\n\n"
    dev = ScriptedDevice(29, {("window", "displays"): cut})
    with pytest.raises(DumpIncomplete) as exc:
        LaunchCheck(dev, None).read_focus()  # type: ignore[arg-type]
    assert exc.value.serial == dev.serial and "DUMP TIMEOUT" in str(exc.value)


# ---------------------------------------------------------------- end to end on the virtual device

def _overlay_image(tmp_path: Path) -> Path:
    data = yaml.safe_load(image("vd-hostile").read_text())
    data.update(name="vd-headunit", behaviour={})
    data["props"].update({"ro.build.version.sdk": "19", "ro.build.version.release": "4.4.2",
                          "ro.serialno": "vdheadunit01"})
    data["packages"][0].update(version_name="16.0.7070.2036", launch={"outcome": "overlay"})
    path = tmp_path / "vd-headunit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_launch_on_a_head_unit_with_a_launcher_overlay(rig_factory, tmp_path):
    rig = rig_factory(str(_overlay_image(tmp_path)))
    report = LaunchCheck(rig.device, None, focus_timeout=0.5, poll_interval=0.1).run(PKG, "Word", limit_ms=4000)
    v = report.verdict
    assert v.status == "fail" and v.category == CAT_NO_SCREEN, v
    assert "resumed but another window has focus (com.miui.home/com.miui.home.launcher.Launcher)" in v.reason
    assert report.observation.focus is not None and report.observation.focus.app is not None
    assert report.observation.focus.app.package == PKG
