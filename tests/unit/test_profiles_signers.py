"""Agreed signing certificates in profiles (``signers``): validated digests with file:line errors, resolved into
requirements, overridable per model."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ProfileErrors
from harness.profiles import load_profiles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "profiles"
PARTNER = "f19b6c67a582b33c37f75d5aebb9f6ca2d9ba99e6a0d92251f90c2042e23fbbe"
TESTKEY = "a40da80a59d170caa950cf15c18c454d47a39b26989d8b640ecd745ba71bf5dc"


def test_bad_digests_are_reported_with_file_line_key_and_remedy():
    with pytest.raises(ProfileErrors) as info:
        load_profiles([FIXTURES / "signers" / "bad-signers.yaml"])
    got = {(e.line, e.key): (e.message, e.hint or "") for e in info.value.errors}
    path = {e.path for e in info.value.errors}
    assert path == {"tests/fixtures/profiles/signers/bad-signers.yaml"}
    assert set(got) == {(10, "apps[0].signers[1]"), (13, "apps[1].signers[0]"), (16, "apps[2].signers[0]"),
                        (19, "apps[3].signers"), (22, "apps[4].signers")}, got
    message, hint = got[(10, "apps[0].signers[1]")]
    assert "has separators" in message and f"`{PARTNER}`" in hint
    assert "looks like an SHA-1 digest" in got[(13, "apps[1].signers[0]")][0]
    message, hint = got[(16, "apps[2].signers[0]")]
    assert "'not-a-digest' is not 64 hex digits" in message and "apksigner verify --print-certs" in hint
    assert got[(19, "apps[3].signers")][1]  # empty list: a hint says what to give
    assert "listed twice" in got[(22, "apps[4].signers")][0]  # the same digest in two cases is one digest
    text = str(info.value)
    assert "bad-signers.yaml:10: apps[0].signers[1]:" in text and "Traceback" not in text


def test_digests_resolve_lower_case_into_requirements_and_overrides_change_them(tmp_path):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "set.yaml").write_text(
        "app_set: set\napps:\n  - package: com.example.alpha\n    name: Alpha\n"
        f"    signers: [{PARTNER.upper()}]\n  - package: com.example.beta\n    name: Beta\n")
    (tmp_path / "model.yaml").write_text(
        "profile: model\nname: Model\nmatch: {model: [M1]}\nregions: [CN]\ninclude: [apps/set.yaml]\n"
        f"overrides:\n  com.example.beta: {{signers: [{TESTKEY}, {PARTNER}]}}\n")
    profile = load_profiles([tmp_path / "model.yaml"]).get("model")
    reqs = {r.package: r for r in profile.requirements("CN")}
    assert reqs["com.example.alpha"].signers == (PARTNER,)
    assert reqs["com.example.beta"].signers == (TESTKEY, PARTNER)


def test_no_signers_means_none_agreed():
    profile = load_profiles([FIXTURES / "good-mini.yaml"]).get("good-mini")
    assert all(r.signers is None for r in profile.requirements("CN"))
