"""harness.region: the corpus getprop rows' regions, the precedence rules, conflicts and traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.parsers import parse_getprop
from harness.region import apply_override, country_code, locale_region, resolve_region

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "corpus"


def _props(name: str) -> dict[str, str]:
    return parse_getprop((CORPUS / name).read_bytes().decode("utf-8"))


# ---------------------------------------------------------------- corpus rows (README § getprop)

def test_redmi10_global_rom_hk_sales_region() -> None:
    """Row getprop_android13_miui14-global_redmi10-2022.txt: HK (sales region), flavour global; hwc=CN is
    hardware SKU and build.region=global is flavour: neither is a conflict."""
    r = resolve_region(_props("getprop_android13_miui14-global_redmi10-2022.txt"))
    assert (r.region, r.source, r.rom_flavour, r.oem) == ("HK", "ro.miui.region", "global", "miui")
    assert r.conflicts == []
    assert r.signals["ro.boot.hwc"] == "CN" and r.signals["ro.miui.build.region"] == "global"
    assert not r.weak


def test_xiaomi14_hyperos_cn() -> None:
    """Row getprop_android15_hyperos2_xiaomi14_crlf.txt: CN, build.region cn, cust_variant cn_chinatelecom."""
    r = resolve_region(_props("getprop_android15_hyperos2_xiaomi14_crlf.txt"))
    assert (r.region, r.source, r.rom_flavour) == ("CN", "ro.miui.region", "cn")
    assert r.conflicts == [] and r.signals["ro.miui.cust_variant"] == "cn_chinatelecom"


def test_redmi8a_miui125_cn() -> None:
    """Row getprop_android10_miui12.5-cn_redmi8a.txt: CN (ro.miui.region=CN, build.region cn)."""
    r = resolve_region(_props("getprop_android10_miui12.5-cn_redmi8a.txt"))
    assert (r.region, r.source, r.rom_flavour, r.conflicts) == ("CN", "ro.miui.region", "cn", [])


def test_galaxy_s24_cn_via_csc() -> None:
    """Row getprop_android14_oneui6.1_samsung-galaxy-s24.txt: CN via CSC CHC + ro.csc.countryiso_code."""
    r = resolve_region(_props("getprop_android14_oneui6.1_samsung-galaxy-s24.txt"))
    assert (r.region, r.source, r.rom_flavour, r.oem) == ("CN", "ro.csc.sales_code", "CHC", "samsung")
    assert r.signals["ro.csc.countryiso_code"] == "CN" and r.conflicts == []


def test_pixel6_not_determinable_never_coo() -> None:
    """Row getprop_android15_google_pixel6.txt: no OEM region prop; ro.boot.hardware.coo=CN is country of
    origin (trap). Decision: weak locale signals disagree (en-US vs zh-Hans-CN) → None, with the reason."""
    props = _props("getprop_android15_google_pixel6.txt")
    assert props["ro.boot.hardware.coo"] == "CN"
    r = resolve_region(props)
    assert r.region is None and r.source is None and r.oem == "generic"
    assert len(r.conflicts) == 1 and "en-US" in r.conflicts[0] and "zh-Hans-CN" in r.conflicts[0]
    assert r.signals["ro.boot.hardware.coo"] == "CN" and r.signals["gsm.sim.operator.iso-country"] == "hk"


def test_pixel6_coo_alone_is_never_a_region() -> None:
    """Even with every locale signal removed, coo and SIM country never become the region."""
    props = {k: v for k, v in _props("getprop_android15_google_pixel6.txt").items()
             if k not in ("ro.product.locale", "persist.sys.locale")}
    r = resolve_region(props)
    assert r.region is None and r.conflicts == []


def test_tvbox_single_weak_locale() -> None:
    """Row getprop_android7.1.2-reports-9.1_rockchip-rk322x-tvbox.txt: only persist.sys.locale=pt-BR → BR, weak."""
    r = resolve_region(_props("getprop_android7.1.2-reports-9.1_rockchip-rk322x-tvbox.txt"))
    assert (r.region, r.source, r.weak) == ("BR", "weak:persist.sys.locale", True)


# ---------------------------------------------------------------- MIUI rules

def test_miui_region_cn_but_ru_global_rom_is_a_conflict() -> None:
    r = resolve_region({"ro.miui.region": "CN", "ro.product.mod_device": "alioth_ru_global",
                        "ro.miui.build.region": "ru"})
    assert r.region == "CN" and r.rom_flavour == "ru"
    assert any("ro.product.mod_device=alioth_ru_global implies RU" in c for c in r.conflicts)


def test_miui_hwc_never_used_nor_compared() -> None:
    r = resolve_region({"ro.miui.region": "IN", "ro.product.mod_device": "x_in_global", "ro.boot.hwc": "CN"})
    assert (r.region, r.rom_flavour, r.conflicts) == ("IN", "in", [])
    only_hwc = resolve_region({"ro.miui.ui.version.name": "V140", "ro.boot.hwc": "CN"})
    assert only_hwc.region is None


@pytest.mark.parametrize("mod, flavour, region", [
    ("cepheus_global", "global", None), ("cepheus_in_global", "in", "IN"), ("cepheus_ru_global", "ru", "RU"),
    ("cepheus_eea_global", "eea", None), ("cepheus", "cn", None), ("cepheus_id_global", "id", "ID"),
])
def test_miui_mod_device_suffixes(mod: str, flavour: str, region: str | None) -> None:
    r = resolve_region({"ro.product.mod_device": mod})
    assert (r.rom_flavour, r.region) == (flavour, region)
    if region:
        assert r.source == "ro.product.mod_device"


def test_miui_fallbacks_build_region_then_cust_variant() -> None:
    assert resolve_region({"ro.miui.build.region": "cn", "ro.miui.ui.version.code": "14"}).source == \
        "ro.miui.build.region"
    r = resolve_region({"ro.miui.build.region": "global", "ro.miui.cust_variant": "hk"})
    assert (r.region, r.source, r.rom_flavour) == ("HK", "ro.miui.cust_variant", "global")


def test_miui_region_cn_on_global_rom_flags_unprovisioned_default() -> None:
    r = resolve_region({"ro.miui.region": "CN", "ro.product.mod_device": "selene_global"})
    assert r.region == "CN" and any("international ROM" in c for c in r.conflicts)


def test_miui_china_rom_with_foreign_region_is_a_conflict() -> None:
    r = resolve_region({"ro.miui.region": "DE", "ro.product.mod_device": "houji", "ro.miui.build.region": "cn"})
    assert r.region == "DE" and any("China ROM" in c for c in r.conflicts)


def test_miui_vendor_region_disagrees_and_invalid_value() -> None:
    r = resolve_region({"ro.miui.region": "HK", "ro.vendor.miui.region": "TW"})
    assert r.region == "HK" and any("ro.vendor.miui.region=TW implies TW" in c for c in r.conflicts)
    bad = resolve_region({"ro.miui.region": "Global", "ro.vendor.miui.region": "IN"})
    assert (bad.region, bad.source) == ("IN", "ro.vendor.miui.region")
    assert any("not an ISO" in c for c in bad.conflicts)


def test_miui_without_country_falls_back_to_weak_signals() -> None:
    r = resolve_region({"ro.product.mod_device": "x_eea_global", "persist.sys.locale": "de-DE"})
    assert (r.region, r.source, r.rom_flavour, r.oem) == ("DE", "weak:persist.sys.locale", "eea", "miui")


# ---------------------------------------------------------------- Samsung / ColorOS / generic

def test_samsung_omc_code_wins_and_table_fallback() -> None:
    r = resolve_region({"persist.omc.sales_code": "XEF", "ro.csc.sales_code": "DBT"})
    assert (r.region, r.source, r.rom_flavour) == ("FR", "persist.omc.sales_code", "XEF")
    assert any("differs" in c for c in r.conflicts)
    unknown = resolve_region({"ro.csc.sales_code": "ZZZ"})
    assert unknown.region is None and any("ZZZ" in c for c in unknown.conflicts)
    clash = resolve_region({"ro.csc.sales_code": "CHC", "ro.csc.countryiso_code": "DE"})
    assert clash.region == "DE" and any("CHC is a CN code" in c for c in clash.conflicts)


def test_coloros_region_marks() -> None:
    r = resolve_region({"persist.sys.oppo.region": "IN", "ro.vendor.oplus.regionmark": "IN"})
    assert (r.region, r.source, r.oem, r.conflicts) == ("IN", "persist.sys.oppo.region", "coloros", [])
    eu = resolve_region({"ro.oppo.regionmark": "EUEX", "persist.sys.locale": "fr-FR"})
    assert (eu.region, eu.rom_flavour) == ("FR", "eea")
    clash = resolve_region({"persist.sys.oppo.region": "CN", "ro.oppo.regionmark": "IN"})
    assert clash.region == "CN" and clash.conflicts


def test_generic_weak_agreeing_signals() -> None:
    r = resolve_region({"persist.sys.country": "de", "ro.product.locale": "de-DE", "persist.sys.locale": "de-DE"})
    assert (r.region, r.source) == ("DE", "weak:persist.sys.country")
    assert resolve_region({}).region is None and resolve_region({}).conflicts == []


def test_empty_and_whitespace_values_are_absent() -> None:
    r = resolve_region({"ro.miui.region": "  ", "ro.miui.build.region": "", "ro.miui.cust_variant": "cn"})
    assert (r.region, r.source) == ("CN", "ro.miui.cust_variant")
    assert "ro.miui.region" not in r.signals


def test_helpers() -> None:
    assert country_code("hk") == "HK" and country_code("UK") == "GB" and country_code("global") is None
    assert locale_region("zh-Hans-CN") == "CN" and locale_region("en_US") == "US"
    assert locale_region("en") is None and locale_region("es-419") is None


# ---------------------------------------------------------------- override

def test_override_wins_and_keeps_the_derived_value() -> None:
    derived = resolve_region(_props("getprop_android13_miui14-global_redmi10-2022.txt"))
    r = apply_override(derived, "in")
    assert (r.region, r.source) == ("IN", "override")
    assert r.signals["derived.region"] == "HK" and r.signals["derived.source"] == "ro.miui.region"
    assert any("overridden to IN" in c for c in r.conflicts)
    assert apply_override(derived, None) is derived
    with pytest.raises(UsageError):
        apply_override(derived, "India")
