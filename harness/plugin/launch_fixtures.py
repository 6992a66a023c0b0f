"""Fixtures of the launch suite: one uiautomator2 driver per device per session, and the launch check.

Registered through the root ``conftest.py`` (``pytest_plugins``). Per-session state lives in the session-scoped
``ui_drivers`` fixture (a dict serial → :class:`~harness.uidriver.UiDriver`), so uiautomator2 is set up once
per device per pytest process (with pytest-xdist: once per device per worker; group a device's tests on one
worker, e.g. ``--dist loadgroup``, because two processes on one device conflict, notes uiautomator2 §5.1-6).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.launch import LaunchCheck, LaunchReport, launch_precondition
from harness.uidriver import UiDriver


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each launch test ``xdist_group(<serial>)`` so ``-n N --dist loadgroup`` keeps a device on one worker
    (a uiautomator2 server per device and process; two processes on one device conflict)."""
    for item in items:
        marker = item.get_closest_marker("check")
        params = getattr(getattr(item, "callspec", None), "params", {})
        case = params.get("app_case")
        if marker is not None and marker.args[:1] == ("launch",) and case is not None:
            item.add_marker(pytest.mark.xdist_group(name=case.device_case.serial))


@pytest.fixture(scope="session")
def ui_drivers() -> Iterator[dict[str, UiDriver]]:
    """serial → UiDriver for this session; each driver stops the uiautomator2 server it started at the end."""
    drivers: dict[str, UiDriver] = {}
    yield drivers
    for driver in drivers.values():
        driver.close()


@pytest.fixture
def ui_driver(app_case, ui_drivers: dict[str, UiDriver]) -> UiDriver:  # noqa: ANN001 - AppCase
    """The uiautomator2 driver of this test's device (created on first use, connected lazily)."""
    device = app_case.device_case.device
    assert device is not None
    driver = ui_drivers.get(device.serial)
    if driver is None or driver.device is not device:
        driver = ui_drivers[device.serial] = UiDriver(device)
    return driver


@pytest.fixture
def launch_check(app_case, ui_driver: UiDriver) -> LaunchCheck:  # noqa: ANN001 - AppCase
    """A :class:`~harness.launch.LaunchCheck` over this test's device and its uiautomator2 driver."""
    device = app_case.device_case.device
    assert device is not None
    return LaunchCheck(device, ui_driver)


@pytest.fixture
def launch_report(app_case, package_state, launch_check: LaunchCheck) -> LaunchReport | None:  # noqa: ANN001
    """Launch this test's app (in setup, so a device or uiautomator2 fault is a pytest *error*, not a failure).

    None when the launch does not apply (app not required here, not installed or disabled: the
    presence / enabled checks report those); the test then skips with the precondition's reason.
    """
    req = app_case.requirement
    if launch_precondition(req, package_state) is not None:
        return None
    spec = req.launch
    first = spec.first_screen if spec else None
    return launch_check.run(req.package, req.name, activity=req.launcher_activity,
                            limit_ms=spec.cold_start_ms if spec else None,
                            first_text=first.text if first else None,
                            first_resource_id=first.resource_id if first else None)
