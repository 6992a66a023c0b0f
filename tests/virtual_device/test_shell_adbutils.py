"""The shell's renderings as adbutils 2.12.0 parses them, through the real adb server (no mocks).

Each seed image is served by the farm fixture (virtual_device.pytest_plugin); adbutils' own helpers
(``app_current``, ``app_info``, ``window_size``, ``list_packages``, ``screenshot``, ``dump_hierarchy``) must
read what a real phone of that Android version would give them.
"""

from __future__ import annotations

import pytest

from virtual_device.image import IMAGES_DIR

WORD = "com.microsoft.office.word"
SKYPE = "com.skype.raider"


@pytest.fixture
def phone(virtual_farm, request):
    farm = virtual_farm(IMAGES_DIR / f"{request.param}.yaml")
    return farm.devices[0], farm.adb_devices[0]


@pytest.mark.parametrize("phone", ["mi5-cn", "mimax-in", "redmi3-id", "redmi8a-cn-real"], indirect=True)
def test_adbutils_helpers_on_each_android_version(phone):
    dev, d = phone
    assert d.prop.model == dev.state.props["ro.product.model"]
    assert WORD in d.list_packages()
    info = d.app_info(WORD)
    assert info is not None and info.version_name == "16.0.7070.2036" and info.version_code == 2002707036
    assert d.app_info("com.nope.nothing") is None
    d.app_start("com.microsoft.office.excel")  # monkey
    cur = d.app_current()
    assert cur.package == "com.microsoft.office.excel"
    assert cur.activity == "com.microsoft.office.apphost.LaunchActivity"
    d.app_stop("com.microsoft.office.excel")
    assert d.app_current().package == "com.miui.home"
    w, h = d.window_size()
    assert (w, h) == (dev.state.image.display.width, dev.state.image.display.height)
    assert d.is_screen_on()
    assert d.screenshot().size == (w, h)
    xml = d.dump_hierarchy()
    assert xml.startswith("<?xml") and 'package="com.miui.home"' in xml


@pytest.mark.parametrize("phone", ["mi4s-cn"], indirect=True)
def test_crash_dialog_seen_through_adbutils(phone):
    dev, d = phone
    r = d.shell2("am start -W -n com.microsoft.office.powerpoint/com.microsoft.office.apphost.LaunchActivity")
    assert r.returncode == 0 and "Status: ok" in r.output
    # the focused window is the dialog (no activity part), so adbutils falls back to the resumed activity
    assert "Application Error: com.microsoft.office.powerpoint" in d.shell("dumpsys window windows")
    assert d.app_current().package == "com.miui.home"
    assert "FATAL EXCEPTION: main" in d.shell("logcat -d -b crash")


@pytest.mark.parametrize("phone", ["redmi8a-cn-real"], indirect=True)
def test_not_installed_for_user_0(phone):
    _dev, d = phone
    assert "com.microsoft.office.outlook" not in d.list_packages()
    assert d.app_info("com.microsoft.office.outlook") is None
    assert d.shell2("pm path com.microsoft.office.outlook").returncode == 1
