"""From verdicts and exceptions to pytest outcomes, Allure evidence and result records.

* :class:`Expect` (the ``expect`` fixture) turns a :class:`~harness.checks.Verdict` into the test's
  outcome: ``fail`` → AssertionError with the verdict's message (Allure "failed"); ``not_applicable``
  → ``pytest.skip`` with the reason; ``pass`` → returns. Evidence is attached to Allure on failure.
* :func:`classify` decides a finished test's outcome from the exception: an AssertionError is a
  product defect ("failed"), anything else is infrastructure ("broken").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import allure
import pytest

from harness import errors
from harness.checks import Verdict
from harness.reporting.allure_env import INFRA_CATEGORIES, PRODUCT_CATEGORIES
from harness.reporting.allure_results import annotate

VERDICT_KEY = pytest.StashKey[Verdict]()

_TAG_TO_CATEGORY = {tag.strip("[]"): name for name, tags in PRODUCT_CATEGORIES for tag in tags}


def category_name(tag: str | None) -> str | None:
    """Category name of a verdict tag (``"missing app"`` → ``"Missing app"``); unknown tags pass through."""
    if tag is None:
        return None
    return _TAG_TO_CATEGORY.get(tag, tag)


def infra_category(exc: BaseException) -> str:
    """Infrastructure category of an exception, by the :mod:`harness.errors` class it derives from."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    for name, classes in INFRA_CATEGORIES:
        if names & set(classes):
            return name
    return INFRA_CATEGORIES[-1][0]


class Expect:
    """Callable that judges the running test: ``expect(verdict, attachments={...})``.

    ``current()`` returns the running pytest item; ``describe(item)`` returns ``(device label, subject or None,
    default attachments)`` for it (the plugin attaches a package's ``dumpsys`` section this way).
    """

    def __init__(self, current: Callable[[], pytest.Item],
                 describe: Callable[[pytest.Item], tuple[str, str | None, Mapping[str, str]]]) -> None:
        self._current = current
        self._describe = describe

    def __call__(self, verdict: Verdict, *, attachments: Mapping[str, str] | None = None) -> Verdict:
        """Record ``verdict``; fail (assert), skip (not applicable) or return it (pass)."""
        node = self._current()
        node.stash[VERDICT_KEY] = verdict
        if verdict.status == "not_applicable":
            pytest.skip(verdict.reason)
        # shown on the test, but not part of its identity: history must link across versions found
        annotate(node.config, parameters=[("expected", verdict.expected, True), ("found", verdict.found, True)])
        if verdict.status == "fail":
            device, subject, default = self._describe(node)
            message = verdict.message(device, subject)
            allure.attach(message, name="evidence", attachment_type=allure.attachment_type.TEXT)
            for name, text in {**default, **(attachments or {})}.items():
                if text:
                    allure.attach(text, name=name, attachment_type=allure.attachment_type.TEXT)
            raise AssertionError(message)
        return verdict


def classify(when: str, excinfo: Any, skipped: bool) -> tuple[str, str | None]:
    """``(outcome, infra category)`` of one phase: passed / failed / broken / skipped."""
    if skipped:
        return "skipped", None
    if excinfo is None:
        return "passed", None
    exc = excinfo.value
    if when == "call" and isinstance(exc, AssertionError):
        return "failed", None
    if isinstance(exc, errors.DeviceUnavailable) or isinstance(exc, errors.Error):
        return "broken", infra_category(exc)
    return "broken", INFRA_CATEGORIES[-1][0]
