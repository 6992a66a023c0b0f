"""Per-operator contract rules: profiles resolve them, checks judge them, an unknown operator is never a pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks import check_app_region, check_device_operator, check_presence, check_version
from harness.inventory import PackageState
from harness.profiles import load_profiles

APPS = """app_set: set
apps:
  - package: com.example.tv
    name: TV
    severity: critical
    required_on: [405-857]
    other_operators: absent
    version: {exact: "1.0"}
    version_by_operator:
      404-10: {exact: "2.0"}
"""
PROFILE = """profile: vendor-x
name: X
match: {model: [X 1]}
regions: [IN]
operators: {405-857: Jio, 404-10: Airtel}
include: [apps/set.yaml]
"""


@pytest.fixture
def profile(tmp_path: Path):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "set.yaml").write_text(APPS)
    (tmp_path / "vendor-x.yaml").write_text(PROFILE)
    return load_profiles([tmp_path]).get("vendor-x")


def _state(installed: bool, version: str = "1.0") -> PackageState:
    return PackageState(package="com.example.tv", known=installed, installed=installed, listed=installed,
                        version_name=version if installed else None, version_code=1 if installed else None)


def test_required_on_its_operator_absent_on_others(profile):
    (jio,) = profile.requirements("IN", "405-857")
    assert (jio.presence, jio.operator_rule) == ("required", "required on 405-857 (Jio)")
    (airtel,) = profile.requirements("IN", "404-10")
    assert airtel.presence == "absent" and airtel.operator_rule == "version for 404-10 (Airtel)"
    assert airtel.version.exact == "2.0"
    failed = check_presence(jio, _state(False))
    assert failed.status == "fail" and failed.tags == "[missing app] [operator rule: required on 405-857 (Jio)] "
    present = check_app_region(airtel, _state(True))
    assert present.status == "fail" and "operator rule" in present.tags


def test_an_unknown_operator_makes_the_operator_rules_not_applicable(profile):
    (unknown,) = profile.requirements("IN", None)
    assert unknown.operator_unknown
    for check in (check_presence, check_app_region, check_version):
        verdict = check(unknown, _state(False))
        assert verdict.status == "not_applicable" and "operator is unknown" in verdict.reason


def test_device_operator_check(profile):
    agreed = profile.operators
    assert check_device_operator(agreed, "405-857", source="gsm.sim.operator.numeric").status == "pass"
    bad = check_device_operator(agreed, "404-20", source="gsm.sim.operator.numeric", name="Vodafone IN",
                                signals={"gsm.sim.operator.numeric": "40420"})
    assert bad.status == "fail" and bad.category == "operator not agreed"
    assert "gsm.sim.operator.numeric=40420" in bad.evidence
    unknown = check_device_operator(agreed, None, conflicts=["no SIM"])
    assert unknown.status == "not_applicable" and "no SIM" in unknown.reason
    assert check_device_operator(None, "405-857").status == "not_applicable"


CONTRADICTIONS = [
    ("    version_by_region: {BR: {exact: \"1.0\"}}\n", "version_by_region names BR, not among the regions"),
    ("    package_by_region: {BR: com.example.tv_br}\n", "package_by_region names BR"),
    ("    package_by_region: {IN: com.example.tv}\n", "which is another app of profile vendor-x"),
    ("    required_on: [405-857, 404-20]\n", "names operator 404-20, not among the operators"),
    ("    install_kind: system\n    partitions: [data]\n    allow_updated: false\n", "can never hold"),
]


@pytest.mark.parametrize(("extra", "message"), CONTRADICTIONS)
def test_profiles_check_rejects_rules_that_cannot_all_hold(tmp_path, extra, message):
    from harness.errors import ProfileErrors

    (tmp_path / "apps").mkdir()
    apps = APPS + "  - package: com.example.radio\n    name: Radio\n" + extra
    (tmp_path / "apps" / "set.yaml").write_text(apps)
    (tmp_path / "vendor-x.yaml").write_text(PROFILE)
    with pytest.raises(ProfileErrors) as exc:
        load_profiles([tmp_path])
    assert message in str(exc.value)
    assert "set.yaml:" in str(exc.value)  # file:line of the rule


def test_a_skip_names_the_operator_rule_that_decided_not_the_region(profile):
    """On another operator the app is not required because of the operator rule; the skip reason says so."""
    (airtel,) = profile.requirements("IN", "404-10")
    assert airtel.presence_rule == "absent on operators other than 405-857 (Jio)"
    verdict = check_presence(airtel, _state(True))
    assert verdict.status == "not_applicable"
    assert verdict.reason == "TV is not required on operator 404-10 (absent on operators other than 405-857 (Jio))"
    (jio,) = profile.requirements("IN", "405-857")
    assert jio.presence_rule is None
    (elsewhere,) = profile.requirements("BR", "405-857")  # a region the profile does not agree
    assert "not required in this region" in check_presence(elsewhere, _state(True)).reason
