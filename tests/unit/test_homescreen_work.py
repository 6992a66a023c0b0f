"""The home-screen device job (harness.plugin.homescreen_fixtures): when it reads a launcher and when it does not."""

from __future__ import annotations

from typing import Any

from harness.plugin.homescreen_fixtures import home_screen_work
from harness.plugin.session import AppCase, DeviceCase
from harness.profiles import load_profiles
from harness.sources import OfflineDevice, Target
from tests.unit.test_sources import PROPS, WORD


class FakeWorker:
    """A DeviceWorker's job-side API: its ``device`` and ``service`` (recorded; it must not be needed here)."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.services: list[str] = []

    def service(self, name: str, factory: Any) -> Any:
        self.services.append(name)
        raise AssertionError(f"service {name} asked for")


def _case(device: Any, region: str = "CN") -> AppCase:
    profile = load_profiles().get("xiaomi-mi5")
    dc = DeviceCase(serial=device.serial, server="h", device=device, facts=device.facts(), profile=profile,
                    requirements=profile.requirements(region))
    return AppCase(dc, dc.requirements[0])


def test_a_rom_build_or_bugreport_gets_no_launcher_reading():
    device = OfflineDevice(Target(serial="build:mi5.zip", host="rom-build", props=PROPS,
                                  packages={WORD.package: WORD}, source="mi5.zip"))
    worker = FakeWorker(device)
    key, label, run = home_screen_work(None, _case(device), worker)  # type: ignore[arg-type]
    assert key == ("home_screen",) and label == "home screen"
    assert run() is None and worker.services == []


def test_a_live_device_where_no_placement_applies_is_not_driven():
    class LiveButEmpty(OfflineDevice):
        live = True  # a phone on which none of the placed apps is installed

    device = LiveButEmpty(Target(serial="SERIAL1", host="h", props=PROPS, packages={}, source="-"))
    worker = FakeWorker(device)
    _key, _label, run = home_screen_work(None, _case(device), worker)  # type: ignore[arg-type]
    assert run() is None and worker.services == []
