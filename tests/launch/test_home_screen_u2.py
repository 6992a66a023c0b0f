"""HomeScreenReader with the real uiautomator2 3.7.1 client, through the real adb server, on the virtual MIUI
launcher: HOME, page swipes, opening and closing folders, and the launcher left on its default page."""

from __future__ import annotations

from harness.checks import check_home_screen
from harness.homescreen_survey import HomeScreenReader
from harness.profiles import Placement
from tests.e2e.conftest import variant_image
from tests.unit.test_checks import req

OFFICE = ["com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
          "com.microsoft.office.outlook"]


def test_reader_swipes_opens_folders_and_leaves_the_launcher_home(rig_factory, tmp_path):
    layout = {"pages": [[{"folder": "Microsoft", "apps": OFFICE[:2]}, "com.android.settings"],
                        [{"folder": "Tools", "apps": ["com.android.deskclock", OFFICE[2]]}, "com.skype.raider"]],
              "hotseat": ["com.android.contacts", "com.android.camera"]}
    rig = rig_factory(str(variant_image(tmp_path, "mi5-cn", "mi5-home", home_screen=layout)))
    rig.adb.shell(["am", "start", "-n", "com.skype.raider/com.skype.raider.Main"])  # an app in front first
    result = HomeScreenReader(rig.device, rig.driver).read({1: {"Microsoft"}, 2: {"Tools"}, 3: set()})
    assert sorted(result.pages) == [1, 2] and result.last_page == 2
    assert result.folders[(1, "Microsoft")].view.folder_apps() == ["Word", "Excel"]
    assert result.folders[(2, "Tools")].view.folder_apps() == ["Clock", "PowerPoint"]
    assert result.pages[2].view.find_app("Skype") is not None
    assert result.pages[1].screenshot and result.pages[1].screenshot.startswith(b"\xff\xd8")
    state = rig.vdev.state
    assert state.launcher_page == 0 and state.open_folder is None
    assert state.focus is not None and state.focus.package == "com.miui.home"
    assert result.actions[0] == "HOME" and result.actions[-1] == "HOME (launcher left on its default page)"
    ppt = check_home_screen(req(name="PowerPoint", placement=Placement(folder="Microsoft")), result)
    assert ppt.category == "not in folder" and 'seen at: folder "Tools" on page 2' in ppt.found
    skype = check_home_screen(req(name="Skype", placement=Placement(home_screen=True, page=2)), result)
    assert skype.status == "pass"


def test_the_seed_image_layout_is_what_the_reader_sees(rig_factory):
    rig = rig_factory("mimax-in-updated")
    result = HomeScreenReader(rig.device, rig.driver, screenshots=False).read({1: {"Microsoft"}})
    page = result.pages[1].view
    assert page.summary() == ('workspace: folder "Microsoft" (Word, Excel, PowerPoint), Outlook, Skype, Security, '
                              "Gallery, Settings; hotseat: Phone, Messages, Browser, Camera")
    assert result.pages[1].screenshot is None
