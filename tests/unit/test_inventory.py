"""harness.inventory without a device: the batched script, section splitting, and parsing real dumps.

The dumpsys texts are real phone outputs from the shared corpus (tests/fixtures/corpus/, copied from
shared/corpus/samples; rows "dumpsys package" of shared/corpus/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ParseError
from harness.inventory import (
    build_inventory_script,
    is_data_app_path,
    parse_inventory,
    partition_of,
    split_sections,
    validate_package_name,
)

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
NONCE = "0123456789abcdef"


def _output(list_text: str, dumps: dict[str, str], rc: int = 0) -> str:
    out = [f"@@PH:{NONCE}:pm-list@@", list_text.rstrip("\n"), f"@@PH:{NONCE}:rc:{rc}"]
    for pkg, text in dumps.items():
        out += [f"@@PH:{NONCE}:dumpsys:{pkg}@@", text.rstrip("\n"), f"@@PH:{NONCE}:rc:0"]
    return "\n".join(out) + "\n"


def test_script_quotes_and_uses_sdk_flags():
    old = build_inventory_script(["com.a.b", "com.c.d"], 23, NONCE).render()
    new = build_inventory_script(["com.a.b"], 28, NONCE).render()
    assert "pm list packages -f --user 0;" in old and "--show-versioncode" not in old
    assert "pm list packages -f --user 0 --show-versioncode" in new
    assert old.count("dumpsys package") == 2
    assert f"echo @@PH:{NONCE}:rc:$?" in old


@pytest.mark.parametrize("bad", ["com.a;reboot", "com.a b", "$(id)", "com", "com..a", "1com.a", "com.a\nb",
                                 "com.a.b\n", "c." + "a" * 254])
def test_invalid_package_names_never_reach_the_shell(bad):
    with pytest.raises(ValueError):
        validate_package_name(bad)
    with pytest.raises(ValueError):
        build_inventory_script([bad], 29, NONCE)


def test_forged_markers_without_the_nonce_are_plain_output():
    text = _output("package:/system/app/A/A.apk=com.a.b\n@@PH:ffffffffffffffff:dumpsys:com.evil@@", {})
    sections = split_sections(text, NONCE)
    assert list(sections) == ["pm-list"]
    assert "com.evil" in sections["pm-list"][0]


def test_cut_output_is_a_parse_error_naming_the_command():
    text = f"@@PH:{NONCE}:pm-list@@\npackage:x=com.a.b\n@@PH:{NONCE}:rc:0\n@@PH:{NONCE}:dumpsys:com.a.b@@\nPackages:\n"
    with pytest.raises(ParseError, match="dumpsys:com.a.b"):
        split_sections(text, NONCE)
    with pytest.raises(ParseError):
        split_sections("garbage", NONCE)


def test_updated_system_app_from_a_real_dump():
    """Corpus row dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1: active 1.0.16/20 in /data/app,
    factory 1.0.11/15 on /vendor."""
    pkg = "com.tekartik.package1"
    dump = (CORPUS / "dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1.txt").read_text()
    inv = parse_inventory(_output(f"package:/data/app/x/base.apk={pkg}\n", {pkg: dump}), [pkg], NONCE)
    st = inv.packages[pkg]
    assert (st.installed, st.listed, st.updated_system, st.install_kind) == (True, True, True, "updated_system")
    assert (st.version_name, st.version_code) == ("1.0.16", 20)
    assert (st.factory_version_name, st.factory_version_code) == ("1.0.11", 15)
    assert st.partition == "data" and st.factory_partition == "vendor"
    assert st.enabled is True
    assert any("versionName=1.0.16" in e for e in st.evidence)


def test_missing_package_from_a_real_dump():
    """Corpus row dumpsys-package_not-installed_com.funnyenglish.app: `Unable to find package`."""
    pkg = "com.funnyenglish.app"
    dump = (CORPUS / "dumpsys-package_not-installed_com.funnyenglish.app.txt").read_text()
    st = parse_inventory(_output("package:/system/app/S/S.apk=com.android.settings\n", {pkg: dump}),
                         [pkg], NONCE).packages[pkg]
    assert (st.known, st.installed, st.listed, st.install_kind) == (False, False, False, None)


def test_failed_pm_list_is_a_parse_error():
    with pytest.raises(ParseError, match="pm list packages"):
        parse_inventory(_output("Error: java.lang.SecurityException", {}, rc=255), [], NONCE)


def test_partitions_and_data_app():
    assert partition_of("/system/app/Word/Word.apk") == "system"
    assert partition_of("/product/priv-app/Phonesky") == "product"
    assert partition_of("/system/product/app/X/X.apk") == "product"
    assert partition_of("/apex/com.android.tethering/priv-app/T") == "apex"
    assert partition_of("/data/app/~~abc==/com.a-xyz==/base.apk") == "data"
    assert partition_of(None) is None
    assert is_data_app_path("/system/data-app/Skype/Skype.apk")
    assert not is_data_app_path("/data/app/com.skype.raider-1/base.apk")


def test_parse_errors_name_the_command_once():
    text = f"@@PH:{NONCE}:pm-list@@\ngarbage\x00\x01\n@@PH:{NONCE}:rc:0\n"
    with pytest.raises(ParseError) as err:
        parse_inventory(text, [], NONCE, serial="s1")
    message = str(err.value)
    assert message.count("cannot parse output of") == 1
    assert "pm list packages -f --user 0" in message and message.startswith("[s1]")


def test_pm_list_evidence_line_with_android11_code_path():
    """Android 11+ code paths contain '=' (`/data/app/~~<base64>==/…`): the evidence line must still be found."""
    pkg = "com.tekartik.package1"
    dump = (CORPUS / "dumpsys-package_wearos_updated-vendor-app_com.tekartik.package1.txt").read_text()
    line = f"package:/data/app/~~GSfSdCYUCkDXHTY6qu0DAw==/{pkg}-fNrHlgqJDWTgDoY2Akzmgw==/base.apk={pkg}"
    st = parse_inventory(_output(line + "\n", {pkg: dump}), [pkg], NONCE).packages[pkg]
    assert st.listed
    assert f"pm list packages --user 0: {line}" in st.evidence
