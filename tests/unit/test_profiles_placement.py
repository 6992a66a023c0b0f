"""Profile key `placement` (issue 10 part 3): accepted forms, resolution into requirements, and file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import ProfileErrors
from harness.profiles import Placement, load_profiles


def profile(tmp_path: Path, placement: object, overrides: dict | None = None) -> Path:
    (tmp_path / "apps").mkdir(exist_ok=True)
    (tmp_path / "apps" / "set.yaml").write_text(yaml.safe_dump({"app_set": "set", "apps": [
        {"package": "com.example.a", "name": "Alpha", "placement": {"folder": "Partner"}}]}, sort_keys=False))
    doc = {"profile": "vendor-x", "name": "X", "match": {"model": ["X 1"]}, "regions": ["CN"],
           "include": ["apps/set.yaml"],
           "apps": [{"package": "com.example.b", "name": "Beta", "placement": placement}]}
    if overrides is not None:
        doc["overrides"] = overrides
    path = tmp_path / "vendor-x.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize(("placement", "folder", "page", "label", "text"), [
    ({"home_screen": True}, None, 1, None, 'icon "Beta" on home screen page 1 (the default home screen) or its '
                                           "hotseat"),
    ({"home_screen": True, "page": 2}, None, 2, None, 'icon "Beta" on home screen page 2 or its hotseat'),
    ({"folder": "Microsoft"}, "Microsoft", 1, None, 'icon "Beta" in folder "Microsoft" on home screen page 1 (the '
                                                    "default home screen)"),
    ({"folder": "Microsoft", "page": 3, "label": "Beta Pro"}, "Microsoft", 3, "Beta Pro",
     'icon "Beta" in folder "Microsoft" on home screen page 3'),
])
def test_accepted_placements_resolve_into_requirements(tmp_path, placement, folder, page, label, text):
    reqs = {r.name: r for r in load_profiles([profile(tmp_path, placement)]).profiles[0].requirements("CN")}
    beta = reqs["Beta"].placement
    assert beta is not None and beta.folder == folder and beta.target_page == page and beta.label == label
    assert beta.describe("Beta") == text
    assert reqs["Alpha"].placement == Placement(folder="Partner")  # from the included app set


def test_no_placement_means_none_agreed(tmp_path):
    path = profile(tmp_path, {"home_screen": True})
    data = yaml.safe_load(path.read_text())
    del data["apps"][0]["placement"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    reqs = {r.name: r for r in load_profiles([path]).profiles[0].requirements("CN")}
    assert reqs["Beta"].placement is None


def test_an_override_replaces_the_whole_placement(tmp_path):
    path = profile(tmp_path, {"home_screen": True}, overrides={"com.example.a": {"placement": {"home_screen": True,
                                                                                               "page": 2}}})
    alpha = next(r for r in load_profiles([path]).profiles[0].requirements("CN") if r.name == "Alpha")
    assert alpha.placement == Placement(home_screen=True, page=2)
    assert alpha.override_source is not None


@pytest.mark.parametrize(("placement", "key", "message", "hint"), [
    ({"home_screen": True, "folder": "Microsoft"}, "apps[0].placement",
     "`home_screen` and `folder` cannot be used together", "keep one of the two"),
    ({"home_screen": False}, "apps[0].placement", "`home_screen: false` agrees nothing", "remove `placement`"),
    ({}, "apps[0].placement", "placement names no place", "`home_screen: true` or `folder: <name>`"),
    ({"page": 2}, "apps[0].placement", "placement names no place", "optionally with `page: N`"),
    ({"home_screen": True, "page": 0}, "apps[0].placement.page", "page 0 does not exist: pages are counted from 1",
     "page 1 is the default home screen"),
    ({"home_screen": True, "page": "2"}, "apps[0].placement.page", "valid integer", "without quotes"),
    ({"folder": ""}, "apps[0].placement.folder", "at least 1 character", "non-empty"),
    ({"folder": 7}, "apps[0].placement.folder", "valid string", "put it in quotes"),
    ({"home_screen": "yes"}, "apps[0].placement.home_screen", "valid boolean", "true or false"),
    ({"home_screen": True, "pag": 2}, "apps[0].placement.pag", "unknown key `pag`", "did you mean `page`?"),
    ({"folder": "Micro$oft"}, "apps[0].placement.folder", "shell metacharacter", "remove them"),
    ("home", "apps[0].placement", "valid dictionary", "mapping"),
])
def test_invalid_placements_name_file_line_key_and_hint(tmp_path, placement, key, message, hint):
    path = profile(tmp_path, placement)
    with pytest.raises(ProfileErrors) as info:
        load_profiles([path])
    errs = info.value.errors
    assert len(errs) == 1, "\n".join(map(str, errs))
    err = errs[0]
    assert err.key == key and message in err.message and hint in (err.hint or ""), str(err)
    assert err.path.endswith("vendor-x.yaml") and err.line is not None and err.line >= 8


def test_a_bad_override_placement_points_at_the_override(tmp_path):
    path = profile(tmp_path, {"home_screen": True}, overrides={"com.example.a": {"placement": {"folder": "P",
                                                                                               "home_screen": True}}})
    with pytest.raises(ProfileErrors) as info:
        load_profiles([path])
    (err,) = info.value.errors
    assert err.key == "overrides[com.example.a].placement" and "cannot be used together" in err.message
