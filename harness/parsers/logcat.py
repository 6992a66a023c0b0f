"""Parser for app crashes and ANRs in ``logcat`` output.

Line formats recognised, as AOSP ``liblog/logprint.cpp`` (``android_log_formatLogLine``) prints them with
``logcat -v <format>`` (tags are padded to 8 characters, pids to 5; a multi-line message gets the prefix on every
line, except ``long``):

* ``threadtime`` (default since Android 7): ``04-22 21:34:20.664  2977  2977 E AndroidRuntime: msg`` (corpus
  ``logcat-crash_android14_emulator_fatal-exception-npe_*``); with the ``year``, ``zone``, ``epoch``/``monotonic``,
  ``usec`` and ``uid`` modifiers (``2024-04-22 …``, `` +0800``, ``1713793460.664``, ``.664123``, ``u0_a123``);
* ``brief`` ``E/AndroidRuntime( 2977): msg``, ``time`` ``04-22 21:34:20.664 E/AndroidRuntime( 2977): msg``,
  ``tag`` ``E/AndroidRuntime: msg``, ``process`` ``E( 2977) msg  (AndroidRuntime)``;
* ``long``: ``[ 04-22 21:34:20.664  2977: 2977 E/AndroidRuntime ]`` then the message lines, then an empty line;
* ``color``: any of the above wrapped in ANSI colour escapes (removed before reading);
* Android Studio's logcat window, copied or saved: up to Chipmunk ``04-22 21:34:20.664 2977-2977/com.example
  E/AndroidRuntime: msg`` (``?`` for an unknown process, optionally with the year), and from Dolphin
  ``2024-04-22 21:34:20.664  2977-2977  AndroidRuntime  com.example  E  msg``; both print the continuation lines
  of a multi-line message without a header, indented;
* the timestamp-less ``E ActivityManager: msg`` of pasted logs (corpus
  ``logcat-anr_android14plus_droidify_input-dispatching-timeout_errorid-frozen.txt``).

A line without a header right after a logged line (``long`` message lines, Studio continuation lines, wrapped
pastes) continues that entry. ``--------- beginning of crash`` separators end an entry.

Records (corpus ``/work/shared/corpus/README.md`` § crash / ANR):

* **crash** — an ``AndroidRuntime`` ``FATAL EXCEPTION: <thread>`` block: ``Process: <pkg>, PID: <pid>``
  (Android 5+), the exception line, tab-indented ``at`` frames and ``Caused by:`` (corpus
  ``logcat-crash_android14_emulator_fatal-exception-npe_com.github.quarck.calnotify.txt``); also a native
  ``Fatal signal N (SIGxxx) … pid P (<name>)`` line from libc (exception ``SIGxxx``);
* **anr** — an ``ActivityManager`` ``ANR in <pkg> (<component>)`` block with ``PID:``, ``Reason:`` … lines
  (corpus ``logcat-anr_android14plus_droidify_input-dispatching-timeout_errorid-frozen.txt``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from harness.errors import ParseError
from harness.parsers._text import excerpt, normalize, reject_binary

_L = r"(?P<level>[VDIWEFAS])"
_TS = (r"(?:(?:\d{4}-)?\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+|\d+\.\d+)"  # date time | epoch / monotonic
       r"(?:\s+[+-]\d{4}|\s+[A-Z]{3,5})?")  # -v zone
_UID = r"(?:(?P<uid>[a-z]\w*|\d+)\s+)?"  # -v uid: u0_a123, root, 1000
_FORMATS = (
    # threadtime: date time [uid] pid tid level tag: msg
    re.compile(rf"^{_TS}\s+{_UID}(?P<pid>\d+)\s+(?P<tid>\d+)\s+{_L}\s+(?P<tag>[^:]*?)\s*:(?: (?P<msg>.*))?$"),
    # Android Studio up to Chipmunk: date time pid-tid/process level/tag: msg
    re.compile(rf"^{_TS}\s+(?P<pid>\d+)-(?P<tid>\d+)/(?P<process>\S+)\s+{_L}/(?P<tag>[^:]*?)\s*:"
               r"(?: (?P<msg>.*))?$"),
    # Android Studio Dolphin+: date time  pid-tid  tag  process  level  msg
    re.compile(rf"^{_TS}\s+(?P<pid>\d+)-(?P<tid>\d+)\s+(?P<tag>\S+)\s+(?P<process>\S+)\s+{_L}\s+(?P<msg>.*)$"),
    # time: date time level/tag( [uid] pid): msg
    re.compile(rf"^{_TS}\s+{_L}/(?P<tag>[^(]*?)\s*\(\s*{_UID}(?P<pid>\d+)\):(?: (?P<msg>.*))?$"),
    # brief: level/tag( [uid] pid): msg
    re.compile(rf"^{_L}/(?P<tag>[^(]*?)\s*\(\s*{_UID}(?P<pid>\d+)\):(?: (?P<msg>.*))?$"),
    # process: level( [uid] pid) msg  (tag)
    re.compile(rf"^{_L}\(\s*{_UID}(?P<pid>\d+)\) (?P<msg>.*)  \((?P<tag>[^()]*)\)$"),
    # tag: level/tag: msg
    re.compile(rf"^{_L}/(?P<tag>[^:(]+?)\s*:(?: (?P<msg>.*))?$"),
    # pasted without timestamps: level tag: msg
    re.compile(rf"^{_L} (?P<tag>[A-Za-z][\w.\-]*)\s*: (?P<msg>.*)$"),
)
_LONG_HEADER = re.compile(rf"^\[ {_TS}\s+{_UID}(?P<pid>\d+):\s*(?P<tid>\d+) {_L}/(?P<tag>.*?)\s*\]$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FATAL_SIGNAL = re.compile(r"Fatal signal \d+ \((?P<sig>SIG\w+)\).*?pid (?P<pid>\d+) \((?P<name>[^)]+)\)")
_EXC_RE = re.compile(r"^(?P<cls>[A-Za-z_$][\w$]*(?:\.[\w$]+)+)(?::|$)")


@dataclass(frozen=True)
class CrashRecord:
    """One crash or ANR found in the log.

    Attributes:
        package: process / package name (``Process:`` line, ``ANR in <pkg>``, native ``pid N (<name>)``) or None
            when the log does not say (pre-Lollipop FATAL EXCEPTION blocks have no ``Process:`` line).
        kind: ``crash`` or ``anr``.
        exception: exception class (``java.lang.NullPointerException``) or signal (``SIGSEGV``); None for ANRs.
        pid: process id when printed.
        lines: the record's log lines as printed (evidence).
        reason: ANR ``Reason:`` text, or the exception line's message for crashes.
        component: ANR ``(<component>)`` after the package, else None.
    """

    package: str | None
    kind: Literal["crash", "anr"]
    exception: str | None
    pid: int | None
    lines: list[str] = field(default_factory=list)
    reason: str | None = None
    component: str | None = None


@dataclass
class _Entry:
    raw: str
    tag: str | None
    pid: int | None
    msg: str


def _entry(line: str) -> _Entry | None:
    for fmt in _FORMATS:
        m = fmt.match(line)
        if m:
            d = m.groupdict()
            pid = d.get("pid")
            return _Entry(line, d["tag"].strip(), int(pid) if pid else None, d["msg"] or "")
    return None


def parse_logcat_crash(text: str) -> list[CrashRecord]:
    """Find FATAL EXCEPTION crashes, native fatal signals and ANRs in ``text`` (a logcat dump), in order.

    Returns:
        The records; an empty list when there is none (including empty output: an empty buffer is valid).

    Raises:
        ParseError: (command ``logcat``) binary data, or non-empty text in which no line has a logcat shape.
    """
    command = "logcat"
    norm = normalize(text)
    if "\x1b" in norm:
        norm = _ANSI.sub("", norm)  # -v color
    reject_binary(norm, command)
    lines = [ln.rstrip() for ln in norm.split("\n")]
    entries: list[_Entry | None] = []
    parsed_any = False
    last: _Entry | None = None  # the logged line an unheaded line continues
    in_long = False  # inside a `-v long` entry: its message lines and the empty line after it
    for line in lines:
        if line.startswith("--------- beginning of"):
            entries.append(None)
            last, in_long = None, False
            continue
        if not line.strip():
            if not in_long:
                entries.append(None)
                last = None
            continue
        lm = _LONG_HEADER.match(line)
        if lm:
            last = _Entry(line, lm.group("tag").strip(), int(lm.group("pid")), "")
            in_long, parsed_any = True, True
            continue
        e = None if in_long else _entry(line)  # a `long` message line is never a header, whatever it says
        if e is not None:
            parsed_any, last = True, e
            entries.append(e)
        elif last is not None:
            entries.append(_Entry(line, last.tag, last.pid, line if in_long else line.strip()))
        else:
            entries.append(_Entry(line, None, None, line))
    if not parsed_any and any(ln.strip() for ln in lines if not ln.startswith("---------")):
        raise ParseError("no logcat-formatted line (threadtime, brief, time, tag, process, long or Android Studio "
                         "format)", command=command, excerpt=excerpt(text))

    records: list[CrashRecord] = []
    i = 0
    while i < len(entries):
        e = entries[i]
        if e is None or e.tag is None:
            i += 1
            continue
        if e.tag == "AndroidRuntime" and e.msg.startswith("FATAL EXCEPTION"):
            block = [e]
            j = i + 1
            while j < len(entries):
                n = entries[j]
                if n is None or n.tag != "AndroidRuntime" or (e.pid is not None and n.pid not in (None, e.pid)):
                    break
                if n.msg.startswith("FATAL EXCEPTION"):
                    break
                block.append(n)
                j += 1
            records.append(_crash(block))
            i = j
            continue
        am = re.match(r"^ANR in (?P<pkg>\S+)(?: \((?P<comp>[^)]*)\))?", e.msg)
        if e.tag == "ActivityManager" and am:
            block = [e]
            j = i + 1
            while j < len(entries):
                n = entries[j]
                if n is None or n.tag != "ActivityManager" or n.msg.startswith("ANR in "):
                    break
                block.append(n)
                j += 1
            pid = next((int(m.group(1)) for b in block if (m := re.match(r"^PID: (\d+)", b.msg))), None)
            reason = next((b.msg[len("Reason: "):] for b in block if b.msg.startswith("Reason: ")), None)
            records.append(CrashRecord(am.group("pkg"), "anr", None, pid, [b.raw for b in block], reason,
                                       am.group("comp")))
            i = j
            continue
        sm = _FATAL_SIGNAL.search(e.msg)
        if sm:
            records.append(CrashRecord(sm.group("name"), "crash", sm.group("sig"), int(sm.group("pid")), [e.raw],
                                       e.msg))
        i += 1
    return records


def _crash(block: list[_Entry]) -> CrashRecord:
    package: str | None = None
    pid: int | None = block[0].pid
    exception: str | None = None
    reason: str | None = None
    for b in block[1:]:
        msg = b.msg.strip()
        pm = re.match(r"^Process: (?P<pkg>[^,\s]+), PID: (?P<pid>\d+)", msg)
        if pm:
            package, pid = pm.group("pkg"), int(pm.group("pid"))
            continue
        if exception is None and not msg.startswith(("at ", "...", "Caused by")):
            em = _EXC_RE.match(msg)
            if em:
                exception = em.group("cls")
                reason = msg[len(exception):].lstrip(": ").strip() or None
    return CrashRecord(package, "crash", exception, pid, [b.raw for b in block], reason)
