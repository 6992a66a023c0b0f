"""End to end: a home-screen icon is the agreed app only if tapping it opens that app.

A user app labelled "Skype" (another package) on page 1, the real Skype moved to page 2: the label matches on the
agreed page, but the icon opens the other package, so the placement fails. On the untouched image every agreed icon
(on the page and in the folder) opens its own app and passes, and the launcher is left on its default page.
"""

from __future__ import annotations

import yaml

from tests.e2e.conftest import IMAGES, run_suites, variant_image
from virtual_device.testing import AdbServer, Farm

SUITE = ("suites/test_home_screen.py",)
FAKE = {"package": "com.evil.skypelite", "label": "Skype", "version_name": "1.0", "version_code": 1,
        "code_path": "/data/app/com.evil.skypelite-1/base.apk", "kind": "user",
        "launcher_activity": "com.evil.skypelite.Main"}


def _by_app(run) -> dict[str, dict]:
    return {r["app"]: r for r in run.records if r["check"] == "home_screen"}


def test_a_look_alike_icon_is_not_the_agreed_app(tmp_path):
    base = yaml.safe_load((IMAGES / "mi5-cn.yaml").read_text())
    pages = base["home_screen"]["pages"]
    pages[0] = ["com.evil.skypelite" if p == "com.skype.raider" else p for p in pages[0]]
    pages[1] = [*pages[1], "com.skype.raider"]
    image = variant_image(tmp_path, "mi5-cn", "mi5-look-alike", packages=[*base["packages"], FAKE],
                          home_screen=base["home_screen"])
    with AdbServer() as server, Farm([str(image)], server):
        run = run_suites(tmp_path / "run", f"127.0.0.1:{server.port}", suites=SUITE)
    by = _by_app(run)
    skype = by["Skype"]
    assert skype["outcome"] == "failed", run.output[-3000:]
    assert "opens com.evil.skypelite, not com.skype.raider" in skype["reason"] + (skype["found"] or "")
    assert skype["category"] == "Not on home screen"
    assert {a: r["outcome"] for a, r in by.items() if a != "Skype"} == {
        "Word": "passed", "Excel": "passed", "PowerPoint": "passed", "Outlook": "passed"}


def test_agreed_icons_open_their_apps(tmp_path):
    with AdbServer() as server, Farm([str(IMAGES / "mi5-cn.yaml")], server) as farm:
        run = run_suites(tmp_path / "run", f"127.0.0.1:{server.port}", suites=SUITE)
        state = farm.devices[0].state
    by = _by_app(run)
    assert {a: r["outcome"] for a, r in by.items()} == {a: "passed" for a in by} and len(by) == 5, run.output[-3000:]
    assert "tapped, it opens com.skype.raider" in by["Skype"]["found"]
    assert "tapped, it opens com.microsoft.office.word" in by["Word"]["found"]
    assert state.launcher_page == 0 and state.open_folder is None  # the launcher left as found
    assert not {"com.skype.raider", "com.microsoft.office.word"} & set(state.running)  # the apps tapped were stopped
