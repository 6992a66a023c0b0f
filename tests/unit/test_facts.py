"""harness.facts.DeviceFacts from the corpus getprop rows (README § getprop) and synthetic edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.facts import DeviceFacts
from harness.parsers import parse_getprop

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "corpus"


def _facts(name: str, **kw: str) -> DeviceFacts:
    return DeviceFacts.from_getprop((CORPUS / name).read_bytes().decode("utf-8"), **kw)


def test_redmi10_all_fields() -> None:
    """Row getprop_android13_miui14-global_redmi10-2022.txt."""
    f = _facts("getprop_android13_miui14-global_redmi10-2022.txt")
    assert (f.sdk, f.release, f.model, f.device, f.name) == (33, "13", "21121119SG", "selene", "selene_global")
    assert (f.manufacturer, f.brand, f.marketname) == ("Xiaomi", "Redmi", "Redmi 10 2022")
    assert f.fingerprint == "Redmi/selene_global/selene:13/TP1A.220624.014/V14.0.7.0.TKUMIXM:user/release-keys"
    assert (f.miui_version, f.miui_version_code, f.hyperos_version) == ("V140", 14, None)
    assert f.region.region == "HK" and f.emulator is False
    assert (f.operator.operator, f.operator.source) == ("460-11", "gsm.sim.operator.numeric")
    assert f.operator.name == "中国电信"  # the SIM's operator name, for reports
    assert f.props["ro.boot.hwc"] == "CN"


def test_xiaomi14_operator_from_carrier_name_and_hyperos() -> None:
    """Row getprop_android15_hyperos2_xiaomi14_crlf.txt: ro.carrier.name=ct and a China Telecom SIM agree."""
    f = _facts("getprop_android15_hyperos2_xiaomi14_crlf.txt")
    assert (f.operator.operator, f.operator.source, f.operator.conflicts) == ("460-11", "ro.carrier.name", [])
    assert (f.hyperos_version, f.miui_version_code, f.model) == ("OS2.0", 816, "23127PN0CC")


def test_tvbox_sdk_not_release() -> None:
    """Row getprop_android7.1.2-reports-9.1_rockchip-rk322x-tvbox.txt: trust sdk=25, not release 9.1."""
    f = _facts("getprop_android7.1.2-reports-9.1_rockchip-rk322x-tvbox.txt")
    assert (f.sdk, f.release, f.model, f.brand) == (25, "9.1", "TV BOX", "Android")


def test_samsung_qemu_zero_is_not_an_emulator() -> None:
    """Row getprop_android14_oneui6.1_samsung-galaxy-s24.txt has ro.kernel.qemu=0."""
    f = _facts("getprop_android14_oneui6.1_samsung-galaxy-s24.txt")
    assert f.props["ro.kernel.qemu"] == "0" and f.emulator is False
    assert f.region.region == "CN" and f.miui_version is None


def test_pixel6_system_partition_copies_not_used() -> None:
    """Row getprop_android15_google_pixel6.txt: ro.product.system.model=mainline must not leak into model."""
    f = _facts("getprop_android15_google_pixel6.txt")
    assert (f.model, f.device, f.brand, f.manufacturer) == ("Pixel 6", "oriole", "google", "Google")
    assert f.region.region is None


@pytest.mark.parametrize("props", [
    {"ro.kernel.qemu": "1"}, {"ro.boot.qemu": "1"}, {"ro.hardware": "ranchu"},
    {"ro.build.fingerprint": "generic_x86/sdk_x86/generic_x86:7.0/NYC/1:userdebug/test-keys"},
    {"ro.build.fingerprint": "google/sdk_gphone64_x86_64/emu64xa:14/UE1A/1:userdebug/dev-keys"},
])
def test_emulator_signals(props: dict[str, str]) -> None:
    assert DeviceFacts.from_props({"ro.build.version.sdk": "30", **props}).emulator is True


def test_vendor_fallback_for_product_fields() -> None:
    f = DeviceFacts.from_props({"ro.build.version.sdk": "30", "ro.product.vendor.model": "M2007J3SG",
                                "ro.product.system.model": "mainline"})
    assert f.model == "M2007J3SG" and f.release is None and f.operator.operator is None


def test_region_override_recorded() -> None:
    f = _facts("getprop_android15_google_pixel6.txt", region_override="HK")
    assert (f.region.region, f.region.source) == ("HK", "override")
    with pytest.raises(UsageError):
        _facts("getprop_android15_google_pixel6.txt", region_override="Hong Kong")


def test_facts_are_immutable_and_json() -> None:
    f = _facts("getprop_android10_miui12.5-cn_redmi8a.txt")
    with pytest.raises(AttributeError):
        f.sdk = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        f.props["x"] = "y"  # type: ignore[index]
    data = json.loads(f.to_json())
    assert data["sdk"] == 29 and data["region"]["region"] == "CN"
    assert data["props"]["gsm.sim.operator.alpha"] == "小米移动"
    assert "props" not in json.loads(f.to_json(include_props=False))
    assert "小米移动" in f.to_json()  # UTF-8 kept, not \\u-escaped


def test_from_props_equals_from_getprop() -> None:
    text = (CORPUS / "getprop_android10_miui12.5-cn_redmi8a.txt").read_bytes().decode("utf-8")
    assert DeviceFacts.from_props(parse_getprop(text)) == DeviceFacts.from_getprop(text)
