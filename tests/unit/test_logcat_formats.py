"""Issue 9, item 8: a crash or ANR is found in every format logcat and its common viewers print.

The real crash log of the corpus (``logcat-crash_android14_emulator_fatal-exception-npe_*``, threadtime) and the
real ANR (``logcat-anr_android14plus_droidify_*``) are re-printed in each format exactly as AOSP
``liblog/logprint.cpp`` ``android_log_formatLogLine`` lays an entry out (one prefix per message line; ``long``: a
``[ … ]`` header, the message, an empty line), and as Android Studio's logcat window copies it (legacy ≤ Chipmunk:
``MM-DD HH:MM:SS.mmm PID-TID/package L/Tag: message`` with continuation lines indented; Dolphin+: columns
``date time PID-TID tag package L message``). Each format must give the same record: package, pid, exception.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.errors import ParseError
from harness.parsers import parse_logcat_crash

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"
CRASH = CORPUS / "logcat-crash_android14_emulator_fatal-exception-npe_com.github.quarck.calnotify.txt"
ANR = CORPUS / "logcat-anr_android14plus_droidify_input-dispatching-timeout_errorid-frozen.txt"
CRASH_PKG, CRASH_PID = "com.github.quarck.calnotify", 2977
NPE = "java.lang.NullPointerException"

_THREADTIME = re.compile(r"^(?P<ts>\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s+(?P<pid>\d+)\s+(?P<tid>\d+) (?P<level>\w) "
                         r"(?P<tag>.*?)\s*: (?P<msg>.*)$")


@dataclass
class Entry:
    """One log entry (a multi-line message is one entry, as RuntimeInit logs a crash)."""

    ts: str
    pid: int
    tid: int
    level: str
    tag: str
    lines: list[str]


def entries(path: Path) -> list[Entry]:
    """The corpus threadtime log back into entries: consecutive lines with the same header are one entry."""
    out: list[Entry] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _THREADTIME.match(line)
        if not m:
            continue
        key = (m["ts"], int(m["pid"]), int(m["tid"]), m["level"], m["tag"])
        if out and (out[-1].ts, out[-1].pid, out[-1].tid, out[-1].level, out[-1].tag) == key:
            out[-1].lines.append(m["msg"])
        else:
            out.append(Entry(*key, [m["msg"]]))
    return out


def per_line(prefix: Callable[[Entry], str], suffix: Callable[[Entry], str] = lambda e: "") -> Callable[[Entry], str]:
    return lambda e: "".join(f"{prefix(e)}{ln}{suffix(e)}\n" for ln in e.lines)


# logprint.cpp: "%c/%-8s(%5d): " brief, "%s %c/%-8s(%5d): " time, "%c/%-8s: " tag, "%c(%5d) " + "  (%s)" process,
# "%s %5d %5d %c %-8s: " threadtime, "[ %s %5d:%5d %c/%-8s ]\n" + message + "\n\n" long
FORMATS: dict[str, Callable[[Entry], str]] = {
    "threadtime": per_line(lambda e: f"{e.ts} {e.pid:5d} {e.tid:5d} {e.level} {e.tag:<8}: "),
    "brief": per_line(lambda e: f"{e.level}/{e.tag:<8}({e.pid:5d}): "),
    "time": per_line(lambda e: f"{e.ts} {e.level}/{e.tag:<8}({e.pid:5d}): "),
    "tag": per_line(lambda e: f"{e.level}/{e.tag:<8}: "),
    "process": per_line(lambda e: f"{e.level}({e.pid:5d}) ", lambda e: f"  ({e.tag})"),
    "long": lambda e: f"[ {e.ts} {e.pid:5d}:{e.tid:5d} {e.level}/{e.tag:<8} ]\n" + "\n".join(e.lines) + "\n\n",
    "threadtime-year-uid": per_line(lambda e: f"2024-{e.ts}  u0_a123 {e.pid:5d} {e.tid:5d} {e.level} {e.tag:<8}: "),
}


def _studio_legacy(year: bool, indent: str | None) -> Callable[[Entry], str]:
    def fmt(e: Entry) -> str:
        proc = CRASH_PKG if e.pid == CRASH_PID else "?"
        head = f"{'2024-' if year else ''}{e.ts} {e.pid}-{e.tid}/{proc} {e.level}/{e.tag}: "
        pad = indent if indent is not None else " " * len(head)
        return head + e.lines[0] + "\n" + "".join(f"{pad}{ln}\n" for ln in e.lines[1:])
    return fmt


def _studio_dolphin(e: Entry) -> str:
    proc = CRASH_PKG if e.pid == CRASH_PID else f"pid-{e.pid}"
    head = f"2024-{e.ts.replace(' ', ' ')}  {e.pid}-{e.tid}  {e.tag:<23} {proc:<36} {e.level}  "
    return head + e.lines[0] + "\n" + "".join(" " * len(head) + ln + "\n" for ln in e.lines[1:])


FORMATS.update({
    "studio": _studio_legacy(year=False, indent=None),
    "studio-year-4-spaces": _studio_legacy(year=True, indent="    "),
    "studio-dolphin": _studio_dolphin,
})


def render(path: Path, fmt: str) -> str:
    return "".join(FORMATS[fmt](e) for e in entries(path))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_crash_found_in_every_format(fmt: str):
    text = render(CRASH, fmt)
    records = [r for r in parse_logcat_crash(text) if r.kind == "crash"]
    assert len(records) == 1, text[:500]
    r = records[0]
    assert (r.package, r.pid, r.exception) == (CRASH_PKG, CRASH_PID, NPE)
    assert "updateLocaleListFromAppContext" in "\n".join(r.lines)


def _anr_entries() -> list[Entry]:
    """The corpus ANR paste has no timestamps; as logged it is one ActivityManager entry of pid 1180."""
    msgs = [ln.split(": ", 1)[1] for ln in ANR.read_text(encoding="utf-8").splitlines()
            if ln.startswith("E ActivityManager: ")]
    return [Entry("06-01 10:00:00.000", 1180, 1203, "E", "ActivityManager", msgs)]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_anr_found_in_every_format(fmt: str):
    text = "".join(FORMATS[fmt](e) for e in _anr_entries())
    records = [r for r in parse_logcat_crash(text) if r.kind == "anr"]
    assert len(records) == 1, text[:500]
    r = records[0]
    assert (r.package, r.pid, r.component) == ("com.looker.droidify", 17681, "com.looker.droidify/.MainActivity")
    assert r.reason is not None and r.reason.startswith("Input dispatching timed out")


def test_color_output_is_read_and_escapes_never_reach_the_record():
    """``logcat -v color`` wraps each line in ANSI colour escapes (logprint.cpp ``\\x1B[38;5;%dm`` … ``\\x1B[0m``)."""
    text = "".join(f"\x1b[38;5;196m{line}\x1b[0m\n" for line in render(CRASH, "threadtime").splitlines())
    r = next(r for r in parse_logcat_crash(text) if r.kind == "crash")
    assert (r.package, r.exception) == (CRASH_PKG, NPE)
    assert not any("\x1b" in line for line in r.lines)


def test_text_that_is_no_log_is_still_a_parse_error():
    with pytest.raises(ParseError, match="logcat"):
        parse_logcat_crash("lorem ipsum dolor sit amet\nconsectetur adipiscing elit\n")


def test_cli_reads_an_android_studio_log(tmp_path: Path):
    saved = tmp_path / "studio.txt"
    saved.write_text(render(CRASH, "studio"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "harness.parsers", "logcat-crash", str(saved)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f'"package": "{CRASH_PKG}"' in proc.stdout and f'"exception": "{NPE}"' in proc.stdout
