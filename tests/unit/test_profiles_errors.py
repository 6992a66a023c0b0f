"""Every class of profile error is reported with file, line, key and a hint — all of them at once."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from harness.errors import ProfileError, ProfileErrors
from harness.profiles import load_profiles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "profiles"
FIX = "tests/fixtures/profiles"  # as error messages show it (relative to the repository root)


def errors_of(*paths: Path | str) -> list[ProfileError]:
    with pytest.raises(ProfileErrors) as info:
        load_profiles(list(paths))
    assert all(isinstance(e, ProfileError) for e in info.value.errors)
    return info.value.errors


def only_error(path: Path | str) -> ProfileError:
    errs = errors_of(path)
    assert len(errs) == 1, "\n".join(map(str, errs))
    return errs[0]


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# one row per fixture: (file, line, key, message part, hint part)
FIXTURE_ERRORS = [
    ("duplicate-key.yaml", 4, None, "duplicate key 'name' (first at line 2)", None),
    ("bad-yaml.yaml", 5, None, "invalid YAML: while parsing a flow sequence", "fix the indentation or quoting"),
    ("invalid-package.yaml", 6, "apps[0].package", "package name 'com.example-app.word' contains '-'",
     "did you mean `com.example_app.word`?"),
    ("shell-meta.yaml", 7, "apps[0].name", "value 'Alpha; reboot' contains shell metacharacter(s) ;",
     "remove them"),
    ("empty-apps.yaml", 5, "apps", "the profile has no apps (after includes)", "include: [apps/<set>.yaml]"),
    ("required-in-not-subset.yaml", 8, "overrides[com.example.alpha].required_in",
     "required_in lists IN, not among the regions of profile required-in-not-subset (CN)", "subset"),
    ("unknown-override.yaml", 7, "overrides[com.example.alpah]",
     "override for package com.example.alpah, which is not in this profile", "did you mean `com.example.alpha`?"),
    ("missing-include.yaml", 6, "include[0]", "include file 'apps/mnii.yaml' not found",
     "did you mean `apps/mini.yaml`?"),
    ("exact-and-allowed.yaml", 8, "apps[0].version", "`exact` and `allowed` cannot be used together",
     "put every accepted version under `allowed`"),
]


@pytest.mark.parametrize(("name", "line", "key", "message", "hint"), FIXTURE_ERRORS)
def test_fixture_reports_its_error(name, line, key, message, hint):
    err = only_error(FIXTURES / name)
    assert err.path == f"{FIX}/{name}"
    assert err.line == line
    assert err.key == key
    assert message in err.message
    if hint is None:
        assert err.hint is None
    else:
        assert hint in err.hint
    assert str(err).startswith(f"{FIX}/{name}:{line}: ")


def test_unknown_key_gets_did_you_mean_and_line():
    errs = errors_of(FIXTURES / "unknown-key.yaml")
    assert [str(e) for e in errs] == [
        f"{FIX}/unknown-key.yaml:6: apps[0].package: required key is missing (add `package`)",
        f"{FIX}/unknown-key.yaml:6: apps[0].pakage: unknown key `pakage` (did you mean `package`?)",
    ]


def test_bad_region_codes():
    errs = errors_of(FIXTURES / "bad-region.yaml")
    assert [(e.line, e.key, e.hint) for e in errs] == [
        (4, "regions[1]", "did you mean `GB`?"),
        (4, "regions[2]", "write `IN`"),
    ]
    assert "'UK' is not an ISO 3166-1 alpha-2 region code" in errs[0].message


def test_errors_of_an_included_app_set_point_into_the_app_set():
    err = only_error(FIXTURES / "broken-include.yaml")
    assert (err.path, err.line, err.key) == (f"{FIX}/apps/broken-set.yaml", 5, "apps[0].install_kind")
    assert err.hint == "did you mean `system`?"


def test_several_errors_in_one_file_are_reported_at_once():
    errs = errors_of(FIXTURES / "many-errors.yaml")
    assert [(e.line, e.key) for e in errs] == [
        (4, "match.modle"),
        (5, "regions[1]"),
        (8, "apps[0].package"),
        (10, "apps[0].severity"),
        (13, "apps[1].version.exact"),
        (16, "overrides[com.example.beta].enabld"),
    ]
    assert errs[0].hint == "did you mean `model`?"
    assert errs[5].hint == "did you mean `enabled`?"
    assert "put it in quotes" in errs[4].hint


def test_errors_of_all_files_are_collected_into_one_exception():
    errs = errors_of(FIXTURES)
    files = {e.path for e in errs}
    bad = {f"{FIX}/{row[0]}" for row in FIXTURE_ERRORS} | {
        f"{FIX}/{n}" for n in ("unknown-key.yaml", "bad-region.yaml", "many-errors.yaml", "apps/broken-set.yaml")}
    assert files == bad
    assert f"{FIX}/good-mini.yaml" not in files
    assert errs == sorted(errs, key=lambda e: (e.path, e.line or 0))


# ---------------------------------------------------------------- shell metacharacters in any value

BASE = {
    "profile": "vendor-meta",
    "name": "Meta",
    "match": {"model": ["M 1"], "device": ["m1"], "fingerprint": "^Vendor/m1/"},
    "regions": ["CN", "IN"],
    "operators": {"460-11": "Mi Mobile"},
    "include": ["apps/set.yaml"],
    "apps": [{
        "package": "com.example.own",
        "name": "Own",
        "version": {"allowed": ["1.0", "1.1"]},
        "version_by_region": {"IN": {"exact": "1.0"}},
        "package_by_region": {"IN": "com.example.own_in"},
        "launcher_activity": ".Main",
        "launch": {"cold_start_ms": 100, "first_screen": {"text": "Hello", "resource_id": "com.example.own:id/t"}},
    }],
    "overrides": {"com.example.shared": {"name": "Shared renamed"}},
}
APP_SET = {"app_set": "set", "apps": [{"package": "com.example.shared", "name": "Shared"}]}

# (key path of the string to poison, key as reported)
TARGETS = [
    (("name",), "name"),
    (("match", "model", 0), "match.model[0]"),
    (("match", "fingerprint"), "match.fingerprint"),
    (("regions", 1), "regions[1]"),
    (("operators", "460-11"), "operators.460-11"),
    (("include", 0), "include[0]"),
    (("apps", 0, "package"), "apps[0].package"),
    (("apps", 0, "name"), "apps[0].name"),
    (("apps", 0, "version", "allowed", 1), "apps[0].version.allowed[1]"),
    (("apps", 0, "package_by_region", "IN"), "apps[0].package_by_region.IN"),
    (("apps", 0, "launcher_activity"), "apps[0].launcher_activity"),
    (("apps", 0, "launch", "first_screen", "resource_id"), "apps[0].launch.first_screen.resource_id"),
    (("overrides", "com.example.shared", "name"), "overrides[com.example.shared].name"),
]
METACHARACTERS = [";", "&", "|", "`", "$", "<", ">", "\\", '"', "'", "\n"]


def test_base_for_metacharacter_tests_is_valid(tmp_path):
    write(tmp_path / "apps" / "set.yaml", APP_SET)
    path = write(tmp_path / "vendor-meta.yaml", BASE)
    assert load_profiles([path]).ids == ["vendor-meta"]


@pytest.mark.parametrize("char", METACHARACTERS, ids=repr)
@pytest.mark.parametrize(("target", "key"), TARGETS, ids=[t[1] for t in TARGETS])
def test_shell_metacharacter_in_any_value_is_an_error(tmp_path, char, target, key):
    data = copy.deepcopy(BASE)
    node = data
    for part in target[:-1]:
        node = node[part]
    node[target[-1]] = f"{node[target[-1]]}{char}x"
    write(tmp_path / "apps" / "set.yaml", APP_SET)
    errs = errors_of(write(tmp_path / "vendor-meta.yaml", data))
    meta = [e for e in errs if "shell metacharacter" in e.message]
    assert len(meta) == 1, "\n".join(map(str, errs))
    assert meta[0].key == key
    assert meta[0].line is not None and meta[0].line > 1
    # the same value is not reported a second time as "invalid package name" etc.
    assert [e for e in errs if e.key == key] == meta


def test_shell_metacharacter_in_a_key_and_in_an_app_set(tmp_path):
    data = copy.deepcopy(BASE)
    data["overrides"] = {"com.example.shared;reboot": {"name": "x"}}
    write(tmp_path / "apps" / "set.yaml", {"app_set": "set", "apps": [{"package": "com.example.shared",
                                                                       "name": "Sh$ared"}]})
    errs = errors_of(write(tmp_path / "vendor-meta.yaml", data))
    assert {(e.path.rsplit("/", 1)[-1], e.key) for e in errs} == {
        ("vendor-meta.yaml", "overrides[com.example.shared;reboot]"), ("set.yaml", "apps[0].name")}


# ---------------------------------------------------------------- single rules, in a temporary folder

def line_of(path: Path, text: str) -> int:
    """1-based number of the first line of ``path`` containing ``text``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def profile_with(tmp_path: Path, **changes: object) -> Path:
    data = {"profile": "vendor-x", "name": "X", "match": {"model": ["X"]}, "regions": ["CN"],
            "apps": [{"package": "com.example.a", "name": "A"}]}
    data.update(changes)
    return write(tmp_path / "vendor-x.yaml", data)


def app_with(tmp_path: Path, **fields: object) -> Path:
    return profile_with(tmp_path, apps=[{"package": "com.example.a", "name": "A", **fields}])


@pytest.mark.parametrize(("package", "message", "hint"), [
    ("single", "has a single segment", "at least two segments"),
    ("com.1example.app", "segment '1example' is not a Java identifier", "com.example.app"),
    ("com..app", "has an empty segment", "remove the doubled"),
    ("com.example app", "contains white space", "remove the spaces"),
    ("com.example.app-beta", "contains '-'", "`com.example.app_beta`"),
    ("com.é.app", "segment 'é' is not a Java identifier", "letters, digits and _"),
    ("com." + "a" * 252, "256 characters long", "at most 255"),
])
def test_invalid_package_names(tmp_path, package, message, hint):
    path = app_with(tmp_path, package=package)
    err = only_error(path)
    assert err.key == "apps[0].package" and err.line == line_of(path, "- package:")
    assert message in err.message and hint in err.hint


def test_package_name_of_255_characters_is_valid(tmp_path):
    assert load_profiles([app_with(tmp_path, package="com." + "a" * 251)]).ids == ["vendor-x"]


@pytest.mark.parametrize(("fields", "key", "message", "hint"), [
    ({"version": {}}, "apps[0].version", "empty version rule", "remove `version`"),
    ({"version": {"exact": "1", "code_min": 2}}, "apps[0].version", "`exact` cannot be combined with `code_min`",
     "not both"),
    ({"version": {"code_min": 9, "code_max": 3}}, "apps[0].version", "code_min 9 is greater than code_max 3", "swap"),
    ({"version": {"allowed": []}}, "apps[0].version.allowed", "at least 1 item", "at least one value"),
    ({"version": {"allowed": ["1", "1"]}}, "apps[0].version.allowed", "'1' is listed twice", "remove the duplicate"),
    ({"version": {"exact": 7.0}}, "apps[0].version.exact", "valid string", 'put it in quotes, e.g. "7.0"'),
    ({"version": {"code_min": "173"}}, "apps[0].version.code_min", "valid integer", "without quotes"),
    ({"version": {"exct": "1"}}, "apps[0].version.exct", "unknown key `exct`", "did you mean `exact`?"),
    ({"install_kind": "sytem"}, "apps[0].install_kind", "'sytem' is not allowed here", "did you mean `system`?"),
    ({"elsewhere": "forbidden"}, "apps[0].elsewhere", "'forbidden' is not allowed here", "absent, any"),
    ({"severity": "urgent"}, "apps[0].severity", "'urgent' is not allowed here", "valid values: blocker"),
    ({"severity": "major"}, "apps[0].severity", "'major' is not allowed here", "did you mean `minor`?"),
    ({"partitions": ["system", "cust"]}, "apps[0].partitions[1]", "'cust' is not allowed here", "valid values"),
    ({"enabled": "yes"}, "apps[0].enabled", "valid boolean", "true or false"),
    ({"launcher_activity": "com.example.a/.Main"}, "apps[0].launcher_activity", "invalid activity class name",
     "no component `pkg/` prefix"),
    ({"launch": {"cold_start_ms": 0}}, "apps[0].launch.cold_start_ms", "greater than 0", "positive"),
    ({"launch": {"first_screen": {}}}, "apps[0].launch.first_screen", "first_screen is empty", "resource_id"),
    ({"launch": {"timeout": 3}}, "apps[0].launch.timeout", "unknown key `timeout`", "valid keys: cold_start_ms"),
    ({"required_in": ["IN"]}, "apps[0].required_in", "required_in lists IN, not among the regions", "subset"),
    ({"version_by_region": {"in": {"exact": "1"}}}, "apps[0].version_by_region.in", "upper case", "write `IN`"),
    ({"name": ""}, "apps[0].name", "at least 1 character", "non-empty"),
])
def test_invalid_app_fields(tmp_path, fields, key, message, hint):
    err = only_error(app_with(tmp_path, **fields))
    assert err.key == key
    assert err.line is not None and err.line >= 6
    assert message in err.message and hint in err.hint


@pytest.mark.parametrize(("changes", "key", "message", "hint"), [
    ({"profile": "vendor-y"}, "profile", "differs from the file name", "write `profile: vendor-x`"),
    ({"match": {"fingerprint": "^X"}}, "match", "at least one of `model`, `device`, `name`", "ro.product.model"),
    ({"match": {"model": []}}, "match.model", "at least 1 item", "at least one value"),
    ({"match": {"model": ["X"], "fingerprint": "(unclosed"}}, "match.fingerprint", "is not supported",
     "RE2 regular expression"),
    ({"regions": []}, "regions", "at least 1 item", None),
    ({"regions": ["CN", "CN"]}, "regions", "'CN' is listed twice", "remove the duplicate"),
    ({"regions": ["CN", False]}, "regions[1]", "valid string", "region code NO"),
    ({"regions": ["XK"]}, "regions[0]", "not an ISO 3166-1 alpha-2", "two upper-case letters"),
    ({"include": ["/etc/apps.yaml"]}, "include[0]", "not a relative path to a .yaml file", "relative"),
    ({"include": ["../apps/set.yaml"]}, "include[0]", "not a relative path", "relative"),
    ({"operators": {}}, "operators", "at least 1 item", None),
    ({"operators": ["Jio"]}, "operators", "map each MCC-MNC code to a display name", "405-857: Jio"),
    ({"operators": {"405857": "Jio"}}, "operators.405857", "must be written MCC-MNC with a dash", "write `405-857`"),
    ({"operators": {"Jio": "Jio"}}, "operators.Jio", "not an operator code", "405-857"),
    ({"operators": {"４０５-８５７": "Jio"}}, "operators.４０５-８５７", "non-ASCII digits",
     "write it with ASCII digits: 405-857"),
    ({"operators": {"٤٠٥-٨٥٧": "Jio"}}, "operators.٤٠٥-٨٥٧", "non-ASCII digits",
     "write it with ASCII digits: 405-857"),
    ({"operators": {"405-857": "Jio"}, "overrides": {"com.example.a": {"required_on": ["４０５８５７"]}}},
     "overrides[com.example.a].required_on[0]", "non-ASCII digits", "write it with ASCII digits: 405-857"),
    ({"include": ["apps/set.yaml", "apps/set.yaml"]}, "include[1]", "'apps/set.yaml' is included twice",
     "remove the duplicate"),
    ({"overrides": {"org.other.thing": {"severity": "minor"}}}, "overrides[org.other.thing]",
     "not in this profile", "packages of this profile: com.example.a"),
    ({"overrides": {"com.example.a": {"package": "com.example.b"}}}, "overrides[com.example.a].package",
     "an override cannot change `package`", "package_by_region"),
    ({"overrides": {"com.example.a": {"sevrity": "minor"}}}, "overrides[com.example.a].sevrity",
     "unknown key `sevrity`", "did you mean `severity`?"),
    ({"overrides": {"com.example.a": "minor"}}, "overrides[com.example.a]", "valid dictionary", "mapping"),
    ({"regoins": ["CN"]}, "regoins", "unknown key `regoins`", "did you mean `regions`?"),
])
def test_invalid_profile_fields(tmp_path, changes, key, message, hint):
    write(tmp_path / "apps" / "set.yaml", APP_SET)
    errs = errors_of(profile_with(tmp_path, **changes))
    err = next((e for e in errs if e.key == key), None)
    assert err is not None, "\n".join(map(str, errs))
    assert message in err.message
    if hint is not None:
        assert hint in err.hint
    assert err.line is not None


def test_app_listed_twice_and_app_repeating_an_included_one(tmp_path):
    write(tmp_path / "apps" / "set.yaml", {"app_set": "set", "apps": [
        {"package": "com.example.a", "name": "A"}, {"package": "com.example.a", "name": "A again"}]})
    errs = errors_of(write(tmp_path / "vendor-x.yaml", {
        "profile": "vendor-x", "name": "X", "match": {"model": "X"}, "regions": ["CN"],
        "include": ["apps/set.yaml"]}))
    set_path = tmp_path / "apps" / "set.yaml"
    assert [(e.path.rsplit("/", 1)[-1], e.line, e.key) for e in errs] == [
        ("set.yaml", set_path.read_text().splitlines().index("- package: com.example.a", 3) + 1, "apps[1].package")]
    assert "listed twice (first at line 3)" in errs[0].message

    write(tmp_path / "apps" / "set.yaml", {"app_set": "set", "apps": [{"package": "com.example.a", "name": "A"}]})
    errs = errors_of(write(tmp_path / "vendor-x.yaml", {
        "profile": "vendor-x", "name": "X", "match": {"model": "X"}, "regions": ["CN"],
        "include": ["apps/set.yaml"], "apps": [{"package": "com.example.a", "name": "Mine"}]}))
    assert [(e.key, e.hint) for e in errs] == [
        ("apps[0].package", "change its fields under `overrides:` instead of listing it again")]


def test_app_set_name_must_match_its_file_and_profiles_are_not_app_sets(tmp_path):
    write(tmp_path / "apps" / "set.yaml", {"app_set": "other", "apps": [{"package": "com.example.a", "name": "A"}]})
    write(tmp_path / "apps" / "prof.yaml", {"profile": "prof"})
    errs = errors_of(profile_with(tmp_path, include=["apps/set.yaml", "apps/prof.yaml"], apps=[]))
    assert [(e.path.rsplit("/", 1)[-1], e.key) for e in errs] == [("prof.yaml", "profile"), ("set.yaml", "app_set")]
    assert "not an app set" in errs[0].message
    assert errs[1].hint == "write `app_set: set` or rename the file to other.yaml"


def test_files_that_are_not_profiles(tmp_path):
    write(tmp_path / "typo.yaml", "profil: typo\nname: T\n")
    write(tmp_path / "empty.yaml", "")
    write(tmp_path / "list.yaml", "- a\n- b\n")
    errs = errors_of(tmp_path)
    by_file = {e.path.rsplit("/", 1)[-1]: e for e in errs}
    assert set(by_file) == {"typo.yaml", "empty.yaml", "list.yaml"}
    assert by_file["typo.yaml"].hint == "`profil` - did you mean `profile`?"
    assert "empty" in by_file["empty.yaml"].message


def test_missing_paths_and_empty_directories(tmp_path):
    (tmp_path / "empty").mkdir()
    errs = errors_of(tmp_path / "nope.yaml", tmp_path / "empty")
    assert sorted(e.message for e in errs) == ["file or directory not found", "no .yaml files in this directory"]


def test_duplicate_profile_ids_across_folders(tmp_path):
    write(tmp_path / "apps" / "set.yaml", APP_SET)
    for sub in ("a", "b"):
        profile_with(tmp_path / sub)
    errs = errors_of(tmp_path / "a", tmp_path / "b")
    assert len(errs) == 1 and "profile id 'vendor-x' is used twice" in errs[0].message


def test_errors_of_many_profiles_and_files_come_together(tmp_path):
    write(tmp_path / "apps" / "set.yaml", {"app_set": "set", "apps": [{"package": "com.example.a", "name": "A",
                                                                       "severity": "urgent"}]})
    write(tmp_path / "vendor-a.yaml", {"profile": "vendor-a", "name": "A", "match": {"model": "A"},
                                       "regions": ["CN"], "include": ["apps/set.yaml"]})
    write(tmp_path / "vendor-b.yaml", {"profile": "vendor-b", "name": "B", "match": {"model": "B"},
                                       "regions": ["CN", "UK"], "include": ["apps/set.yaml"]})
    write(tmp_path / "vendor-c.yaml", "profile: vendor-c\nname: C\nname: C2\n")
    errs = errors_of(tmp_path)
    assert [(e.path.rsplit("/", 1)[-1], e.key) for e in errs] == [
        ("set.yaml", "apps[0].severity"),   # reported once although two profiles include it
        ("vendor-b.yaml", "regions[1]"),
        ("vendor-c.yaml", None),
    ]
    assert "\n" in str(ProfileErrors(errs))


# ---------------------------------------------------------------- numbers YAML 1.1 reads in an odd base

ODD_BASE_PROFILE = """\
profile: vendor-odd
name: Odd
match: {{model: [M 1]}}
regions: [CN]
operators:
  405-857: Jio
  {key}: China Mobile
apps:
  - package: com.example.a
    name: A
    required_on: [{item}]
    version: {{exact: {version}}}
"""


def odd_profile(tmp_path: Path, key: str = "460-00", item: str = "405-857", version: str = '"1.0"') -> Path:
    return write(tmp_path / "vendor-odd.yaml", ODD_BASE_PROFILE.format(key=key, item=item, version=version))


def test_odd_base_profile_is_valid_as_written(tmp_path):
    assert load_profiles([odd_profile(tmp_path)]).ids == ["vendor-odd"]


def test_sexagesimal_operator_key_is_named_as_written_with_the_dash_remedy(tmp_path):
    err = only_error(odd_profile(tmp_path, key="460:00"))
    assert (err.line, err.key) == (7, "operators.460:00")
    assert "460:00" in err.message and "27600" in err.message and "base-60" in err.message
    assert err.hint == "quote it and use a dash: '460-00'"
    assert "276-00" not in str(err)


def test_sexagesimal_operator_value_is_named_as_written_with_the_dash_remedy(tmp_path):
    err = only_error(odd_profile(tmp_path, item="460:00"))
    assert (err.line, err.key) == (11, "apps[0].required_on[0]")
    assert "460:00" in err.message and err.hint == "quote it and use a dash: '460-00'"


def test_sexagesimal_version_is_quoted_as_written(tmp_path):
    err = only_error(odd_profile(tmp_path, version="1:30"))
    assert (err.line, err.key) == (12, "apps[0].version.exact")
    assert "1:30" in err.message and err.hint == 'put it in quotes: "1:30"'


def test_octal_operator_key_is_named_as_written(tmp_path):
    err = only_error(odd_profile(tmp_path, key="0460"))
    assert (err.line, err.key) == (7, "operators.0460") and "octal" in err.message and "0460" in err.message


@pytest.mark.parametrize(("key", "message", "hint"), [
    ("0460-00", "the MCC 0460 has 4 digits", "did you mean `460-00`?"),
    ("46-00", "the MCC 46 has 2 digits", "3 digits, a dash, 2 or 3 digits"),
    ("460-0", "the MNC 0 has 1 digit ", "3 digits, a dash, 2 or 3 digits"),
    ("460-0001", "the MNC 0001 has 4 digits", "3 digits, a dash, 2 or 3 digits"),
])
def test_operator_with_a_dash_and_wrong_digit_counts(tmp_path, key, message, hint):
    err = only_error(odd_profile(tmp_path, key=key))
    assert err.line == 7 and message in err.message and hint in err.hint
    assert "046-000" not in str(err)


# ---------------------------------------------------------------- a key written without a value

@pytest.mark.parametrize(("fields", "key", "hint"), [
    ({"signers": None}, "apps[0].signers", "remove `signers`"),
    ({"version": None}, "apps[0].version", "remove `version`"),
    ({"placement": None}, "apps[0].placement", "remove `placement`"),
    ({"launch": None}, "apps[0].launch", "remove the key"),
    ({"required_on": None}, "apps[0].required_on", "remove the key"),
    ({"version": {"exact": None, "code_min": 3}}, "apps[0].version.exact", "remove the key"),
    ({"placement": {"folder": "Microsoft", "label": None}}, "apps[0].placement.label", "remove the key"),
    ({"version_by_region": {"CN": None}}, "apps[0].version_by_region.CN", "remove the key"),
])
def test_key_without_a_value_is_an_error_not_switched_off(tmp_path, fields, key, hint):
    err = only_error(app_with(tmp_path, **fields))
    assert err.key == key and err.line is not None
    assert "has no value" in err.message and hint in err.hint


def test_empty_list_item_and_empty_operators_are_errors(tmp_path):
    path = write(tmp_path / "vendor-x.yaml", "profile: vendor-x\nname: X\nmatch: {model: [X]}\nregions:\n  - CN\n  -\n"
                                              "operators:\napps:\n  - {package: com.example.a, name: A}\n")
    errs = errors_of(path)
    assert [(e.line, e.key) for e in errs] == [(6, "regions[1]"), (7, "operators")]
    assert errs[0].message == "empty list item" and "remove `operators`" in errs[1].hint


def test_null_in_an_override_still_removes_the_key(tmp_path):
    write(tmp_path / "apps" / "set.yaml", "app_set: set\napps:\n  - {package: com.example.a, name: A, "
                                          "signers: ['" + "a" * 64 + "'], placement: {home_screen: true}}\n")
    path = write(tmp_path / "vendor-x.yaml", "profile: vendor-x\nname: X\nmatch: {model: [X]}\nregions: [CN]\n"
                                             "include: [apps/set.yaml]\noverrides:\n"
                                             "  com.example.a: {signers: null, placement: ~}\n")
    [req] = load_profiles([path]).get("vendor-x").requirements("CN")
    assert req.signers is None and req.placement is None


def test_override_without_any_key_is_an_error(tmp_path):
    write(tmp_path / "apps" / "set.yaml", APP_SET)
    err = only_error(profile_with(tmp_path, include=["apps/set.yaml"], overrides={"com.example.shared": None}))
    assert err.key == "overrides[com.example.shared]" and "has no value" in err.message
    assert "remove the override" in err.hint


# ---------------------------------------------------------------- rules that would never be checked

@pytest.mark.parametrize(("fields", "key"), [
    ({"enabled": False, "launch": {"cold_start_ms": 4000}}, "apps[0].launch"),
    ({"enabled": False, "placement": {"home_screen": True}}, "apps[0].placement"),
])
def test_disabled_app_with_launch_or_placement_is_a_contradiction(tmp_path, fields, key):
    err = only_error(app_with(tmp_path, **fields))
    assert err.key == key and err.line is not None
    assert "`enabled: false` contradicts" in err.message and "never be checked" in err.message
    assert "enabled: true" in err.hint


def test_disabling_an_included_app_with_launch_and_placement_is_reported_at_the_override(tmp_path):
    write(tmp_path / "apps" / "set.yaml", {"app_set": "set", "apps": [{
        "package": "com.example.shared", "name": "Shared", "launch": {"cold_start_ms": 4000},
        "placement": {"folder": "Microsoft"}}]})
    path = profile_with(tmp_path, apps=[], include=["apps/set.yaml"],
                        overrides={"com.example.shared": {"enabled": False}})
    errs = errors_of(path)
    assert sorted(e.key for e in errs) == ["overrides[com.example.shared].launch",
                                           "overrides[com.example.shared].placement"]
    assert all(e.path.endswith("vendor-x.yaml") and e.line is not None for e in errs)
    # removing both in the same override is the documented way out
    profile_with(tmp_path, apps=[], include=["apps/set.yaml"],
                 overrides={"com.example.shared": {"enabled": False, "launch": None, "placement": None}})
    [req] = load_profiles([tmp_path / "vendor-x.yaml"]).get("vendor-x").requirements("CN")
    assert not req.enabled and req.launch is None and req.placement is None


@pytest.mark.parametrize(("fields", "key", "message"), [
    ({"placement": {"folder": "  "}}, "apps[0].placement.folder", "is blank"),
    ({"placement": {"home_screen": True, "label": " \u00a0 "}}, "apps[0].placement.label", "is blank"),
    ({"name": " "}, "apps[0].name", "is blank"),
    ({"launch": {"first_screen": {"text": "  "}}}, "apps[0].launch.first_screen.text", "is blank"),
    ({"placement": {"home_screen": True, "page": 99999999999999999999}}, "apps[0].placement.page",
     "beyond any launcher (at most 50 pages)"),
    ({"placement": {"home_screen": True, "page": 51}}, "apps[0].placement.page", "at most 50"),
])
def test_blank_labels_and_absurd_pages_are_refused(tmp_path, fields, key, message):
    err = only_error(app_with(tmp_path, **fields))
    assert err.key == key and message in err.message and err.hint


def test_page_50_is_accepted(tmp_path):
    path = app_with(tmp_path, placement={"home_screen": True, "page": 50})
    assert load_profiles([path]).get("vendor-x").apps[0].placement.target_page == 50


def test_a_key_yaml_read_as_a_boolean_is_named_as_written_at_its_line(tmp_path):
    path = write(tmp_path / "vendor-x.yaml", "profile: vendor-x\nname: X\nmatch: {model: [X]}\nregions: [CN]\napps:\n"
                                              "  - package: com.a.b\n    name: A\n    version_by_region:\n"
                                              "      NO: {exact: '1'}\n")
    err = only_error(path)
    assert (err.line, err.key) == (9, "apps[0].version_by_region.NO") and "booleans" in err.hint


def test_a_long_plain_list_is_named_as_written_not_as_aliases(tmp_path):
    apps = "".join(f"  - {{package: c.a{i}, name: A, severity: minor}}\n" for i in range(16000))  # < 1 MiB
    path = tmp_path / "x.yaml"
    path.write_text("profile: x\nname: X\nmatch: {model: [X]}\nregions: [CN]\napps:\n" + apps)
    (err,) = errors_of(path)
    assert "`apps` holds 16000 values" in str(err) and "aliases" not in str(err) and err.line == 5
