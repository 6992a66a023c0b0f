"""Issue 9, items 1, 2, 4 and 17 at the parser: real ``dumpsys package`` blocks from the corpus, made hostile.

The base texts are corpus samples (tests/fixtures/corpus, rows "dumpsys package" of shared/corpus/README.md); each
test changes only what the item is about, the way AOSP ``PackageManagerService`` / ``cmds/dumpsys`` print it:

* a versionName holding a newline is printed raw by ``pw.println(versionName)``: the rest of the name starts at
  column 0 and the block goes on after it (item 1);
* a ``dumpsys`` cut by its timeout ends with ``*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***`` (item 2);
* a package without ``android:versionName`` prints ``versionName=null`` (item 4);
* a package that is not installed still has output, and that output is the attachment (item 17).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import DumpIncomplete, ParseError
from harness.parsers import dumpsys_cut_marker, parse_dumpsys_package

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
SAMSUNG = "dumpsys-package-packages-section_android10_samsung_system-apps.txt"
FILTER = "com.samsung.android.provider.filterprovider"
DATACREATE = "com.sec.android.app.DataCreate"
WEAR_UPDATED = "dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1.txt"
TEKARTIK = "com.tekartik.package1"


def corpus(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- item 1: a newline inside versionName

def test_newline_in_version_name_keeps_the_whole_block():
    """The continuation ``NEWLINE`` at column 0 is part of the value, not a new section: the block's flags (SYSTEM)
    after it are still read, so a system app is never turned into a user app."""
    text = corpus(SAMSUNG).replace("    versionName=5.0.07\n", "    versionName=RED\nNEWLINE\n", 1)
    d = parse_dumpsys_package(text, FILTER)
    assert d.version_name == "RED\nNEWLINE"
    assert d.system is True and "SYSTEM" in d.flags
    assert d.code_path == "/system/app/FilterProvider" and d.installed and d.enabled
    # the next package of the same dump is still found whole
    other = parse_dumpsys_package(text, DATACREATE)
    assert other.version_name == "1.0" and other.system


def test_newline_in_hidden_copy_version_name():
    """The factory (hidden) copy of an updated system app: the live copy is read and the factory name is whole."""
    text = corpus(WEAR_UPDATED)
    hidden_at = text.index("Hidden system packages:")
    head, tail = text[:hidden_at], text[hidden_at:]
    tail = tail.replace("    versionName=1.0.11\n", "    versionName=1.0.11\nbeta\n", 1)
    d = parse_dumpsys_package(head + tail, TEKARTIK)
    assert d.factory_version_name == "1.0.11\nbeta" and d.factory_code_path == "/vendor/app/com.tekartik.package1"
    assert (d.version_name, d.updated_system, d.system) == ("1.0.16", True, True)


def test_a_version_name_that_forges_a_field_line_is_a_parse_error():
    """A continuation that looks like a field of the block (``    pkgFlags=[ ]``) cannot be told from a real one:
    the key is then printed twice, and the dump is reported as unreadable rather than read with the forged flags."""
    text = corpus(SAMSUNG).replace("    versionName=5.0.07\n", "    versionName=5.0.07\n    pkgFlags=[ HAS_CODE ]\n", 1)
    with pytest.raises(ParseError, match="pkgFlags") as exc:
        parse_dumpsys_package(text, FILTER)
    assert exc.value.command == f"dumpsys package {FILTER}"


def test_a_block_cut_before_its_flags_is_a_parse_error():
    """A blank line then column-0 text inside the versionName ends the block early: without its flags line the
    block cannot say system or not, so it is a parse problem, never a ``user`` verdict."""
    text = corpus(SAMSUNG).replace("    versionName=5.0.07\n", "    versionName=RED\n\nNEWLINE\n", 1)
    with pytest.raises(ParseError, match="flags"):
        parse_dumpsys_package(text, FILTER)


# ---------------------------------------------------------------- item 4: versionName=null

def test_version_name_null_is_no_version_name():
    text = corpus(SAMSUNG).replace("    versionName=5.0.07\n", "    versionName=null\n", 1)
    d = parse_dumpsys_package(text, FILTER)
    assert d.version_name is None
    assert d.version_code == 500700000
    assert any(line.strip() == "versionName=null" for line in d.evidence)


def test_factory_version_name_null():
    text = corpus(WEAR_UPDATED)
    hidden_at = text.index("Hidden system packages:")
    text = text[:hidden_at] + text[hidden_at:].replace("    versionName=1.0.11\n", "    versionName=null\n", 1)
    d = parse_dumpsys_package(text, TEKARTIK)
    assert d.factory_version_name is None and d.version_name == "1.0.16"


# ---------------------------------------------------------------- item 17: what a missing package printed

@pytest.mark.parametrize("text", [
    "Unable to find package: com.funnyenglish.app\n",  # corpus dumpsys-package_not-installed_com.funnyenglish.app
    # Android 7 (AOSP N dumpDexoptStateLPr / dumpCompilerStatsLPr): two sections, no package block
    "Dexopt state:\n  Unable to find package: com.funnyenglish.app\n\nCompiler stats:\n"
    "  Unable to find package: com.funnyenglish.app\n",
], ids=["unable-to-find", "android7-sections"])
def test_missing_package_section_is_what_the_device_printed(text: str):
    d = parse_dumpsys_package(text, "com.funnyenglish.app")
    assert not d.found and not d.installed
    assert d.section.strip() == text.strip()


def test_missing_package_from_the_corpus_keeps_its_line():
    text = corpus("dumpsys-package_not-installed_com.funnyenglish.app.txt")
    d = parse_dumpsys_package(text, "com.funnyenglish.app")
    assert d.section.strip() == "Unable to find package: com.funnyenglish.app"


# ---------------------------------------------------------------- item 2: cut dumps

NEW_MARKER = "*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***"
"""AOSP frameworks/native/cmds/dumpsys/dumpsys.cpp, ``Dumpsys::writeDump`` / ``main`` (Android 8+ sources)."""
OLD_MARKER = "*** SERVICE DUMP TIMEOUT EXPIRED ***"
"""The same file in Android 7.x sources (the first dumpsys with a dump thread and a timeout)."""


def _cut(text: str, marker: str, at: str = "    flags=[") -> str:
    """The text up to ``at`` (mid-block, as a timeout cuts it), then the marker as dumpsys prints it."""
    return text[: text.index(at) + 6] + f"\n{marker}\n\n"


@pytest.mark.parametrize("marker", [NEW_MARKER, OLD_MARKER, "      Failure while dumping the service: "
                                    "java.io.IOException: Timeout"], ids=["android8+", "android7", "ams-failure"])
def test_cut_dump_is_dump_incomplete_not_a_verdict(marker: str):
    text = _cut(corpus(SAMSUNG), marker)
    # today's reading of the part before the marker would be a complete-looking, non-system package
    with pytest.raises(DumpIncomplete) as exc:
        parse_dumpsys_package(text, FILTER)
    assert isinstance(exc.value, ParseError)  # infrastructure: "broken", never a product failure
    assert marker.strip()[:30] in str(exc.value)


def test_cut_marker_found_anywhere_and_only_as_a_whole_line():
    assert dumpsys_cut_marker(_cut(corpus(SAMSUNG), NEW_MARKER)) == NEW_MARKER
    assert dumpsys_cut_marker(corpus(SAMSUNG)) is None
    # a versionName that merely mentions the words is not a marker
    text = corpus(SAMSUNG).replace("versionName=5.0.07", "versionName=DUMP TIMEOUT EXPIRED", 1)
    assert dumpsys_cut_marker(text) is None
    assert parse_dumpsys_package(text, FILTER).version_name == "DUMP TIMEOUT EXPIRED"


# ---------------------------------------------------------------- a block without any "User N:" line

@pytest.mark.parametrize(("sdk", "installed"), [(16, True), (None, True)])
def test_no_user_lines_is_installed_only_before_android_4_2(sdk, installed):
    """Android 4.1 (API 16) and older print no per-user lines (the Android 2.3 corpus bugreport): installed."""
    text = corpus(SAMSUNG).replace("    User 0:", "    Userr 0:")
    assert parse_dumpsys_package(text, FILTER, sdk=sdk).installed is installed


def test_no_user_lines_on_api_17_and_later_is_a_parse_error():
    """From Android 4.2 every block has a ``User N:`` line: without one the block is cut or garbled, never
    'installed and enabled'."""
    text = corpus(SAMSUNG).replace("    User 0:", "    Userr 0:")
    with pytest.raises(ParseError, match="no 'User N:' line.*API 29"):
        parse_dumpsys_package(text, FILTER, sdk=29)
