"""The launch suite's device work: one launch job per launch test, on the device's worker thread.

Registered through the root ``conftest.py`` (``pytest_plugins``). The launch runs on the device's
:class:`~harness.workers.DeviceWorker` (:mod:`harness.plugin.farm`), so the launches of different devices
overlap while one device launches one app at a time, in test order. The device's uiautomator2 driver is a
service of that worker: created on the first launch, reset when the device dropped and came back, and closed
(its server stopped) when the run ends. A launch's device or uiautomator2 fault is raised in the test's
*setup* (pytest error, Allure broken), never as a failure.
"""

from __future__ import annotations

import pytest

from harness.launch import LaunchCheck, LaunchReport, launch_precondition
from harness.plugin.farm import WorkSpec, device_work, wait_for_work
from harness.plugin.session import AppCase
from harness.uidriver import UiDriver
from harness.workers import DeviceWorker

UI_SERVICE = "uiautomator2"


@device_work("launch_report")
def launch_work(item: pytest.Item, case: AppCase, worker: DeviceWorker) -> WorkSpec:
    """One launch of this test's app (after the device's inventory, which says whether the launch applies)."""
    req = case.requirement
    packages = tuple(case.device_case.all_packages())
    device = worker.device

    def run() -> LaunchReport | None:
        state = device.inventory(packages).packages[req.package]
        if launch_precondition(req, state, live=case.device_case.live) is not None:
            return None
        driver = worker.service(UI_SERVICE, lambda: UiDriver(device))
        spec = req.launch
        first = spec.first_screen if spec else None
        return LaunchCheck(device, driver).run(req.package, req.name, activity=req.launcher_activity,
                                               limit_ms=spec.cold_start_ms if spec else None,
                                               first_text=first.text if first else None,
                                               first_resource_id=first.resource_id if first else None)

    return ("launch", item.nodeid), f"launch {req.name}", run


@pytest.fixture
def launch_report(request: pytest.FixtureRequest, app_case: AppCase) -> LaunchReport | None:
    """This test's launch, run on the device's worker (in setup: a device fault is an *error*, not a failure).

    None when the launch does not apply (app not required here, not installed or disabled: the presence /
    enabled checks report those); the test then skips with the precondition's reason.
    """
    return wait_for_work(request, "launch_report")
