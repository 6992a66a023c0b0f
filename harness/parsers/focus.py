"""Parser for "what is in the foreground": ``dumpsys window`` / ``dumpsys activity activities`` lines.

Recognised lines (full dumps or ``grep`` excerpts; corpus ``/work/shared/corpus/README.md`` § foreground / focus):

* ``mCurrentFocus=Window{<hash> u0 <title>}`` — the window with input focus. ``<title>`` is ``pkg/cls`` for an
  activity window, a bare package for a popup (``Window{43e887a8 u0 com.lookout.enterprise}``, Android 4.x),
  ``Application Error: <pkg>`` / ``Application Not Responding: <pkg>`` for crash/ANR dialogs, or a system name
  (``StatusBar``, ``NotificationShade``). Android 4.1 has no ``u0`` and may add `` paused=false``.
* ``mFocusedApp=AppWindowToken{… ActivityRecord{<hash> u0 pkg/cls t15}}}`` (Android 7/8) or
  ``mFocusedApp=ActivityRecord{<hash> u0 pkg/cls t409}`` (Android 10+).
* ``mResumedActivity: ActivityRecord{…}`` (Android ≤ 9, corpus XTC watch sample), ``ResumedActivity:``,
  ``topResumedActivity=`` (Android 10+), ``mFocusedActivity:`` (Android 4–7).
* ``…=null`` / ``…: null`` during transitions (corpus ``…android4.x_null-interleaved-sequence``): nothing has focus.
* Android 13+ closes the record's cached name before the task: ``ActivityRecord{<hash> u0 pkg/cls} t409}`` (AOSP
  ``ActivityRecord.toString``; a public device paste shows ``topResumedActivity=ActivityRecord{1a70f4a u0
  com.smile.gifmaker/com.yxcorp.gifshow.HomeActivity} t6294}``): the task is kept in both shapes, and so is the
  user (``u0``, ``u10``) of every window and record.
* ``dumpsys activity top`` (the fallback of old devices): ``TASK <affinity> id=<task>[ userId=<user>]`` then
  ``  ACTIVITY pkg/cls <hash> pid=<pid>``, one pair per visible stack and the top one LAST (AOSP
  ``ActivityManagerService.dumpActivity`` walks its list from the end; adbutils' ``app_current`` also takes the
  last match). Source name ``ACTIVITY``, the weakest.

Choice (:func:`parse_focus`): sources are tried in the order mCurrentFocus, mFocusedApp, the resumed-activity
lines, then ``ACTIVITY`` lines; the first source with a non-null entry decides (a focused window whose title names no
package, e.g. ``PopupWindow:1f2e``, keeps its title in ``window`` and lets the next source name the package).
Among that source's entries (several displays, or a poll log): entries on ``mTopFocusedDisplayId`` when the dump
names display sections; then entries that are not a secondary-display home (Samsung cover screen
``com.android.systemui/.subscreen.…``, corpus Galaxy Z Flip 5G / Z Flip4 samples, where it is listed *before*
the main display's app); then the **last** one (the newest line of a poll log).

Window focus and the resumed activity can disagree (an Android 4.4 head unit's launcher overlay holds input focus
while the app's activity is resumed and the focused app): :class:`Focus` reports the window focus *and*, in
``app``, the focused-app / resumed activity, so a caller can tell "another window has focus over the app" from
"the app never showed a window".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import ParseError
from harness.parsers._text import PACKAGE_RE, excerpt, fq_class, normalize, reject_binary
from harness.parsers.dumpsys import require_complete

_SOURCES = ("mCurrentFocus", "mFocusedApp", "topResumedActivity", "ResumedActivity", "mResumedActivity",
            "mFocusedActivity")
_GROUPS: tuple[tuple[str, ...], ...] = (
    ("mCurrentFocus",),
    ("mFocusedApp",),
    ("topResumedActivity", "ResumedActivity", "mResumedActivity", "mFocusedActivity"),
    ("ACTIVITY",),
)
_LINE_RE = re.compile(
    r"(?<![A-Za-z])(?P<src>mCurrentFocus|mFocusedApp|mFocusedActivity|topResumedActivity|mResumedActivity"
    r"|ResumedActivity)\s*[=:]\s*(?P<value>.*)$"
)
_WINDOW_RE = re.compile(r"Window\{(?P<hash>[0-9a-fA-F]+) (?:u(?P<user>\d+) )?(?P<title>[^{}]*?)\}")
_RECORD_RE = re.compile(
    r"ActivityRecord\{(?P<hash>[0-9a-fA-F]+) (?:u(?P<user>\d+) )?(?P<comp>[^\s/{}]+/[^\s{}]+)"
    r"(?:\}? t(?P<task>-?\d+))?[^{}]*\}"
)
_TOP_TASK_RE = re.compile(r"^\s*TASK (?P<affinity>\S*) id=(?P<task>-?\d+)(?:.*?\buserId=(?P<user>\d+))?")
_TOP_ACTIVITY_RE = re.compile(
    r"^\s*ACTIVITY (?P<comp>[^\s/{}]+/[^\s{}]+) (?P<hash>[0-9a-fA-F]+) pid=(?P<pid>\d+|\(not running\))")
_DISPLAY_RE = re.compile(r"^\s*(?:Display: mDisplayId=|Display #)(?P<id>\d+)")
_TOP_DISPLAY_RE = re.compile(r"mTopFocusedDisplayId=(?P<id>-?\d+)")
_NO_ACTIVITY_RE = re.compile(r"^(?:Bad activity command, or no activities match:.*|No activities? found.*)$", re.M)

SYSTEM_WINDOW_PACKAGES = {
    "StatusBar": "com.android.systemui", "NotificationShade": "com.android.systemui",
    "NavigationBar": "com.android.systemui", "NavigationBar0": "com.android.systemui",
    "Keyguard": "com.android.systemui", "RecentsPanel": "com.android.systemui",
}
"""Window titles of AOSP SystemUI windows (no package in the title) → their package."""

_TITLE_SUFFIXES = re.compile(r"(?: paused=\w+| EXITING| mDrawState=\w+)+$")


@dataclass(frozen=True)
class FocusWindow:
    """One window or activity record seen in the dump.

    Attributes:
        title: the window title (``pkg/cls``, ``Application Error: pkg``, ``StatusBar``) or, for an
            ActivityRecord, its ``pkg/cls`` component as printed.
        package: the package it belongs to, or None (system window with an unknown title).
        activity: fully-qualified activity class, or None (popup, dialog, system window).
        kind: ``activity``, ``window`` (no activity part), ``crash`` (``Application Error:``), ``anr``
            (``Application Not Responding:``) or ``system`` (SystemUI window).
        source: the field it came from (``mCurrentFocus``, ``mFocusedApp`` …) or ``window`` for other
            ``Window{…}`` mentions (window lists of a full ``dumpsys window``).
        display: display id when the dump has display sections, else None.
        task: task id (``t409``) for ActivityRecords (and ``TASK … id=`` of ``dumpsys activity top``), else None.
        line: the line as printed (evidence).
        user: Android user of the window or record (``u0``, ``u10``; ``userId=`` of a ``TASK`` line), None when
            not printed (Android 4.1 windows, ``dumpsys activity top`` before Android 10).
    """

    title: str
    package: str | None
    activity: str | None
    kind: str
    source: str
    display: int | None
    task: int | None
    line: str
    user: int | None = None

    @property
    def component(self) -> str | None:
        """``pkg/cls`` with the class fully qualified, or None without an activity."""
        return f"{self.package}/{self.activity}" if self.package and self.activity else None


@dataclass(frozen=True)
class Focus:
    """The foreground as read from the dump.

    Attributes:
        package: foreground package, or None when nothing has focus (``null``) or it is unknown.
        activity: fully-qualified foreground activity class, or None (dialog/popup window, null focus).
        window: the focused window's title (``mCurrentFocus``), or None when decided by an activity record.
        source: which line decided (``mCurrentFocus``, ``mFocusedApp``, ``mResumedActivity`` …), None for null.
        task: task id when known (from the deciding ActivityRecord, or an ActivityRecord of the same component).
        kind: the deciding entry's kind (see :class:`FocusWindow`), None for null.
        line: the deciding line as printed (evidence), or None.
        error: the message when the dump says there is no activity (``Bad activity command, or no activities
            match: <pkg>`` from ``dumpsys activity <pkg>``, corpus ``dumpsys-activity-pkg_no-activities-match_…``).
        user: the deciding entry's Android user (``u0`` → 0), None when not printed.
        app: the focused-app / resumed activity (``mFocusedApp``, else the resumed-activity lines, else the top
            ``ACTIVITY``) whatever decided ``package``; it differs from ``package`` when a window of another app
            has input focus over it (see :attr:`overlaid`). None when the dump names none.
    """

    package: str | None
    activity: str | None
    window: str | None
    source: str | None
    task: int | None = None
    kind: str | None = None
    line: str | None = None
    error: str | None = None
    user: int | None = None
    app: FocusWindow | None = None

    @property
    def overlaid(self) -> bool:
        """True when the focused window belongs to another package than the focused-app / resumed activity."""
        return (self.window is not None and self.app is not None and self.package is not None
                and self.app.package != self.package)


def _user(m: re.Match[str]) -> int | None:
    return int(m.group("user")) if m.group("user") is not None else None


def _from_title(title: str, source: str, display: int | None, line: str, user: int | None = None) -> FocusWindow:
    title = _TITLE_SUFFIXES.sub("", title.strip())
    for prefix, kind in (("Application Error:", "crash"), ("Application Not Responding:", "anr")):
        if title.startswith(prefix):
            pkg = title[len(prefix):].strip().split()[0] if title[len(prefix):].strip() else None
            return FocusWindow(title, pkg if pkg and PACKAGE_RE.match(pkg) else None, None, kind, source, display,
                               None, line, user)
    if "/" in title:
        pkg, _, cls = title.partition("/")
        if PACKAGE_RE.match(pkg) and cls:
            return FocusWindow(title, pkg, fq_class(pkg, cls), "activity", source, display, None, line, user)
    if PACKAGE_RE.match(title):
        return FocusWindow(title, title, None, "window", source, display, None, line, user)
    if title in SYSTEM_WINDOW_PACKAGES:
        return FocusWindow(title, SYSTEM_WINDOW_PACKAGES[title], None, "system", source, display, None, line, user)
    return FocusWindow(title, None, None, "window", source, display, None, line, user)


def _from_record(m: re.Match[str], source: str, display: int | None, line: str) -> FocusWindow:
    comp = m.group("comp")
    pkg, _, cls = comp.partition("/")
    task = int(m.group("task")) if m.group("task") else None
    return FocusWindow(comp, pkg, fq_class(pkg, cls), "activity", source, display, task, line, _user(m))


def _entries(text: str) -> tuple[list[tuple[str, FocusWindow | None]], int | None]:
    """All focus-type lines as (source, entry or None for null), and ``mTopFocusedDisplayId`` when printed."""
    out: list[tuple[str, FocusWindow | None]] = []
    display: int | None = None
    top: int | None = None
    task: re.Match[str] | None = None  # the last ``TASK`` line of ``dumpsys activity top``
    for raw in normalize(text).split("\n"):
        line = raw.rstrip()
        km = _TOP_TASK_RE.match(line)
        if km:
            task = km
            continue
        am = _TOP_ACTIVITY_RE.match(line)
        if am:
            comp = am.group("comp")
            pkg, _, cls = comp.partition("/")
            out.append(("ACTIVITY", FocusWindow(
                comp, pkg, fq_class(pkg, cls), "activity", "ACTIVITY", display,
                int(task.group("task")) if task else None, line.strip(), _user(task) if task else None)))
            continue
        tm = _TOP_DISPLAY_RE.search(line)
        if tm:
            top = int(tm.group("id"))
        dm = _DISPLAY_RE.search(line)
        if dm and not _LINE_RE.search(line):
            display = int(dm.group("id"))
        m = _LINE_RE.search(line)
        if not m:
            continue
        src, value = m.group("src"), m.group("value").strip()
        if value.startswith("null") or not value:
            out.append((src, None))
            continue
        rec = _RECORD_RE.search(value)
        win = _WINDOW_RE.search(value)
        if src == "mCurrentFocus" and win:
            out.append((src, _from_title(win.group("title"), src, display, line.strip(), _user(win))))
        elif rec:
            out.append((src, _from_record(rec, src, display, line.strip())))
        elif win:
            out.append((src, _from_title(win.group("title"), src, display, line.strip(), _user(win))))
        # Anything else on such a line (an unknown token shape) is ignored rather than guessed.
    return out, top


def _pick(cands: list[FocusWindow], top: int | None) -> FocusWindow:
    if top is not None:
        on_top = [c for c in cands if c.display == top]
        cands = on_top or cands
    main = [c for c in cands if not (c.activity and ".subscreen." in c.activity)]
    return (main or cands)[-1]


def parse_focus(text: str) -> Focus:
    """Parse focus lines into the foreground :class:`Focus` (see the module docstring for the choice rule).

    Returns:
        ``Focus(package=None, …)`` when every line says ``null`` (focus in transition: retry later) or when the
        dump says no activity matches (``error`` set).

    Raises:
        ParseError: (command ``dumpsys window``) empty text, binary data, or none of the recognised lines;
            :class:`~harness.errors.DumpIncomplete` when dumpsys says it cut the dump (its timeout marker).
    """
    command = "dumpsys window"
    reject_binary(text, command)
    norm = normalize(text)
    require_complete(norm, command, app_parts=False)
    no_act = _NO_ACTIVITY_RE.search(norm)
    entries, top = _entries(norm)
    if not entries:
        if no_act:
            return Focus(None, None, None, None, error=no_act.group(0).strip())
        raise ParseError("no mCurrentFocus / mFocusedApp / ResumedActivity / ACTIVITY line", command=command,
                         excerpt=excerpt(text))
    records = [e for _s, e in entries if e is not None and e.task is not None]
    app: FocusWindow | None = None
    for group in _GROUPS[1:]:
        acts = [e for s, e in entries if s in group and e is not None and e.kind == "activity"]
        if acts:
            app = _pick(acts, top)
            break
    window: str | None = None
    window_user: int | None = None
    for group in _GROUPS:
        cands = [e for s, e in entries if s in group and e is not None]
        if not cands:
            continue
        best = _pick(cands, top)
        if best.source == "mCurrentFocus":
            window, window_user = best.title, best.user
            if best.package is None:
                continue  # a window without a known owner (PopupWindow:…, Toast): ask the focused app
        task = best.task
        if task is None and best.activity:
            task = next((r.task for r in reversed(records) if r.component == best.component), None)
        return Focus(best.package, best.activity, window, best.source, task, best.kind, best.line,
                     user=best.user, app=app)
    if window is not None:
        return Focus(None, None, window, "mCurrentFocus", kind="window", line=f"mCurrentFocus={window}",
                     user=window_user, app=app)
    last_src = entries[-1][0]
    return Focus(None, None, None, None, line=f"{last_src}=null", app=app)


def focus_windows(text: str) -> list[FocusWindow]:
    """Every ``Window{…}`` and focus ActivityRecord mentioned in ``text``, in order, without repeats.

    Lets a caller see crash and ANR dialogs (``kind`` ``crash``: ``Application Error: <pkg>``, ``anr``:
    ``Application Not Responding: <pkg>``) anywhere in a ``dumpsys window`` / ``dumpsys window windows`` dump,
    focused or not. Never raises for text without windows (returns ``[]``); binary data raises ParseError.
    """
    reject_binary(text, "dumpsys window")
    out: list[FocusWindow] = []
    seen: set[tuple[str, str]] = set()
    display: int | None = None
    for raw in normalize(text).split("\n"):
        line = raw.rstrip()
        dm = _DISPLAY_RE.search(line)
        lm = _LINE_RE.search(line)
        if dm and not lm:
            display = int(dm.group("id"))
        src = lm.group("src") if lm else "window"
        for win in _WINDOW_RE.finditer(line):
            key = (win.group("hash"), win.group("title"))
            if key in seen:
                continue
            seen.add(key)
            out.append(_from_title(win.group("title"), src, display, line.strip(), _user(win)))
        if lm and lm.group("src") in _SOURCES:
            for rec in _RECORD_RE.finditer(line):
                key = (rec.group("hash"), rec.group("comp"))
                if key in seen:
                    continue
                seen.add(key)
                out.append(_from_record(rec, src, display, line.strip()))
    return out
