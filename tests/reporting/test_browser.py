"""The generated report and the matrix, opened in headless Debian Chromium through Playwright.

Skipped only when /usr/bin/chromium is absent (CI installs it with tools/setup_report_toolchain.sh).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reporting.browser import (
    CHROMIUM,
    capture_screenshots,
    chromium_page,
    find_test_uid,
    open_overview,
    open_test_case,
    serve_directory,
)

from .conftest import SyntheticRun

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} absent: install Debian's chromium (bash tools/setup_report_toolchain.sh)"),
]

FAILING_DEVICES = ("MI 4S · CN", "Redmi Note 3 · RU", "Redmi Note 3 · IN", "Redmi 3 · ID")


def test_overview_loads_with_trend_categories_and_environment(synthetic_run: SyntheticRun) -> None:
    with chromium_page() as page, serve_directory(synthetic_run.out / "allure-report") as base:
        open_overview(page, base)
        text = page.inner_text("body")
        assert "preload-harness compliance" in text
        assert "57" in page.inner_text(".widget:has-text('test cases')")
        for category in ("Missing app", "Region not agreed", "adb timeout"):
            assert category in text
        assert "mi4s-cn-0002.model" in text  # Environment widget
        trend = page.locator(".widget:has-text('Trend')")
        assert "#1" in trend.inner_text() and "#2" in trend.inner_text()


def test_failing_devices_and_apps_are_listed(synthetic_run: SyntheticRun) -> None:
    with chromium_page() as page, serve_directory(synthetic_run.out / "allure-report") as base:
        page.goto(f"{base}/index.html#behaviors")
        page.wait_for_selector(".tree__content .node__title")
        statuses = page.locator(".status-toggle__item")
        assert statuses.count() >= 4
        tree = page.inner_text(".tree__content")
        for device in FAILING_DEVICES:
            assert device in tree
        page.locator(".node__title", has_text="MI 4S · CN").first.click()
        page.locator(".node__title", has_text="Excel").first.wait_for()
        assert "Excel" in page.inner_text(".tree__content")
        page.goto(f"{base}/index.html#categories")
        page.wait_for_selector(".tree__content .node__title")
        page.locator(".node__title", has_text="Missing app").first.click()
        page.locator(".node__title", has_text="[missing app] Excel").first.click()  # Allure groups by message
        page.locator(".node__title", has_text="Excel presence on MI 4S").first.wait_for()
        tree = page.inner_text(".tree__content")
        for category in ("Region not agreed", "Slow launch", "adb timeout"):
            assert category in tree


def test_failing_test_shows_its_evidence_and_screenshot(synthetic_run: SyntheticRun) -> None:
    report = synthetic_run.out / "allure-report"
    uid, name = find_test_uid(report, status="failed", name_contains="Excel presence")
    with chromium_page() as page, serve_directory(report) as base:
        open_test_case(page, base, uid)
        assert page.inner_text(".test-result__name").strip() == name
        assert "[missing app] Excel" in page.inner_text(".status-details__message")
        assert "Missing app" in page.inner_text(".test-result-overview")
        text = page.inner_text(".attachment-preview__text")
        assert "EXCEL-EVIDENCE-MARKER" in text
        img = page.locator("img.attachment-preview__media")
        img.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        assert img.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [360, 640]


def test_matrix_page_lists_failing_devices_and_apps(synthetic_run: SyntheticRun) -> None:
    with chromium_page() as page:
        page.goto(synthetic_run.matrix_paths["html"].resolve().as_uri())
        page.wait_for_selector("table#matrix")
        headers = page.locator("table#matrix thead th").all_inner_texts()
        assert [h.split("\n")[0] for h in headers] == ["Device", "device checks", "Excel", "Outlook", "PowerPoint",
                                                        "Skype", "Word"]
        cell = page.locator("tr[data-serial='mi4s-cn-0002'] td[data-column='Excel']")
        assert cell.get_attribute("data-status") == "failed"
        assert "presence: [missing app] Excel" in cell.inner_text()
        broken = page.locator("tr[data-serial='redmi3-id-0004'] td[data-column='Outlook']")
        assert broken.get_attribute("data-status") == "broken" and "ERROR" in broken.inner_text()
        failing = page.inner_text("ul#failing")
        for device in ("MI 4S · CN", "Redmi Note 3 · RU", "Redmi 3 · ID", "Redmi Note 3 · IN"):
            assert device in failing
        for app in ("Excel", "device checks", "Outlook", "PowerPoint"):
            assert f"/ {app} [" in failing
        assert page.locator("tr[data-serial]").count() == 5


def test_single_file_report_works_over_file_url(synthetic_run: SyntheticRun) -> None:
    with chromium_page() as page:
        page.goto(synthetic_run.out.joinpath("allure-report-single.html").resolve().as_uri())
        page.wait_for_function("document.querySelectorAll('.widget').length >= 4")
        assert "Failed to fetch" not in page.inner_text("body")
        assert "MI 4S · CN" in page.inner_text("body")


def test_screenshots_of_every_page(synthetic_run: SyntheticRun, tmp_path: Path) -> None:
    shots = capture_screenshots(synthetic_run.out / "allure-report", synthetic_run.matrix_paths["html"], tmp_path)
    assert [s.name for s in shots] == ["overview.png", "behaviors.png", "categories.png", "failing-test.png",
                                       "compliance-matrix.png"]
    for s in shots:
        assert s.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and s.stat().st_size > 10_000
