"""check_home_screen / home_screen_precondition: verdicts from what a (virtual, in-process) launcher showed."""

from __future__ import annotations

import pytest

from harness.checks import check_home_screen, home_screen_precondition
from harness.errors import HomeScreenError
from harness.homescreen import HomeScreenSurvey
from harness.profiles import Placement
from tests.unit.launcher_fakes import OFFICE, device_state, survey
from tests.unit.test_checks import req, state
from virtual_device.image import HomeFolder

MS = HomeFolder(folder="Microsoft", apps=OFFICE)
TOOLS = HomeFolder(folder="Tools", apps=["com.android.deskclock", "com.skype.raider"])


def placed(placement: Placement, name: str = "Word"):
    return req(name=name, placement=placement)


def test_icon_on_the_default_page_passes_with_its_node_as_evidence():
    result = survey(device_state([[MS, "com.skype.raider"]]), {1: set()})
    verdict = check_home_screen(placed(Placement(home_screen=True), "Skype"), result)
    assert verdict.status == "pass" and verdict.found == 'icon "Skype" on the home screen (page 1)'
    assert verdict.expected == 'icon "Skype" on home screen page 1 (the default home screen) or its hotseat'
    assert 'text="Skype"' in verdict.evidence[0]


def test_icon_in_the_hotseat_counts_as_on_the_home_screen():
    result = survey(device_state([[MS]], hotseat=["com.skype.raider"]), {1: set()})
    verdict = check_home_screen(placed(Placement(home_screen=True), "Skype"), result)
    assert verdict.status == "pass" and "(hotseat)" in verdict.found


def test_icon_only_on_page_2_is_not_on_the_home_screen():
    result = survey(device_state([[MS], ["com.skype.raider"]]), {1: set(), 2: set()})
    verdict = check_home_screen(placed(Placement(home_screen=True), "Skype"), result)
    assert verdict.status == "fail" and verdict.category == "not on home screen"
    assert verdict.reason == "Skype has no icon on home screen page 1"
    assert verdict.found == "not on page 1 nor the hotseat; seen at: page 2 workspace"
    assert verdict.evidence == ('page 1: workspace: folder "Microsoft" (Word, Excel, PowerPoint, Outlook)',)
    assert verdict.message("MI 5", "Skype").startswith("[not on home screen] MI 5: Skype: Skype has no icon")
    on_page_2 = check_home_screen(placed(Placement(home_screen=True, page=2), "Skype"), result)
    assert on_page_2.status == "pass" and on_page_2.expected.startswith('icon "Skype" on home screen page 2 or')


def test_an_icon_inside_a_folder_is_not_directly_on_the_home_screen():
    result = survey(device_state([[TOOLS]]), {1: set()})
    verdict = check_home_screen(placed(Placement(home_screen=True), "Skype"), result)
    assert verdict.status == "fail" and verdict.category == "not on home screen"
    assert 'seen at: preview of folder "Tools" on page 1' in verdict.found


def test_in_the_agreed_folder_passes():
    result = survey(device_state([[MS, "com.skype.raider"]]), {1: {"Microsoft"}})
    verdict = check_home_screen(placed(Placement(folder="Microsoft")), result)
    assert verdict.status == "pass"
    assert verdict.found == ('icon "Word" in folder "Microsoft" on page 1 (folder "Microsoft" holds: Word, Excel, '
                             "PowerPoint, Outlook)")
    assert verdict.expected == 'icon "Word" in folder "Microsoft" on home screen page 1 (the default home screen)'
    assert verdict.evidence[1] == 'open folder "Microsoft": Word, Excel, PowerPoint, Outlook'


def test_next_to_the_folder_is_not_in_it():
    layout = [[HomeFolder(folder="Microsoft", apps=OFFICE[1:]), OFFICE[0]]]
    result = survey(device_state(layout), {1: {"Microsoft"}})
    verdict = check_home_screen(placed(Placement(folder="Microsoft")), result)
    assert verdict.status == "fail" and verdict.category == "not in folder"
    assert verdict.reason == 'Word is not in folder "Microsoft"'
    assert verdict.found == 'folder "Microsoft" holds: Excel, PowerPoint, Outlook; seen at: page 1 workspace'


def test_in_another_folder_says_which():
    layout = [[HomeFolder(folder="Microsoft", apps=OFFICE[1:]), HomeFolder(folder="Office", apps=OFFICE[:1])]]
    result = survey(device_state(layout), {1: {"Microsoft", "Office"}})
    verdict = check_home_screen(placed(Placement(folder="Microsoft")), result)
    assert verdict.category == "not in folder" and 'seen at: folder "Office" on page 1' in verdict.found


def test_no_such_folder_lists_the_folders_there():
    result = survey(device_state([[TOOLS] + OFFICE]), {1: {"Microsoft"}})
    verdict = check_home_screen(placed(Placement(folder="Microsoft")), result)
    assert verdict.status == "fail" and verdict.category == "not in folder"
    assert verdict.reason == 'Word: no folder "Microsoft" on home screen page 1'
    assert verdict.found == 'no folder "Microsoft" on page 1 (folders there: Tools); seen at: page 1 workspace'


def test_a_page_that_does_not_exist():
    result = survey(device_state([[MS], ["com.skype.raider"]]), {3: set()})
    verdict = check_home_screen(placed(Placement(home_screen=True, page=3), "Skype"), result)
    assert verdict.status == "fail" and verdict.category == "not on home screen"
    assert verdict.found == "the home screen has 2 pages, no page 3; seen at: page 2 workspace"
    folder = check_home_screen(placed(Placement(folder="Microsoft", page=3)), result)
    assert folder.category == "not in folder" and folder.found.startswith("the home screen has 2 pages, no page 3")


def test_the_label_can_differ_from_the_app_name():
    state_ = device_state([["com.skype.raider"]])
    state_.packages["com.skype.raider"] = state_.packages["com.skype.raider"].model_copy(
        update={"label": "Skype for Xiaomi"})
    result = survey(state_, {1: set()})
    assert check_home_screen(placed(Placement(home_screen=True), "Skype"), result).status == "fail"
    labelled = check_home_screen(placed(Placement(home_screen=True, label="Skype  for Xiaomi"), "Skype"), result)
    assert labelled.status == "pass" and labelled.expected.startswith('icon "Skype for Xiaomi"')


def test_a_folder_on_the_page_that_was_not_read_is_a_harness_error_not_a_verdict():
    full = survey(device_state([[MS]]), {1: set()})  # the folder was not asked for, so not opened
    with pytest.raises(HomeScreenError, match='folder "Microsoft" is on page 1 but was not opened'):
        check_home_screen(placed(Placement(folder="Microsoft")), full)


@pytest.mark.parametrize(("kwargs", "st", "live", "reason"), [
    ({"placement": Placement(home_screen=True)}, {}, False, "needs a live device"),
    ({}, {}, True, "names no home-screen placement for Word"),
    ({"placement": Placement(home_screen=True), "presence": "any"}, {}, True, "not required in this region"),
    ({"placement": Placement(home_screen=True)}, {"installed": False}, True, "not installed for user 0"),
    ({"placement": Placement(home_screen=True)}, {"enabled": False, "enabled_state": 3}, True,
     "disabled for user 0"),
])
def test_preconditions_make_the_check_not_applicable(kwargs, st, live, reason):
    verdict = home_screen_precondition(req(**kwargs), state(**st), live=live)
    assert verdict is not None and verdict.status == "not_applicable" and reason in verdict.reason


def test_applicable_when_placed_installed_enabled_and_live():
    assert home_screen_precondition(req(placement=Placement(folder="Microsoft")), state()) is None


def test_survey_where_is_lists_every_place_seen():
    result: HomeScreenSurvey = survey(device_state([[TOOLS], ["com.skype.raider"]]), {1: {"Tools"}, 2: set()})
    assert result.where_is("Skype") == ["page 2 workspace", 'folder "Tools" on page 1']
