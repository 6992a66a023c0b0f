"""An in-process stand-in for a device's UiDriver over a virtual device's state (no adb, no uiautomator2)."""

from __future__ import annotations

from typing import Any

from harness.homescreen import HomeScreenSurvey
from harness.homescreen_survey import HomeScreenReader
from virtual_device import u2server
from virtual_device.image import HomeFolder, HomeScreenLayout, load_named_image
from virtual_device.state import DeviceState

OFFICE = ["com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
          "com.microsoft.office.outlook"]


class FakeDevice:
    """What HomeScreenReader needs of a Device: a serial and ``gone``."""

    serial = "FAKE0001"
    gone = None


class FakeDriver:
    """The UiDriver calls HomeScreenReader makes, answered by the virtual device's u2server functions.

    ``calls`` records every call; ``ignore`` names calls that do nothing (a stuck launcher, a folder that will not
    open): ``"home"``, ``"back"``, ``"click"``.
    """

    def __init__(self, state: DeviceState, *, ignore: tuple[str, ...] = ()) -> None:
        self.state = state
        self.ignore = ignore
        self.calls: list[str] = []

    def hierarchy(self) -> str:
        self.calls.append("hierarchy")
        return u2server.hierarchy_xml(self.state)

    def screenshot_jpeg(self) -> bytes:
        self.calls.append("screenshot")
        return u2server.screenshot_jpeg(self.state, 0.2)

    def press(self, key: str) -> None:
        self.calls.append(f"press {key}")
        if key not in self.ignore:
            u2server.press_key(self.state, key)

    def click(self, x: int, y: int) -> None:
        self.calls.append(f"click {x},{y}")
        if "click" not in self.ignore:
            u2server.click(self.state, x, y)

    def swipe(self, start: tuple[int, int], end: tuple[int, int], *, duration_s: float = 0.1) -> None:
        self.calls.append(f"swipe {start}->{end} {duration_s}")
        u2server.swipe(self.state, *start, *end)

    def wait_selector(self, selector: dict[str, Any], *, timeout: float = 5.0, gone: bool = False) -> bool:
        self.calls.append(f"wait {'gone ' if gone else ''}{selector}")
        present = bool(u2server.find(self.state, selector))
        return not present if gone else present


def device_state(pages: list[list[str | HomeFolder]], hotseat: list[str] | None = None,
                 image: str = "mi5-cn") -> DeviceState:
    """A seed image's device with this home-screen layout."""
    img = load_named_image(image)
    img.home_screen = HomeScreenLayout(pages=pages, hotseat=hotseat or [])
    return DeviceState.from_image(img)


def survey(state: DeviceState, needs: dict[int, set[str]], **driver_kwargs: Any) -> HomeScreenSurvey:
    """Run HomeScreenReader over ``state`` through a FakeDriver."""
    reader = HomeScreenReader(FakeDevice(), FakeDriver(state, **driver_kwargs))  # type: ignore[arg-type]
    return reader.read(needs)
