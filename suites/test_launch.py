"""Launch: each required app opens to its first screen, without crash or ANR, within the agreed cold-start time."""

import allure
import pytest

from harness.launch import launch_precondition
from harness.plugin.launch_fixtures import launch_check, ui_driver, ui_drivers  # noqa: F401 - fixtures


@pytest.mark.check("launch")
def test_app_opens_to_first_screen(app_case, package_state, launch_check, expect):  # noqa: F811
    """Cold start from the launcher activity: focus, no crash/ANR, first screen rendered, time within the limit."""
    req = app_case.requirement
    skip = launch_precondition(req, package_state)
    if skip is not None:
        expect(skip)
    spec = req.launch
    first = spec.first_screen if spec else None
    report = launch_check.run(req.package, req.name, activity=req.launcher_activity,
                              limit_ms=spec.cold_start_ms if spec else None,
                              first_text=first.text if first else None,
                              first_resource_id=first.resource_id if first else None)
    if report.screenshot:
        kind = allure.attachment_type.PNG if report.screenshot_type == "png" else allure.attachment_type.JPG
        allure.attach(report.screenshot, name="screen after launch", attachment_type=kind)
    for name in ("dialogs closed before launch", "dialogs closed after launch"):  # on failure expect() attaches all
        if name in report.texts and report.verdict.status != "fail":
            allure.attach(report.texts[name], name=name, attachment_type=allure.attachment_type.TEXT)
    measured = report.observation.measured_ms
    allure.dynamic.parameter("cold start ms", "not measured" if measured is None else str(measured))
    expect(report.verdict, attachments=report.texts)
