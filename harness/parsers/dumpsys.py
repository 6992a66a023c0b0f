"""Markers that say a ``dumpsys`` output is cut short (the service's dump is incomplete).

``dumpsys`` (AOSP ``frameworks/native/cmds/dumpsys/dumpsys.cpp``) runs the service's ``dump()`` on a thread and copies
its pipe to stdout until EOF or a timeout (10 s by default, ``-t SECONDS`` from Android 7; ``-T MILLISECONDS`` later).
On a timeout it stops copying, prints a marker and moves on; whatever it had copied stays in the output and looks
like a whole dump. The markers, as the sources print them (each alone on its line, after an empty line):

* ``*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***`` — ``Dumpsys::writeDump`` and ``Dumpsys::main`` of the
  current sources (the ``class Dumpsys`` rewrite; read in LineageOS and OmniROM trees of Android 10+, where both
  functions print it, so it may appear twice);
* ``*** SERVICE DUMP TIMEOUT EXPIRED ***`` — ``main()`` of the Android 7.x sources (the first dumpsys with a dump
  thread, a timeout and ``-t``; read in a 7.1-based tree). Android 6 and older call ``dump()`` directly: no timeout,
  no marker, and no ``-t`` option (``dumpsys -t 30 package`` would look up a service named ``-t``).

Failures while the service dumps are reported by the same file on stderr, which a v1 shell (or ``2>&1``) merges
into the text: ``Error dumping service info: (<errno text>) <service>`` (Android 7), ``Error dumping service info
status_t: <status> <service>`` / ``Error with service '<service>' while dumping: <status>`` (later),
``Failed to read while dumping service <service>: …``, ``Failed to write while dumping service <service>: …``,
``Error in poll while dumping service <service> : …``.

The activity manager itself cuts the part of ``dumpsys activity`` that an app process writes (``dumpsys activity
top``, ``… service``, ``… provider``) with ``Failure while dumping the activity: <IOException>`` (or ``the service``,
``the provider``; AOSP ``ActivityManagerService.dumpActivity`` / ``ActiveServices.dumpService``), printed with the
dump's indentation.
"""

from __future__ import annotations

import re

from harness.errors import DumpIncomplete
from harness.parsers._text import excerpt

_DUMPSYS = (r"\*\*\* SERVICE (?:'[^'\n]*' )?DUMP TIMEOUT(?: \(\d+ ?ms\))? EXPIRED \*\*\*"
            r"|Error dumping service info\b.*"
            r"|Error with service '[^'\n]*' while dumping\b.*"
            r"|Failed to (?:read|write) while dumping service\b.*"
            r"|Error in poll while dumping service\b.*")
_APP_PART = r"Failure while dumping (?:the (?:activity|service|provider|app)|IPC traces)\b.*"
_MARKER_RE = re.compile(rf"^[ \t]*(?:{_DUMPSYS}|{_APP_PART})[ \t]*\r?$", re.M)
_DUMPSYS_RE = re.compile(rf"^[ \t]*(?:{_DUMPSYS})[ \t]*\r?$", re.M)


def dumpsys_cut_marker(text: str, *, app_parts: bool = True) -> str | None:
    """The first line of ``text`` that says the dump was cut short (see the module docstring), stripped; else None.

    Only whole lines count: a value that merely contains the words (a versionName ``DUMP TIMEOUT``) is not a marker.
    ``app_parts`` False ignores ``Failure while dumping the activity``: the activity manager prints it in place of
    one app's own part and goes on, so the lines it printed itself (``ACTIVITY pkg/.Act … pid=N``) stay whole.
    """
    m = (_MARKER_RE if app_parts else _DUMPSYS_RE).search(text)
    return m.group(0).strip() if m else None


def require_complete(text: str, command: str, *, app_parts: bool = True) -> None:
    """Raise :class:`~harness.errors.DumpIncomplete` (a ParseError for ``command``) when ``text`` holds a cut marker
    (``app_parts``: see :func:`dumpsys_cut_marker`)."""
    marker = dumpsys_cut_marker(text, app_parts=app_parts)
    if marker is not None:
        raise DumpIncomplete(f"the dump was cut short ({marker}); what came before it is not the whole state",
                             command=command, excerpt=excerpt(text[-300:], 300))
