"""The ROM-build source on real sample builds (APKs compiled by aapt, signed by apksigner): facts, package states,
layouts (unpacked, target_files zip, folder of region builds) and the inputs that must be broken."""

from __future__ import annotations

import pytest

from harness.errors import ParseError, SourceError
from harness.facts import DeviceFacts
from harness.sources import load_targets
from tests.zipdamage import damage

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


@pytest.mark.parametrize("member", ["SYSTEM/app/Excel/Excel.apk", "SYSTEM/build.prop"])
@pytest.mark.parametrize("how", ["deflate", "crc"])
def test_a_corrupt_member_of_a_target_files_zip_is_a_source_error_naming_it(builds, tmp_path, member, how):
    """A member whose deflate stream or CRC-32 is damaged used to escape as zlib.error / BadZipFile (a traceback,
    pytest collection errors, exit 2). It is broken like a truncated zip, naming the zip and the member."""
    path = damage(builds["good-target_files.zip"], member, how, tmp_path / f"{how}.zip")
    with pytest.raises(SourceError, match="corrupt zip member") as err:
        load_targets("build", path)
    assert (err.value.path, err.value.member) == (str(path), member)
    assert "give an intact target_files zip" in str(err.value)


def test_an_apk_whose_manifest_deflate_stream_is_damaged_is_a_source_error(builds, tmp_path):
    """The APK's own AndroidManifest.xml member (an unpacked build): zlib.error used to escape read_apk."""
    build = _copy(builds, tmp_path, "bad-deflate")
    apk = build / WORD
    damage(apk, "AndroidManifest.xml", "deflate", apk)
    with pytest.raises(SourceError, match="cannot read AndroidManifest.xml") as err:
        load_targets("build", build)
    assert (err.value.path, err.value.member) == (str(build), WORD)


# ---------------------------------------------------------------- breaker findings: APK folders and signatures

WORD = "system/app/Word/Word.apk"


def _copy(builds, tmp_path, name="good"):
    import shutil

    out = tmp_path / name
    shutil.copytree(builds["good"], out, symlinks=True)
    return out


def _flip(path, needle: bytes, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    at = data.rindex(needle) + offset
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_stripped_v2_v3_signature_is_refused_not_passed_via_v1(builds, tmp_path):
    """v1 .SF says 'X-Android-APK-Signed: 2, 3' but the APK Signing Block's magic is damaged: Android falls back to
    v1, sees the header and refuses the APK ('Signature stripped?'). The message names the build member."""
    build = _copy(builds, tmp_path, "stripped")
    _flip(build / WORD, b"APK Sig Block 42", 3)
    (t,) = load_targets("build", build)
    problem = t.signers["com.microsoft.office.word"]
    assert isinstance(problem, ParseError) and "signature stripped" in str(problem)
    assert f"{build}!{WORD}" in str(problem) and "dd if=" not in str(problem)
    assert not isinstance(t.signers["com.microsoft.office.excel"], ParseError)


def test_an_unreadable_signing_block_names_the_build_member_not_dd(builds, tmp_path):
    build = _copy(builds, tmp_path, "damaged")
    _flip(build / WORD, b"APK Sig Block 42", -8)  # the block size in its footer
    (t,) = load_targets("build", build)
    problem = t.signers["com.microsoft.office.word"]
    assert isinstance(problem, ParseError) and f"`read {build}!{WORD} (APK signature)`" in str(problem)


def test_apk_suffix_is_case_sensitive_as_in_android(builds, tmp_path):
    build = _copy(builds, tmp_path, "upper")
    (build / WORD).rename(build / "system/app/Word/Word.APK")
    (t,) = load_targets("build", build)
    assert not t.packages("com.microsoft.office.word").installed


def test_a_folder_with_two_packages_is_broken_naming_both(builds, tmp_path):
    import shutil

    build = _copy(builds, tmp_path, "two-base")
    shutil.copyfile(build / "system/app/Excel/Excel.apk", build / "system/app/Word/Excel.apk")
    with pytest.raises(SourceError, match="inconsistent package") as err:
        load_targets("build", build)
    assert "system/app/Word/Excel.apk" in str(err.value) and "system/app/Word/Word.apk" in str(err.value)


@pytest.mark.parametrize("kind", ["apk-is-a-folder", "apk-symlink-loop", "apk-dangling-symlink", "folder-loop"])
def test_non_regular_entries_of_apk_folders_are_broken_naming_them(builds, tmp_path, kind):
    build = _copy(builds, tmp_path, kind)
    word = build / WORD
    word.unlink()
    if kind == "apk-is-a-folder":
        word.mkdir()
    elif kind == "apk-symlink-loop":
        word.symlink_to("Word.apk")
    elif kind == "apk-dangling-symlink":
        word.symlink_to("/system/app/Word/Word-real.apk")
    else:
        (word.parent / "again").symlink_to("..")
    with pytest.raises(SourceError) as err:
        load_targets("build", build)
    assert err.value.member == (f"{WORD[:-len('Word.apk')]}again" if kind == "folder-loop" else WORD)


def test_a_symlinked_app_folder_is_followed(builds, tmp_path):
    """Android follows /system/app/Word -> elsewhere; so does the reader (with loop protection), and nothing
    outside the APK folders is followed."""
    build = _copy(builds, tmp_path, "symdir")
    store = tmp_path / "store" / "Word"
    store.parent.mkdir()
    (build / "system/app/Word").rename(store)
    (build / "system/app/Word").symlink_to(store)
    (t,) = load_targets("build", build)
    word = t.packages("com.microsoft.office.word")
    assert word.installed and word.code_path == "/system/app/Word"


@pytest.mark.parametrize("name", ["SYSTEM/app/Word/../Word/Word.apk", "SYSTEM/../SYSTEM/app/Word/Word.apk",
                                  "SYSTEM\\app\\Word\\Word.apk"])
def test_zip_members_that_cannot_be_placed_are_broken(builds, tmp_path, name):
    import zipfile

    src = zipfile.ZipFile(builds["good-target_files.zip"])
    out = tmp_path / "odd.zip"
    with src, zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            z.writestr(name if info.filename == "SYSTEM/app/Word/Word.apk" else info.filename, src.read(info))
    with pytest.raises(SourceError, match="cannot be told") as err:
        load_targets("build", out)
    assert err.value.member == name


def test_a_folder_of_region_builds_names_what_it_skips_and_an_incomplete_build_is_broken(builds, tmp_path):
    import shutil

    folder = tmp_path / "regions"
    shutil.copytree(builds["region-builds"], folder)
    (folder / "eu" / "vendor").mkdir(parents=True)
    (folder / "global-V12.5.tgz").write_bytes(b"\x1f\x8b")
    (folder / "in-target_files.ZIP.1").write_bytes(b"PK")
    targets = load_targets("build", folder)
    assert [t.serial for t in targets] == ["build:regions#CN", "build:regions#eu", "build:regions#IN"]
    eu = targets[1]
    assert isinstance(eu.problem, SourceError) and "incomplete build" in str(eu.problem)
    assert all("global-V12.5.tgz, in-target_files.ZIP.1" in t.notes[0] for t in targets)
    from harness.sources import OfflineDevice

    state = OfflineDevice(targets[0]).inventory(["com.microsoft.office.word"]).packages["com.microsoft.office.word"]
    assert any("not builds, not judged" in e for e in state.evidence)


def test_an_apk_changed_after_signing_is_refused(builds, tmp_path):
    """A byte of the first local file header (its time field) changed after apksigner signed the APK: the zip
    still reads and the signing block still verifies, but the v2/v3 content digests no longer match (apksigner:
    DOES NOT VERIFY; Android refuses the APK)."""
    build = _copy(builds, tmp_path, "tampered")
    data = bytearray((build / WORD).read_bytes())
    data[10] ^= 0x01  # local header of the first entry: last-modified time
    (build / WORD).write_bytes(bytes(data))
    (t,) = load_targets("build", build)
    problem = t.signers["com.microsoft.office.word"]
    assert isinstance(problem, ParseError) and "changed after it was signed" in str(problem)
    assert f"{build}!{WORD}" in str(problem)
    assert t.packages("com.microsoft.office.word").installed  # the manifest is still read: only the signer is broken
    (zipped,) = load_targets("build", builds["good-target_files.zip"])  # digests hold through a zip member stream
    assert not any(isinstance(s, ParseError) for s in zipped.signers.values())


def test_a_zip_holding_a_name_twice_is_broken(builds, tmp_path):
    import warnings
    import zipfile

    out = tmp_path / "dup.zip"
    src = zipfile.ZipFile(builds["good-target_files.zip"])
    with src, zipfile.ZipFile(out, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name"
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
        z.writestr("SYSTEM/build.prop", "ro.build.version.sdk=29\n")
    with pytest.raises(SourceError, match="several entries of this name") as err:
        load_targets("build", out)
    assert err.value.member == "SYSTEM/build.prop"
