"""Activity/window manager output formats per Android version.

Real samples imitated (``/work/shared/corpus/samples``):

* ``am start [-W]``: ``Starting: Intent { [act=.. ][cat=[..] ]cmp=pkg/.Act }``; with ``-W``: ``Status: ok``,
  ``LaunchState: COLD|HOT`` (SDK >= 29), ``Activity:``, ``ThisTime:`` (SDK <= 28), ``TotalTime:``, ``WaitTime:``,
  ``Complete`` (``am-start-W_android10plus_*``; pre-29 fields from AOSP ActivityManagerShellCommand of P);
  ``Warning: Activity not started, its current task has been brought to the front`` before ``Status``;
  ``Error type 3`` + ``Error: Activity class {pkg/pkg.Act} does not exist.`` on stderr
  (``am-start_error-type-3_*``).
* ``dumpsys window windows`` (SDK <= 28) / ``dumpsys window displays`` (SDK >= 29): ``  mCurrentFocus=Window{h u0
  pkg/pkg.Act}`` and ``  mFocusedApp=AppWindowToken{h token=Token{h ActivityRecord{h u0 pkg/.Act tN}}}`` up to
  SDK 29, ``mFocusedApp=ActivityRecord{..}`` from 30
  (``dumpsys-window-windows-grep_android7-8_*``, ``dumpsys-window-displays-grep-*_android12_*``); crash/ANR dialogs
  are windows without an activity part (``Window{h u0 Application Error: pkg}``, cf. the ``u0 com.lookout.enterprise``
  line of ``dumpsys-window-grep-mCurrentFocus_android4.x_*``).
* ``dumpsys activity activities``: header, ``Display #0 (activities from top to bottom):``, ``  Stack #N:``,
  tasks, ``Running activities (most recent first):``, ``    mResumedActivity: ActivityRecord{..}``
  (``dumpsys-activity-activities_android5_xtc-watch_*``, where the poster doubled the newlines); SDK 29 adds
  `` ResumedActivity: ActivityRecord{..}`` after the display; ``topResumedActivity=`` appears from SDK 30 only.
* ``dumpsys activity top``: ``TASK <affinity> id=N`` (``TASK null id=N userId=0`` from SDK 29) and
  ``  ACTIVITY pkg/.Act h pid=N`` (the line adbutils' ``app_current`` parses), one pair per visible stack, the
  top one LAST (AOSP ``ActivityManagerService.dumpActivity`` walks the list from the end); a stack behind a
  fullscreen app is not visible, so a phone shows one pair.
* ``ActivityRecord{h u0 pkg/.Act tN}``; Android 13+ (SDK 33) ``ActivityRecord{h u0 pkg/.Act} tN}``.
"""

from __future__ import annotations

from virtual_device.state import DeviceState, Focus, LaunchResult, short_hash


def short_component(package: str, activity: str) -> str:
    """``ComponentName.flattenToShortString``: ``pkg/.Act`` when the class starts with the package."""
    if activity.startswith(package + "."):
        return f"{package}/{activity[len(package):]}"
    return f"{package}/{activity}"


def starting_line(package: str, activity: str, action: str | None, categories: list[str]) -> str:
    """``Starting: Intent { act=.. cat=[..] cmp=.. }`` (Intent.toShortString order: act, cat, cmp)."""
    parts = []
    if action:
        parts.append(f"act={action}")
    if categories:
        parts.append(f"cat=[{','.join(categories)}]")
    parts.append(f"cmp={short_component(package, activity)}")
    return "Starting: Intent { " + " ".join(parts) + " }"


def am_start_wait(sdk: int, result: LaunchResult) -> str:
    """The ``-W`` part printed after ``Starting:`` for a resolved activity."""
    lines = []
    if result.brought_to_front:
        lines.append("Warning: Activity not started, its current task has been brought to the front")
    lines.append(f"Status: {result.status}")
    if sdk >= 29:
        lines.append(f"LaunchState: {result.launch_state or 'UNKNOWN (0)'}")
    if result.reported:
        pkg, act = result.reported.split("/", 1)
        lines.append(f"Activity: {short_component(pkg, act)}")
    if result.total_ms is not None:
        if sdk <= 28:
            lines.append(f"ThisTime: {result.total_ms}")
        lines.append(f"TotalTime: {result.total_ms}")
    lines.append(f"WaitTime: {result.wait_ms}")
    lines.append("Complete")
    return "\n".join(lines) + "\n"


def am_start_not_found(package: str, activity: str) -> str:
    """stderr of ``am start`` for an activity that cannot be resolved (START_CLASS_NOT_FOUND)."""
    return f"Error type 3\nError: Activity class {{{package}/{activity}}} does not exist.\n"


def _record(state: DeviceState, focus: Focus) -> str:
    """``ActivityRecord.toString()``: ``ActivityRecord{h u0 pkg/.Act tN}``; from SDK 33 the cached name is closed
    before the task (``ActivityRecord{h u0 pkg/.Act} tN}``), as Android 13+ devices print it (e.g. a public
    ``topResumedActivity=ActivityRecord{1a70f4a u0 com.smile.gifmaker/com.yxcorp.gifshow.HomeActivity} t6294}``)."""
    task = _task_id(state, focus.package)
    name = f"ActivityRecord{{{short_hash(focus.component, 'rec')} u0 {short_component(focus.package, focus.activity)}"
    return f"{name}}} t{task}}}" if state.sdk >= 33 else f"{name} t{task}}}"


def _task_id(state: DeviceState, package: str) -> int:
    pid = state.running.get(package, 0)
    return 1 if package == state.launcher.split("/")[0] else 100 + pid % 97


def _focus_lines(state: DeviceState) -> list[str]:
    f = state.focus
    lines = []
    if f is None or f.window is None:
        lines.append("  mCurrentFocus=null")
    else:
        lines.append(f"  mCurrentFocus=Window{{{short_hash(f.window, 'win')} u0 {f.window}}}")
    if f is None:
        lines.append("  mFocusedApp=null")
    elif state.sdk >= 30:
        lines.append(f"  mFocusedApp={_record(state, f)}")
    else:
        lines.append(f"  mFocusedApp=AppWindowToken{{{short_hash(f.component, 'awt')} token=Token{{"
                     f"{short_hash(f.component, 'tok')} {_record(state, f)}}}}}")
    return lines


def _windows_section(state: DeviceState) -> list[str]:
    f = state.focus
    lines = ["WINDOW MANAGER WINDOWS (dumpsys window windows)"]
    windows = ["NavigationBar", "StatusBar"]
    if f is not None and f.window:
        windows.append(f.window)
    if f is not None and f.window != f.component:
        windows.append(f.component)
    for n, w in enumerate(reversed(windows)):
        h = short_hash(w, "win")
        lines += [f"  Window #{len(windows) - 1 - n} Window{{{h} u0 {w}}}:",
                  f"    mDisplayId=0 stackId={1 if '/' in w else 0} mSession=Session{{{short_hash(w, 's')} "
                  f"{state.running.get(w.split('/')[0], 1180)}:u0a10025}} mClient=android.os.BinderProxy@{h}",
                  f"    mOwnerUid=1000 mShowToOwnerOnly=false package={w.split('/')[0].split(': ')[-1]} appop=NONE"]
    lines.append("")
    if state.sdk < 29:  # Android 10 moved the focus fields into the per-display dump
        lines += _focus_lines(state)
    lines.append("  mInTouchMode=true")
    return lines


def _displays_section(state: DeviceState) -> list[str]:
    d = state.image.display
    lines = ["WINDOW MANAGER DISPLAY CONTENTS (dumpsys window displays)",
             "  Display: mDisplayId=0",
             f"    init={d.width}x{d.height} {d.density}dpi cur={d.width}x{d.height} app={d.width}x{d.height}",
             "    deferred=false mLayoutNeeded=false"]
    if state.sdk >= 29:
        lines += [""] + _focus_lines(state)
    return lines


def dumpsys_window(state: DeviceState, section: str = "windows") -> str:
    """``dumpsys window windows|displays`` (or everything without a section).

    Up to SDK 28 ``mCurrentFocus``/``mFocusedApp`` are in the windows section; from SDK 29 they are printed per
    display (``dumpsys window displays``, as the Android 12 corpus greps show) and ``dumpsys window windows`` has
    none, which is why adbutils' ``app_current`` falls back to ``dumpsys activity activities`` there.
    """
    if section in ("windows", "w"):
        lines = _windows_section(state)
    elif section in ("displays", "d"):
        lines = _displays_section(state)
    else:
        lines = _displays_section(state) + [""] + _windows_section(state)
    return "\n".join(lines) + "\n"


def dumpsys_activity_activities(state: DeviceState) -> str:
    """``dumpsys activity activities`` with the resumed activity line of the SDK (module docstring)."""
    sdk = state.sdk
    f = state.focus
    home_pkg, home_act = state.launcher.split("/", 1)
    lines = ["ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)", "Display #0 (activities from top to bottom):"]
    stacks: list[Focus] = []
    if f is not None and f.package != home_pkg:
        stacks.append(f)
    stacks.append(Focus(home_pkg, home_act, None))
    for n, st in enumerate(stacks):
        task = _task_id(state, st.package)
        stack_id = 0 if st.package == home_pkg else task
        rec = _record(state, st)
        pid = state.running.get(st.package, 0)
        lines += ["", f"  Stack #{stack_id}:" + (" type=standard mode=fullscreen" if sdk >= 28 else ""),
                  f"    Task id #{task}",
                  f"    * TaskRecord{{{short_hash(st.package, 'task')} #{task} A={st.package} U=0 sz=1}}",
                  f"      userId=0 effectiveUid=u0a{pid % 300} mCallingUid=u0a25 mCallingPackage={home_pkg}",
                  f"      intent={{act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] "
                  f"flg=0x10200000 cmp={short_component(st.package, st.activity)}}}",
                  f"      * Hist #0: {rec}",
                  f"          packageName={st.package} processName={st.package}",
                  f"          app=ProcessRecord{{{short_hash(st.package, 'proc')} {pid}:{st.package}/u0a{pid % 300}}}",
                  "",
                  "    Running activities (most recent first):",
                  f"      TaskRecord{{{short_hash(st.package, 'task')} #{task} A={st.package} U=0 sz=1}}",
                  f"        Run #0: {rec}"]
        if n == 0 and f is not None:
            lines += ["", f"    mResumedActivity: {_record(state, f)}"]
    if f is not None:
        rec = _record(state, f)
        lines += ["", f" ResumedActivity: {rec}" if sdk >= 29 else f"  mFocusedActivity: {rec}"]
        if sdk >= 30:
            lines.append(f"  topResumedActivity={_record(state, f)}")
    return "\n".join(lines) + "\n"


def dumpsys_activity_top(state: DeviceState) -> str:
    """``dumpsys activity top``: the top task's ``TASK`` and ``ACTIVITY ... pid=N`` lines."""
    f = state.focus
    if f is None:
        return ""
    task = _task_id(state, f.package)
    pid = state.running.get(f.package, 0)
    head = f"TASK null id={task} userId=0" if state.sdk >= 29 else f"TASK {f.package} id={task}"
    return (f"{head}\n  ACTIVITY {short_component(f.package, f.activity)} {short_hash(f.component, 'act')} "
            f"pid={pid}\n    Local Activity {short_hash(f.component, 'la')} State:\n"
            f"      mResumed={'true' if f.window else 'false'} mStopped=false mFinished=false\n")
