"""Read one device's home screen for every placement its apps have: HOME, read, swipe, open folders, HOME.

The device side of the home-screen check (the decision is :func:`harness.checks.check_home_screen`, the reading of
one dump :func:`harness.homescreen.read_launcher`). One :class:`HomeScreenReader` run per device reads, with the
device's :class:`~harness.uidriver.UiDriver` (every call under a hard deadline):

1. ``pressKey home`` (the launcher in front on its default page, folders closed), then the window hierarchy; when
   no launcher workspace is on screen yet it waits for one (``waitForExists`` ``resourceIdMatches
   .*:id/workspace``, bounded) and reads again;
2. page 1 (the default home screen), then page N by a horizontal swipe from page N-1 (finger right to left across
   the middle of the workspace): uiautomator dumps only the visible page. A swipe that changes nothing (same icons,
   same indicator) means the previous page was the last;
3. on each page, each folder a placement names: tap its icon, wait for ``folder_content`` (bounded), read, press
   ``back``, wait until ``folder_content`` is gone (``HOME`` and back to the page if ``back`` did not close it);
4. for each app whose icon the placement puts there, tap every icon of that label (in the folder: open it again
   first) and read which package comes to the front (the window manager's focus, polled, bounded): a label proves
   nothing by itself, another app (a "Skype Lite" labelled "Skype") may carry it. The app is force-stopped again,
   HOME and back to the page;
5. ``pressKey home`` at the end, so the launcher is left as found: default page, no folder open.

Besides those taps it only reads: HOME, swipes between pages, opening and closing a folder. It never drags,
long-presses or renames.
A launcher that is not in front after HOME, or a folder that will not open or close, is a
:class:`~harness.errors.HomeScreenError` (broken), never a placement failure. Screenshots (JPEG) of every page and
open folder read travel with the result as evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING

from harness.errors import DeviceError, HomeScreenError, ParseError
from harness.homescreen import FolderRead, HomeScreenSurvey, LauncherItem, LauncherView, PageRead, read_launcher

if TYPE_CHECKING:
    from harness.device import Device
    from harness.uidriver import UiDriver

WORKSPACE_SELECTOR = {"resourceIdMatches": r".*:id/workspace"}
FOLDER_SELECTOR = {"resourceIdMatches": r".*:id/folder_content"}
LAUNCHER_WAIT_S = 5.0
"""How long to wait for the launcher's workspace after HOME."""
FOLDER_WAIT_S = 5.0
"""How long to wait for a tapped folder to open, and for it to close after back."""
SWIPE_S = 0.1
"""Duration of a page swipe in seconds (fast: a slow, still touch would be a long press)."""
TAP_WAIT_S = 10.0
"""How long to wait for a tapped app icon to bring an app to the front."""
POLL_S = 0.25
"""Seconds between focus reads while waiting for a tapped icon's app."""

Tap = tuple["str | None", str, str]
"""``(folder name or None, icon label, package)``: an icon to tap and the app it must open."""

_log = logging.getLogger("harness.homescreen")


def pages_to_read(placements: Iterable[object]) -> dict[int, set[str]]:
    """``{page: folder names}`` to read for these placements (``harness.profiles.Placement`` objects): every page
    from 1 to the highest one named, each with the folders placed on it."""
    needs: dict[int, set[str]] = {}
    for placement in placements:
        page = int(getattr(placement, "target_page", 1))
        needs.setdefault(page, set())
        folder = getattr(placement, "folder", None)
        if folder:
            needs[page].add(" ".join(str(folder).split()))
    return needs


def taps_to_make(requirements: Iterable[object]) -> dict[int, set[Tap]]:
    """``{page: {(folder or None, label, package)}}``: the icons to tap, one per placed requirement
    (``harness.profiles`` requirements with a ``placement``): label and folder white space collapsed as
    :func:`harness.homescreen.normalize_label` does."""
    from harness.homescreen import normalize_label

    taps: dict[int, set[Tap]] = {}
    for req in requirements:
        placement = getattr(req, "placement", None)
        if placement is None:
            continue
        folder = normalize_label(placement.folder) if placement.folder else None
        label = normalize_label(placement.label or getattr(req, "name", ""))
        taps.setdefault(int(placement.target_page), set()).add((folder, label, str(getattr(req, "package", ""))))
    return taps


def front_package(focus: object, launcher: str | None) -> str | None:
    """The package an app start brought to the front, from a :class:`harness.parsers.focus.Focus`: the focused
    window's package (a crash / ANR dialog names its app), else the resumed activity's; None while the launcher
    (or nothing) is in front."""
    app = getattr(focus, "app", None)
    for package in (getattr(focus, "package", None), getattr(app, "package", None)):
        if package and package != launcher:
            return package
    return None


class HomeScreenReader:
    """Reads a device's launcher (module docstring).

    Args:
        device: the device (its serial names errors; ``gone`` is checked before the final HOME).
        driver: its uiautomator2 driver.
        screenshots: take a JPEG screenshot of each page and open folder read (evidence).
        launcher_wait: seconds to wait for the workspace after HOME.
        folder_wait: seconds to wait for a folder to open / close.
        tap_wait: seconds to wait for a tapped app icon to bring an app to the front.
    """

    def __init__(self, device: Device, driver: UiDriver, *, screenshots: bool = True,
                 launcher_wait: float = LAUNCHER_WAIT_S, folder_wait: float = FOLDER_WAIT_S,
                 tap_wait: float = TAP_WAIT_S) -> None:
        self.device = device
        self.driver = driver
        self.screenshots = screenshots
        self.launcher_wait = launcher_wait
        self.folder_wait = folder_wait
        self.tap_wait = tap_wait
        self.actions: list[str] = []
        self.launcher: str | None = None

    # -- small steps ---------------------------------------------------------------------------------------------
    def _read(self) -> tuple[str, LauncherView]:
        xml = self.driver.hierarchy()
        try:
            return xml, read_launcher(xml)
        except ParseError as exc:
            raise exc.with_context(serial=self.device.serial, excerpt=xml[:300]) from None

    def _shot(self) -> bytes | None:
        return self.driver.screenshot_jpeg() if self.screenshots else None

    def _home(self) -> tuple[str, LauncherView]:
        self.driver.press("home")
        self.actions.append("HOME")
        xml, view = self._read()
        if not view.is_launcher:
            self.driver.wait_selector(WORKSPACE_SELECTOR, timeout=self.launcher_wait)
            xml, view = self._read()
        if not view.is_launcher:
            raise HomeScreenError("the launcher's home screen is not in front after HOME (no workspace in the window "
                                  "hierarchy)", serial=self.device.serial,
                                  remedy="unlock the device and close whatever covers the home screen; rerun")
        if view.folder_open:
            self._close_folder("a folder left open")
            xml, view = self._read()
        return xml, view

    def _swipe_next(self, view: LauncherView) -> None:
        left, top, right, bottom = view.workspace or (0, 0, 0, 0)
        if right - left < 10 or bottom - top < 10:
            raise HomeScreenError("the launcher's workspace has no size to swipe across", serial=self.device.serial)
        y = (top + bottom) // 2
        width = right - left
        self.driver.swipe((left + width * 85 // 100, y), (left + width * 15 // 100, y), duration_s=SWIPE_S)

    def _close_folder(self, what: str) -> bool:
        """Close an open folder with back (True: still on the same page), else with HOME (False: now on the default
        page). Raises HomeScreenError when neither closes it."""
        self.driver.press("back")
        self.actions.append(f"back (close {what})")
        if self.driver.wait_selector(FOLDER_SELECTOR, timeout=self.folder_wait, gone=True):
            return True
        self.driver.press("home")
        self.actions.append(f"HOME (back did not close {what})")
        if not self.driver.wait_selector(FOLDER_SELECTOR, timeout=self.folder_wait, gone=True):
            raise HomeScreenError(f"{what} stays open after back and HOME", serial=self.device.serial,
                                  remedy="close it on the device; rerun")
        return False

    def _to_page(self, page: int) -> tuple[str, LauncherView]:
        """HOME, then swipe to ``page`` (used after HOME had to close a folder)."""
        xml, view = self._home()
        for n in range(2, page + 1):
            self._swipe_next(view)
            self.actions.append(f"swipe to page {n}")
            xml, view = self._read()
        return xml, view

    def _tap_folder(self, page: int, name: str, icon: LauncherItem, how: str) -> None:
        """Tap folder ``name``'s icon and wait until the launcher shows it open; ``how`` ends the error message
        (``at (x, y)``, ``again``). Raises :class:`HomeScreenError` when it does not open."""
        self.driver.click(*icon.center)
        self.actions.append(f'open folder "{name}" on page {page}')
        if not self.driver.wait_selector(FOLDER_SELECTOR, timeout=self.folder_wait):
            raise HomeScreenError(f'folder "{name}" on page {page} did not open when tapped {how}',
                                  serial=self.device.serial, remedy="check the device's screen; rerun")

    def _open(self, page: int, name: str, icon: LauncherItem) -> tuple[FolderRead, bool]:
        """Open, read and close one folder; ``(reading, still on the page)``."""
        self._tap_folder(page, name, icon, f"at {icon.center}")
        xml, view = self._read()
        if not view.folder_open:
            raise HomeScreenError(f'folder "{name}" on page {page} closed again before it could be read',
                                  serial=self.device.serial, remedy="rerun")
        if view.folder_title and view.folder_title != name:
            raise HomeScreenError(f'tapping folder "{name}" on page {page} opened "{view.folder_title}"',
                                  serial=self.device.serial, remedy="rerun; report a harness bug if it persists")
        read = FolderRead(page, name, view, xml, self._shot())
        return read, self._close_folder(f'folder "{name}"')

    def _tap_app(self, item: LauncherItem, where: str, package: str) -> str | None:
        """Tap an app icon; the package that came to the front (None: nothing within ``tap_wait``). Force-stops
        ``package`` when it was that app (the harness stops the apps it starts); HOME."""
        from harness.launch import LaunchCheck

        self.driver.click(*item.center)
        reader = LaunchCheck(self.device, self.driver)
        deadline = time.monotonic() + self.tap_wait
        while True:
            front = front_package(reader.read_focus()[0], self.launcher)
            if front is not None or time.monotonic() >= deadline:
                break
            time.sleep(POLL_S)
        self.actions.append(f'tap icon "{item.label}" ({where}): {front or "nothing"} came to the front')
        if front == package:
            self.device.shell(["am", "force-stop", package])
            self.actions.append(f"am force-stop {package}")
        self.driver.press("home")
        self.actions.append("HOME")
        return front

    def _tap_all(self, page: int, tap: Tap) -> tuple[str | None, ...]:
        """Tap every icon labelled like ``tap`` on ``page`` (in its folder when it names one), until one opens the
        app; the packages they opened, in screen order. Leaves the launcher on ``page`` (HOME, swipes)."""
        folder, label, package = tap
        opened: list[str | None] = []
        index = 0
        while True:
            _xml, view = self._to_page(page)
            if folder is not None:
                icon = view.find_folder(folder)
                if icon is None:
                    break
                self._tap_folder(page, folder, icon, "again")
                _xml, view = self._read()
                icons = view.find_apps(label, ("folder",))
            else:
                icons = view.find_apps(label)
            if index >= len(icons):
                if folder is not None:
                    self._close_folder(f'folder "{folder}"')
                break
            where = f'folder "{folder}" on page {page}' if folder else (
                "hotseat" if icons[index].area == "hotseat" else f"page {page}")
            front = self._tap_app(icons[index], where, package)
            opened.append(front)
            index += 1
            if front == package:
                break
        return tuple(opened)

    # -- the run -------------------------------------------------------------------------------------------------
    def read(self, needs: Mapping[int, Collection[str]],
             taps: Mapping[int, Collection[Tap]] | None = None) -> HomeScreenSurvey:
        """Read the pages and folders of ``needs`` (:func:`pages_to_read`), tap the icons of ``taps``
        (:func:`taps_to_make`) found there, and leave the launcher on its default page. Raises HomeScreenError,
        LaunchInfraError (uiautomator2), DeviceUnavailable, ParseError, DumpIncomplete (focus dump cut)."""
        self.actions = []
        pages: dict[int, PageRead] = {}
        folders: dict[tuple[int, str], FolderRead] = {}
        opened: dict[tuple[int, str | None, str], tuple[str | None, ...]] = {}
        last_page: int | None = None
        launcher: str | None = None
        failed = True
        try:
            xml, view = self._home()
            launcher = self.launcher = view.package
            for page in range(1, max(needs, default=1) + 1):
                if page > 1:
                    before = view.signature()
                    self._swipe_next(view)
                    self.actions.append(f"swipe to page {page}")
                    xml, view = self._read()
                    if view.signature() == before:
                        last_page = page - 1
                        break
                pages[page] = PageRead(page, view, xml, self._shot())
                for name in sorted(needs.get(page, ())):
                    icon = view.find_folder(name)
                    if icon is None:
                        continue
                    folders[(page, name)], stayed = self._open(page, name, icon)
                    xml, view = self._read() if stayed else self._to_page(page)
                    if view.signature() != pages[page].view.signature():  # not back where the folder was
                        xml, view = self._to_page(page)
                for tap in sorted((taps or {}).get(page, ()), key=lambda t: (t[0] or "", t[1], t[2])):
                    folder, label, _package = tap
                    present = (folders.get((page, folder)) is not None and label in folders[(page, folder)].view
                               .folder_apps()) if folder else bool(pages[page].view.find_apps(label))
                    if present:
                        opened[(page, folder, label)] = self._tap_all(page, tap)
                        xml, view = self._to_page(page)  # where the next swipe starts
            failed = False
        finally:
            if self.device.gone is None:
                try:
                    self.driver.press("home")
                    self.actions.append("HOME (launcher left on its default page)")
                except DeviceError:
                    if not failed:
                        raise
        _log.info("[%s] home screen read: pages %s, folders %s", self.device.serial, sorted(pages),
                  sorted(folders))
        return HomeScreenSurvey(launcher=launcher, pages=pages, last_page=last_page, folders=folders,
                                actions=tuple(self.actions), opened=opened)
