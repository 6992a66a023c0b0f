"""Seed profiles load, match their models and resolve per-region requirements (harness.profiles)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.errors import ProfileErrors
from harness.profiles import DEFAULT_PROFILES_DIR, AppRequirement, VersionSpec, load_profiles
from harness.profiles.loader import REPO_ROOT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "profiles"

OFFICE = ["com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
          "com.microsoft.office.outlook", "com.skype.raider"]
SEED_REGIONS = ["CN", "IN", "TW", "HK", "SG", "MY", "PH", "ID", "BR"]
# seed.md, profiles table: profile id -> (ro.product.model, ro.product.device)
SEED_MODELS = {
    "xiaomi-mi5": ("MI 5", "gemini"),
    "xiaomi-mimax": ("MI MAX", "hydrogen"),
    "xiaomi-mi4s": ("MI 4S", "aqua"),
    "xiaomi-redmi-note3": ("Redmi Note 3", "kenzo"),
    "xiaomi-redmi3": ("Redmi 3", "ido"),
}


@pytest.fixture(scope="module")
def seed():
    return load_profiles()


def _props(model: str, device: str, **extra: str) -> dict[str, str]:
    return {"ro.product.model": model, "ro.product.device": device, "ro.product.name": device, **extra}


def _getprop(path: Path) -> dict[str, str]:
    """`[key]: [value]` lines of a getprop dump (single-line values are enough for matching)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\[(.+?)\]: \[(.*)\]", line.rstrip("\r"))
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_profiles_load_with_the_office_apps(seed):
    assert sorted(seed.ids) == sorted([*SEED_MODELS, "xiaomi-redmi8a"])
    for profile in seed.profiles:
        assert [a.package for a in profile.apps] == OFFICE
        assert profile.path.parent == DEFAULT_PROFILES_DIR
        assert (profile.operators is None) == (profile.id != "xiaomi-mimax")  # mimax shows operator rules
        expected_regions = ["CN"] if profile.id == "xiaomi-redmi8a" else SEED_REGIONS
        assert profile.regions == expected_regions
    assert [s.app_set for s in seed.app_sets.values()] == ["microsoft-office"]


def test_load_profiles_accepts_a_directory_string_and_a_single_file():
    assert load_profiles(str(DEFAULT_PROFILES_DIR)).ids == load_profiles().ids
    one = load_profiles([DEFAULT_PROFILES_DIR / "xiaomi-mi5.yaml"])
    assert one.ids == ["xiaomi-mi5"]


@pytest.mark.parametrize(("profile_id", "model", "device"), [(k, *v) for k, v in SEED_MODELS.items()])
def test_each_seed_model_matches_exactly_its_profile(seed, profile_id, model, device):
    assert [p.id for p in seed.match(_props(model, device))] == [profile_id]


def test_redmi8a_profile_matches_the_real_getprop_dump(seed):
    # corpus README, getprop table, row getprop_android10_miui12.5-cn_redmi8a.txt: model "Redmi 8A", olivelite
    props = _getprop(FIXTURES / "getprop_android10_miui12.5-cn_redmi8a.txt")
    assert props["ro.product.model"] == "Redmi 8A"
    assert [p.id for p in seed.match(props)] == ["xiaomi-redmi8a"]


def test_redmi8a_fingerprint_regex_must_match_too(seed):
    props = _getprop(FIXTURES / "getprop_android10_miui12.5-cn_redmi8a.txt")
    props["ro.build.fingerprint"] = "Other/olivelite/olivelite:10/QKQ1/1:user/release-keys"
    assert seed.match(props) == []
    del props["ro.build.fingerprint"]
    assert seed.match(props) == []


@pytest.mark.parametrize("props", [
    _props("MI 5", "hydrogen"),            # model of one profile, device of another
    _props("MI5", "gemini"),               # exact comparison: no normalisation
    _props("Redmi Note 4", "mido"),
    {"ro.product.device": "gemini"},       # model property missing
])
def test_other_devices_match_no_profile(seed, props):
    assert seed.match(props) == []


def test_overlapping_profiles_are_rejected_at_load(tmp_path):
    _write(tmp_path / "apps" / "one.yaml", "app_set: one\napps:\n  - {package: com.example.one, name: One}\n")
    _write(tmp_path / "vendor-a.yaml", "profile: vendor-a\nname: a\nmatch: {model: [Same]}\n"
                                       "regions: [CN]\ninclude: [apps/one.yaml]\n")
    _write(tmp_path / "vendor-b.yaml", "profile: vendor-b\nname: b\nmatch: {device: [same]}\n"
                                       "regions: [CN]\ninclude: [apps/one.yaml]\n")
    with pytest.raises(ProfileErrors) as err:
        load_profiles([tmp_path])
    text = str(err.value)
    assert "vendor-a.yaml: match: match overlaps in 2 profiles (" in text and "vendor-b.yaml" in text
    assert "'vendor-a' and 'vendor-b' both match" in text
    assert "fingerprint" in str(err.value)


def test_match_returns_every_matching_profile(tmp_path):
    """Different fingerprint patterns are trusted to be disjoint at load; at run time both may still match."""
    _write(tmp_path / "apps" / "one.yaml", "app_set: one\napps:\n  - {package: com.example.one, name: One}\n")
    for pid, fp in (("vendor-a", "V8"), ("vendor-b", "release-keys")):
        _write(tmp_path / f"{pid}.yaml", f"profile: {pid}\nname: {pid}\nmatch: {{model: [Same], fingerprint: {fp}}}\n"
                                         "regions: [CN]\ninclude: [apps/one.yaml]\n")
    result = load_profiles([tmp_path])
    props = {"ro.product.model": "Same", "ro.build.fingerprint": "X/y/z:7.0/V8.2:user/release-keys"}
    assert [p.id for p in result.match(props)] == ["vendor-a", "vendor-b"]


def test_requirements_cn_follow_the_seed_agreement(seed):
    reqs = {r.package: r for r in seed.get("xiaomi-mi5").requirements("CN")}
    assert list(reqs) == OFFICE
    word, outlook, skype = reqs[OFFICE[0]], reqs[OFFICE[3]], reqs[OFFICE[4]]
    assert all(r.presence == "required" and r.enabled for r in reqs.values())
    assert word.version.describe() == "version_name == 16.0.7070.2036"
    assert (word.install_kind, word.allow_updated, word.severity) == ("system", True, "critical")
    assert outlook.version.describe() == "version_code >= 173"
    assert (outlook.install_kind, outlook.severity) == ("removable_preload", "critical")
    assert skype.version.describe() == "version_name in [7.06.0.582, 7.07.0.611]"
    assert skype.severity == "blocker"
    assert reqs[OFFICE[2]].severity == "normal"
    assert {r.launch.cold_start_ms for r in reqs.values()} == {4000}
    assert [r.launch.first_screen.text for r in reqs.values()] == ["Word", "Excel", "PowerPoint", "Add account",
                                                                   "Sign in"]
    assert all(r.launcher_activity is None for r in reqs.values())


def test_skype_region_override_in_india(seed):
    skype_in = {r.package: r for r in seed.get("xiaomi-mimax").requirements("IN")}["com.skype.raider"]
    skype_cn = {r.package: r for r in seed.get("xiaomi-mimax").requirements("CN")}["com.skype.raider"]
    assert skype_in.version.describe() == "version_name in [7.06.0.582]"
    assert skype_in.version.matches("7.06.0.582", 67000582)
    assert not skype_in.version.matches("7.07.0.611", 67000611)
    assert skype_cn.version.matches("7.07.0.611", 67000611)
    assert skype_in.region == "IN" and skype_in.profile == "xiaomi-mimax"


def test_seed_image_versions_against_the_rules(seed):
    reqs = {r.package: r for r in seed.get("xiaomi-redmi-note3").requirements("IN")}
    # seed.md: compliant images carry these; redmi-note3-in carries Word 16.0.6925.1000 / 2002692510
    assert reqs["com.microsoft.office.word"].version.matches("16.0.7070.2036", 2002707036)
    assert not reqs["com.microsoft.office.word"].version.matches("16.0.6925.1000", 2002692510)
    assert reqs["com.microsoft.office.outlook"].version.matches("2.1.108", 173)
    assert not reqs["com.microsoft.office.outlook"].version.matches("2.1.107", 172)


def test_redmi8a_override_changes_only_that_model(seed):
    outlook_8a = seed.get("xiaomi-redmi8a").app("com.microsoft.office.outlook")
    assert outlook_8a.install_kind == "system"
    assert outlook_8a.source.startswith("device_profiles/apps/microsoft-office.yaml:")
    assert outlook_8a.override_source.startswith("device_profiles/xiaomi-redmi8a.yaml:")
    # the shared app set is not modified for the other models
    for pid in SEED_MODELS:
        assert seed.get(pid).app("com.microsoft.office.outlook").install_kind == "removable_preload"
        assert seed.get(pid).app("com.microsoft.office.outlook").override_source is None
    req = {r.package: r for r in seed.get("xiaomi-redmi8a").requirements("CN")}["com.microsoft.office.outlook"]
    assert req.install_kind == "system" and req.version.describe() == "version_code >= 173"


def test_source_points_at_the_app_entry_line(seed):
    for req in seed.get("xiaomi-mi5").requirements("CN"):
        path, line = req.source.rsplit(":", 1)
        text = (REPO_ROOT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        assert text.strip() == f"- package: {req.package}"


def test_region_not_agreed_and_unknown_region(seed):
    mi5 = seed.get("xiaomi-mi5")
    assert {r.presence for r in mi5.requirements("RU")} == {"any"}      # elsewhere: any
    assert {r.presence for r in mi5.requirements(None)} == {"required"}  # required in every agreed region
    assert {r.presence for r in mi5.requirements("in")} == {"required"}  # region normalised to upper case
    assert mi5.requirements(None)[4].version.describe() == "version_name in [7.06.0.582, 7.07.0.611]"


def test_required_in_elsewhere_and_package_by_region(tmp_path):
    _write(tmp_path / "apps" / "set.yaml", """\
app_set: set
apps:
  - package: com.example.cnonly
    name: CN only
    required_in: [CN]
    elsewhere: absent
    package_by_region: {IN: com.example.cnonly_in}
  - package: com.example.everywhere
    name: Everywhere
    version: {code_min: 5, code_max: 9}
    version_by_region: {IN: {code_min: 7}}
""")
    _write(tmp_path / "vendor-x.yaml", "profile: vendor-x\nname: X\nmatch: {model: [X]}\nregions: [CN, IN]\n"
                                       "include: [apps/set.yaml]\n")
    profile = load_profiles([tmp_path / "vendor-x.yaml"]).get("vendor-x")
    cn, inn, ru, unknown = (profile.requirements(r) for r in ("CN", "IN", "RU", None))
    assert [r.presence for r in cn] == ["required", "required"]
    assert [r.presence for r in inn] == ["absent", "required"]
    assert [r.presence for r in ru] == ["absent", "any"]
    assert [r.presence for r in unknown] == ["any", "required"]
    assert [r.package for r in inn] == ["com.example.cnonly_in", "com.example.everywhere"]
    assert [r.package for r in cn] == ["com.example.cnonly", "com.example.everywhere"]
    assert cn[1].version.describe() == "5 <= version_code <= 9"
    assert inn[1].version.describe() == "version_code >= 7"
    assert unknown[1].version.describe() == "5 <= version_code <= 9"
    assert cn[0].version is None


def test_override_can_remove_a_version_rule(tmp_path):
    _write(tmp_path / "apps" / "set.yaml", "app_set: set\napps:\n"
                                           "  - {package: com.example.a, name: A, version: {exact: '1'}}\n")
    _write(tmp_path / "vendor-x.yaml", "profile: vendor-x\nname: X\nmatch: {model: X}\nregions: [CN]\n"
                                       "include: [apps/set.yaml]\noverrides:\n  com.example.a: {version: null}\n")
    profile = load_profiles([tmp_path]).get("vendor-x")
    assert profile.match.model == ["X"]  # a single value is accepted for a list
    assert profile.requirements("CN")[0].version is None


@pytest.mark.parametrize(("spec", "name", "code", "ok"), [
    ({"exact": "16.0.7070.2036"}, "16.0.7070.2036", 1, True),
    ({"exact": "16.0.7070.2036"}, "16.0.7070.2036 ", 1, False),
    ({"exact": "7.06.0.582"}, "7.6.0.582", 1, False),      # names are text, not numbers
    ({"exact": "1.0"}, None, 1, False),
    ({"allowed": ["a", "b"]}, "b", None, True),
    ({"allowed": ["a", "b"]}, "c", 5, False),
    ({"code_min": 173}, "x", 173, True),
    ({"code_min": 173}, "x", 172, False),
    ({"code_min": 173}, "x", 2002707036, True),
    ({"code_min": 173}, "999", None, False),
    ({"code_max": 10}, None, 10, True),
    ({"code_max": 10}, None, 11, False),
    ({"code_min": 5, "code_max": 10}, None, 4, False),
    ({"code_min": 5, "code_max": 10}, None, 7, True),
])
def test_version_spec_matches(spec, name, code, ok):
    assert VersionSpec.model_validate(spec).matches(name, code) is ok


@pytest.mark.parametrize(("spec", "text"), [
    ({"exact": "16.0.7070.2036"}, "version_name == 16.0.7070.2036"),
    ({"allowed": ["7.06.0.582", "7.07.0.611"]}, "version_name in [7.06.0.582, 7.07.0.611]"),
    ({"code_min": 173}, "version_code >= 173"),
    ({"code_max": 200}, "version_code <= 200"),
    ({"code_min": 1, "code_max": 2}, "1 <= version_code <= 2"),
])
def test_version_spec_describe(spec, text):
    assert VersionSpec.model_validate(spec).describe() == text


def test_app_requirement_is_immutable(seed):
    req = seed.get("xiaomi-mi5").requirements("CN")[0]
    assert isinstance(req, AppRequirement)
    with pytest.raises(ValidationError):
        req.presence = "any"


def test_profiles_and_requirements_survive_pickling(seed):
    # pytest-xdist workers and multiprocessing pools receive them pickled
    profile = pickle.loads(pickle.dumps(seed.get("xiaomi-redmi8a")))
    assert profile.app("com.microsoft.office.outlook").override_source == \
        seed.get("xiaomi-redmi8a").app("com.microsoft.office.outlook").override_source
    reqs = seed.get("xiaomi-redmi8a").requirements("CN")
    assert pickle.loads(pickle.dumps(reqs)) == reqs


def test_get_unknown_profile_suggests_close_ids(seed):
    with pytest.raises(KeyError, match="did you mean xiaomi-mi5"):
        seed.get("xiaomi-mi55")


def test_directory_skips_app_sets_and_readme():
    # device_profiles/ holds a README.md and apps/; only the six profiles are loaded
    assert len(load_profiles([DEFAULT_PROFILES_DIR]).profiles) == 6
