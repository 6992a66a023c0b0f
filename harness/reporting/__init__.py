"""Reports people read and a release gate CI can trust.

Modules: :mod:`~harness.reporting.records` (records.jsonl, one line per test), :mod:`~harness.reporting.matrix`
(devices × apps compliance matrix: md, html, json), :mod:`~harness.reporting.gate` (exit codes),
:mod:`~harness.reporting.allure_env` (environment.properties, categories.json), :mod:`~harness.reporting.html_report`
(Allure 2 HTML report with history, single file) and :mod:`~harness.reporting.browser` (headless Chromium checks).
CLI: ``python -m tools.report``.
"""
