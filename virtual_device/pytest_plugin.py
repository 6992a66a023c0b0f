"""pytest fixtures for virtual devices: a private adb server per test and a factory for farms on it.

Load with ``pytest_plugins = ["virtual_device.pytest_plugin"]`` in the root conftest.py, or import the fixtures into a
conftest (tests/virtual_device/conftest.py does). Every test gets its own adb server on a free port (never 5037,
never 5555-5585) with a private HOME; teardown disconnects the farm's devices, stops them and kills that server.

Example::

    def test_model(virtual_farm):
        farm = virtual_farm("mi5-cn")
        assert farm.adb_devices[0].prop.model == "MI 5"
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

import pytest

from virtual_device.testing import AdbServer, Farm

FarmFactory = Callable[..., Farm]


@pytest.fixture
def adb_server() -> Iterator[AdbServer]:
    """A started private adb server (virtual_device.testing.AdbServer); killed at teardown."""
    with AdbServer() as server:
        yield server


@pytest.fixture
def virtual_farm(adb_server: AdbServer) -> Iterator[FarmFactory]:
    """Factory ``virtual_farm(*images, wait_state=("device",)) -> Farm`` on this test's ``adb_server``.

    ``images`` are image names, YAML paths or directories (virtual_device.farm.resolve_images). The farm is
    started, each device ``adb connect``-ed and polled until it reaches ``wait_state`` (None: no wait); every farm
    is stopped at teardown, before the adb server.
    """
    farms: list[Farm] = []

    def start(*images: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
              wait_state: Sequence[str] | None = ("device",)) -> Farm:
        flat: list[str | os.PathLike[str]] = []
        for item in images:
            flat.extend(item if isinstance(item, list | tuple) else [item])
        farm = Farm(flat, adb_server, wait_state=wait_state)
        farms.append(farm)
        return farm.start()

    yield start
    for farm in reversed(farms):
        farm.stop()
