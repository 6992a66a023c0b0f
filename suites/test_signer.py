"""Signer: each required app's APKs are signed by the partner's agreed certificate, never by an AOSP test key."""

import pytest

from harness.checks import check_signer


@pytest.mark.check("signer")
def test_app_is_signed_by_the_partner(app_case, package_state, apk_signers, expect):
    """Base, split and factory APKs: the certificate Android uses is agreed (or rotated from an agreed one)."""
    sdk = app_case.device_case.facts.sdk if app_case.device_case.facts else None
    report = apk_signers.report(sdk) if apk_signers else ""
    expect(check_signer(app_case.requirement, package_state, apk_signers, sdk),
           attachments={"signing certificates": report})
