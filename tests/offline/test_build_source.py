"""The ROM-build source on real sample builds (APKs compiled by aapt, signed by apksigner): facts, package states,
layouts (unpacked, target_files zip, folder of region builds) and the inputs that must be broken."""

from __future__ import annotations

import pytest

from harness.errors import SourceError
from harness.facts import DeviceFacts
from harness.sources import load_targets

OFFICE = ("com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
          "com.microsoft.office.outlook", "com.skype.raider")


def _states(target):
    return {p: target.packages(p) for p in OFFICE}


def test_unpacked_build_and_target_files_zip_say_the_same(builds):
    (tree,) = load_targets("build", builds["good"])
    (zipped,) = load_targets("build", builds["good-target_files.zip"])
    facts = DeviceFacts.from_props(tree.props)
    assert (facts.model, facts.device, facts.sdk, facts.region.region) == ("Redmi 8A", "olivelite", 29, "CN")
    assert facts.fingerprint.startswith("Xiaomi/olivelite/olivelite:10/")
    assert tree.serial == "build:good" and tree.host == "rom-build"
    digest = builds["signer"].read_text().strip()
    for pkg, state in _states(tree).items():
        other = zipped.packages(pkg)
        assert (state.version_name, state.version_code, state.code_path, state.install_kind) == (
            other.version_name, other.version_code, other.code_path, other.install_kind)
        assert state.installed and state.enabled and state.signer_digests == (digest,)
    word, skype = tree.packages("com.microsoft.office.word"), tree.packages("com.skype.raider")
    assert (word.code_path, word.partition, word.install_kind, word.version_code) == (
        "/system/app/Word", "system", "system", 2002707036)
    assert (skype.code_path, skype.install_kind) == ("/system/data-app/Skype", "removable_preload")
    assert "system/app/Word/Word.apk" in word.evidence[0]


def test_each_failing_build_differs_from_the_good_one_in_one_place(builds):
    def one(name, pkg):
        (t,) = load_targets("build", builds[name])
        return t.packages(pkg)

    assert not one("missing-app", "com.microsoft.office.word").installed
    assert one("wrong-version", "com.microsoft.office.excel").version_name == "16.0.6925.1000"
    assert one("wrong-kind", "com.skype.raider").install_kind == "system"
    assert one("wrong-partition", "com.microsoft.office.word").partition == "vendor"
    disabled = one("disabled", "com.microsoft.office.word")
    assert disabled.installed and not disabled.enabled and any("enabled=\"false\"" in e for e in disabled.evidence)
    (ru,) = load_targets("build", builds["region-ru"])
    assert DeviceFacts.from_props(ru.props).region.region == "RU"


def test_a_folder_of_region_builds_is_one_row_per_region(builds):
    targets = load_targets("build", builds["region-builds"])
    assert [t.serial for t in targets] == ["build:region-builds#CN", "build:region-builds#IN"]
    assert [DeviceFacts.from_props(t.props).region.region for t in targets] == ["CN", "IN"]


@pytest.mark.parametrize(("name", "message", "member"), [
    ("broken-zip.zip", "corrupt zip", None),
    ("no-build-prop", "missing build.prop", None),
    ("bad-manifest", "unparsable AndroidManifest.xml", "system/app/Outlook/Outlook.apk"),
])
def test_unreadable_builds_are_source_errors_naming_file_and_member(builds, name, message, member):
    with pytest.raises(SourceError, match=message) as err:
        load_targets("build", builds[name])
    assert err.value.path == str(builds[name])
    assert err.value.member == member
