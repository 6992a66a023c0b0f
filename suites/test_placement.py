"""Placement: each required app is preinstalled the agreed way, on an agreed partition, and enabled."""

import pytest

from harness.checks import check_enabled, check_install_kind


@pytest.mark.check("install_kind")
def test_app_is_preinstalled_as_agreed(app_case, package_state, expect):
    """Install kind (factory system, updated system, removable preload) and partition are as agreed."""
    expect(check_install_kind(app_case.requirement, package_state))


@pytest.mark.check("enabled")
def test_app_is_enabled_for_user_0(app_case, package_state, expect):
    """The app is enabled for user 0."""
    expect(check_enabled(app_case.requirement, package_state))
