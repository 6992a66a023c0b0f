"""The home-screen suite's device work: one job per device reads its launcher for all its apps.

Registered through the root ``conftest.py`` (``pytest_plugins``). The job runs on the device's
:class:`~harness.workers.DeviceWorker` (:mod:`harness.plugin.farm`), in test order with the device's launches, so
it never overlaps them; every home-screen test of the device waits for the same job (shared key). It reads only the
pages and folders the device's placements need (:class:`~harness.homescreen_survey.HomeScreenReader`) with the
device's uiautomator2 driver, the worker service the launch suite also uses. A device or uiautomator2 fault is raised
in the test's *setup* (pytest error, Allure broken), never as a failure.
"""

from __future__ import annotations

import pytest

from harness.checks import home_screen_precondition
from harness.homescreen import HomeScreenSurvey
from harness.homescreen_survey import HomeScreenReader, pages_to_read, taps_to_make
from harness.plugin.farm import WorkSpec, device_work, wait_for_work
from harness.plugin.launch_fixtures import UI_SERVICE
from harness.plugin.session import AppCase
from harness.uidriver import UiDriver
from harness.workers import DeviceWorker


@device_work("home_screen")
def home_screen_work(item: pytest.Item, case: AppCase, worker: DeviceWorker) -> WorkSpec:
    """The device's one reading of its home screen (after its inventory, which says which placements apply)."""
    del item
    dc = case.device_case
    packages = tuple(dc.all_packages())
    requirements = list(dc.requirements)
    device = worker.device

    def run() -> HomeScreenSurvey | None:
        if not dc.live:
            return None
        states = device.inventory(packages).packages
        placed = [r for r in requirements
                  if home_screen_precondition(r, states[r.package], live=True) is None and r.placement is not None]
        if not placed:
            return None
        driver = worker.service(UI_SERVICE, lambda: UiDriver(device))
        return HomeScreenReader(device, driver).read(pages_to_read(r.placement for r in placed), taps_to_make(placed))

    return ("home_screen",), "home screen", run


@pytest.fixture
def home_screen(request: pytest.FixtureRequest, app_case: AppCase) -> HomeScreenSurvey | None:
    """What this test's device showed on its home screen, read once per device on its worker (in setup: a device
    fault is an *error*, not a failure). None when no placement applies on the device (no live device, no
    placement agreed, apps not required, missing or disabled); the test then skips with the precondition's reason.
    """
    del app_case
    return wait_for_work(request, "home_screen")
