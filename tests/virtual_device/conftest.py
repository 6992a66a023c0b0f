"""Shared helpers for the virtual device tests (fixtures adb_server / virtual_farm come from
virtual_device.pytest_plugin, registered by the root conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

TEST_IMAGES = Path(__file__).resolve().parent / "images"


def image(name: str) -> Path:
    """Path of a transport test image in tests/virtual_device/images (vd-basic, vd-hang, vd-offline, ...)."""
    path = TEST_IMAGES / f"{name}.yaml"
    assert path.is_file(), path
    return path


@pytest.fixture
def vd_image():
    """The :func:`image` helper as a fixture: ``vd_image("vd-hang") -> Path``."""
    return image


@pytest.fixture
def basic(virtual_farm):
    """One healthy device (tests/virtual_device/images/vd-basic.yaml): (Farm, VirtualDevice, adbutils.AdbDevice)."""
    farm = virtual_farm(image("vd-basic"))
    return farm, farm.devices[0], farm.adb_devices[0]
