"""check_signer (pure): agreed digests, key rotation through the lineage, AOSP test keys, factory copies, and the
not-applicable cases; on signatures read from the real fixture APKs."""

from __future__ import annotations

import pytest

from harness.apksig import read_local_apk
from harness.checks import check_signer
from harness.signatures import ApkCopy, PackageSigners
from tests.unit.test_checks import MISSING, req, state
from virtual_device.apk_fixtures import cert_digest, ensure_built

WORD = "com.microsoft.office.word"
PARTNER, PARTNER_2026, OTHER = cert_digest("partner"), cert_digest("partner-2026"), cert_digest("other")
TESTKEY = cert_digest("aosp-testkey")


@pytest.fixture(scope="module")
def sig():
    out = ensure_built()

    def read(name: str, path: str = "/system/app/Word/Word.apk"):
        return read_local_apk(path, (out / f"{name}.apk").read_bytes())[0]
    return read


def signers(*copies: tuple[str, list]) -> PackageSigners:
    return PackageSigners(WORD, tuple(ApkCopy(role, tuple(sigs)) for role, sigs in copies))


def test_agreed_signer_passes_and_shows_subject_and_validity(sig):
    v = check_signer(req(signers=(PARTNER,)), state(), signers(("active", [sig("partner-v1v2")])), 24)
    assert v.status == "pass" and v.expected == f"signed by one of SHA-256 {PARTNER}"
    assert v.found == f"{PARTNER} (O=preload-harness fixtures,CN=Partner app signer A (fixture test key), " \
                      "valid 2016-01-01..2046-01-01)"
    assert v.evidence == (f"active /system/app/Word/Word.apk: v2 signer {PARTNER}",)


def test_other_key_fails_wrong_signer_with_both_digests(sig):
    v = check_signer(req(signers=(PARTNER, PARTNER_2026)), state(), signers(("active", [sig("other-v1v2")])), 29)
    assert v.status == "fail" and v.category == "wrong signer"
    assert PARTNER in v.expected and PARTNER_2026 in v.expected and OTHER in v.found
    assert v.message("MI 5 (x)", "Word").startswith("[wrong signer] MI 5 (x): Word: Word is signed with a certificate")


def test_rotated_key_passes_through_its_lineage_on_api_28_and_the_old_key_before(sig):
    rotated = signers(("active", [sig("partner-rotated")]))
    on_29 = check_signer(req(signers=(PARTNER,)), state(), rotated, 29)
    assert on_29.status == "pass" and PARTNER_2026 in on_29.found
    assert on_29.evidence == (f"active /system/app/Word/Word.apk: v3 signer {PARTNER_2026}; rotated from {PARTNER}",)
    assert check_signer(req(signers=(PARTNER,)), state(), rotated, 23).found.startswith(PARTNER)  # v1 on Android 6
    # the new key alone is agreed: Android 6 still uses the old key from v1, which is not agreed
    assert check_signer(req(signers=(PARTNER_2026,)), state(), rotated, 23).category == "wrong signer"
    assert check_signer(req(signers=(PARTNER_2026,)), state(), rotated, 29).status == "pass"


def test_test_key_fails_even_when_the_contract_lists_it_or_lists_nothing(sig):
    tk = signers(("active", [sig("testkey-v1v2")]))
    for agreed in ((TESTKEY,), None):
        v = check_signer(req(signers=agreed), state(), tk, 24)
        assert v.status == "fail" and v.category == "test-key signed"
        assert v.evidence[0] == f"test key: AOSP testkey {TESTKEY} in /system/app/Word/Word.apk"


def test_factory_copy_of_an_updated_system_app_is_checked_too(sig):
    observed = signers(("active", [sig("partner-v1v2", "/data/app/w-1/base.apk")]),
                       ("factory", [sig("other-v1v2")]))
    v = check_signer(req(signers=(PARTNER,)), state(updated_system=True), observed, 24)
    assert v.category == "wrong signer" and "factory /system/app/Word/Word.apk" in v.reason
    assert PARTNER in v.found and OTHER in v.found


def test_not_applicable_cases(sig):
    good = signers(("active", [sig("partner-v1v2")]))
    assert check_signer(req(signers=(PARTNER,), presence="any"), state(), good, 24).status == "not_applicable"
    assert check_signer(req(signers=(PARTNER,)), MISSING, None, 24).status == "not_applicable"
    v = check_signer(req(signers=None), state(), good, 24)
    assert v.status == "not_applicable" and v.found.startswith(PARTNER)
    assert v.reason == "the agreement names no signing certificate for Word"
