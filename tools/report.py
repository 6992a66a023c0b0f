"""Build every report of a run, or of several runs merged on purpose, and apply the release gate.

Usage::

    python -m tools.report [--records FILE ...] [--results DIR ...] [--out reports/] [--all-runs]
        [--gate-severity SEVERITY] [--no-html] [--no-single-file] [--screenshots] [--exit-zero]

One run: ``--records reports/records.jsonl --results reports/allure-results`` (the defaults). A records file may
hold several runs (plain pytest appends); the report uses the LATEST run of each file and says so, unless
``--all-runs`` merges every run of it.

Several runs, e.g. the shards of one farm checked on several machines (``pytest --shard K/N``): give each run's
records file and Allure results directory (``--records a.jsonl --records b.jsonl --results a/ --results b/``).
The result is one matrix, one Allure report (the results directories are merged into
``<out>/allure-results-merged/``) and one gate over all records. Shards are checked: every shard 1..N must be
there, all must have seen the same farm, and a device checked twice keeps its latest run; a missing shard makes
the gate "partial" (exit 13). Every merged run must have been checked against the same contract (profiles digest,
``--region``, ``--operator`` in the run headers); runs of different contracts make the gate "partial" too.

Steps: read the runs → compliance matrix (compliance.md/.html/.json) → categories.json and environment.properties →
Allure HTML report with history (allure-report/, allure-report-single.html, history/) → optional browser
screenshots (screenshots/*.png) → print paths, the gate summary and what the time was spent on.

Exit code: the gate's (see harness/reporting/gate.py): 0 ship, 1 product defect at or above --gate-severity,
10 infrastructure errors prevented required checks, 11 no required check ran, 13 partial (required checks did not
run), 12 usage error / missing or unreadable records / report toolchain missing. ``--exit-zero`` prints the
verdict but exits 0 unless the reports themselves could not be built (12).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import Error, UsageError
from harness.reporting.allure_env import devices_from_records, write_categories, write_environment
from harness.reporting.gate import EXIT_USAGE, check_severity, evaluate_gate, summary_lines
from harness.reporting.matrix import build_matrix, grid_lines, write_matrix
from harness.reporting.records import SEVERITIES, ExpectedCheck, Record, Run, read_runs

DEFAULT_RECORDS = Path("reports/records.jsonl")
DEFAULT_RESULTS = Path("reports/allure-results")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m tools.report", description=__doc__.split("\n\n")[0],
                                epilog="Exit codes: 0 ship, 1 product defect, 10 infrastructure errors only, "
                                       "11 no required check ran, 12 usage error or unreadable records, "
                                       "13 partial run.")
    p.add_argument("--records", type=Path, action="append", default=None, metavar="FILE",
                   help="records.jsonl of a run; repeat to merge runs (default reports/records.jsonl)")
    p.add_argument("--results", type=Path, action="append", default=None, metavar="DIR",
                   help="allure-pytest results dir; repeat to merge (default reports/allure-results)")
    p.add_argument("--all-runs", action="store_true",
                   help="use every run of each records file, not only its latest")
    p.add_argument("--out", type=Path, default=Path("reports"), help="output directory (default reports/)")
    p.add_argument("--gate-severity", default=None,
                   help="lowest severity that gates (default: the one the runs were gated at, the lowest when they "
                        "differ; critical for runs that did not record it)")
    p.add_argument("--no-html", action="store_true", help="skip the Allure HTML report")
    p.add_argument("--no-single-file", action="store_true", help="skip the single-file HTML report")
    p.add_argument("--screenshots", action="store_true", help="screenshot the report pages into <out>/screenshots")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 whatever the gate says (reports only)")
    p.add_argument("--grid", action="store_true", help="end with a compact devices × apps grid and the verdict")
    p.add_argument("--brief", action="store_true", help="do not list the files written (the caller does)")
    return p.parse_args(argv)


@dataclass
class Selection:
    """The runs a report is built from: their records, expected checks, coverage problems and notes."""

    runs: list[Run]
    records: list[Record]
    expected: list[ExpectedCheck] | None
    coverage_problems: list[str]
    notes: list[str]
    gate_severities: tuple[str, ...] = ()
    """The gate severities the runs recorded (their ``--gate-severity``), most inclusive first."""


def select_runs(files: Sequence[Path], *, all_runs: bool = False) -> Selection:
    """Read ``files`` and pick the runs to report on (latest per file unless ``all_runs``); check shards.

    Raises:
        UsageError: a records file does not exist (names it and the command that writes it).
        RecordsFileError: a records file cannot be read or a line is invalid (file:line:key).
    """
    notes: list[str] = []
    picked: list[Run] = []
    for path in files:
        if not path.exists():
            raise UsageError(f"{path}: no such records file; the pytest run writes it (--records), "
                             "or give the right path with --records")
        runs = read_runs(path)
        if not runs:
            notes.append(f"{path}: empty (no check ran)")
            continue
        if len(runs) > 1 and not all_runs:
            latest = runs[-1]
            notes.append(f"{path}: {len(runs)} runs in this file; using the latest ({latest.run_id or 'no run id'}), "
                         f"ignoring {len(runs) - 1} earlier (pass --all-runs to merge them)")
            runs = [latest]
        picked += runs
    picked, shard_notes, problems = _check_shards(picked)
    notes += shard_notes
    problems += _check_contracts(picked)
    if any(r.header is None for r in picked):
        problems.append("records without a run header (an older harness or another tool wrote them): "
                        "which checks were required cannot be shown")
    records = [rec for run in picked for rec in run.records]
    expected = None
    if not any(r.header is None for r in picked):
        unique: dict[tuple[str, str, str, str | None], ExpectedCheck] = {}
        for r in picked:
            assert r.header is not None
            for e in r.header.expected:
                unique.setdefault(e.key, e)
        expected = list(unique.values())
    severities = {str(r.header.options.get("gate_severity")).lower() for r in picked if r.header is not None}
    return Selection(runs=picked, records=records, expected=expected, coverage_problems=problems, notes=notes,
                     gate_severities=tuple(s for s in reversed(SEVERITIES) if s in severities))


#: Run options that change what a device is checked against (the contract), besides the profiles themselves.
CONTRACT_OPTIONS: tuple[tuple[str, str], ...] = (("region", "--region"), ("operator", "--operator"))


def _run_name(run: Run) -> str:
    """``shard 3/3 (run 20261201T045227Z-e4dcac in out-3/records.jsonl)``: how a merge names a run."""
    h = run.header
    what = f"shard {h.shard}" if h is not None and h.shard else "run"
    return f"{what} (run {run.run_id or 'without id'} in {run.source})"


def _option_value(key: str, value: object) -> str:
    """A recorded contract option as the harness reads it (``in`` is ``IN``, ``40585`` is ``405-85``)."""
    if not value:
        return "not given"
    text = str(value).strip()
    if key == "operator":
        from harness.operator import normalize_code

        return normalize_code(text) or text
    return text.upper()


def _check_contracts(runs: Sequence[Run]) -> list[str]:
    """Runs merged into one report must have been checked against one contract: the same profile set (the
    headers' ``profiles_digest``) and the same market/operator overrides. Each difference is a coverage problem
    naming the runs: the merge is partial (13), it can never ship on a mix of contracts."""
    headed = [r for r in runs if r.header is not None]
    if len(headed) < 2:
        return []
    problems: list[str] = []

    def groups(value_of) -> dict[str, list[Run]]:  # noqa: ANN001
        out: dict[str, list[Run]] = {}
        for r in headed:
            out.setdefault(value_of(r), []).append(r)
        return out

    def describe(by_value: dict[str, list[Run]]) -> str:
        return "; ".join(f"{', '.join(_run_name(r) for r in rs)}: {value}" for value, rs in by_value.items())

    digests = groups(lambda r: (r.header.profiles_digest or "no digest recorded")[:23])
    if len(digests) > 1:
        problems.append("the merged runs were checked against different contracts (device profiles differ: "
                        f"{describe(digests)}); rerun them with the same --profiles, or report them apart")
    for key, flag in CONTRACT_OPTIONS:
        values = groups(lambda r, key=key: _option_value(key, r.header.options.get(key)))
        if len(values) > 1:
            problems.append(f"the merged runs were checked with different {flag} ({describe(values)}); rerun them "
                            f"with the same {flag}, or report them apart")
    return problems


def _check_shards(runs: list[Run]) -> tuple[list[Run], list[str], list[str]]:
    """Keep the latest run per shard; report missing shards and shards that saw different farms."""
    notes: list[str] = []
    problems: list[str] = []
    sharded = [r for r in runs if r.header is not None and r.header.shard]
    if not sharded:
        return runs, notes, problems
    by_total: dict[int, dict[int, Run]] = {}
    for run in sharded:
        assert run.header is not None and run.header.shard is not None
        k, n = (int(x) for x in run.header.shard.split("/"))
        seen = by_total.setdefault(n, {})
        if k in seen:
            older, newer = sorted([seen[k], run], key=lambda r: r.header.started if r.header else "")
            notes.append(f"shard {k}/{n} ran twice ({older.run_id}, {newer.run_id}); using the later")
            seen[k] = newer
        else:
            seen[k] = run
    keep = [r for r in runs if r not in sharded]
    for n, shards in sorted(by_total.items()):
        missing = [k for k in range(1, n + 1) if k not in shards]
        if missing:
            problems.append(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{k}/{n}' for k in missing)} "
                            f"missing from the merge: their devices were not checked")
        listings = {tuple(r.header.listed) for r in shards.values() if r.header is not None}
        if len(listings) > 1:
            problems.append(f"the {n} shards saw different farms (device lists differ between machines): "
                            "some devices may have been checked twice or never")
        keep += [shards[k] for k in sorted(shards)]
        notes.append(f"merged shards {', '.join(f'{k}/{n}' for k in sorted(shards))}")
        empty = [k for k in sorted(shards) if shards[k].header is not None and not shards[k].header.devices]
        if empty:
            notes.append(f"shard{'s' if len(empty) > 1 else ''} {', '.join(f'{k}/{n}' for k in empty)} had no device "
                         f"(more shards than the {len(next(iter(listings), ()))} devices of the farm): present, "
                         "nothing to check")
    return keep, notes, problems


def merge_results(dirs: Sequence[Path], out: Path) -> Path:
    """Copy the files of several allure-results dirs into ``out`` (recreated); return it.

    File names are unique per result (allure-pytest names them by UUID); side files (environment, categories,
    executor) are rewritten afterwards for the merged run.
    """
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"{d}: no such Allure results directory (pytest --alluredir)")
        for f in d.iterdir():
            if f.is_file() and f.name not in ("environment.properties", "categories.json", "executor.json"):
                shutil.copy2(f, out / f.name)
    return out


def run(args: argparse.Namespace) -> int:
    """Build the reports; return the exit code. Errors of the harness family are printed, never raised."""
    started = time.monotonic()
    records_files = args.records or [DEFAULT_RECORDS]
    results_dirs = args.results or [DEFAULT_RESULTS]
    try:
        if args.gate_severity is not None:
            check_severity(args.gate_severity)
        sel = select_runs(records_files, all_runs=args.all_runs)
        gate_severity = check_severity(args.gate_severity or next(iter(sel.gate_severities), "critical"))
        if len(sel.gate_severities) > 1:
            sel.notes.append(f"the runs were gated at different severities ({', '.join(sel.gate_severities)}); "
                             f"this report gates at {gate_severity}"
                             + ("" if args.gate_severity else " (the lowest; --gate-severity chooses)"))
        for note in sel.notes:
            print(f"note: {note}")
        matrix = build_matrix(sel.records, expected=sel.expected, gate_severity=gate_severity)
        result = evaluate_gate(sel.records, gate_severity, expected=sel.expected,
                               coverage_problems=sel.coverage_problems)
        partial = bool(result.not_run or result.coverage_problems)
        paths = write_matrix(matrix, args.out)
        for kind in ("md", "html", "json"):
            if not args.brief:
                print(f"matrix {kind}: {paths[kind]}")
        timings = {"matrix": time.monotonic() - started}
        if not args.no_html:
            from harness.reporting.html_report import DEFAULT_REPORT_NAME, generate_report

            if len(results_dirs) > 1:
                results = merge_results(results_dirs, args.out / "allure-results-merged")
                print(f"allure results merged: {results} ({len(results_dirs)} directories)")
            else:
                results = results_dirs[0]
                results.mkdir(parents=True, exist_ok=True)
            categories = write_categories(results)
            env = results / "environment.properties"
            if len(results_dirs) > 1 or not env.exists():
                env = write_environment(results, devices_from_records(sel.records))
            # a run that did not look at everything is marked on the trend chart and kept out of the next trend
            n = len(result.not_run)
            note = f"(partial: {n} required check{'s' if n != 1 else ''} not run)" if n else "(partial)"
            report = generate_report(results, args.out, single_file=not args.no_single_file,
                                     name=f"{DEFAULT_REPORT_NAME} {note}" if partial else DEFAULT_REPORT_NAME,
                                     keep_history=not partial, build_note="(partial)" if partial else "",
                                     run_ids=[r.run_id for r in sel.runs if r.run_id])
            timings["allure"] = report.seconds
            if not args.brief:
                print(f"categories: {categories}")
                print(f"environment: {env}")
                print(f"allure report: {report.report_dir}/index.html (serve over http)")
                if report.single_file:
                    print(f"single-file report: {report.single_file}")
                print(f"history: {report.history_dir} (trend points: {report.trend_points})"
                      + ("" if report.history_kept else "; not updated: a partial run stays out of the trend"))
            print(f"Allure report generated in {report.seconds:.1f} s ({report.size_bytes / 1e6:.1f} MB); "
                  f"trend points: {report.trend_points}")
            if args.screenshots:
                from harness.reporting.browser import capture_screenshots

                shot_start = time.monotonic()
                for shot in capture_screenshots(report.report_dir, paths["html"], args.out / "screenshots"):
                    if not args.brief:
                        print(f"screenshot: {shot}")
                timings["screenshots"] = time.monotonic() - shot_start
    except Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    spent = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    print(f"reports built in {time.monotonic() - started:.1f} s ({spent})")
    lines = summary_lines(sel.records, gate_severity, expected=sel.expected, coverage_problems=sel.coverage_problems)
    print()
    for line in lines[1:]:
        print(line)
    if args.grid:
        print()
        for line in grid_lines(matrix, shutil.get_terminal_size((120, 24)).columns):
            print(line)
    print(lines[0])  # the verdict last: what a reader of the console sees first from the bottom
    return 0 if args.exit_zero else result.code


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse arguments and :func:`run`."""
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
