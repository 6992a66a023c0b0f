"""Version: the active copy of each required app is at the agreed version."""

import pytest

from harness.checks import check_version


@pytest.mark.check("version")
def test_app_is_at_agreed_version(app_case, package_state, expect):
    """The active version_name / version_code satisfies the agreement (for the device's region)."""
    expect(check_version(app_case.requirement, package_state))
