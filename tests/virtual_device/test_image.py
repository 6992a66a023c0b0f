"""Image model, loader errors (file, line, key, did-you-mean), getprop import, and the 8 seed images of seed.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ProfileError, ProfileErrors
from virtual_device.image import (
    IMAGES_DIR,
    ImageError,
    cli_import_getprop,
    import_getprop,
    list_images,
    load_image,
    load_named_image,
    parse_getprop,
)
from virtual_device.state import DeviceState

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"

MINIMAL = """\
name: t-minimal
props:
  ro.build.version.sdk: "24"
  ro.build.version.release: "7.0"
  ro.product.model: MI 5
  ro.product.device: gemini
  ro.product.name: gemini
packages:
  - package: com.example.app
    version_name: "1.0"
    version_code: 1
    code_path: /data/app/com.example.app-1/base.apk
"""


def write(tmp_path: Path, text: str, name: str = "img.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_image_loads_with_defaults(tmp_path):
    image = load_image(write(tmp_path, MINIMAL))
    assert image.sdk == 24
    assert image.users[0].id == 0
    assert image.display.width == 1080
    pkg = image.packages[0]
    assert pkg.kind == "user" and pkg.code_dir == "/data/app/com.example.app-1"
    assert pkg.user_state(0).installed and pkg.user_state(0).enabled == 0


def test_typo_key_names_line_and_suggests(tmp_path):
    text = MINIMAL.replace("    version_code: 1", "    version_cod: 1")
    with pytest.raises(ProfileError) as exc:
        load_image(write(tmp_path, text))
    errs = exc.value.errors if isinstance(exc.value, ProfileErrors) else [exc.value]
    typo = [e for e in errs if "version_cod" in e.message]
    assert typo, [str(e) for e in errs]
    assert typo[0].line == 11
    assert typo[0].key == "packages[0].version_cod"
    assert "did you mean `version_code`?" in str(typo[0])
    assert str(typo[0]).startswith(f"{tmp_path / 'img.yaml'}:11:")


def test_typo_top_level_key(tmp_path):
    text = MINIMAL.replace("packages:", "pakages:")
    with pytest.raises(ImageError) as exc:
        load_image(write(tmp_path, text))
    assert exc.value.line == 8 and "did you mean `packages`?" in str(exc.value)


def test_bad_yaml_reports_line(tmp_path):
    text = MINIMAL.replace("  ro.product.model: MI 5", "  ro.product.model: [MI 5")
    with pytest.raises(ImageError) as exc:
        load_image(write(tmp_path, text))
    assert "invalid YAML" in exc.value.message
    assert exc.value.line is not None and 5 <= exc.value.line <= 8


def test_duplicate_key_is_an_error(tmp_path):
    text = MINIMAL.replace('  ro.build.version.release: "7.0"\n',
                           '  ro.build.version.release: "7.0"\n  ro.build.version.sdk: "25"\n')
    with pytest.raises(ImageError) as exc:
        load_image(write(tmp_path, text))
    assert "duplicate key 'ro.build.version.sdk'" in exc.value.message
    assert exc.value.line == 5


def test_bad_values_and_rules(tmp_path):
    text = MINIMAL.replace("    version_code: 1", "    version_code: -4\n    kind: updated_system")
    with pytest.raises(ProfileError) as exc:
        load_image(write(tmp_path, text))
    text_all = str(exc.value)
    assert "version_code" in text_all and "greater than or equal to 0" in text_all


def test_updated_system_needs_factory(tmp_path):
    text = MINIMAL.replace("    version_code: 1", "    version_code: 1\n    kind: updated_system")
    with pytest.raises(ImageError) as exc:
        load_image(write(tmp_path, text))
    assert "factory" in str(exc.value) and exc.value.line == 9


def test_missing_prop_unknown_user_duplicate_package(tmp_path):
    text = MINIMAL.replace("  ro.product.name: gemini\n", "") + """\
    users: {5: {installed: false}}
  - package: com.example.app
    version_name: "2.0"
    version_code: 2
    code_path: /data/app/com.example.app-2/base.apk
"""
    with pytest.raises(ProfileErrors) as exc:
        load_image(write(tmp_path, text))
    msgs = [str(e) for e in exc.value.errors]
    assert any("ro.product.name" in m for m in msgs)
    assert any("user 5 is not defined" in m and ":12:" in m for m in msgs)
    assert any("listed twice" in m and ":13:" in m for m in msgs)


def test_unreadable_and_non_mapping(tmp_path):
    with pytest.raises(ImageError) as exc:
        load_image(tmp_path / "nope.yaml")
    assert "file not found" in str(exc.value)
    with pytest.raises(ImageError):
        load_image(write(tmp_path, "- just\n- a list\n"))


def test_load_named_image_did_you_mean():
    with pytest.raises(ImageError) as exc:
        load_named_image("mi5-cm")
    assert "did you mean `mi5-cn`?" in str(exc.value)


# -- getprop import --------------------------------------------------------------------------------------------

def test_import_getprop_crlf_no_carriage_returns():
    """Corpus row getprop_android15_hyperos2_xiaomi14_crlf.txt: values must not end in \\r."""
    props = import_getprop(CORPUS / "getprop_android15_hyperos2_xiaomi14_crlf.txt")
    assert props["ro.build.version.sdk"] == "35"
    assert props["ro.mi.os.version.name"] == "OS2.0"
    assert not any(v.endswith("\r") for v in props.values())


def test_import_getprop_utf8_values():
    """Corpus row getprop_android10_miui12.5-cn_redmi8a.txt: UTF-8 operator names."""
    props = import_getprop(CORPUS / "getprop_android10_miui12.5-cn_redmi8a.txt")
    assert props["ro.product.model"] == "Redmi 8A"
    assert props["ro.miui.ui.version.name"] == "V125"
    assert props["gsm.sim.operator.alpha"].isprintable() and not props["gsm.sim.operator.alpha"].isascii()


def test_parse_getprop_multiline_and_junk():
    text = "junk line\r\n[a]: [1]\r\n[b]: [line1\nline2]\n[c]: []\n"
    assert parse_getprop(text) == {"a": "1", "b": "line1\nline2", "c": ""}


def test_import_getprop_rejects_non_dump(tmp_path):
    with pytest.raises(ImageError) as exc:
        import_getprop(write(tmp_path, "hello\n", "x.txt"))
    assert "no `[key]: [value]` lines" in str(exc.value)


def test_cli_import_getprop_prints_yaml(capsys):
    rc = cli_import_getprop([str(CORPUS / "getprop_android10_miui12.5-cn_redmi8a.txt")])
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("props:\n") and "ro.product.model: Redmi 8A" in out


def test_cli_import_getprop_writes_image(tmp_path, capsys):
    img = write(tmp_path, MINIMAL)
    rc = cli_import_getprop([str(CORPUS / "getprop_android10_miui12.5-cn_redmi8a.txt"), "--image", str(img)])
    assert rc == 0
    image = load_image(img)
    assert image.props_from == "props/getprop_android10_miui12.5-cn_redmi8a.txt"
    assert image.props["ro.miui.region"] == "CN"
    # inline props win over props_from, so the import removed the inline ones the dump gives: the device is now
    # the Redmi 8A of the dump, not the MI 5 the image said before
    assert image.props["ro.product.model"] == "Redmi 8A"
    out = capsys.readouterr().out
    assert "removed" in out and "ro.product.model ('MI 5' -> 'Redmi 8A')" in out


def test_cli_import_getprop_bad_file(tmp_path, capsys):
    assert cli_import_getprop([str(tmp_path / "missing.txt")]) == 2
    assert "error:" in capsys.readouterr().err


# -- the seed images (specs/seed.md) ----------------------------------------------------------------------------

SEED = {
    "mi5-cn": ("MI 5", "gemini", 24, "CN"),
    "mimax-in": ("MI MAX", "hydrogen", 23, "IN"),
    "mi4s-cn": ("MI 4S", "aqua", 24, "CN"),
    "redmi-note3-in": ("Redmi Note 3", "kenzo", 23, "IN"),
    "redmi3-id": ("Redmi 3", "ido", 22, "ID"),
    "redmi-note3-ru": ("Redmi Note 3", "kenzo", 23, "RU"),
    "redmi8a-cn-real": ("Redmi 8A", "olivelite", 29, "CN"),
    "mimax-in-updated": ("MI MAX", "hydrogen", 23, "IN"),
}
PARTNERS = ["com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
            "com.microsoft.office.outlook", "com.skype.raider"]


def test_exactly_the_seed_images_ship():
    assert sorted(p.stem for p in list_images(IMAGES_DIR)) == sorted(SEED)


@pytest.mark.parametrize("name", sorted(SEED))
def test_seed_image_identity(name):
    model, device, sdk, region = SEED[name]
    image = load_named_image(name)
    p = image.props
    assert (p["ro.product.model"], p["ro.product.device"], image.sdk, p["ro.miui.region"]) == (model, device, sdk,
                                                                                                region)
    for key in ("ro.build.fingerprint", "ro.miui.ui.version.name", "ro.build.version.release", "ro.serialno"):
        assert p.get(key), key
    if sdk < 29:
        assert p["ro.miui.ui.version.name"] == "V8"
    state = DeviceState.from_image(image)
    for base in ("android", "com.android.settings", "com.android.systemui", "com.miui.home", "com.android.phone"):
        assert state.package(base) is not None
    for pkg in image.packages:  # every APK exists in the device file system
        for apk in pkg.apk_paths():
            assert state.fs.exists(apk), apk


def _partner(name: str, pkg: str):
    return load_named_image(name).package(pkg)


def test_seed_faults_are_exactly_the_agreed_ones():
    for name in SEED:
        image = load_named_image(name)
        present = [p.package for p in image.packages]
        expected = [p for p in PARTNERS if not (name == "mi4s-cn" and p == "com.microsoft.office.excel")]
        assert present == expected, name
    assert _partner("redmi-note3-in", "com.microsoft.office.word").version_name == "16.0.6925.1000"
    assert _partner("redmi-note3-in", "com.microsoft.office.word").version_code == 2002692510
    assert _partner("redmi3-id", "com.skype.raider").users[0].enabled == 3
    outlook = _partner("redmi8a-cn-real", "com.microsoft.office.outlook")
    assert outlook.code_path == "/system/app/Outlook/Outlook.apk" and outlook.kind == "system"
    assert outlook.users[0].installed is False
    word = _partner("mimax-in-updated", "com.microsoft.office.word")
    assert word.kind == "updated_system" and word.code_dir == "/data/app/com.microsoft.office.word-1"
    assert (word.version_name, word.factory.version_name, word.factory.code_path) == (
        "16.0.7070.2036", "16.0.6925.1000", "/system/app/Word/Word.apk")
    ru = load_named_image("redmi-note3-ru").props
    assert ru["ro.product.mod_device"] == "kenzo_ru_global"
    idp = load_named_image("redmi3-id").props
    assert (idp["ro.product.mod_device"], idp["ro.miui.build.region"]) == ("ido_global", "global")
    assert load_named_image("mimax-in").props["ro.product.mod_device"] == "hydrogen_in_global"
    # issue-4 launch faults from the seed table
    assert _partner("mimax-in", "com.microsoft.office.excel").launch.cold_start_ms == 6000
    assert _partner("mi4s-cn", "com.microsoft.office.powerpoint").launch.outcome == "crash"
    assert _partner("redmi3-id", "com.microsoft.office.outlook").launch.outcome == "anr"


def test_compliant_partner_values_match_the_seed_table():
    image = load_named_image("mi5-cn")
    rows = {p.package: (p.version_name, p.version_code, p.code_path, p.kind, p.launcher_activity)
            for p in image.packages}
    assert rows == {
        "com.microsoft.office.word": ("16.0.7070.2036", 2002707036, "/system/app/Word/Word.apk", "system",
                                      "com.microsoft.office.apphost.LaunchActivity"),
        "com.microsoft.office.excel": ("16.0.7070.2036", 2002707037, "/system/app/Excel/Excel.apk", "system",
                                       "com.microsoft.office.apphost.LaunchActivity"),
        "com.microsoft.office.powerpoint": ("16.0.7070.2036", 2002707038, "/system/app/PowerPoint/PowerPoint.apk",
                                            "system", "com.microsoft.office.apphost.LaunchActivity"),
        "com.microsoft.office.outlook": ("2.1.108", 173, "/system/data-app/Outlook/Outlook.apk", "removable_preload",
                                         "com.microsoft.office.outlook.MainActivity"),
        "com.skype.raider": ("7.06.0.582", 67000582, "/system/data-app/Skype/Skype.apk", "removable_preload",
                             "com.skype.raider.Main"),
    }
    texts = {p.package: p.first_screen.texts for p in image.packages}
    assert texts["com.microsoft.office.outlook"] == ["Add account"] and texts["com.skype.raider"] == ["Sign in"]


def test_redmi8a_props_equal_the_real_dump():
    image = load_named_image("redmi8a-cn-real")
    assert image.props == import_getprop(CORPUS / "getprop_android10_miui12.5-cn_redmi8a.txt")


def test_duplicate_user_id(tmp_path):
    text = MINIMAL + "users:\n  - {id: 0, name: Owner}\n  - {id: 0, name: Again}\n"
    with pytest.raises(ImageError) as exc:
        load_image(write(tmp_path, text))
    assert "user 0 is defined twice" in str(exc.value) and exc.value.line == 15
