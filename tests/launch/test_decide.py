"""harness.launch.decide_launch and its pure helpers: every outcome, without a device.

``am start`` texts come from the shared corpus (tests/fixtures/corpus/, rows "am start" and "crash / ANR" of
shared/corpus/README.md) where one exists; the Android 7 ``-W`` layout (ThisTime) is the AOSP format the virtual
device renders (the corpus has no pre-10 ``-W`` sample, README "Gaps").
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.errors import ParseError
from harness.launch import (
    CAT_ANR,
    CAT_CRASH,
    CAT_NO_SCREEN,
    CAT_SLOW,
    LaunchObservation,
    decide_launch,
    focus_outcome,
    launch_precondition,
    launcher_from_dumpsys,
    summarize_hierarchy,
)
from harness.parsers import Focus, focus_windows, parse_am_start, parse_focus, parse_logcat_crash

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"

PKG = "com.microsoft.office.word"
ACT = "com.microsoft.office.apphost.LaunchActivity"
AM_OK = (f"Starting: Intent {{ cmp={PKG}/com.microsoft.office.apphost.LaunchActivity }}\nStatus: ok\n"
         f"Activity: {PKG}/com.microsoft.office.apphost.LaunchActivity\nThisTime: 812\nTotalTime: 812\n"
         "WaitTime: 830\nComplete\n")
FOCUS_OK = f"  mCurrentFocus=Window{{1a2b3c u0 {PKG}/{ACT}}}\n"


def corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def obs(**kw: object) -> LaunchObservation:
    base: dict[str, object] = dict(package=PKG, name="Word", activity=ACT, am=parse_am_start(AM_OK, PKG),
                                   wall_ms=850, focus=parse_focus(FOCUS_OK), focused=True, package_nodes=7,
                                   first_screen='text "Word"', first_screen_found=True, limit_ms=4000)
    base.update(kw)
    return LaunchObservation(**base)  # type: ignore[arg-type]


def test_pass_reports_focus_time_and_first_screen():
    v = decide_launch(obs())
    assert v.status == "pass" and v.category is None
    assert "812 ms" in v.found and 'text "Word" shown' in v.found and PKG in v.found
    assert "Status: ok" in v.evidence


def test_crash_from_the_crash_log_names_the_exception():
    log = corpus("logcat-crash_android14_emulator_fatal-exception-npe_com.github.quarck.calnotify.txt")
    records = tuple(parse_logcat_crash(log))
    v = decide_launch(obs(package="com.github.quarck.calnotify", name="CalNotify", records=records, focused=False,
                          focus=Focus("com.android.launcher3", None, "Application Error: com.github.quarck.calnotify",
                                      "mCurrentFocus", kind="crash")))
    assert v.status == "fail" and v.category == CAT_CRASH
    assert "java.lang.NullPointerException" in v.reason
    assert any("FATAL EXCEPTION" in line for line in v.evidence)


def test_crash_dialog_alone_is_a_crash():
    v = decide_launch(obs(focused=False, dialog="crash", dialog_evidence=f"focus: Application Error: {PKG}"))
    assert v.category == CAT_CRASH and "crash dialog" in v.found


def test_anr_from_the_system_log():
    log = corpus("logcat-anr_android14plus_droidify_input-dispatching-timeout_errorid-frozen.txt")
    records = tuple(parse_logcat_crash(log))
    v = decide_launch(obs(package="com.looker.droidify", name="Droid-ify", records=records, focused=False))
    assert v.status == "fail" and v.category == CAT_ANR
    assert "Input dispatching timed out" in v.found


def test_anr_dialog_on_screen_is_an_anr_even_when_focused():
    v = decide_launch(obs(dialog="anr", dialog_evidence="screen: dialog \"Word isn't responding\""))
    assert v.category == CAT_ANR and "isn't responding" in v.found


def test_no_launcher_activity_is_a_launch_failure():
    v = decide_launch(obs(activity=None, am=None, resolve_error="cmd package resolve-activity: No activity found"))
    assert v.status == "fail" and v.category == CAT_NO_SCREEN
    assert v.reason.startswith("launch failed:") and "No activity found" in v.reason


def test_error_type_3_from_the_corpus_is_a_launch_failure():
    text = corpus("am-start_error-type-3_activity-class-does-not-exist_com.rctzhihudaily.txt")
    v = decide_launch(obs(package="com.rctzhihudaily", activity="com.rctzhihudaily.MainActivity",
                          am=parse_am_start(text, "com.rctzhihudaily"), focused=False, focus=None))
    assert v.category == CAT_NO_SCREEN and v.reason.startswith("launch failed:")
    assert "does not exist" in v.reason


def test_no_window_after_am_timeout():
    am = parse_am_start(f"Starting: Intent {{ cmp={PKG}/{ACT} }}\nStatus: timeout\nActivity: {PKG}/{ACT}\n"
                        "WaitTime: 10812\nComplete\n", PKG)
    focus = parse_focus(f"  mCurrentFocus=null\n  mFocusedApp=AppWindowToken{{a token=Token{{b ActivityRecord{{c u0 "
                        f"{PKG}/{ACT} t12}}}}}}\n")
    v = decide_launch(obs(am=am, focus=focus, focused=False, package_nodes=None, first_screen_found=None))
    assert v.category == CAT_NO_SCREEN and "never showed a window" in v.reason and "timed out" in v.reason


def test_hierarchy_without_app_nodes_is_no_first_screen():
    v = decide_launch(obs(package_nodes=0, first_screen_found=None))
    assert v.category == CAT_NO_SCREEN and "no node of" in v.found


def test_wrong_first_screen():
    v = decide_launch(obs(first_screen_found=False))
    assert v.category == CAT_NO_SCREEN and "different first screen" in v.reason


def test_slow_cold_start_over_the_limit():
    slow = AM_OK.replace("812", "6000")
    v = decide_launch(obs(am=parse_am_start(slow, PKG)))
    assert v.status == "fail" and v.category == CAT_SLOW
    assert "6000 ms" in v.reason and "4000 ms" in v.reason


def test_exactly_at_the_limit_passes():
    assert decide_launch(obs(am=parse_am_start(AM_OK.replace("812", "4000"), PKG))).status == "pass"


def test_no_limit_means_no_timing_failure():
    assert decide_launch(obs(am=parse_am_start(AM_OK.replace("812", "60000"), PKG), limit_ms=None)).status == "pass"


def test_brought_to_front_hot_start_passes_without_a_cold_start_figure():
    text = corpus("am-start-W_android10plus_brought-to-front_status-ok-hot_io.appium.android.apis.txt")
    am = parse_am_start(text, "io.appium.android.apis")
    o = obs(package="io.appium.android.apis", am=am, limit_ms=100)
    assert not o.cold and o.measured_ms == 122
    v = decide_launch(o)
    assert v.status == "pass" and "not a cold start" in v.found


def test_trampoline_activity_of_another_package_is_not_itself_a_failure():
    text = corpus("am-start-W_android10plus_meta-device_status-ok-cold_activity-differs_com.facebook.encapp.txt")
    am = parse_am_start(text, "com.facebook.encapp")
    assert am.target_confirmed is False
    focused = decide_launch(obs(package="com.facebook.encapp", am=am))
    assert focused.status == "pass"
    not_focused = decide_launch(obs(package="com.facebook.encapp", am=am, focused=False))
    assert not_focused.category == CAT_NO_SCREEN


def test_measured_time_falls_back_to_wall_clock():
    am = parse_am_start(f"Starting: Intent {{ cmp={PKG}/{ACT} }}\n", PKG)
    o = obs(am=am, wall_ms=4321)
    assert o.measured_ms == 4321
    assert decide_launch(o).category == CAT_SLOW


def test_crash_beats_other_findings():
    records = tuple(parse_logcat_crash(corpus(
        "logcat-crash_android14_emulator_fatal-exception-npe_com.github.quarck.calnotify.txt")))
    v = decide_launch(obs(records=records, package_nodes=0, am=parse_am_start(AM_OK.replace("812", "9000"), PKG)))
    assert v.category == CAT_CRASH


_ATTRS = 'content-desc="" bounds="[0,0][10,10]"'
HIERARCHY = "\r\n".join([
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>",
    '<hierarchy rotation="0">',
    f'  <node index="0" text="" resource-id="" class="android.widget.FrameLayout" package="android" {_ATTRS}>',
    f'    <node index="0" text="Word has stopped" resource-id="android:id/alertTitle" '
    f'class="android.widget.TextView" package="android" {_ATTRS} />',
    f'    <node index="1" text="Close app" resource-id="android:id/aerr_close" class="android.widget.Button" '
    f'package="android" {_ATTRS} />',
    "  </node>",
    f'  <node index="1" text="" resource-id="" class="android.widget.FrameLayout" package="{PKG}" {_ATTRS} />',
    "</hierarchy>"])


def test_summarize_hierarchy_counts_packages_and_finds_the_crash_dialog():
    s = summarize_hierarchy(HIERARCHY)
    assert s.package_nodes == {"android": 3, PKG: 1}
    assert s.dialog == "crash" and "Word has stopped" in (s.dialog_evidence or "")


def test_summarize_hierarchy_tells_anr_from_its_title():
    s = summarize_hierarchy(HIERARCHY.replace("has stopped", "isn't responding").replace("Close app", "Wait")
                            .replace("aerr_close", "aerr_wait"))
    assert s.dialog == "anr"


def test_summarize_hierarchy_without_dialog():
    s = summarize_hierarchy(HIERARCHY.replace("aerr_close", "ok").replace("has stopped", "home"))
    assert s.dialog is None


def test_summarize_hierarchy_rejects_broken_xml():
    with pytest.raises(ParseError):
        summarize_hierarchy("<hierarchy><node")


DUMPSYS_RESOLVER = """Activity Resolver Table:
  Non-Data Actions:
      android.intent.action.MAIN:
        5be8c47 com.skype.raider/.Main filter 3a2f1b0
          Action: "android.intent.action.MAIN"
          Category: "android.intent.category.LAUNCHER"
        1f00aa1 com.skype.raider/.ShareActivity filter 77aa01
          Action: "android.intent.action.MAIN"

Packages:
  Package [com.skype.raider] (6b1a4a4):
"""


def test_launcher_from_dumpsys_prefers_the_launcher_filter():
    assert launcher_from_dumpsys(DUMPSYS_RESOLVER, "com.skype.raider") == "com.skype.raider.Main"
    assert launcher_from_dumpsys(DUMPSYS_RESOLVER, "com.other") is None
    assert launcher_from_dumpsys("Unable to find package: x\n", "x") is None


@pytest.mark.parametrize(("presence", "installed", "enabled", "expect_reason"), [
    ("any", True, True, "not required"),
    ("required", False, None, "not installed"),
    ("required", True, False, "disabled"),
    ("required", True, True, None),
])
def test_launch_precondition(presence, installed, enabled, expect_reason):
    req = SimpleNamespace(presence=presence, name="Skype")
    state = SimpleNamespace(installed=installed, enabled=enabled, enabled_state=3)
    v = launch_precondition(req, state)
    if expect_reason is None:
        assert v is None
    else:
        assert v is not None and v.status == "not_applicable" and expect_reason in v.reason


# -- focus_outcome on real multi-display and transition dumps (corpus rows "foreground / focus") ---------------
def _focus(text: str):
    return parse_focus(text), focus_windows(text), "mCurrentFocus" in text


def test_focus_on_the_main_display_after_a_null_cover_screen():
    text = corpus("dumpsys-window-displays-grep-mCurrentFocus_android12_galaxy-zflip-5g_null-then-app.txt")
    focus, wins, lines = _focus(text)
    assert focus_outcome("eu.niko.smart.universal", focus, wins, lines)[0] == "focused"
    assert focus_outcome("com.android.systemui", focus, wins, lines)[0] == "waiting"


def test_focused_app_of_the_main_display_counts_when_the_dump_has_no_window_focus_line():
    text = corpus("dumpsys-window-displays-grep-mFocusedApp_android12_galaxy-zflip-5g_cover-screen-first.txt")
    focus, wins, lines = _focus(text)
    assert not lines
    assert focus_outcome("eu.niko.smart.universal", focus, wins, lines)[0] == "focused"
    assert focus_outcome("com.android.systemui", focus, wins, lines)[0] == "waiting"


def test_focused_app_token_without_a_window_is_still_waiting():
    text = (f"  mCurrentFocus=null\n  mFocusedApp=AppWindowToken{{a token=Token{{b ActivityRecord{{c u0 "
            f"{PKG}/{ACT} t12}}}}}}\n")
    focus, wins, lines = _focus(text)
    assert focus_outcome(PKG, focus, wins, lines)[0] == "waiting"


def test_null_focus_during_a_transition_is_waiting():
    text = corpus("dumpsys-window-grep-mCurrentFocus_android4.x_null-interleaved-sequence.txt")
    focus, wins, lines = _focus(text)
    assert focus_outcome("com.example.absent", focus, wins, lines)[0] == "waiting"


def test_resumed_activity_fallback_counts_as_focus():
    text = corpus("dumpsys-activity-activities_android5_xtc-watch_mResumedActivity_blank-line-separated.txt")
    focus, wins, lines = _focus(text)
    assert focus_outcome("com.xtc.watch", focus, wins, lines)[0] == "focused"


def test_crash_and_anr_dialogs_of_the_package_in_focus_or_in_the_window_list():
    crash = f"  Window #3 Window{{1 u0 Application Error: {PKG}}}:\n  mCurrentFocus=Window{{2 u0 StatusBar}}\n"
    assert focus_outcome(PKG, *_focus(crash)) == ("dialog", "crash", f"window: Window #3 Window{{1 u0 "
                                                                      f"Application Error: {PKG}}}:")
    anr = f"  mCurrentFocus=Window{{9 u0 Application Not Responding: {PKG}}}\n"
    state, kind, _ = focus_outcome(PKG, *_focus(anr))
    assert (state, kind) == ("dialog", "anr")
    assert focus_outcome("com.other", *_focus(anr))[0] == "waiting"


def test_resumed_activity_does_not_count_next_to_a_null_window_focus():
    text = (f"  mCurrentFocus=null\n"
            f"    mResumedActivity: ActivityRecord{{3f1 u0 {PKG}/{ACT} t12}}\n")
    focus, wins, lines = _focus(text)
    assert lines and focus_outcome(PKG, focus, wins, lines)[0] == "waiting"
