"""Home screen: each app with an agreed placement has its icon where the deal says (GTS HomescreenLayoutTest's idea)."""

import allure
import pytest

from harness.checks import check_home_screen, home_screen_precondition
from harness.errors import HomeScreenError


@pytest.mark.check("home_screen")
def test_app_icon_is_placed_as_agreed(app_case, package_state, home_screen, expect):
    """On the agreed home-screen page (or its hotseat), or inside the agreed folder there."""
    req = app_case.requirement
    skip = home_screen_precondition(req, package_state, live=app_case.device_case.live)
    if skip is not None:
        expect(skip)
    if home_screen is None:
        raise HomeScreenError(f"no home-screen reading for {req.name} although a placement applies",
                              remedy="rerun; report a harness bug if it persists")
    verdict = check_home_screen(req, home_screen)
    page = req.placement.target_page
    read = home_screen.pages.get(page) or home_screen.pages.get(max(home_screen.pages, default=0))
    folder = home_screen.folders.get((page, " ".join((req.placement.folder or "").split())))
    texts = {"what the harness did on the device": "\n".join(home_screen.actions)}
    if read is not None:
        texts[f"home screen hierarchy (page {read.page})"] = read.xml
    if folder is not None:
        texts[f'folder "{folder.name}" hierarchy (page {folder.page})'] = folder.xml
    if verdict.status == "fail":  # expect() attaches the texts; the screenshots are attached here
        for shot, name in ((read.screenshot if read else None, f"home screen (page {read.page if read else '?'})"),
                           (folder.screenshot if folder else None, f'folder "{folder.name}"' if folder else "")):
            if shot:
                allure.attach(shot, name=name, attachment_type=allure.attachment_type.JPG)
    expect(verdict, attachments=texts)
