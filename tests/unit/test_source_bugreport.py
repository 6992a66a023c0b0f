"""Bugreport source (harness.sources.bugreport) on the real corpus bugreports and on variants of them.

Corpus: tests/fixtures/corpus/bugreports/ (copies of /work/shared/corpus/bugreports/, provenance in its README).
The "Android 10" and "Android 11+" shapes are made here from the real Android 8.1 file by the edits the AOSP
sources imply (module docstring of harness.sources.bugreport): no closing duration line after the properties
(Android 10 DurationReporter skipped sections under 0.5 s), the next section's header and content right after;
dumpsys's "Service host process PID" lines after the service header (Android 11+); stray lines of concurrent
sections inside the property list.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from harness.errors import ParseError, SourceError
from harness.facts import DeviceFacts
from harness.sources.bugreport import load, read_sections
from tests.zipdamage import damage

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "bugreports"
R23 = CORPUS / "bugreport_2.3_miui-nexusone-chkbugreport-excerpt.txt"
R81 = CORPUS / "bugreport_8.1_smartron-tphoneE-excerpt.txt"
MVT = CORPUS / "bugreport_10_mvt-fixture-samsung.txt"
PROPS_END = "------ 0.045s was the duration of 'SYSTEM PROPERTIES' ------\n"


def _one(path: Path):
    (target,) = load(path)
    return target, DeviceFacts.from_props(target.props)


R23_DUMP_END = b"-" * 79 + b"\r\nDUMP OF SERVICE permission:\r\n"
"""What follows the package dump in the original of the Android 2.3 excerpt (sonyxperiadev/ChkBugReport
``examples/bugreports/bugreport_deadlock.txt`` at 2d0f1f74743b54043a1cd72212baab0412ba54b7, lines 20882-20883, byte
for byte): dumpsys's separator and the next service. The excerpt itself stops inside the package dump."""


def _r23_complete(tmp_path: Path) -> Path:
    path = tmp_path / R23.name
    path.write_bytes(R23.read_bytes() + R23_DUMP_END)
    return path


def test_android_2_3_crlf_report_without_fingerprint_header(tmp_path):
    target, facts = _one(_r23_complete(tmp_path))
    assert "\r" not in "".join(target.props.values())
    assert (facts.model, facts.device, facts.sdk) == ("Nexus One", "passion", 10)
    assert facts.fingerprint == "Android/libra_passion/passion:2.3.5/MIUI/1.8.12:userdebug/test-keys"
    loc = target.packages("com.google.android.location")  # pkgFlags=0x10000000… hex mask, no User lines
    framework = target.packages("android")  # pkgFlags=0x1 installStatus=1 enabled=0
    assert framework.installed and framework.system and framework.install_kind == "system"
    assert (framework.version_name, framework.version_code) == ("2.3.5", 10)
    assert loc.code_path == "/system/app/NetworkLocation.apk" and loc.partition == "system"
    assert not target.packages("com.skype.raider").installed  # the dump is complete: absent is a verdict


def test_android_2_3_excerpt_that_ends_inside_the_package_dump_is_broken():
    """The corpus excerpt as stored ends inside 'DUMP OF SERVICE package:' (it keeps 18 of 72 packages): a file cut
    there cannot say which apps are missing. It used to load, so any app after the cut counted as not installed."""
    with pytest.raises(SourceError, match="section is cut short: the file ends inside it, at line 601") as err:
        load(R23)
    assert err.value.line == 152 and err.value.path == str(R23) and "complete bugreport" in str(err.value)


def test_android_8_1_oem_report_skype_preinstalled_privileged():
    target, facts = _one(R81)
    assert (facts.model, facts.sdk) == ("T5911", 27)
    assert facts.fingerprint == "Smartron/tphoneE/rimoE:8.1.0/T5911INDURD-147/147:user/release-keys"
    skype = target.packages("com.skype.raider")
    assert skype.installed and skype.enabled and skype.install_kind == "system"
    assert (skype.version_name, skype.version_code, skype.code_path) == ("2.4.546.17975", 1, "/system/priv-app/MSSkype")
    assert skype.listed and any("no 'pm list packages'" in e for e in skype.evidence)
    assert not target.packages("com.microsoft.office.word").known


def test_missing_properties_section_is_broken_naming_the_section():
    with pytest.raises(SourceError, match="no SYSTEM PROPERTIES section") as err:
        load(MVT)
    assert err.value.path == str(MVT)


def _variant(tmp_path: Path, name: str, edit) -> Path:
    text = R81.read_text(encoding="utf-8")
    out = tmp_path / name
    out.write_text(edit(text), encoding="utf-8")
    return out


def test_android_10_properties_without_closing_duration_line(tmp_path):
    path = _variant(tmp_path, "a10.txt", lambda t: t.replace(
        PROPS_END, "------ STORAGED IO INFO (storaged -u -p) ------\n1000 system 0 0 0 0\n"))
    target, facts = _one(path)
    sec = read_sections(iter(path.read_text().splitlines()))
    assert not sec.props_closed and facts.model == "T5911" and "1000 system" not in (sec.props_text or "")
    assert target.packages("com.skype.raider").installed


def test_android_11_service_header_lines_and_stray_lines_inside_properties(tmp_path):
    def edit(text: str) -> str:
        text = text.replace("------ SYSTEM PROPERTIES (getprop) ------\n",
                            "------ SYSTEM PROPERTIES (getprop) ------\n"
                            "------ 0.019s was the duration of 'mount debugfs' ------\n"
                            "*** command '/system/bin/true' failed: exit code 1\n")
        return text.replace("DUMP OF SERVICE package:\n", "DUMP OF SERVICE package:\nService host process PID: 1492\n"
                            "Threads in use: 0/32\nClient PIDs: 2045\n")
    target, facts = _one(_variant(tmp_path, "a11.txt", edit))
    assert facts.model == "T5911" and target.packages("com.skype.raider").version_name == "2.4.546.17975"


def test_bugreport_zip_main_entry_and_pattern_lookup(tmp_path):
    text = R81.read_bytes()
    with zipfile.ZipFile(tmp_path / "br.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("main_entry.txt", "bugreport-tphoneE-2018-04-25.txt")
        z.writestr("bugreport-tphoneE-2018-04-25.txt", text)
        z.writestr("FS/data/misc/x.txt", "noise")
    target, facts = _one(tmp_path / "br.zip")
    assert facts.model == "T5911" and target.serial == "bugreport:br.zip"
    with zipfile.ZipFile(tmp_path / "nomain.zip", "w") as z:
        z.writestr("dumpstate-2018.txt", text)
    assert _one(tmp_path / "nomain.zip")[1].sdk == 27
    with zipfile.ZipFile(tmp_path / "dangling.zip", "w") as z:
        z.writestr("main_entry.txt", "bugreport-gone.txt")
    with pytest.raises(SourceError, match="not in the zip") as err:
        load(tmp_path / "dangling.zip")
    assert err.value.member == "main_entry.txt"


@pytest.mark.parametrize("how", ["deflate", "crc"])
@pytest.mark.parametrize("member", ["bugreport-tphoneE-2018-04-25.txt", "main_entry.txt"])
def test_a_corrupt_member_of_a_bugreport_zip_is_broken_naming_it(tmp_path, how, member):
    """A damaged deflate stream or CRC-32 of the text member used to escape as zlib.error / BadZipFile."""
    with zipfile.ZipFile(tmp_path / "br.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("main_entry.txt", "bugreport-tphoneE-2018-04-25.txt" + " " * 400)
        z.writestr("bugreport-tphoneE-2018-04-25.txt", R81.read_bytes())
    path = damage(tmp_path / "br.zip", member, how, tmp_path / "bad.zip")
    with pytest.raises(SourceError, match="corrupt zip member") as err:
        load(path)
    assert (err.value.path, err.value.member) == (str(path), member) and "intact bugreport zip" in str(err.value)


def test_damaged_inputs_are_broken_with_file_member_and_line(tmp_path):
    cut = _variant(tmp_path, "cut.txt", lambda t: t.split("--------- 0.373s was the duration of dumpsys package")[0])
    with pytest.raises(SourceError, match="cut short") as err:
        load(cut)
    assert err.value.line == 602  # DUMP OF SERVICE package:
    timeout = _variant(tmp_path, "timeout.txt", lambda t: t.replace(
        "Packages:\n", "*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***\nPackages:\n", 1))
    with pytest.raises(SourceError, match="timed out"):
        load(timeout)
    nolist = _variant(tmp_path, "nolist.txt", lambda t: t.replace("Packages:\n", "Packagez:\n"))
    with pytest.raises(SourceError, match="no 'Packages:' list"):
        load(nolist)
    noprops = _variant(tmp_path, "noprops.txt", lambda t: t.replace("[ro.build.version.sdk]: [27]\n", ""))
    with pytest.raises(SourceError, match="ro.build.version.sdk") as err:
        load(noprops)
    assert err.value.line == 15
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(SourceError, match="binary data|corrupt zip"):
        load(tmp_path / "bad.zip")


# ---------------------------------------------------------------- breaker findings on the package dump

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bugreports" / "bugreport-redmi8a-cn.txt"
STRAY = "W/PackageManager: stray log line written into the dump\n"
OUTLOOK_USER0 = "    User 0: ceDataInode=0 installed=false"  # Outlook is on the image, uninstalled for user 0


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("before", [OUTLOOK_USER0, "  Package [com.microsoft.office.excel]"])
def test_a_stray_column_0_line_in_the_package_list_is_broken_at_its_line(tmp_path, before):
    """A log line written into the dump (column 0, no empty line before it, not ``Title:``) is not a section title:
    it used to end the list, so Outlook lost its ``User 0: installed=false`` line (counted installed: a wrong
    pass) or every package after it vanished (a false missing app). Now the report is broken at that line."""
    text = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "stray.txt"
    path.write_text(text.replace(before, STRAY + before, 1), encoding="utf-8")
    with pytest.raises(SourceError, match="not dumpsys package output") as err:
        load(path)
    assert err.value.line == _line_of(text, before) and "stray log line" in str(err.value)


def test_a_real_section_title_after_an_empty_line_still_ends_the_list(tmp_path):
    """dumpsys package prints an empty line before every title but the first (AOSP DumpState.onTitlePrinted):
    such a title ends the Packages: list as before, and a Hidden system packages: list after it is read."""
    text = EXAMPLE.read_text(encoding="utf-8")
    footer = "--------- 0.373s was the duration of dumpsys package"
    extra = ("\nShared users:\n  SharedUser [android.uid.system] (8e51766):\n    userId=1000\n"
             "\nPreferred Activities User 0:\n  Non-Data Actions:\n")
    path = tmp_path / "titles.txt"
    path.write_text(text.replace(footer, extra + footer, 1), encoding="utf-8")
    (target,) = load(path)
    assert not target.packages("com.microsoft.office.outlook").installed
    assert target.packages("com.skype.raider").installed


def test_android_8_package_dump_cut_then_another_service_is_broken(tmp_path):
    """Android 8+ (API 26) close every dumpsys with '--------- N.NNNs was the duration of dumpsys package …' (the
    real 8.1 corpus file): a dump that stops inside a block and is followed by the next service is cut."""
    def edit(text: str) -> str:
        head, _sep, tail = text.partition("  Package [com.google.android.youtube]")
        rest = tail.split("--------- 0.373s was the duration of dumpsys package", 1)[1].split("\n", 1)[1]
        return (head + "  Package [com.google.android.youtube] (4c9bf6a):\n    userId=10070\n" + "-" * 79
                + "\nDUMP OF SERVICE permission:\n" + rest)
    path = _variant(tmp_path, "cut.txt", edit)
    with pytest.raises(SourceError, match="cut short: line [0-9]+ starts another service") as err:
        load(path)
    assert err.value.line == 602


def test_android_4_2_and_later_block_without_user_lines_is_broken_not_installed(tmp_path):
    """API 17+ print a ``User N:`` line in every package block: a block without one is cut or garbled, never
    'installed' (the Android 2.3 corpus file, API 10, has none and still reads as installed: see above)."""
    path = _variant(tmp_path, "nouser.txt", lambda t: t.replace(
        "    User 0: ceDataInode=802953 installed=true", "    Userr 0: ceDataInode=802953 installed=true", 1))
    (target,) = load(path)
    with pytest.raises(ParseError, match="no 'User N:' line"):
        target.packages("com.skype.raider")
    assert target.packages("com.google.android.youtube").installed  # the other blocks are fine


def test_properties_cut_before_the_model_is_broken_naming_the_section(tmp_path):
    """A property list cut before ro.product.* used to give 'None matches no device profile'."""
    path = _variant(tmp_path, "props.txt", lambda t: "".join(
        ln for ln in t.splitlines(keepends=True)
        if not ln.startswith(("[ro.product.model]", "[ro.product.device]", "[ro.product.name]"))))
    with pytest.raises(SourceError, match="SYSTEM PROPERTIES section is incomplete") as err:
        load(path)
    assert err.value.line == 15 and "last property is at line" in str(err.value)


def test_a_line_longer_than_the_cap_is_broken_without_holding_it(tmp_path, monkeypatch):
    import harness.sources.bugreport as br

    monkeypatch.setattr(br, "MAX_LINE_CHARS", 1000)
    path = _variant(tmp_path, "long.txt", lambda t: t.replace("Packages:\n", "Packages:\n" + "x" * 5000 + "\n", 1))
    with pytest.raises(SourceError, match="line longer than 1000 characters") as err:
        load(path)
    assert err.value.line == 724
    _one(_variant(tmp_path, "edge.txt", lambda t: t.replace("Packages:\n", "Packages:\n" + " " * 999 + "\n", 1)))


def test_a_corrupt_zip_is_named_corrupt_zip(tmp_path):
    """A file with the zip signature (or named .zip) that zipfile cannot open is a corrupt zip, not a text
    bugreport without a properties section."""
    (tmp_path / "bugreport.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(SourceError, match="corrupt zip"):
        load(tmp_path / "bugreport.zip")
    (tmp_path / "renamed.zip").write_text("not a zip at all\n")
    with pytest.raises(SourceError, match="corrupt zip"):
        load(tmp_path / "renamed.zip")


# ---------------------------------------------------------------- a file cut inside the package dump, any Android

MI5 = Path(__file__).resolve().parents[2] / "examples" / "bugreports" / "bugreport-mi5-cn.txt"  # API 24
MI5_FOOTER = "--------- 0.373s was the duration of dumpsys package, ending at: 2026-12-01 03:00:01\n"
NEXT_SERVICE = "-" * 79 + "\nDUMP OF SERVICE permission:\n"


def _cut(tmp_path: Path, source: Path, *, lines: int | None = None, chars: int | None = None) -> Path:
    data = source.read_bytes()
    if lines is not None:
        data = b"".join(data.splitlines(keepends=True)[:lines])
    if chars is not None:
        data = data[:chars]
    out = tmp_path / f"cut-{source.stem}-{lines}-{chars}.txt"
    out.write_bytes(data)
    return out


@pytest.mark.parametrize(("source", "lines", "chars", "header_line"), [
    (MI5, 315, None, 68),  # Android 7 (API 24): between two package blocks; judged "Excel missing" before
    (MI5, 857, None, 68),  # the last line of the dump (its User 0: line), before the closing footer
    (MI5, None, 30000, 68),  # inside 'Package [com.android.browser]', before its User 0: line
    (EXAMPLE, 1174, None, 520),  # Android 10 (API 29)
    (R81, 800, None, 602),  # Android 8.1 (API 27), the real OEM report
], ids=["android7-between-blocks", "android7-last-line", "android7-inside-a-block", "android10", "android8.1"])
def test_a_file_cut_inside_the_package_dump_is_broken_on_every_android(tmp_path, source, lines, chars, header_line):
    with pytest.raises(SourceError, match="section is cut short: the file ends inside it") as err:
        load(_cut(tmp_path, source, lines=lines, chars=chars))
    assert err.value.line == header_line and "DUMP OF SERVICE package:" in str(err.value)
    assert "take a complete bugreport" in str(err.value)


def test_the_cut_block_is_named_when_it_lacks_its_user_lines(tmp_path):
    with pytest.raises(SourceError, match=r"inside the block 'Package \[com.android.browser\]' of line 669 before "
                                          r"its 'User N:' line"):
        load(_cut(tmp_path, MI5, chars=30000))


def test_android_2_3_cut_right_after_the_separator_is_broken_and_complete_with_the_next_service(tmp_path):
    """Before Android 8 nothing closes the package dump: what proves it complete is what dumpstate writes after it.
    A separator with nothing after it (the file ends there) does not."""
    sep_only = tmp_path / "sep.txt"
    sep_only.write_bytes(R23.read_bytes() + R23_DUMP_END.split(b"\r\n")[0] + b"\r\n\r\n")
    with pytest.raises(SourceError, match="the file ends inside it"):
        load(sep_only)
    section = tmp_path / "section.txt"
    section.write_bytes(R23.read_bytes() + b"------ APP ACTIVITIES (dumpsys activity all) ------\r\n")
    assert _one(section)[1].sdk == 10


def test_android_7_without_footer_reads_when_the_next_service_follows(tmp_path):
    """An Android 7 report whose package dump is followed by the next service is complete (no footer before 8)."""
    path = tmp_path / "a7.txt"
    path.write_text(MI5.read_text(encoding="utf-8").replace(MI5_FOOTER, NEXT_SERVICE), encoding="utf-8")
    target, facts = _one(path)
    assert facts.sdk == 24 and target.packages("com.microsoft.office.excel").installed
    ends = tmp_path / "a7-ends.txt"
    ends.write_text(MI5.read_text(encoding="utf-8").split(MI5_FOOTER)[0], encoding="utf-8")
    with pytest.raises(SourceError, match="the file ends inside it"):
        load(ends)


def test_android_7_block_cut_before_its_user_line_then_the_next_service_is_broken(tmp_path):
    """dumpsys stopped inside Excel's block and dumpstate went on: the packages after Excel are not in the list,
    so they would look absent. The last block of the Packages: list has no User 0: line (API 17+ always print it)."""
    text = MI5.read_text(encoding="utf-8")
    head = text.split("  Package [com.microsoft.office.excel]")[0]
    path = tmp_path / "a7-cut.txt"
    path.write_text(head + "  Package [com.microsoft.office.excel] (b3fb089):\n    userId=10112\n" + NEXT_SERVICE,
                    encoding="utf-8")
    with pytest.raises(SourceError, match=r"last block of its Packages: list, 'Package \[com.microsoft.office."
                                          r"excel\]', has no 'User N:' line") as err:
        load(path)
    assert err.value.line == _line_of(text, "  Package [com.microsoft.office.excel]")
