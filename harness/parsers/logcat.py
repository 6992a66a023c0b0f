"""Parser for app crashes and ANRs in ``logcat`` output.

Line formats recognised (``logcat -v <format>``): ``threadtime`` (default since Android 7:
``04-22 21:34:20.664  2977  2977 E AndroidRuntime: msg``), ``brief`` (``E/AndroidRuntime( 2977): msg``),
``tag`` (``E/AndroidRuntime: msg``), ``time`` (``04-22 21:34:20.664 E/AndroidRuntime( 2977): msg``) and the
timestamp-less ``E ActivityManager: msg`` seen in pasted logs. ``--------- beginning of crash`` separators
are skipped.

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

_FORMATS = (
    # threadtime: date time pid tid level tag: msg
    re.compile(r"^\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+\s+(?:\S+\s+)?(?P<pid>\d+)\s+(?P<tid>\d+)\s+"
               r"(?P<level>[VDIWEFA])\s+(?P<tag>[^:]*?)\s*: (?P<msg>.*)$"),
    # time: date time level/tag( pid): msg
    re.compile(r"^\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+\s+(?P<level>[VDIWEFA])/(?P<tag>[^(]*?)\(\s*(?P<pid>\d+)\): "
               r"(?P<msg>.*)$"),
    # brief: level/tag( pid): msg
    re.compile(r"^(?P<level>[VDIWEFA])/(?P<tag>[^(]*?)\(\s*(?P<pid>\d+)\): (?P<msg>.*)$"),
    # tag: level/tag: msg
    re.compile(r"^(?P<level>[VDIWEFA])/(?P<tag>[^:]+?)\s*: (?P<msg>.*)$"),
    # pasted without timestamps: level tag: msg
    re.compile(r"^(?P<level>[VDIWEFA]) (?P<tag>[A-Za-z][\w.\-]*)\s*: (?P<msg>.*)$"),
)
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
            return _Entry(line, d["tag"].strip(), int(pid) if pid else None, d["msg"])
    return None


def parse_logcat_crash(text: str) -> list[CrashRecord]:
    """Find FATAL EXCEPTION crashes, native fatal signals and ANRs in ``text`` (a logcat dump), in order.

    Returns:
        The records; an empty list when there is none (including empty output: an empty buffer is valid).

    Raises:
        ParseError: (command ``logcat``) binary data, or non-empty text in which no line has a logcat shape.
    """
    command = "logcat"
    reject_binary(text, command)
    lines = [ln.rstrip() for ln in normalize(text).split("\n")]
    entries: list[_Entry | None] = []
    parsed_any = False
    for line in lines:
        if not line.strip() or line.startswith("--------- beginning of"):
            entries.append(None)
            continue
        e = _entry(line)
        parsed_any = parsed_any or e is not None
        entries.append(e if e is not None else _Entry(line, None, None, line))
    if not parsed_any and any(ln.strip() for ln in lines if not ln.startswith("---------")):
        raise ParseError("no logcat-formatted line (threadtime, brief, time or tag format)", command=command,
                         excerpt=excerpt(text))

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
