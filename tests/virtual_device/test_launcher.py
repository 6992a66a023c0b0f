"""The virtual device's MIUI launcher: its hierarchy has the shape of a real MIUI home screen, the image's
``home_screen`` layout is validated, and taps, swipes, back and HOME behave as on the phone."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.errors import ProfileErrors
from virtual_device import u2server
from virtual_device.image import HomeFolder, HomeScreenLayout, ImageError, UserState, load_image, load_named_image
from virtual_device.state import DeviceState

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "launcher"
REAL_MIUI = FIXTURES / "miui-home_listing_page1-folder-hotseat_mobilebench.txt"
OFFICE = ["com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
          "com.microsoft.office.outlook"]

# The MIUI home screen as a sequence of tokens (one per listed node, see _token): workspace, page indicator and
# its points, then icons (I T), folders (I preview... T) and widgets (W... T), then the dock with title-less icons.
MIUI_GRAMMAR = re.compile(r"^WS IND( img)+( I T| I( img)+ T|( W)+ T)+ H( I)+$")


def listing(xml: str) -> list[str]:
    """The first window of a hierarchy dump as XiaoMi/MobileBench's ``agent_for_ui/xml_to_html.py`` lists it:
    leaf nodes and scrollable nodes, in document order, with ``id``, ``package`` (leaves), ``class``,
    ``description``, inherited ``clickable`` and the text (same attribute order and spacing)."""
    window = ET.fromstring(xml.encode("utf-8")).find("node")
    assert window is not None
    out: list[str] = []

    def tag(cls: str) -> str:
        for part, name in (("ImageView", "img"), ("IconView", "img"), ("Button", "button"), ("Image", "img"),
                           ("MenuItemView", "button"), ("EditText", "input"), ("TextView", "p")):
            if part in cls:
                return name
        return "div"

    def visit(node: ET.Element, clickable: bool) -> None:
        clickable = clickable or node.get("clickable") == "true"
        kids = node.findall("node")
        name = tag(node.get("class", ""))
        rid, desc, text = node.get("resource-id", ""), node.get("content-desc", ""), node.get("text", "")
        attrs = f' id="{rid}"' if rid else ""
        if not kids:
            attrs += f' package="{node.get("package")}"'
        attrs += f' class="{node.get("class")}"' + (f' description="{desc}"' if desc else "")
        attrs += f' clickable="{"true" if clickable else "false"}"'
        if node.get("scrollable") == "true":
            attrs += f' scrollable="true" bounds="{node.get("bounds")}"'
        if not kids or node.get("scrollable") == "true":
            out.append(f"<{name}{attrs}> {text} </{name}>")
        for kid in kids:
            visit(kid, clickable)

    visit(window, False)
    return out


def _token(line: str) -> str:
    rid = re.search(r' id="[^"]*:id/([^"]+)"', line)
    sfx = rid.group(1) if rid else ""
    if 'class="com.miui.home.launcher.ScreenView"' in line:
        return {"workspace": "WS", "hotseat_content_screen": "H", "": "IND"}.get(sfx, "?" + sfx)
    if 'package="com.miui.home"' not in line:
        return "W"  # a widget's own view (another package)
    return {"icon_icon": "I", "icon_title": "T", "": "img"}.get(sfx, "?" + sfx)


def tokens(lines: list[str]) -> str:
    return " ".join(_token(line) for line in lines)


def state_with(pages: list[list[str | HomeFolder]], hotseat: list[str] | None = None) -> DeviceState:
    image = load_named_image("mi5-cn")
    image.home_screen = HomeScreenLayout(pages=pages, hotseat=hotseat or [])
    return DeviceState.from_image(image)


# -- shape against the real MIUI home screen -------------------------------------------------------------------
def test_the_real_miui_listing_follows_the_grammar():
    lines = REAL_MIUI.read_text(encoding="utf-8").splitlines()
    assert MIUI_GRAMMAR.match(tokens(lines)), tokens(lines)


@pytest.mark.parametrize("image", ["mi5-cn", "mimax-in-updated", "redmi8a-cn-real"])
def test_the_virtual_launcher_lists_like_the_real_one(image):
    state = DeviceState.from_image(load_named_image(image))
    lines = listing(u2server.hierarchy_xml(state))
    assert MIUI_GRAMMAR.match(tokens(lines)), tokens(lines)
    real = REAL_MIUI.read_text(encoding="utf-8").splitlines()
    # line for line the same form as the real nodes: the workspace, an indicator point, an icon, its title, a
    # folder preview image, the dock
    assert lines[0].startswith('<div id="com.miui.home:id/workspace" class="com.miui.home.launcher.ScreenView" '
                               'clickable="false" scrollable="true" bounds="[0,0][')
    assert re.fullmatch(r'<div class="com\.miui\.home\.launcher\.ScreenView" clickable="false" scrollable="true" '
                        r'bounds="\[0,\d+\]\[\d+,\d+\]">  </div>', lines[1])
    shapes = {re.sub(r'(description="|> )[^"<]*', r"\1X", line) for line in real}
    for line in lines[2:]:
        if "bounds=" not in line:
            assert re.sub(r'(description="|> )[^"<]*', r"\1X", line) in shapes, line
    assert any('description="第1屏"' in line for line in lines[2:4])


def test_only_the_page_on_screen_is_in_the_hierarchy():
    state = state_with([["com.skype.raider"], ["com.android.settings"]])
    assert "Skype" in u2server.hierarchy_xml(state) and "Settings" not in u2server.hierarchy_xml(state)
    state.launcher_page = 1
    xml = u2server.hierarchy_xml(state)
    assert "Settings" in xml and ">Skype" not in xml and 'text="Skype"' not in xml
    assert 'content-desc="第2屏" checkable="false" checked="false" clickable="true"' in xml
    assert re.search(r'content-desc="第2屏"[^>]*selected="true"', xml)


def test_apps_without_an_icon_are_left_out_and_an_empty_folder_disappears():
    state = state_with([[HomeFolder(folder="Solo", apps=["com.skype.raider"]), "com.microsoft.office.word"]])
    skype = state.packages["com.skype.raider"]
    state.packages["com.skype.raider"] = skype.model_copy(update={"users": {0: UserState(enabled=3)}})
    word = state.packages["com.microsoft.office.word"]
    state.packages["com.microsoft.office.word"] = word.model_copy(update={"users": {0: UserState(installed=False)}})
    pages, _dock = u2server.home_layout(state)
    assert pages == [[]]


def test_default_layout_without_home_screen_puts_every_launchable_app_on_pages_and_a_dock(tmp_path):
    image = load_named_image("mi5-cn")
    image.home_screen = None
    pages, dock = u2server.home_layout(DeviceState.from_image(image))
    assert [i.label for i in dock] == ["Phone", "Messages", "Browser", "Camera"]
    labels = [i.label for page in pages for i in page]
    assert {"Word", "Excel", "PowerPoint", "Outlook", "Skype", "Settings"} <= set(labels)
    assert "Home" not in labels and len(pages) == 1


# -- taps, swipes, keys ----------------------------------------------------------------------------------------
def _center(state: DeviceState, desc: str) -> tuple[float, float]:
    node = u2server.find(state, {"description": desc})[0]
    left, top, right, bottom = node.bounds
    return (left + right) / 2, (top + bottom) / 2


def test_tap_opens_a_folder_back_closes_it_and_home_returns_to_the_default_page():
    state = state_with([["com.android.settings"], [HomeFolder(folder="Microsoft", apps=OFFICE)]])
    u2server.swipe(state, 900, 900, 100, 900)
    assert state.launcher_page == 1
    u2server.click(state, *_center(state, "Microsoft"))
    assert state.open_folder == "Microsoft"
    assert u2server.find(state, {"resourceId": "com.miui.home:id/folder_content"})
    assert [n.text for n in u2server.find(state, {"resourceId": "com.miui.home:id/title"})] == ["Microsoft"]
    u2server.press_key(state, "back")
    assert state.open_folder is None and state.launcher_page == 1  # still on page 2
    u2server.click(state, *_center(state, "Microsoft"))
    u2server.click(state, 5, 5)  # outside the folder's panel
    assert state.open_folder is None
    u2server.click(state, *_center(state, "Microsoft"))
    u2server.press_key(state, "home")
    assert state.open_folder is None and state.launcher_page == 0


def test_swipes_stop_at_the_first_and_last_page_and_small_or_vertical_ones_do_nothing():
    state = state_with([["com.android.settings"], ["com.skype.raider"]])
    for sx, sy, ex, ey in ((100, 900, 900, 900), (900, 900, 800, 900), (500, 300, 450, 1500)):
        u2server.swipe(state, sx, sy, ex, ey)
        assert state.launcher_page == 0
    u2server.swipe(state, 900, 900, 100, 900)
    u2server.swipe(state, 900, 900, 100, 900)
    assert state.launcher_page == 1


def test_tapping_an_app_icon_launches_it_and_a_page_point_jumps_to_its_page():
    state = state_with([["com.skype.raider"], ["com.android.settings"]])
    u2server.click(state, *_center(state, "第2屏"))
    assert state.launcher_page == 1
    u2server.click(state, *_center(state, "第1屏"))
    u2server.click(state, *_center(state, "Skype"))
    assert state.focus is not None and state.focus.package == "com.skype.raider"


def test_the_screenshot_changes_with_the_page_and_the_open_folder():
    state = state_with([[HomeFolder(folder="Microsoft", apps=OFFICE)], ["com.skype.raider"]])
    first = u2server.screenshot_jpeg(state, 0.25)
    state.launcher_page = 1
    second = u2server.screenshot_jpeg(state, 0.25)
    state.launcher_page = 0
    state.open_folder = "Microsoft"
    folder = u2server.screenshot_jpeg(state, 0.25)
    assert len({first, second, folder}) == 3


def test_shell_keyevents_home_and_back():
    from virtual_device.shell import run

    state = state_with([["com.android.settings"], [HomeFolder(folder="Microsoft", apps=OFFICE)]])
    state.launcher_page, state.open_folder = 1, "Microsoft"
    run(state, "input keyevent KEYCODE_BACK")
    assert state.open_folder is None and state.launcher_page == 1
    run(state, "input keyevent 3")
    assert state.launcher_page == 0


# -- the image's home_screen -----------------------------------------------------------------------------------
HEAD = """\
name: t-home
props:
  ro.build.version.sdk: "24"
  ro.build.version.release: "7.0"
  ro.product.model: MI 5
  ro.product.device: gemini
  ro.product.name: gemini
packages:
  - package: com.example.app
    version_name: "1.0"
    version_code: 1
    launcher_activity: com.example.app.Main
    code_path: /data/app/com.example.app-1/base.apk
"""


def _load(tmp_path: Path, home: str):
    path = tmp_path / "img.yaml"
    path.write_text(HEAD + home, encoding="utf-8")
    return load_image(path)


def test_a_valid_home_screen_loads(tmp_path):
    image = _load(tmp_path, "home_screen:\n  pages:\n  - - folder: Apps\n      apps: [com.example.app]\n"
                            "    - com.android.settings\n  hotseat: [com.android.contacts]\n")
    assert image.home_screen is not None and image.home_screen.hotseat == ["com.android.contacts"]
    assert isinstance(image.home_screen.pages[0][0], HomeFolder)


@pytest.mark.parametrize(("home", "line", "key", "message", "hint"), [
    ("home_screen:\n  pages:\n  - [com.example.ap]\n", 16, "home_screen.pages[0][0]",
     "package com.example.ap is not on this image", "did you mean `com.example.app`?"),
    ("home_screen:\n  pages:\n  - [com.example.app]\n  hotseat: [com.example.app]\n", 17, "home_screen.hotseat[0]",
     "package com.example.app has a second icon here (first at home_screen.pages[0][0])", "one icon per app"),
    ("home_screen:\n  pages:\n  - - folder: F\n      apps: [org.nowhere.app]\n", 17,
     "home_screen.pages[0][0].apps[0]", "package org.nowhere.app is not on this image", "under `packages`"),
    ("home_screen:\n  pages: []\n", 15, "home_screen.pages", "at least 1 item", ""),
    ("home_screen:\n  pages:\n  - - folder: F\n      apps: []\n", 17, "home_screen.pages[0][0].apps",
     "at least 1 item", ""),
    ("home_screen:\n  pages:\n  - - [com.example.app]\n", 16, "home_screen.pages[0][0]", "valid string", ""),
    ("home_screen:\n  pages:\n  - [com.example.app]\n  hotseat: [a.b, c.d, e.f, g.h, i.j, k.l]\n", 17,
     "home_screen.hotseat", "at most 5", ""),
    ("home_screen:\n  pagez: []\n", 15, "home_screen.pagez", "unknown key", "pages"),
])
def test_home_screen_errors_name_line_and_key(tmp_path, home, line, key, message, hint):
    with pytest.raises((ImageError, ProfileErrors)) as info:
        _load(tmp_path, home)
    errs = info.value.errors if isinstance(info.value, ProfileErrors) else [info.value]
    err = next((e for e in errs if e.key == key), None)
    assert err is not None, [str(e) for e in errs]
    assert message in err.message and hint in (err.hint or "") and err.line == line, str(err)


def test_a_page_holds_at_most_20_items(tmp_path):
    apps = ", ".join(["com.example.app"] * 21)
    with pytest.raises((ImageError, ProfileErrors)) as info:
        _load(tmp_path, f"home_screen:\n  pages:\n  - [{apps}]\n")
    assert "page 1 has 21 items; a page holds at most 20" in str(info.value)
