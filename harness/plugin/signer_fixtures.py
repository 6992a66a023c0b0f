"""The signer suite's device work: one job per device reads the APK signatures of all its required, installed apps.

Registered through the root ``conftest.py`` (``pytest_plugins``). The job runs on the device's
:class:`~harness.workers.DeviceWorker` (:mod:`harness.plugin.farm`) after the device's inventory (which says which
apps are installed and where their factory copies are) and is shared by every signer test of the device: its
round trips are constant in the number of apps (:mod:`harness.signatures`). A device fault fails the job, so every
signer test of the device is an error; an app whose signature cannot be read is an error for that app only.
"""

from __future__ import annotations

import pytest

from harness.plugin.farm import WorkSpec, device_work, wait_for_work
from harness.plugin.session import AppCase
from harness.signatures import PackageSigners, SignerInventory
from harness.workers import DeviceWorker


@device_work("apk_signers")
def signer_work(item: pytest.Item, case: AppCase, worker: DeviceWorker) -> WorkSpec:
    """The device's signature reads: every app its requirements say is required in its region, when installed."""
    dc = case.device_case
    packages = tuple(dc.all_packages())
    required = tuple(sorted({r.package for r in dc.requirements if r.presence == "required"}))
    device = worker.device

    def run() -> SignerInventory:
        states = device.inventory(packages).packages
        return device.apk_signers({p: states[p] for p in required})

    return ("signers", required), "signers", run


@pytest.fixture
def apk_signers(request: pytest.FixtureRequest, app_case: AppCase) -> PackageSigners | None:
    """This test's app's APK signatures (None when not read: not required here or not installed).

    Raises, in setup, the device's error or the app's own :class:`~harness.errors.ParseError` (Allure broken).
    """
    inventory: SignerInventory = wait_for_work(request, "apk_signers")
    return inventory.for_package(app_case.requirement.package)
