"""Launch: each required app opens to its first screen, without crash or ANR, within the agreed cold-start time."""

import allure
import pytest

from harness.launch import launch_precondition


@pytest.mark.check("launch")
def test_app_opens_to_first_screen(app_case, package_state, launch_report, expect):
    """Cold start from the launcher activity: focus, no crash/ANR, first screen rendered, time within the limit."""
    skip = launch_precondition(app_case.requirement, package_state, live=app_case.device_case.live)
    if skip is not None:
        expect(skip)
    report = launch_report
    if report.screenshot:
        kind = allure.attachment_type.PNG if report.screenshot_type == "png" else allure.attachment_type.JPG
        allure.attach(report.screenshot, name="screen after launch", attachment_type=kind)
    for name in ("dialogs closed before launch", "dialogs closed after launch"):  # on failure expect() attaches all
        if name in report.texts and report.verdict.status != "fail":
            allure.attach(report.texts[name], name=name, attachment_type=allure.attachment_type.TEXT)
    measured = report.observation.measured_ms
    allure.dynamic.parameter("cold start ms", "not measured" if measured is None else str(measured), excluded=True)
    expect(report.verdict, attachments=report.texts)
