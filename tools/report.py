"""Build every report of a run and apply the release gate.

Usage::

    python -m tools.report --results reports/allure-results --records reports/records.jsonl --out reports/ \\
        [--gate-severity critical] [--no-html] [--no-single-file] [--screenshots] [--exit-zero]

Steps: read records.jsonl → compliance matrix (compliance.md/.html/.json) → categories.json and (if the run did not
write one) environment.properties into the results → Allure HTML report with history (allure-report/,
allure-report-single.html, history/) → optional browser screenshots (screenshots/*.png) → print paths, the gate
summary and timings.

Exit code: the gate's (see harness/reporting/gate.py): 0 ship, 1 product defect at or above --gate-severity,
10 infrastructure errors prevented required checks, 11 no required check ran (also: records file missing),
12 usage error / unreadable records / report toolchain missing. ``--exit-zero`` prints the verdict but exits 0
unless the reports themselves could not be built (12).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.errors import Error
from harness.reporting.allure_env import devices_from_records, write_categories, write_environment
from harness.reporting.gate import EXIT_USAGE, check_severity, evaluate_gate, summary_lines
from harness.reporting.matrix import build_matrix, write_matrix
from harness.reporting.records import Record, read_records


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m tools.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--results", type=Path, default=Path("reports/allure-results"), help="allure-pytest results dir")
    p.add_argument("--records", type=Path, default=Path("reports/records.jsonl"), help="records.jsonl of the run")
    p.add_argument("--out", type=Path, default=Path("reports"), help="output directory (default reports/)")
    p.add_argument("--gate-severity", default="critical", help="lowest severity that gates (default critical)")
    p.add_argument("--no-html", action="store_true", help="skip the Allure HTML report")
    p.add_argument("--no-single-file", action="store_true", help="skip the single-file HTML report")
    p.add_argument("--screenshots", action="store_true", help="screenshot the report pages into <out>/screenshots")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 whatever the gate says (reports only)")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Build the reports; return the exit code. Errors of the harness family are printed, never raised."""
    started = time.monotonic()
    try:
        gate_severity = check_severity(args.gate_severity)
        records: list[Record]
        if args.records.exists():
            records = read_records(args.records)
        else:
            print(f"warning: {args.records} not found: no check ran (or the run wrote its records elsewhere)",
                  file=sys.stderr)
            records = []
        matrix = build_matrix(records)
        paths = write_matrix(matrix, args.out)
        for kind in ("md", "html", "json"):
            print(f"matrix {kind}: {paths[kind]}")
        if not args.no_html:
            from harness.reporting.html_report import generate_report

            args.results.mkdir(parents=True, exist_ok=True)
            print(f"categories: {write_categories(args.results)}")
            env = args.results / "environment.properties"
            if not env.exists():
                print(f"environment: {write_environment(args.results, devices_from_records(records))}")
            report = generate_report(args.results, args.out, single_file=not args.no_single_file)
            print(f"allure report: {report.report_dir}/index.html (serve over http)")
            if report.single_file:
                print(f"single-file report: {report.single_file}")
            print(f"history: {report.history_dir} (trend points: {report.trend_points})")
            print(f"report generation: {report.seconds:.1f} s, size {report.size_bytes / 1e6:.1f} MB")
            if args.screenshots:
                from harness.reporting.browser import capture_screenshots

                for shot in capture_screenshots(report.report_dir, paths["html"], args.out / "screenshots"):
                    print(f"screenshot: {shot}")
    except Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = evaluate_gate(records, gate_severity)
    for line in summary_lines(records, gate_severity):
        print(line)
    print(f"total: {time.monotonic() - started:.1f} s")
    return 0 if args.exit_zero else result.code


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse arguments and :func:`run`."""
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
