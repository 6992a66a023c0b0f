"""Parsers for ``am start [-W]`` and ``cmd package resolve-activity --brief``.

``am start -W`` (``am start-activity -W``) output, Android 10+ (corpus ``/work/shared/corpus/README.md`` § am start)::

    Starting: Intent { act=android.intent.action.MAIN cat=[…] cmp=com.facebook.encapp/.MainActivity (has extras) }
    [Warning: Activity not started, its current task has been brought to the front]
    Status: ok
    LaunchState: COLD
    Activity: com.facebook.alohaapps.launcher/com.facebook.aloha.app.home.touch.HomeActivity
    TotalTime: 1479
    WaitTime: 1482
    Complete

Before Android 10 there is ``ThisTime:`` and no ``LaunchState:``. Failures print ``Error type N`` and/or
``Error: …`` (corpus ``am-start_error-type-3_activity-class-does-not-exist_com.rctzhihudaily.txt``), or an
exception (``java.lang.SecurityException: Permission Denial …``, ``Exception occurred while executing …``).

Corpus answers: the Meta device sample reports **the launcher**, not the requested app (status ok but
``target_confirmed=False``); the Appium sample is ``brought_to_front`` with a HOT launch of another activity of
the same package (confirmed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from harness.errors import ParseError
from harness.parsers._text import excerpt, normalize, package_of_component, reject_binary

_COMPONENT_RE = re.compile(r"^[A-Za-z][\w.]*/[\w.$]+$")
_ERROR_PREFIXES = ("Error:", "Error type", "Exception occurred", "Security exception", "java.lang.",
                   "android.util.AndroidException", "Fatal exception")


@dataclass(frozen=True)
class AmStartResult:
    """Outcome of ``am start [-W]`` as printed.

    Attributes:
        status: ``ok`` (``Status: ok``, or a successful plain ``am start`` that prints only ``Starting:``),
            ``timeout`` (``Status: timeout``) or ``error`` (an ``Error…``/exception line, or another ``Status:``).
        launch_state: ``LaunchState:`` (``COLD``/``WARM``/``HOT``; Android 10+) or None.
        total_time_ms / wait_time_ms / this_time_ms: ``TotalTime:`` / ``WaitTime:`` / ``ThisTime:`` in ms.
        activity: the component the system reports as launched (``Activity:``), or None.
        brought_to_front: a ``Warning: Activity not started, its current task has been brought to the front``
            (or ``…intent has been delivered to currently running top-most instance``) line.
        error: the error text (``Error: `` prefix removed; ``Error type N`` lines joined in) or None.
        target_confirmed: whether ``activity`` belongs to the requested package (``requested`` argument, else the
            ``cmp=`` of the ``Starting:`` line); None when either is unknown.
        intent_component: ``cmp=`` of the ``Starting: Intent { … }`` line, or None.
        warning: the ``Warning:`` line text, or None.
        lines: the non-blank lines as printed (evidence).
    """

    status: Literal["ok", "timeout", "error"]
    launch_state: str | None = None
    total_time_ms: int | None = None
    wait_time_ms: int | None = None
    this_time_ms: int | None = None
    activity: str | None = None
    brought_to_front: bool = False
    error: str | None = None
    target_confirmed: bool | None = None
    intent_component: str | None = None
    warning: str | None = None
    lines: tuple[str, ...] = ()


def parse_am_start(text: str, requested: str | None = None) -> AmStartResult:
    """Parse ``am start [-W]`` output.

    Args:
        text: the command's stdout+stderr.
        requested: the package or ``pkg/cls`` component that was asked for (None: use the ``Starting:`` line).

    Raises:
        ParseError: (command ``am start``) the text has none of ``Starting:``, ``Status:``, ``Error``, an exception
            line or a ``Warning:`` line — it is not ``am start`` output.
    """
    command = "am start"
    reject_binary(text, command)
    lines = [ln.strip() for ln in normalize(text).split("\n") if ln.strip()]
    fields: dict[str, str] = {}
    errors: list[str] = []
    warning: str | None = None
    intent: str | None = None
    starting = False
    for line in lines:
        if line.startswith("Starting:"):
            starting = True
            m = re.search(r"\bcmp=(\S+)", line)
            if m:
                intent = m.group(1).rstrip("}")
            continue
        if line.startswith("Warning:"):
            warning = line[len("Warning:"):].strip()
            continue
        if line.startswith(_ERROR_PREFIXES):
            errors.append(line[len("Error:"):].strip() if line.startswith("Error:") else line)
            continue
        m = re.match(r"^(Status|LaunchState|Activity|TotalTime|WaitTime|ThisTime):\s*(.*)$", line)
        if m:
            fields.setdefault(m.group(1), m.group(2).strip())
    if not (starting or fields or errors or warning):
        raise ParseError("not am start output (no Starting:/Status:/Error line)", command=command,
                         excerpt=excerpt(text))

    def ms(key: str) -> int | None:
        v = fields.get(key)
        return int(v) if v is not None and re.fullmatch(r"-?\d+", v) else None

    raw_status = fields.get("Status")
    status: Literal["ok", "timeout", "error"]
    if errors:
        status = "error"
    elif raw_status is None or raw_status == "ok":
        status = "ok"
    elif raw_status == "timeout":
        status = "timeout"
    else:
        status = "error"
        errors.append(f"Status: {raw_status}")
    activity = fields.get("Activity") or None
    target = requested or intent
    confirmed = None
    if target and activity:
        confirmed = package_of_component(activity) == package_of_component(target)
    brought = bool(warning) and ("brought to the front" in warning or "delivered to currently running" in warning)
    return AmStartResult(
        status=status, launch_state=fields.get("LaunchState") or None,
        total_time_ms=ms("TotalTime"), wait_time_ms=ms("WaitTime"), this_time_ms=ms("ThisTime"),
        activity=activity, brought_to_front=brought, error=": ".join(errors) if errors else None,
        target_confirmed=confirmed, intent_component=intent, warning=warning, lines=tuple(lines),
    )


def parse_resolve_activity(text: str) -> str | None:
    """Parse ``cmd package resolve-activity --brief [-c android.intent.category.LAUNCHER] <pkg>`` output.

    The brief form prints a ``priority=… preferredOrder=…`` line then the ``pkg/cls`` component; when nothing
    matches it prints ``No activity found``.

    Returns:
        The component (``com.android.settings/.Settings``), or None for ``No activity found``.

    Raises:
        ParseError: (command ``cmd package resolve-activity``) empty output or no component line.
    """
    command = "cmd package resolve-activity"
    reject_binary(text, command)
    lines = [ln.strip() for ln in normalize(text).split("\n") if ln.strip()]
    if any(ln.startswith("No activity found") for ln in lines):
        return None
    for line in reversed(lines):
        if _COMPONENT_RE.match(line):
            return line
    raise ParseError("no pkg/cls component line", command=command, excerpt=excerpt(text))
