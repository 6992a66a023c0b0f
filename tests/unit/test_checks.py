"""The pure checks of harness.checks, without any device: (requirement, observed state) -> verdict."""

import pytest

from harness.checks import (
    check_app_region,
    check_device_region,
    check_enabled,
    check_install_kind,
    check_presence,
    check_version,
)
from harness.inventory import PackageState
from harness.profiles.models import AppRequirement, VersionSpec

WORD = "com.microsoft.office.word"


def req(**kw) -> AppRequirement:
    base = dict(package=WORD, name="Word", presence="required", version=VersionSpec(exact="16.0.7070.2036"),
                install_kind="system", allow_updated=True, partitions=None, enabled=True, launcher_activity=None,
                severity="critical", launch=None, source="apps.yaml:3")
    base.update(kw)
    return AppRequirement(**base)


def state(**kw) -> PackageState:
    base = dict(package=WORD, known=True, installed=True, listed=True, version_name="16.0.7070.2036",
                version_code=2002707036, code_path="/system/app/Word/Word.apk", partition="system",
                install_kind="system", system=True, enabled=True, enabled_state=0,
                evidence=("versionName=16.0.7070.2036",))
    base.update(kw)
    return PackageState(**base)


MISSING = state(known=False, installed=False, listed=False, version_name=None, version_code=None, code_path=None,
                partition=None, install_kind=None, system=False, enabled=None, enabled_state=None)
UNINSTALLED_USER0 = state(installed=False, listed=False)


def test_presence_passes_for_installed_app():
    assert check_presence(req(), state()).status == "pass"


@pytest.mark.parametrize("observed, fragment", [(MISSING, "is not installed"),
                                                (UNINSTALLED_USER0, "uninstalled for user 0")])
def test_presence_fails_with_category_and_reason(observed, fragment):
    v = check_presence(req(), observed)
    assert v.status == "fail" and v.category == "missing app"
    assert fragment in v.reason
    msg = v.message("MI 4S (s1)", "Word (com.microsoft.office.word)")
    assert msg.startswith("[missing app] MI 4S (s1): Word")
    assert "expected: installed for user 0" in msg


def test_presence_not_applicable_outside_required_regions():
    assert check_presence(req(presence="any"), MISSING).status == "not_applicable"
    assert check_presence(req(presence="absent"), MISSING).status == "not_applicable"


def test_app_region_fails_when_present_where_absent_is_agreed():
    v = check_app_region(req(presence="absent"), state())
    assert v.status == "fail" and v.category == "present where not agreed"
    assert check_app_region(req(presence="absent"), MISSING).status == "pass"
    assert check_app_region(req(), state()).status == "not_applicable"


def test_version_exact_mismatch_names_both_versions():
    v = check_version(req(), state(version_name="16.0.6925.1000", version_code=2002692510))
    assert v.status == "fail" and v.category == "version mismatch"
    assert v.expected == "version_name == 16.0.7070.2036"
    assert "16.0.6925.1000" in v.found


def test_version_of_updated_system_app_is_the_active_copy():
    updated = state(install_kind="updated_system", updated_system=True, code_path="/data/app/w-1/base.apk",
                    partition="data", factory_version_name="16.0.6925.1000", factory_code_path="/system/app/Word")
    v = check_version(req(), updated)
    assert v.status == "pass"
    assert "factory copy 16.0.6925.1000" in v.found
    older_active = state(version_name="16.0.6925.1000", updated_system=True,
                         factory_version_name="16.0.7070.2036")
    assert check_version(req(), older_active).status == "fail"


def test_version_code_range_and_allowed_list():
    assert check_version(req(version=VersionSpec(code_min=173)), state(version_code=173)).status == "pass"
    assert check_version(req(version=VersionSpec(code_min=173)), state(version_code=172)).status == "fail"
    allowed = req(version=VersionSpec(allowed=("7.06.0.582", "7.07.0.611")))
    assert check_version(allowed, state(version_name="7.07.0.611")).status == "pass"
    assert check_version(allowed, state(version_name="7.6.0.582")).status == "fail"


def test_version_skipped_when_not_installed_or_unspecified():
    assert check_version(req(), MISSING).status == "not_applicable"
    assert check_version(req(version=None), state()).status == "not_applicable"


def test_install_kind_system_and_updated():
    updated = state(install_kind="updated_system", updated_system=True, partition="data",
                    factory_code_path="/system/app/Word/Word.apk", factory_partition="system")
    assert check_install_kind(req(), state()).status == "pass"
    assert check_install_kind(req(), updated).status == "pass"
    v = check_install_kind(req(allow_updated=False), updated)
    assert v.status == "fail" and v.category == "wrong install kind"


def test_install_kind_removable_preload_and_user_app():
    preload = state(install_kind="removable_preload", system=False, code_path="/system/data-app/Skype/Skype.apk")
    user = state(install_kind="user", system=False, code_path="/data/app/com.skype.raider-1/base.apk",
                 partition="data")
    assert check_install_kind(req(install_kind="removable_preload"), preload).status == "pass"
    assert check_install_kind(req(install_kind="removable_preload"), user).category == "wrong install kind"
    assert check_install_kind(req(install_kind="system"), preload).category == "wrong install kind"
    assert check_install_kind(req(install_kind="any"), user).status == "pass"


def test_partition_rule_uses_factory_partition_of_updated_apps():
    updated = state(install_kind="updated_system", updated_system=True, partition="data",
                    factory_partition="product")
    assert check_install_kind(req(partitions=["product"]), updated).status == "pass"
    v = check_install_kind(req(partitions=["vendor"]), updated)
    assert v.status == "fail" and v.category == "wrong partition"


@pytest.mark.parametrize("code, ok", [(0, True), (1, True), (2, False), (3, False), (4, False)])
def test_enabled_states(code, ok):
    v = check_enabled(req(), state(enabled=code in (0, 1), enabled_state=code))
    assert (v.status == "pass") is ok
    if not ok:
        assert v.category == "disabled" and f"enabled state {code}" in v.found


def test_device_region():
    agreed = ["CN", "IN"]
    assert check_device_region(agreed, "CN", source="ro.miui.region").status == "pass"
    v = check_device_region(agreed, "RU", source="ro.miui.region", signals={"ro.miui.region": "RU"})
    assert v.status == "fail" and v.category == "region not agreed"
    assert "ro.miui.region=RU" in v.evidence
    unknown = check_device_region(agreed, None)
    assert unknown.status == "fail" and "--region" in unknown.reason


def test_version_null_is_reported_as_no_version_name():
    """Issue 9 item 4: ``versionName=null`` is "no versionName", never the version string "null"."""
    v = check_version(req(), state(version_name=None))
    assert v.status == "fail" and "no versionName" in v.found and "None" not in v.found
    assert not check_version(req(version=VersionSpec(exact="null")), state(version_name=None)).status == "pass"
    assert "no versionName" in check_presence(req(), state(version_name=None)).found
