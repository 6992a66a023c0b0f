"""Look at the reports in a real browser: headless Debian Chromium driven by Playwright, pages served on loopback.

Used by tests/reporting (browser tests) and by ``python -m tools.report --screenshots`` to keep screenshots of
the report pages under ``reports/screenshots/``. Never downloads a browser: it launches ``/usr/bin/chromium``
(Debian package ``chromium``) with the flags that keep it off the network (shared/notes/allure-toolchain.md §3).

The Allure 2 directory report needs http (over file:// it shows "Failed to fetch"), so :func:`serve_directory`
serves it from a thread on 127.0.0.1 with an OS-assigned port and stops it on exit.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.errors import Error

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
)
#: Bounded waits (milliseconds) for the report's own JavaScript to render.
RENDER_TIMEOUT_MS = 20_000


class BrowserMissing(Error):
    """Debian's Chromium is not installed at :data:`CHROMIUM`."""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from the base class
        pass


@contextmanager
def serve_directory(root: str | os.PathLike[str]) -> Iterator[str]:
    """Serve ``root`` over http on 127.0.0.1 (free port) for the duration of the block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="report-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium with a fresh profile; closed on exit.

    Raises:
        BrowserMissing: /usr/bin/chromium is absent (install: ``apt-get install -y chromium``, as root).
    """
    if not Path(CHROMIUM).exists():
        raise BrowserMissing(f"{CHROMIUM} not found; install Debian's chromium (bash tools/setup_report_toolchain.sh "
                             "as root, or apt-get update && apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                    args=list(CHROMIUM_ARGS),
                                                    viewport={"width": width, "height": height})
        try:
            page = ctx.new_page()
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            yield page
        finally:
            ctx.close()


def _attachment_types(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {str(a.get("type")) for a in node.get("attachments") or [] if isinstance(a, dict)}
        return found.union(*(_attachment_types(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_attachment_types(v) for v in node))
    return set()


def find_test_uid(report_dir: str | os.PathLike[str], *, status: str = "failed",
                  name_contains: str | None = None, with_attachment: str | None = None) -> tuple[str, str]:
    """(uid, name) of a test case in a generated Allure 2 report (``data/test-cases/*.json``).

    Picks the first, by name, with ``status`` whose name contains ``name_contains`` (if given) and that has an
    attachment whose MIME type starts with ``with_attachment`` (if given: ``""`` = any attachment,
    ``"image/"`` = a screenshot).

    Raises:
        LookupError: no such test case.
    """
    found: list[tuple[str, str]] = []
    for f in sorted((Path(report_dir) / "data" / "test-cases").glob("*.json")):
        tc = json.loads(f.read_text(encoding="utf-8"))
        if tc.get("status") == status and (name_contains is None or name_contains in tc.get("name", "")) \
                and (with_attachment is None
                     or any(t.startswith(with_attachment) for t in _attachment_types(tc.get("testStage")))):
            found.append((tc["name"], tc["uid"]))
    if not found:
        raise LookupError(f"no {status} test case{' containing ' + repr(name_contains) if name_contains else ''} "
                          f"in {report_dir}")
    name, uid = sorted(found)[0]
    return uid, name


def open_overview(page: Any, base_url: str) -> None:
    """Open the Allure 2 overview and wait until its widgets are rendered."""
    page.goto(f"{base_url}/index.html#")
    page.wait_for_selector(".widget", state="visible")
    page.wait_for_function("document.querySelectorAll('.widget').length >= 4")
    # widgets fetch their data after they appear: wait until none still says "Loading" (slow, loaded machines)
    page.wait_for_function("![...document.querySelectorAll('.widget')].some(w => /Loading/.test(w.innerText))")


def open_test_case(page: Any, base_url: str, uid: str) -> None:
    """Open one test case page and expand every attachment of its test body (if it has any)."""
    page.goto(f"{base_url}/index.html#testresult/{uid}")
    page.wait_for_selector(".test-result__name", state="visible")
    page.wait_for_selector(".test-result-execution", state="visible")
    rows = page.locator(".attachment-row")
    for i in range(rows.count()):
        row = rows.nth(i)
        # Allure 2 renders an expanded attachment as the row's next sibling .attachment-row__content.
        if row.locator("xpath=following-sibling::*[1][contains(@class, 'attachment-row__content')]").count() == 0:
            row.click()
    page.wait_for_function("document.querySelectorAll('.attachment-row__content').length >= "
                           "document.querySelectorAll('.attachment-row').length")


def capture_screenshots(report_dir: str | os.PathLike[str], matrix_html: str | os.PathLike[str] | None,
                        out_dir: str | os.PathLike[str]) -> list[Path]:
    """Screenshot the report's overview, behaviors, categories, one failing test (preferably one with evidence;
    attachments expanded) and the compliance matrix into ``out_dir``; return the PNG paths.

    The failing-test page is left out when the report has no failed test.

    Raises:
        BrowserMissing: no Chromium.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    report = Path(report_dir)
    with chromium_page() as page, serve_directory(report) as base:
        open_overview(page, base)
        page.screenshot(path=str(out / "overview.png"), full_page=True)
        shots.append(out / "overview.png")
        for view in ("behaviors", "categories"):
            page.goto(f"{base}/index.html#{view}")
            page.wait_for_selector(".tree__content .node__title, .tree__empty", state="visible")
            path = out / f"{view}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
        uid = None
        for wanted in ("image/", "", None):  # prefer a failure with a screenshot, then any evidence
            try:
                uid, _ = find_test_uid(report, status="failed", with_attachment=wanted)
                break
            except LookupError:
                continue
        if uid:
            # Allure scrolls inside its own pane, so a full-page shot is the viewport: make the viewport tall.
            page.set_viewport_size({"width": 1400, "height": 2600})
            open_test_case(page, base, uid)
            page.locator(".test-result__name").scroll_into_view_if_needed()
            page.wait_for_function("[...document.querySelectorAll('img.attachment-preview__media')]"
                                   ".every(i => i.complete)")
            path = out / "failing-test.png"
            page.screenshot(path=str(path), full_page=True)
            page.set_viewport_size({"width": 1400, "height": 1000})
            shots.append(path)
        if matrix_html:
            page.goto(Path(matrix_html).resolve().as_uri())
            page.wait_for_selector("table#matrix")
            path = out / "compliance-matrix.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
    return shots
