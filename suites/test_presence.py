"""Presence: every app the agreement requires in the device's region is installed for user 0."""

import pytest

from harness.checks import check_presence


@pytest.mark.check("presence")
def test_required_app_is_installed(app_case, package_state, expect):
    """The app is installed for user 0 (not merely present on the system partition)."""
    expect(check_presence(app_case.requirement, package_state))
