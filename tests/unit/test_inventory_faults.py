"""Issue 9, items 2 and 16 at the inventory: a cut dumpsys is retried with ``dumpsys -t`` then broken; a parse
failure is cached like a result.

The device is a small scripted link (no adb): it answers the inventory script by running each section's command
against canned outputs, the way the shell on the phone would. The dumps are corpus samples (tests/fixtures/corpus,
rows "dumpsys package" of shared/corpus/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from harness.adb import CommandResult, DeviceEntry, ServerAddress, ShellScript
from harness.device import Device
from harness.errors import DumpIncomplete, ParseError
from harness.facts import DeviceFacts
from harness.inventory import RETRY_DUMPSYS_TIMEOUT_S, collect_inventory

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
PKG = "com.samsung.android.provider.filterprovider"
DUMP = (CORPUS / "dumpsys-package-packages-section_android10_samsung_system-apps.txt").read_text(encoding="utf-8")
MARKER = "*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***"
CUT = DUMP[: DUMP.index("    flags=[")] + f"\n{MARKER}\n\n"


class ScriptedLink:
    """Runs the inventory script's commands against ``dumpsys(argv) -> text``; counts round trips."""

    serial = "scripted0001"
    default_timeout = 30.0

    def __init__(self, dumpsys: Callable[[list[str]], str], pm_list: str = f"package:/system/app/F/F.apk={PKG}\n"):
        self.dumpsys = dumpsys
        self.pm_list = pm_list
        self.round_trips = 0
        self.scripts: list[str] = []
        self.timeouts: list[float | None] = []

    def shell(self, argv: Sequence[str] | ShellScript, *, timeout: float | None = None) -> CommandResult:
        self.round_trips += 1
        self.timeouts.append(timeout)
        text = argv.render() if isinstance(argv, ShellScript) else " ".join(argv)
        self.scripts.append(text)
        out = []
        for part in text.split("; "):
            if part.startswith("echo "):
                out.append(part[5:].replace("$?", "0"))
            elif part.startswith("pm list packages"):
                out.append(self.pm_list.rstrip("\n"))
            elif part.startswith("dumpsys"):
                out.append(self.dumpsys(part.split()).rstrip("\n"))
            elif part == "getprop":
                out.append("[ro.build.version.sdk]: [29]")
        return CommandResult(command=text, exit_code=0, stdout="\n".join(out) + "\n")


def test_cut_dump_is_retried_with_dumpsys_t_and_then_read_whole():
    calls: list[list[str]] = []

    def dumpsys(argv: list[str]) -> str:
        calls.append(argv)
        return DUMP if "-t" in argv else CUT  # the longer timeout lets the service finish

    link = ScriptedLink(dumpsys)
    inv = collect_inventory(link, [PKG], sdk=29)
    assert calls == [["dumpsys", "package", PKG], ["dumpsys", "-t", str(RETRY_DUMPSYS_TIMEOUT_S), "package", PKG]]
    st = inv.packages[PKG]
    assert (st.system, st.install_kind, st.version_name) == (True, "system", "5.0.07")
    assert inv.round_trips == link.round_trips == 2
    assert link.timeouts[1] is not None and link.timeouts[1] > RETRY_DUMPSYS_TIMEOUT_S  # the adb call outlasts -t


def test_dump_cut_twice_is_broken_never_a_verdict():
    link = ScriptedLink(lambda argv: CUT)
    with pytest.raises(DumpIncomplete) as exc:
        collect_inventory(link, [PKG], sdk=29)
    assert isinstance(exc.value, ParseError) and exc.value.serial == link.serial
    assert "DUMP TIMEOUT" in str(exc.value) and f"dumpsys package {PKG}" in str(exc.value)
    assert link.round_trips == 2


def test_android6_has_no_dumpsys_t_and_retries_the_same_command():
    """Before API 24 dumpsys has no ``-t`` (it would be read as a service name): the retry runs the same command."""
    calls: list[list[str]] = []

    def dumpsys(argv: list[str]) -> str:
        calls.append(argv)
        return CUT if len(calls) == 1 else DUMP

    inv = collect_inventory(ScriptedLink(dumpsys), [PKG], sdk=23)
    assert calls == [["dumpsys", "package", PKG]] * 2
    assert inv.packages[PKG].system


def test_whole_dump_costs_one_round_trip():
    link = ScriptedLink(lambda argv: DUMP)
    collect_inventory(link, [PKG], sdk=29)
    assert link.round_trips == 1 and not any("-t" in s for s in link.scripts)


# ---------------------------------------------------------------- item 16: a parse failure is cached

def _device(link: ScriptedLink) -> Device:
    entry = DeviceEntry(serial=link.serial, state="device", server=ServerAddress("127.0.0.1", 5037))
    dev = Device(entry, link)  # type: ignore[arg-type]  # the scripted link has DeviceLink's shell()
    dev.preset_facts(DeviceFacts.from_props({"ro.build.version.sdk": "29", "ro.product.model": "X"}))
    return dev


def test_unparsable_inventory_runs_once_and_raises_the_same_error_every_time():
    link = ScriptedLink(lambda argv: "lorem ipsum\n", pm_list="Error: could not access the package manager\n")
    dev = _device(link)
    messages = set()
    for _ in range(30):
        with pytest.raises(ParseError) as exc:
            dev.inventory([PKG])
        messages.add(str(exc.value))
    assert link.round_trips == 1
    assert len(messages) == 1 and re.search(r"cannot parse output of `(pm list|dumpsys)", messages.pop())


def test_cut_inventory_failure_is_cached_too():
    link = ScriptedLink(lambda argv: CUT)
    dev = _device(link)
    for _ in range(5):
        with pytest.raises(DumpIncomplete):
            dev.inventory([PKG])
    assert link.round_trips == 2  # the first attempt and its one retry, never again


# ---------------------------------------------------------------- item 17: what a missing app's dump printed

def test_missing_app_section_is_what_the_device_printed():
    """Android 7 answers a package it does not know with two sections (AOSP N dumpDexoptStateLPr /
    dumpCompilerStatsLPr); that text is the package's section, the Allure attachment ``dumpsys package <pkg>``."""
    printed = ("Dexopt state:\n  Unable to find package: com.microsoft.office.word\n\nCompiler stats:\n"
               "  Unable to find package: com.microsoft.office.word\n")
    link = ScriptedLink(lambda argv: printed, pm_list="package:/system/app/S/S.apk=com.android.settings\n")
    st = collect_inventory(link, ["com.microsoft.office.word"], sdk=24).packages["com.microsoft.office.word"]
    assert not st.installed and not st.known
    assert st.section.strip() == printed.strip()
