"""HomeScreenReader over an in-process virtual launcher: which pages and folders it reads, how it leaves the launcher,
and which launcher faults are infrastructure errors."""

from __future__ import annotations

import pytest

from harness.errors import HomeScreenError
from harness.homescreen_survey import HomeScreenReader, pages_to_read
from harness.profiles import Placement
from tests.unit.launcher_fakes import OFFICE, FakeDevice, FakeDriver, device_state
from virtual_device.image import HomeFolder

MS = HomeFolder(folder="Microsoft", apps=OFFICE)


def test_pages_to_read_covers_every_page_up_to_the_highest_and_its_folders():
    placements = [Placement(folder="Microsoft"), Placement(home_screen=True, page=3),
                  Placement(folder=" Tools  box ", page=2), Placement(home_screen=True)]
    assert pages_to_read(placements) == {1: {"Microsoft"}, 3: set(), 2: {"Tools box"}}
    assert pages_to_read([]) == {}


def test_reads_page_1_and_its_folder_and_leaves_the_launcher_as_found():
    state = device_state([[MS, "com.skype.raider"], ["com.android.settings"]])
    state.launch("com.skype.raider", "com.skype.raider.Main")  # an app in front: HOME first
    driver = FakeDriver(state)
    result = HomeScreenReader(FakeDevice(), driver).read({1: {"Microsoft"}})  # type: ignore[arg-type]
    assert sorted(result.pages) == [1] and list(result.folders) == [(1, "Microsoft")]
    assert result.launcher == "com.miui.home" and result.last_page is None
    folder = result.folders[(1, "Microsoft")]
    assert folder.view.folder_apps() == ["Word", "Excel", "PowerPoint", "Outlook"]
    assert folder.screenshot and folder.screenshot.startswith(b"\xff\xd8")
    assert result.pages[1].screenshot and "icon_title" in result.pages[1].xml
    assert result.actions == ("HOME", 'open folder "Microsoft" on page 1', 'back (close folder "Microsoft")',
                              "HOME (launcher left on its default page)")
    assert driver.calls[0] == "press home" and driver.calls[-1] == "press home"
    assert not any(c.startswith("swipe") for c in driver.calls)  # page 1 needs no swipe
    assert state.open_folder is None and state.launcher_page == 0
    assert state.focus is not None and state.focus.package == "com.miui.home"


def test_swipes_to_page_2_opens_its_folder_and_returns_home():
    state = device_state([["com.android.settings"], [MS, "com.skype.raider"]])
    driver = FakeDriver(state)
    result = HomeScreenReader(FakeDevice(), driver).read({1: set(), 2: {"Microsoft"}})  # type: ignore[arg-type]
    assert sorted(result.pages) == [1, 2]
    assert result.pages[2].view.find_app("Skype") is not None
    assert result.folders[(2, "Microsoft")].view.folder_apps()[0] == "Word"
    swipes = [c for c in driver.calls if c.startswith("swipe")]
    assert len(swipes) == 1 and "(918, 960)->(162, 960) 0.1" in swipes[0]  # right to left, mid workspace, fast
    assert state.launcher_page == 0 and state.open_folder is None


def test_a_page_past_the_last_is_reported_not_invented():
    state = device_state([["com.android.settings"], ["com.skype.raider"]])
    result = HomeScreenReader(FakeDevice(), FakeDriver(state)).read({4: set()})  # type: ignore[arg-type]
    assert sorted(result.pages) == [1, 2] and result.last_page == 2
    assert result.actions.count("swipe to page 3") == 1 and "swipe to page 4" not in result.actions


def test_a_folder_not_on_the_page_is_not_opened():
    state = device_state([["com.android.settings"]])
    driver = FakeDriver(state)
    result = HomeScreenReader(FakeDevice(), driver).read({1: {"Microsoft"}})  # type: ignore[arg-type]
    assert result.folders == {} and not any(c.startswith("click") for c in driver.calls)


def test_launcher_not_in_front_after_home_is_an_infrastructure_error():
    state = device_state([[MS]])
    state.launch("com.skype.raider", "com.skype.raider.Main")
    driver = FakeDriver(state, ignore=("home",))  # HOME does nothing (e.g. a kiosk app or a stuck screen)
    with pytest.raises(HomeScreenError, match="launcher's home screen is not in front after HOME") as info:
        HomeScreenReader(FakeDevice(), driver).read({1: {"Microsoft"}})  # type: ignore[arg-type]
    assert info.value.serial == "FAKE0001" and "unlock the device" in str(info.value)
    assert any(c.startswith("wait {'resourceIdMatches'") for c in driver.calls)  # it waited before giving up


def test_a_folder_that_does_not_open_is_an_infrastructure_error():
    state = device_state([[MS]])
    driver = FakeDriver(state, ignore=("click",))
    with pytest.raises(HomeScreenError, match='folder "Microsoft" on page 1 did not open'):
        HomeScreenReader(FakeDevice(), driver).read({1: {"Microsoft"}})  # type: ignore[arg-type]
    assert driver.calls[-1] == "press home"  # still leaves the launcher on its default page


def test_a_folder_back_does_not_close_is_closed_with_home_and_the_page_found_again():
    state = device_state([["com.android.settings"], [MS]])
    driver = FakeDriver(state, ignore=("back",))
    result = HomeScreenReader(FakeDevice(), driver).read({2: {"Microsoft"}})  # type: ignore[arg-type]
    assert result.folders[(2, "Microsoft")].view.folder_title == "Microsoft"
    assert 'HOME (back did not close folder "Microsoft")' in result.actions
    assert result.actions.count("swipe to page 2") == 2  # back to page 2 after HOME, then HOME at the end
    assert state.open_folder is None and state.launcher_page == 0
