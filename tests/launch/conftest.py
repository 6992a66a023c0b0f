"""Fixtures of the launch tests: a virtual device behind a private real adb server, as a harness Device."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from harness.adb import AdbServerLink, ServerAddress
from harness.device import Device
from harness.uidriver import UiDriver
from virtual_device.server import VirtualDevice


@dataclass
class Rig:
    """One virtual device: ``vdev`` (its state is ``vdev.state``), the harness ``device`` and a ``driver``."""

    vdev: VirtualDevice
    device: Device
    driver: UiDriver
    adb: object  # adbutils.AdbDevice on the same server (for raw commands a test needs)
    server: object  # the virtual_device.server.DeviceServer serving vdev (go_offline, ...)


@pytest.fixture
def rig_factory(virtual_farm, adb_server) -> Iterator:  # noqa: ANN001 - fixtures of virtual_device.pytest_plugin
    """``rig_factory(image, **driver_kwargs) -> Rig``; drivers are closed at teardown (before the farm stops)."""
    drivers: list[UiDriver] = []

    def make(image: str, **driver_kwargs: float) -> Rig:
        farm = virtual_farm(image)
        vdev = farm.devices[0]
        link = AdbServerLink(ServerAddress("127.0.0.1", adb_server.port))
        entry = next(e for e in link.devices() if e.serial == vdev.serial)
        device = Device(entry, link.device(vdev.serial))
        driver = UiDriver(device, **driver_kwargs)
        drivers.append(driver)
        return Rig(vdev, device, driver, farm.adb_devices[0], farm.vfarm.server)

    yield make
    for d in drivers:
        d.close()
