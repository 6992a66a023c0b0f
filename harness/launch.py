"""Launch verification: the app opens to a working first screen, in time, and the device is left as found.

Two layers:

* :func:`decide_launch` — pure: a :class:`LaunchObservation` (what the device showed) in, a
  :class:`~harness.checks.Verdict` out. Unit-testable without a device.
* :class:`LaunchCheck` — the flow over a :class:`~harness.device.Device` and a :class:`~harness.uidriver.UiDriver`:

  1. dismiss a crash/ANR dialog left by anything earlier (so it never leaks into this check);
  2. resolve the launcher activity unless the profile names it: ``cmd package resolve-activity --brief -c
     android.intent.category.LAUNCHER <pkg>`` (SDK >= 24), else ``dumpsys package <pkg>``'s resolver table
     (``android.intent.action.MAIN:`` entries);
  3. ``am force-stop``, note the device time (``date``), ``am start -W -n pkg/act`` and parse Status /
     LaunchState / TotalTime (``harness.parsers.parse_am_start``: brought-to-front, ``Error type 3``, timeout and a
     reported activity of another package — a trampoline or the launcher — are all kept as evidence);
  4. poll the focus (``dumpsys window displays`` from SDK 29, ``dumpsys window windows`` before; the resumed
     activity from ``dumpsys activity activities`` when no window line is there) until the app's window, a
     crash/ANR dialog, or the deadline;
  5. read the crash, system and main logs since the launch time (``logcat -d -v threadtime -b … -T time``):
     FATAL EXCEPTION and ``ANR in`` records of the package;
  6. with uiautomator2: the window hierarchy must hold nodes of the package and no crash/ANR dialog; a
     profile's ``first_screen`` (text / resource id) is waited for; a screenshot is always taken;
  7. ``am force-stop`` the app and make sure no dialog of it stays on screen.

Failures of the app are verdicts (tags ``[launch crash]``, ``[ANR]``, ``[no first screen]``, ``[slow launch]``);
failures of the harness or the link are exceptions (:class:`~harness.errors.LaunchInfraError`,
:class:`~harness.errors.DeviceUnavailable`).
"""

from __future__ import annotations

import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.adb import CommandResult
from harness.checks import Verdict, not_required_reason
from harness.errors import DeviceError, LaunchInfraError, ParseError
from harness.inventory import RETRY_DUMPSYS_TIMEOUT_S, dumpsys_argv
from harness.parsers import (
    AmStartResult,
    CrashRecord,
    Focus,
    dumpsys_cut_marker,
    focus_windows,
    parse_am_start,
    parse_focus,
    parse_logcat_crash,
    parse_resolve_activity,
    require_complete,
)

if TYPE_CHECKING:
    from harness.device import Device
    from harness.uidriver import UiDriver

CHECK = "launch"
CAT_CRASH = "launch crash"
CAT_ANR = "ANR"
CAT_NO_SCREEN = "no first screen"
CAT_SLOW = "slow launch"
CAT_FAILED = "no first screen"
"""Category of "the launch itself failed" (no launcher activity, ``Error type 3``): reported under the
"No first screen" Allure category, with a reason starting ``launch failed:``."""

LAUNCHER_CATEGORY = "android.intent.category.LAUNCHER"
ERROR_DIALOG_IDS = ("android:id/aerr_close", "android:id/aerr_restart", "android:id/aerr_wait",
                    "android:id/aerr_report", "android:id/aerr_app_info")
_DIALOG_TEXT_RE = re.compile(r"(has stopped|isn't responding|is not responding|keeps stopping)", re.I)

_log = logging.getLogger("harness.launch")


# -- the pure decision ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchObservation:
    """What one launch showed.

    Attributes:
        package / name: the app.
        activity: the launcher activity started (fully qualified), or None when none resolves.
        resolve_error: why no activity resolved (text for the report), or None.
        am: the parsed ``am start -W`` output, or None when it was not run.
        wall_ms: wall-clock milliseconds of ``am start -W``.
        focus: the last focus read (package, activity, window), or None.
        focused: True when the app's own window had focus within the deadline.
        overlay: the title of another package's window that still held input focus at the deadline while the app's
            activity was resumed / the focused app (``focus.app``), else None.
        dialog: ``crash`` / ``anr`` when such a dialog of the app was seen (focus, window list or screen), else None.
        dialog_evidence: the line or node that showed the dialog.
        records: crash / ANR log records of the package since the launch.
        package_nodes: number of hierarchy nodes of the package (None: no hierarchy read).
        first_screen: what the profile expects on the first screen (``text "Word"``), or None.
        first_screen_found: whether it appeared (None: not checked).
        limit_ms: the profile's cold-start limit in ms, or None.
        ui_error: a uiautomator2 failure met after the launch (the verdict may still rest on other evidence).
    """

    package: str
    name: str
    activity: str | None
    resolve_error: str | None = None
    am: AmStartResult | None = None
    wall_ms: int | None = None
    focus: Focus | None = None
    focused: bool = False
    overlay: str | None = None
    dialog: str | None = None
    dialog_evidence: str | None = None
    records: tuple[CrashRecord, ...] = ()
    package_nodes: int | None = None
    first_screen: str | None = None
    first_screen_found: bool | None = None
    limit_ms: int | None = None
    ui_error: str | None = None

    @property
    def measured_ms(self) -> int | None:
        """The launch time: ``TotalTime`` (``ThisTime`` when absent), else the wall-clock of ``am start -W``."""
        if self.am is not None:
            if self.am.total_time_ms is not None:
                return self.am.total_time_ms
            if self.am.this_time_ms is not None:
                return self.am.this_time_ms
        return self.wall_ms

    @property
    def cold(self) -> bool:
        """False when the system reports a HOT/WARM start or brought an existing task to the front."""
        if self.am is None:
            return True
        return not self.am.brought_to_front and (self.am.launch_state or "COLD") == "COLD"


def _user_text(user: int | None) -> str:
    return f" of user {user}" if user not in (None, 0) else ""


def _focus_text(focus: Focus | None) -> str:
    if focus is None or (focus.package is None and focus.window is None):
        return "no window has focus"
    if focus.window:
        text = f"focused window {focus.window}{_user_text(focus.user)}"
        if focus.app is not None and focus.app.package != focus.package:
            text += f" over the resumed activity {focus.app.component}{_user_text(focus.app.user)}"
        return text
    return f"resumed activity {focus.package}/{focus.activity}{_user_text(focus.user)}"


def _am_text(am: AmStartResult | None) -> str:
    if am is None:
        return "am start not run"
    parts = [f"Status: {am.status}"]
    if am.launch_state:
        parts.append(f"LaunchState: {am.launch_state}")
    if am.activity:
        parts.append(f"Activity: {am.activity}")
    if am.total_time_ms is not None:
        parts.append(f"TotalTime: {am.total_time_ms} ms")
    if am.brought_to_front:
        parts.append("brought to the front")
    if am.error:
        parts.append(f"Error: {am.error}")
    return ", ".join(parts)


def decide_launch(obs: LaunchObservation) -> Verdict:
    """Decide a launch: crash > ANR > launch failed > no window > no app nodes > wrong first screen > too slow.

    "No window" has two outcomes: the app's activity is resumed (the focused app) but another package's window
    kept input focus until the deadline (``overlay``: "resumed but another window has focus", e.g. a head unit's
    launcher overlay), or the app never showed a window at all.

    A reported ``Activity:`` of another package (a trampoline, or the launcher) is not by itself a failure: the
    app's own window must get focus, which is what is checked. A HOT/brought-to-front start passes without a
    cold-start figure (the app was already running; the check force-stops it first, so this is rare).
    """
    evidence: list[str] = []
    if obs.am is not None:
        evidence += list(obs.am.lines)
    if obs.focus is not None and obs.focus.line:
        evidence.append(obs.focus.line)
    if obs.dialog_evidence:
        evidence.append(obs.dialog_evidence)
    crashes = [r for r in obs.records if r.kind == "crash"]
    anrs = [r for r in obs.records if r.kind == "anr"]
    for r in (crashes + anrs)[:1]:
        evidence += r.lines[:4]
    ev = tuple(evidence)
    measured = obs.measured_ms
    timing = f"{measured} ms" if measured is not None else "unknown time"
    expected = f"{obs.name} opens to its first screen" + (f" within {obs.limit_ms} ms" if obs.limit_ms else "")

    def fail(category: str, found: str, reason: str) -> Verdict:
        return Verdict(CHECK, "fail", expected, found, reason, category=category, evidence=ev)

    if obs.activity is None:
        return fail(CAT_FAILED, obs.resolve_error or "no launcher activity",
                    f"launch failed: no launcher activity of {obs.package} can be started "
                    f"({obs.resolve_error or 'nothing resolves'})")
    if crashes or obs.dialog == "crash":
        what = "a crash"
        if crashes and crashes[0].exception:
            what = crashes[0].exception + (f": {crashes[0].reason}" if crashes[0].reason else "")
            what = what if len(what) <= 300 else what[:297] + "..."
        shown = "; crash dialog shown" if obs.dialog == "crash" else ""
        return fail(CAT_CRASH, f"{what} (FATAL EXCEPTION in the crash log{shown})" if crashes
                    else f"crash dialog: {obs.dialog_evidence}",
                    f"{obs.name} crashed on launch: {what}")
    if anrs or obs.dialog == "anr":
        reason = anrs[0].reason if anrs and anrs[0].reason else "the app stopped responding"
        return fail(CAT_ANR, f"ANR: {reason}" + ("; 'isn't responding' dialog shown" if obs.dialog == "anr" else ""),
                    f"{obs.name} is not responding after launch (ANR)")
    if obs.am is not None and obs.am.status == "error":
        return fail(CAT_FAILED, _am_text(obs.am), f"launch failed: am start could not start {obs.activity}: "
                    f"{obs.am.error}")
    if not obs.focused and obs.overlay is not None:
        return fail(CAT_NO_SCREEN, f"{_focus_text(obs.focus)}; {_am_text(obs.am)}",
                    f"{obs.name} is resumed but another window has focus ({obs.overlay})")
    if not obs.focused:
        hint = " (am start -W timed out)" if obs.am is not None and obs.am.status == "timeout" else ""
        return fail(CAT_NO_SCREEN, f"{_focus_text(obs.focus)}; {_am_text(obs.am)}",
                    f"{obs.name} never showed a window{hint}")
    if obs.package_nodes is not None and obs.package_nodes == 0:
        return fail(CAT_NO_SCREEN, f"{_focus_text(obs.focus)}, but the window hierarchy has no node of {obs.package}",
                    f"{obs.name}'s first screen did not render")
    if obs.first_screen is not None and obs.first_screen_found is False:
        return fail(CAT_NO_SCREEN, f"{obs.first_screen} not on screen ({obs.package_nodes} nodes of the app)",
                    f"{obs.name} opened a different first screen than agreed ({obs.first_screen} missing)")
    if obs.limit_ms is not None and obs.cold and measured is not None and measured > obs.limit_ms:
        state = f" (LaunchState {obs.am.launch_state})" if obs.am is not None and obs.am.launch_state else ""
        return fail(CAT_SLOW, f"cold start {timing}{state}",
                    f"{obs.name} took {measured} ms to start, over the {obs.limit_ms} ms limit")
    note = "" if obs.cold else "; not a cold start (brought to front / HOT), cold-start limit not measured"
    found = f"{_focus_text(obs.focus)} in {timing}" + (f"; {obs.first_screen} shown" if obs.first_screen else "")
    return Verdict(CHECK, "pass", expected, found + note, f"{obs.name} launched to its first screen", evidence=ev)


def launch_precondition(req: Any, state: Any, *, live: bool = True) -> Verdict | None:
    """A ``not_applicable`` verdict when the launch check must not run, else None.

    ``req`` is a profile requirement (``presence``, ``name``), ``state`` the package's inventory
    :class:`~harness.inventory.PackageState`. Not required in this region, not installed for user 0 (the
    presence check reports it) or disabled (the enabled check reports it): nothing to launch. ``live`` False
    (a ROM build or a bugreport): there is no phone to launch on.
    """
    if not live:
        return Verdict(CHECK, "not_applicable", "-", "-",
                       f"launching {req.name} needs a live device; this verdict comes from a file (ROM build or "
                       "bugreport)")
    if req.presence != "required":
        return Verdict(CHECK, "not_applicable", "-", "-", not_required_reason(req))
    if not state.installed:
        return Verdict(CHECK, "not_applicable", "installed for user 0", "not installed",
                       f"{req.name} is not installed for user 0 (reported by the presence check)")
    if state.enabled is False:
        return Verdict(CHECK, "not_applicable", "enabled for user 0", f"enabled state {state.enabled_state}",
                       f"{req.name} is disabled for user 0 (reported by the enabled check)")
    return None


LAUNCH_USER = 0
"""The Android user the launch check is about (the harness checks every app for user 0)."""


def focus_outcome(package: str, focus: Focus, windows: Sequence[Any],
                  window_focus_lines: bool = True) -> tuple[str, str | None, str | None]:
    """Where a launch of ``package`` stands, from one focus read: ``(state, dialog kind, evidence)``.

    ``state`` is ``dialog`` (a crash/ANR dialog of the package has focus or is in the window list: ``kind`` is
    ``crash``/``anr``), ``focused`` (the package's activity window has input focus — ``mCurrentFocus``),
    ``overlaid`` (the package's activity is the focused app / resumed, but a window of another package has input
    focus: ``evidence`` names that window; it may be the end of a transition, so callers keep polling) or
    ``waiting`` (anything else: the launcher, a starting window, ``null`` during a transition). ``mFocusedApp``
    or a resumed/top activity counts only when the dump has no ``mCurrentFocus`` line at all
    (``window_focus_lines`` False: Android 13+ builds without it, or excerpts); next to ``mCurrentFocus=null`` it
    means the app has a token or is resumed but has no window yet. A window or record of another Android user
    (``u10``) is not the app launched for user :data:`LAUNCH_USER`. ``focus`` comes from
    :func:`harness.parsers.parse_focus`, which already picks the focused display on multi-display phones.
    """
    if focus.kind in ("crash", "anr") and focus.package == package:
        return "dialog", focus.kind, f"focus: {focus.line}"
    dialog = next((w for w in windows if w.kind in ("crash", "anr") and w.package == package), None)
    if dialog is not None:
        return "dialog", dialog.kind, f"window: {dialog.line}"
    ours = focus.user in (None, LAUNCH_USER)
    if focus.package == package and focus.kind == "activity" and ours:
        if focus.window or (focus.source is not None and not window_focus_lines):
            return "focused", None, None
    app = focus.app
    if (focus.window is not None and focus.package != package and app is not None and app.package == package
            and app.user in (None, LAUNCH_USER)):
        return "overlaid", None, focus.window
    return "waiting", None, None


# -- hierarchy helpers (pure) ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class HierarchySummary:
    """What a uiautomator hierarchy dump says: nodes per package, and a crash/ANR dialog if one is shown."""

    package_nodes: dict[str, int]
    dialog: str | None
    dialog_evidence: str | None


def summarize_hierarchy(xml: str) -> HierarchySummary:
    """Count nodes per ``package`` and find error dialogs (``android:id/aerr_*`` ids, "has stopped" /
    "isn't responding" texts of package ``android``). Raises ParseError on XML that does not parse."""
    try:
        root = ET.fromstring(xml.encode("utf-8"))
    except ET.ParseError as exc:
        raise ParseError(f"hierarchy XML does not parse: {exc}", command="dumpWindowHierarchy",
                         excerpt=xml[:300]) from None
    counts: dict[str, int] = {}
    dialog = evidence = None
    for node in root.iter("node"):
        pkg = node.get("package", "")
        counts[pkg] = counts.get(pkg, 0) + 1
        rid, text = node.get("resource-id", ""), node.get("text", "")
        if dialog is None and pkg == "android" and (rid in ERROR_DIALOG_IDS or _DIALOG_TEXT_RE.search(text)):
            is_anr = rid == "android:id/aerr_wait" or "respond" in text
            dialog = "anr" if is_anr else "crash"
            evidence = f'screen: node text="{text}" resource-id="{rid}"'
    if dialog is not None:  # a dialog's title decides between crash and ANR when the button came first
        for node in root.iter("node"):
            text = node.get("text", "")
            if node.get("package") == "android" and _DIALOG_TEXT_RE.search(text):
                dialog = "anr" if "respond" in text else "crash"
                evidence = f'screen: dialog "{text}"'
                break
    return HierarchySummary(counts, dialog, evidence)


# -- the flow ---------------------------------------------------------------------------------------------------
@dataclass
class LaunchReport:
    """A finished launch check: the observation and verdict, and the evidence to attach.

    ``screenshot``: JPEG (uiautomator2) or PNG (screencap fallback) bytes, or None; ``screenshot_type``:
    ``jpg``/``png``; ``texts``: attachment name → text (am output, focus dump, logcat excerpt, hierarchy).
    """

    observation: LaunchObservation
    verdict: Verdict
    screenshot: bytes | None = None
    screenshot_type: str = "jpg"
    texts: dict[str, str] = field(default_factory=dict)


def _fq(package: str, activity: str) -> str:
    return package + activity if activity.startswith(".") else activity


class LaunchCheck:
    """Runs the launch flow (module docstring) on one device.

    Args:
        device: the device; ``driver`` its uiautomator2 driver (None: no UI checks, screencap screenshots).
        focus_timeout: seconds to wait for the app's window after ``am start -W`` returned.
        poll_interval: seconds between focus reads.
        first_screen_timeout: seconds to wait for the profile's first-screen text / id.
        command_timeout: timeout of each adb command (``am start -W`` gets more, see :meth:`run`).
    """

    def __init__(self, device: Device, driver: UiDriver | None, *, focus_timeout: float = 10.0,
                 poll_interval: float = 0.25, first_screen_timeout: float = 5.0, command_timeout: float = 20.0) -> None:
        self.device = device
        self.driver = driver
        self.focus_timeout = focus_timeout
        self.poll_interval = poll_interval
        self.first_screen_timeout = first_screen_timeout
        self.command_timeout = command_timeout

    # -- device commands -----------------------------------------------------------------------------------------
    def _sh(self, argv: Sequence[str], timeout: float | None = None) -> CommandResult:
        return self.device.shell(argv, timeout=timeout or self.command_timeout)

    @property
    def sdk(self) -> int:
        """The device's API level."""
        return self.device.facts().sdk

    def resolve_activity(self, package: str) -> tuple[str | None, str, str]:
        """``(fully qualified launcher activity or None, why not, command output)``."""
        if self.sdk >= 24:
            res = self._sh(["cmd", "package", "resolve-activity", "--brief", "-c", LAUNCHER_CATEGORY, package])
            try:
                comp = parse_resolve_activity(res.output)
            except ParseError as exc:
                raise exc.with_context(command="cmd package resolve-activity", serial=self.device.serial,
                                       excerpt=res.output[:300]) from None
            if comp is None:
                return None, "cmd package resolve-activity: No activity found", res.output
            pkg, _, cls = comp.partition("/")
            return _fq(pkg, cls), "", res.output
        res = self._sh(["dumpsys", "package", package])
        activity = launcher_from_dumpsys(res.output, package)
        return activity, ("" if activity else "dumpsys package: no MAIN/LAUNCHER activity"), res.output

    def device_time(self) -> str:
        """Device wall-clock as ``MM-DD HH:MM:SS.000`` (``logcat -T`` format)."""
        res = self._sh(["date", "+%m-%d %H:%M:%S"])
        text = res.output.strip()
        if not re.fullmatch(r"\d\d-\d\d \d\d:\d\d:\d\d", text):
            raise ParseError("unexpected date output", command="date", serial=self.device.serial, excerpt=text[:100])
        return text + ".000"

    def _dumpsys(self, args: Sequence[str]) -> str:
        """Output of ``dumpsys <args>``; a dump cut by dumpsys' timeout is run once more with ``dumpsys -t``
        (API 24+; the same command before), and raises :class:`~harness.errors.DumpIncomplete` when cut again."""
        text = self._sh(dumpsys_argv(args, self.sdk)).output
        if dumpsys_cut_marker(text, app_parts=False) is None:
            return text
        argv = dumpsys_argv(args, self.sdk, RETRY_DUMPSYS_TIMEOUT_S)
        text = self._sh(argv, timeout=max(self.command_timeout, RETRY_DUMPSYS_TIMEOUT_S + 10.0)).output
        try:
            require_complete(text, " ".join(argv), app_parts=False)
        except ParseError as exc:
            raise exc.with_context(serial=self.device.serial) from None
        return text

    def read_focus(self) -> tuple[Focus, list[Any], str]:
        """``(focus, all windows, dump text)`` from the window manager; the resumed activity (``dumpsys activity
        activities``) then the top activity (``dumpsys activity top``, what old devices have) as fallbacks.

        Raises DumpIncomplete when a dump stays cut (see :meth:`_dumpsys`): an unknown focus is never a verdict.
        """
        args = ["window", "displays"] if self.sdk >= 29 else ["window", "windows"]
        text = self._dumpsys(args)
        focus = _focus_or_none(text)
        for fallback in (["activity", "activities"], ["activity", "top"]):
            if focus.package is not None or focus.window is not None:
                break
            more = self._dumpsys(fallback)
            focus = _focus_or_none(more)
            text += "\n" + more
        return focus, focus_windows(text), text

    def dismiss_dialogs(self, *, why: str) -> list[str]:
        """Close crash/ANR dialogs that hold focus: force-stop their app, then back, then home (bounded).

        Returns what was done (for the report). Raises LaunchInfraError when a dialog cannot be closed.
        """
        done: list[str] = []
        for attempt in range(4):
            focus, _wins, _text = self.read_focus()
            if focus.kind not in ("crash", "anr"):
                return done
            owner = focus.package
            if attempt == 0 and owner:
                self._sh(["am", "force-stop", owner])
                done.append(f"{why}: force-stopped {owner} to close '{focus.window}'")
            elif self.driver is not None and attempt in (1, 2):
                key = "back" if attempt == 1 else "home"
                self.driver.press(key)
                done.append(f"{why}: pressed {key} to close '{focus.window}'")
            else:
                self._sh(["input", "keyevent", "KEYCODE_HOME"])
                done.append(f"{why}: input keyevent HOME to close '{focus.window}'")
        focus, _wins, _text = self.read_focus()
        if focus.kind in ("crash", "anr"):
            raise LaunchInfraError(f"the system dialog '{focus.window}' stays in front ({why})",
                                   serial=self.device.serial, remedy="close it on the device; rerun")
        return done

    # -- the check -----------------------------------------------------------------------------------------------
    def run(self, package: str, name: str, *, activity: str | None = None, limit_ms: int | None = None,
            first_text: str | None = None, first_resource_id: str | None = None) -> LaunchReport:
        """Launch ``package`` and return the report (verdict + evidence).

        Raises DeviceUnavailable (device gone: broken), LaunchInfraError (uiautomator2 or dialog problem with no
        product evidence), AdbTimeout / ParseError (harness).
        """
        texts: dict[str, str] = {}
        pre = self.dismiss_dialogs(why="before launch")
        if pre:
            texts["dialogs closed before launch"] = "\n".join(pre)
        try:
            return self._run(package, name, activity, limit_ms, first_text, first_resource_id, texts)
        finally:
            if self.device.gone is None:
                self._sh(["am", "force-stop", package])
                after = self.dismiss_dialogs(why="after launch")
                if after:
                    texts["dialogs closed after launch"] = "\n".join(after)

    def _run(self, package: str, name: str, activity: str | None, limit_ms: int | None, first_text: str | None,
             first_resource_id: str | None, texts: dict[str, str]) -> LaunchReport:
        expect = " and ".join(x for x in (f'text "{first_text}"' if first_text else "",
                                          f'resource id "{first_resource_id}"' if first_resource_id else "") if x)
        base = {"package": package, "name": name, "limit_ms": limit_ms, "first_screen": expect or None}
        resolve_error = None
        if activity is None:
            activity, resolve_error, out = self.resolve_activity(package)
            texts["resolve launcher activity"] = out
        else:
            activity = _fq(package, activity)
        if activity is None:
            obs = LaunchObservation(activity=None, resolve_error=resolve_error, **base)
            return self._finish(obs, texts, None)

        self._sh(["am", "force-stop", package])
        since = self.device_time()
        am_timeout = max(self.command_timeout, 3 * (limit_ms or 0) / 1000.0 + 10.0)
        start = time.monotonic()
        user = ["--user", "0"] if self.sdk >= 17 else []  # `am start --user` exists from Android 4.2 (API 17)
        res = self._sh(["am", "start", "-W", *user, "-n", f"{package}/{activity}"], timeout=am_timeout)
        wall_ms = int((time.monotonic() - start) * 1000)
        texts["am start -W"] = res.output
        try:
            am = parse_am_start(res.output, requested=package)
        except ParseError as exc:
            raise exc.with_context(command="am start -W", serial=self.device.serial,
                                   excerpt=res.output[:300]) from None

        focus, state, dialog, dialog_ev, dump = self._wait_focus(package, am)
        focused = state == "focused"
        overlay = dialog_ev if state == "overlaid" else None
        if state != "dialog":
            dialog_ev = None
        texts["window focus"] = dump
        log_text = self._sh(["logcat", "-d", "-v", "threadtime", "-b", "main", "-b", "system", "-b", "crash",
                             "-T", since]).output
        records = tuple(r for r in parse_logcat_crash(log_text) if r.package == package)
        texts["logcat since launch"] = ("\n".join(log_text.splitlines()[-400:])
                                        or f"(no main/system/crash log line since {since})")

        obs = LaunchObservation(activity=activity, am=am, wall_ms=wall_ms, focus=focus, focused=focused,
                                overlay=overlay, dialog=dialog, dialog_evidence=dialog_ev, records=records, **base)
        shot: tuple[bytes, str] | None = None
        if self.driver is not None:
            try:
                obs, shot = self._ui(obs, first_text, first_resource_id, texts)
            except DeviceError as exc:
                if isinstance(exc, LaunchInfraError) and (records or dialog):
                    obs = _replace(obs, ui_error=str(exc))  # the product evidence stands without the UI
                else:
                    raise
        if obs.dialog is None and not obs.records:
            obs = self._late_failure(obs, since, texts)
        return self._finish(obs, texts, shot)

    def _late_failure(self, obs: LaunchObservation, since: str, texts: dict[str, str]) -> LaunchObservation:
        """One more focus read after the UI checks: a crash or ANR that came after the first frame is still the
        app's fault (and the cleanup would otherwise close its dialog unseen)."""
        focus, windows, text = self.read_focus()
        late = next((w for w in windows if w.kind in ("crash", "anr") and w.package == obs.package), None)
        if late is None:
            return obs
        texts["window focus (after the first screen)"] = text
        log_text = self._sh(["logcat", "-d", "-v", "threadtime", "-b", "main", "-b", "system", "-b", "crash",
                             "-T", since]).output
        texts["logcat since launch"] = "\n".join(log_text.splitlines()[-400:]) or texts.get("logcat since launch", "")
        records = tuple(r for r in parse_logcat_crash(log_text) if r.package == obs.package)
        return _replace(obs, focus=focus, dialog=late.kind, dialog_evidence=f"window (later): {late.line}",
                        records=records)

    def _wait_focus(self, package: str, am: AmStartResult) -> tuple[Focus, str, str | None, str | None, str]:
        """Poll the focus until the app's window, a dialog of the app, or the deadline (see :func:`focus_outcome`).

        Returns ``(focus, state, dialog kind, evidence, dump)``; ``overlaid`` (another window over the resumed app)
        is polled like ``waiting`` and only reported when it still holds at the deadline.
        """
        deadline = time.monotonic() + (self.focus_timeout if am.status != "error" else 0.0)
        while True:
            focus, windows, text = self.read_focus()
            state, kind, evidence = focus_outcome(package, focus, windows, "mCurrentFocus" in text)
            if state not in ("waiting", "overlaid") or time.monotonic() >= deadline:
                return focus, state, kind, evidence, text
            time.sleep(self.poll_interval)

    def _ui(self, obs: LaunchObservation, first_text: str | None, first_resource_id: str | None,
            texts: dict[str, str]) -> tuple[LaunchObservation, tuple[bytes, str] | None]:
        assert self.driver is not None
        xml = self.driver.hierarchy()
        summary = summarize_hierarchy(xml)
        texts["window hierarchy"] = xml
        dialog, dialog_ev = obs.dialog, obs.dialog_evidence
        if dialog is None and summary.dialog is not None:
            dialog, dialog_ev = summary.dialog, summary.dialog_evidence
        found = None
        if obs.focused and dialog is None and (first_text or first_resource_id):
            found = self.driver.wait_for(text=first_text, resource_id=first_resource_id,
                                         timeout=self.first_screen_timeout)
            if found is False:
                xml = self.driver.hierarchy()
                texts["window hierarchy"] = xml
                summary = summarize_hierarchy(xml)
        shot = (self.driver.screenshot_jpeg(), "jpg")
        obs = _replace(obs, dialog=dialog, dialog_evidence=dialog_ev,
                       package_nodes=summary.package_nodes.get(obs.package, 0), first_screen_found=found)
        return obs, shot

    def _finish(self, obs: LaunchObservation, texts: dict[str, str], shot: tuple[bytes, str] | None) -> LaunchReport:
        verdict = decide_launch(obs)
        if shot is None:
            try:
                shot = (self.device.screenshot(), "png")
            except DeviceError as exc:
                if self.device.gone is not None:
                    raise
                texts["screenshot error"] = str(exc)
        report = LaunchReport(obs, verdict, texts=texts)
        if shot is not None:
            report.screenshot, report.screenshot_type = shot
        _log.info("[%s] launch %s: %s %s", self.device.serial, obs.package, verdict.status, verdict.found)
        return report


def _replace(obs: LaunchObservation, **changes: Any) -> LaunchObservation:
    from dataclasses import replace

    return replace(obs, **changes)


def _focus_or_none(text: str) -> Focus:
    """:func:`parse_focus` of ``text``, or "nothing known" for text without focus lines (a ParseError that is not
    a cut dump: those are raised by :meth:`LaunchCheck._dumpsys` before parsing)."""
    try:
        return parse_focus(text)
    except ParseError:
        return Focus(None, None, None, None)


_RESOLVER_RE = re.compile(r"^\s+[0-9a-f]+ (?P<comp>[\w.]+/[\w.$]+)")


def launcher_from_dumpsys(text: str, package: str) -> str | None:
    """The MAIN/LAUNCHER activity of ``package`` from ``dumpsys package <pkg>`` (SDK < 24, no resolve-activity).

    Reads the ``Activity Resolver Table:`` ``android.intent.action.MAIN:`` entries and prefers one whose filter
    lists ``Category: "android.intent.category.LAUNCHER"``. Returns the fully qualified class or None.
    """
    lines = text.splitlines()
    in_main = False
    candidates: list[tuple[str, bool]] = []
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("android.intent.action.MAIN:"):
            in_main, current = True, None
            continue
        if in_main:
            m = _RESOLVER_RE.match(line)
            if m:
                current = m.group("comp")
                candidates.append((current, False))
                continue
            if stripped.startswith("Category:") and LAUNCHER_CATEGORY in stripped and candidates:
                candidates[-1] = (candidates[-1][0], True)
                continue
            if stripped and not line.startswith("      ") and not stripped.startswith(("Action:", "Category:",
                                                                                          "mPriority", "Scheme")):
                if not _RESOLVER_RE.match(line):
                    in_main = False
    own = [(c, launcher) for c, launcher in candidates if c.split("/", 1)[0] == package]
    best = next((c for c, launcher in own if launcher), None) or (own[0][0] if own else None)
    if best is None:
        return None
    pkg, _, cls = best.partition("/")
    return _fq(pkg, cls)
