"""harness.homescreen: reading launcher icons and folders from real and virtual hierarchy dumps (no device)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ParseError
from harness.homescreen import normalize_label, read_launcher
from virtual_device import u2server
from virtual_device.image import HomeFolder, HomeScreenLayout, load_named_image
from virtual_device.state import DeviceState

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "launcher"
PIXEL = FIXTURES / "pixel-launcher_android-home_hotseat-two-icons_js-adb.xml"
OFFICE = ["com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint"]


def miui(pages: list[list[str | HomeFolder]], hotseat: list[str] | None = None) -> DeviceState:
    """The MI 5 seed image with another home-screen layout."""
    image = load_named_image("mi5-cn")
    image.home_screen = HomeScreenLayout(pages=pages, hotseat=hotseat or [])
    return DeviceState.from_image(image)


def test_real_pixel_launcher_dump_hotseat_icons_and_no_widget_as_icon():
    """tests/fixtures/launcher/README.md row 1: Messages and Chrome in the hotseat; clock, search bar not icons."""
    view = read_launcher(PIXEL.read_text(encoding="utf-8"))
    assert view.package == "com.google.android.apps.nexuslauncher"
    assert view.is_launcher and not view.folder_open
    assert view.workspace == (0, 0, 1080, 1794)
    assert [(i.label, i.kind, i.area) for i in view.items] == [("Messages", "app", "hotseat"),
                                                               ("Chrome", "app", "hotseat")]
    chrome = view.find_app("Chrome")
    assert chrome is not None and chrome.bounds == (641, 1382, 843, 1548) and chrome.center == (742, 1465)
    assert 'text="Chrome"' in chrome.node and 'class="android.widget.TextView"' in chrome.node
    for not_an_icon in ("Fri, Apr 21", "Search", "Voice search", "Home"):
        assert view.find_app(not_an_icon) is None
    assert view.find_app("Chrome", areas=("workspace",)) is None
    assert view.find_folder("Chrome") is None
    assert view.summary() == "hotseat: Messages, Chrome"


def test_a_dump_that_is_not_xml_is_a_parse_error():
    with pytest.raises(ParseError, match="does not parse"):
        read_launcher("<hierarchy><node")


def test_an_app_in_front_is_not_a_launcher():
    xml = ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\"><node index=\"0\" "
           'text="Word" resource-id="" class="android.widget.TextView" package="com.microsoft.office.word" '
           'content-desc="" clickable="true" bounds="[0,0][100,100]" /></hierarchy>')
    view = read_launcher(xml)
    assert not view.is_launcher and view.package is None and view.items == ()


def test_virtual_miui_page_folder_preview_hotseat_and_indicator():
    state = miui([[HomeFolder(folder="Microsoft", apps=OFFICE), "com.skype.raider"], ["com.android.settings"]],
                 hotseat=["com.android.contacts", "com.android.camera"])
    view = read_launcher(u2server.hierarchy_xml(state))
    assert view.package == "com.miui.home" and view.workspace == (0, 0, 1080, 1920)
    assert [(i.label, i.kind, i.area) for i in view.items] == [
        ("Microsoft", "folder", "workspace"), ("Skype", "app", "workspace"), ("Phone", "app", "hotseat"),
        ("Camera", "app", "hotseat")]
    folder = view.find_folder("Microsoft")
    assert folder is not None and folder.preview == ("Word", "Excel", "PowerPoint")
    assert 'resource-id="com.miui.home:id/icon_title"' in folder.node
    assert view.find_app("Word") is None  # a closed folder's preview is not an icon on the page
    assert view.find_app("第1屏") is None  # nor is a page indicator point
    assert view.indicator == (1, 2)
    assert view.summary() == ('workspace: folder "Microsoft" (Word, Excel, PowerPoint), Skype; hotseat: Phone, '
                              "Camera")


def test_virtual_miui_open_folder_lists_its_apps_and_title():
    state = miui([[HomeFolder(folder="Microsoft", apps=OFFICE), "com.skype.raider"]])
    state.open_folder = "Microsoft"
    view = read_launcher(u2server.hierarchy_xml(state))
    assert view.folder_open and view.folder_title == "Microsoft"
    assert view.folder_apps() == ["Word", "Excel", "PowerPoint"]
    assert view.find_app("Word", areas=("folder",)) is not None
    assert view.find_app("Word") is None  # not on the page itself
    assert view.summary().startswith('open folder "Microsoft": Word, Excel, PowerPoint')


def test_page_signature_changes_with_the_page():
    state = miui([["com.skype.raider"], ["com.skype.raider"]])
    first = read_launcher(u2server.hierarchy_xml(state))
    state.launcher_page = 1
    second = read_launcher(u2server.hierarchy_xml(state))
    assert [i.label for i in first.items] == [i.label for i in second.items]  # same icons on both pages...
    assert first.signature() != second.signature()  # ...but the indicator tells them apart


def test_labels_compare_with_white_space_collapsed():
    assert normalize_label("  Microsoft \n Word ") == "Microsoft Word"
    xml = ('<hierarchy rotation="0"><node resource-id="com.android.launcher3:id/workspace" class="android.widget.'
           'ScrollView" package="com.android.launcher3" bounds="[0,0][1080,1920]"><node text=" Microsoft  Word" '
           'class="android.widget.TextView" package="com.android.launcher3" content-desc="Microsoft Word" '
           'clickable="true" bounds="[0,100][270,400]" /></node></hierarchy>')
    view = read_launcher(xml)
    assert view.find_app("Microsoft Word") is not None and view.find_app("Microsoft  Word ") is not None
    assert view.find_app("microsoft word") is None  # case is not folded


def test_launcher3_style_folder_by_content_description():
    """Synthetic (Launcher3 folders are not in a real sample here): a FrameLayout "Folder: Microsoft, 3 items"."""
    xml = ('<hierarchy rotation="0"><node resource-id="com.android.launcher3:id/workspace" class="android.widget.'
           'ScrollView" package="com.android.launcher3" bounds="[0,0][1080,1920]"><node class="android.widget.'
           'FrameLayout" package="com.android.launcher3" content-desc="Folder: Microsoft, 3 items" clickable="true" '
           'bounds="[0,100][270,400]" /></node></hierarchy>')
    view = read_launcher(xml)
    folder = view.find_folder("Microsoft")
    assert folder is not None and folder.kind == "folder" and folder.area == "workspace"
