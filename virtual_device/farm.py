"""A farm: one virtual device per image file, all served by one :class:`~virtual_device.server.DeviceServer`.

Images are YAML files (virtual_device/images/<name>.yaml, see virtual_device.image). They are given as image names
(``mi5-cn``), file paths, or directories (every ``*.yaml`` inside, sorted). The farm does not talk to any adb
server; virtual_device.testing.Farm and ``python -m virtual_device farm`` do the ``adb connect``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from virtual_device.server import DeviceServer, VirtualDevice

IMAGES_DIR = Path(__file__).resolve().parent / "images"


def resolve_images(specs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Expand image specs into YAML files, in the given order (directories sorted by file name).

    A spec is a directory, a ``.yaml``/``.yml`` file, or a bare image name looked up in virtual_device/images/.
    Raises harness.errors.UsageError naming the spec and the known image names when nothing matches.
    """
    out: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not files:
                raise UsageError(f"{p}: no *.yaml image in this directory")
            out.extend(files)
        elif p.is_file():
            out.append(p)
        elif p.suffix == "" and (IMAGES_DIR / f"{p.name}.yaml").is_file() and len(p.parts) == 1:
            out.append(IMAGES_DIR / f"{p.name}.yaml")
        else:
            known = ", ".join(sorted(q.stem for q in IMAGES_DIR.glob("*.yaml"))) or "none"
            raise UsageError(f"image {str(spec)!r} not found: give a YAML file, a directory, or one of: {known}")
    if not out:
        raise UsageError("no image given")
    return out


def load_state(path: str | os.PathLike[str]) -> Any:
    """``DeviceState.from_image(load_image(path))`` (raises virtual_device.image.ImageError on a bad image)."""
    from virtual_device.image import load_image
    from virtual_device.state import DeviceState

    return DeviceState.from_image(load_image(path))


class VirtualFarm:
    """Devices from image files on one DeviceServer (its own, unless one is passed in and then not stopped).

    Attributes:
        images: the resolved image files; devices: the started VirtualDevices in the same order.
    """

    def __init__(self, images: Sequence[str | os.PathLike[str]], server: DeviceServer | None = None) -> None:
        self.images = resolve_images(images)
        self._own_server = server is None
        self.server = server if server is not None else DeviceServer()
        self.devices: list[VirtualDevice] = []

    def start(self) -> VirtualFarm:
        """Load every image (all errors before any device starts) and serve one device per image."""
        states = [(path, load_state(path)) for path in self.images]
        self.server.start()
        for path, state in states:
            self.devices.append(self.server.add_device(state, name=path.stem))
        return self

    def stop(self) -> None:
        """Stop the devices (and the server when the farm created it)."""
        for dev in self.devices:
            if self.server.devices and dev in self.server.devices:
                self.server.remove_device(dev)
        self.devices = []
        if self._own_server:
            self.server.stop()

    def __enter__(self) -> VirtualFarm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
