"""Build every report of a run, or of several runs merged on purpose, and apply the release gate.

Usage::

    python -m tools.report [--records FILE ...] [--results DIR ...] [--out reports/] [--all-runs]
        [--gate-severity SEVERITY] [--no-html] [--no-single-file] [--screenshots] [--exit-zero]

One run: ``--records reports/records.jsonl --results reports/allure-results`` (the defaults). A records file may
hold several runs (plain pytest appends); the report uses the LATEST run of each file and says so, unless
``--all-runs`` merges every run of it.

Several runs, e.g. the shards of one farm checked on several machines (``pytest --shard K/N``): give each run's
records file and Allure results directory (``--records a.jsonl --records b.jsonl --results a/ --results b/``).
The result is one matrix, one Allure report (the results directories are merged into ``<out>/allure-results/``),
one records file (``<out>/records.jsonl``: the merged runs, each header first) and one gate over all records.
Shards are checked over every run given, before any is dropped: all must have seen the same farm (the devices
their run headers list), every shard 1..N must be there, and a shard run twice on the same farm against the same
contract keeps its later run (a note says so). Runs that saw different farms are all kept (none is taken for a
rerun of another) and the merge names each with the farm it saw; a missing shard, or runs of different farms,
make the gate "partial" (exit 13; a proven defect still wins: 1). Every merged run must have been checked against
the same contract (profiles digest, ``--region``, ``--operator`` in the run headers); runs of different contracts
are all kept, and make the gate "partial" too.

The inputs are never written to: unless ``--results`` is ``<out>/allure-results`` itself, the results are copied
there before categories, environment, executor and history are added; unless ``--records`` is
``<out>/records.jsonl`` itself, the selected runs' lines are written there. What ``<out>`` held of another run
(``records.jsonl``, ``junit.xml``, pytest's ``allure-results``) is moved to ``<out>/.replaced/<time>/``, never
deleted, so ``<out>`` is one report.

Steps: read the runs → compliance matrix (compliance.md/.html/.json) → categories.json and environment.properties →
Allure HTML report with history (allure-report/, allure-report-single.html, history/) → optional browser
screenshots (screenshots/*.png) → print paths, the gate summary and what the time was spent on.

Exit code: the gate's (see harness/reporting/gate.py): 0 ship, 1 product defect at or above --gate-severity,
10 infrastructure errors prevented required checks, 11 no required check ran, 13 partial (required checks did not
run), 12 usage error (``--out`` a file, …) / missing or unreadable records / report toolchain missing.
``--exit-zero`` prints the verdict but exits 0 unless the reports themselves could not be built (12).
"""

from __future__ import annotations

import argparse
import json
import os
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
from harness.reporting.records import SEVERITIES, ExpectedCheck, Record, RecordsFileError, Run, read_runs

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
        merged = set(runs[-1].header.merged_runs) if runs[-1].header is not None else set()
        if len(runs) > 1 and not all_runs and merged and merged <= {r.run_id for r in runs}:
            runs = [r for r in runs if r.run_id in merged]
            notes.append(f"{path}: the records of {len(runs)} runs merged by tools.report; using them all")
        elif len(runs) > 1 and not all_runs:
            latest = runs[-1]
            notes.append(f"{path}: {len(runs)} runs in this file; using the latest ({latest.run_id or 'no run id'}), "
                         f"ignoring {len(runs) - 1} earlier (pass --all-runs to merge them)")
            runs = [latest]
        for r in runs:
            if r.run_id is not None and any(r.run_id == p.run_id for p in picked):
                notes.append(f"run {r.run_id} given twice ({r.source}); used once")
                continue
            picked.append(r)
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


def _shard_of(run: Run) -> tuple[int, int]:
    """``(K, N)`` of a shard run's header.

    Raises:
        RecordsFileError: the header's ``shard`` is not ``K/N`` with 1 <= K <= N (names the file and the run).
    """
    assert run.header is not None and run.header.shard is not None
    k_text, _, n_text = run.header.shard.partition("/")
    if not (k_text.isascii() and k_text.isdigit() and n_text.isascii() and n_text.isdigit()
            and 1 <= int(k_text) <= int(n_text)):
        raise RecordsFileError(f"{run.source}: run {run.run_id}: shard {run.header.shard!r} is not K/N with "
                               "1 <= K <= N; give the records file pytest --shard K/N wrote")
    return int(k_text), int(n_text)


def _contract_of(run: Run) -> tuple[str, ...]:
    """What a run was checked against (profiles digest, ``--region``, ``--operator``), as :func:`_check_contracts`
    compares it."""
    assert run.header is not None
    return (run.header.profiles_digest or "", *(_option_value(key, run.header.options.get(key))
                                                for key, _ in CONTRACT_OPTIONS))


def _farm_label(listed: Sequence[str]) -> str:
    """``the farm listing h/s1, h/s2, h/s3 … (12 devices)``: how a merge names the farm a shard run saw."""
    if not listed:
        return "the farm listing no device"
    shown = ", ".join(listed[:3]) + (" …" if len(listed) > 3 else "")
    return f"the farm listing {shown} ({len(listed)} device{'s' if len(listed) != 1 else ''})"


def _check_shards(runs: list[Run]) -> tuple[list[Run], list[str], list[str]]:
    """Check the shard runs of a merge; return the runs to keep, notes and coverage problems.

    Every shard run given is compared first, before any is dropped: runs that saw different farms (their headers
    list different devices) are a coverage problem naming each run and the farm it saw, and all of them are
    kept (none is a rerun of another). Within one farm, a shard run twice keeps its later run (a note) when both
    runs had the same contract (:func:`_contract_of`); runs of different contracts are all kept, and
    :func:`_check_contracts` names them. Each farm's shards 1..N must all be there (else a coverage problem).
    """
    notes: list[str] = []
    problems: list[str] = []
    sharded = [r for r in runs if r.header is not None and r.header.shard]
    if not sharded:
        return runs, notes, problems
    farms: dict[tuple[str, ...], list[Run]] = {}
    for run in sharded:
        assert run.header is not None
        farms.setdefault(tuple(run.header.listed), []).append(run)
    several = len(farms) > 1
    if several:
        seen = "; ".join(f"{', '.join(_run_name(r) for r in rs)} saw {_farm_label(listed)}"
                         for listed, rs in farms.items())
        problems.append(f"the merged shard runs saw different farms (device lists differ: {seen}): some devices "
                        "may have been checked twice or never; merge the shards of one farm listing, or rerun "
                        "every shard against the same farm")
    keep = [r for r in runs if r not in sharded]
    for listed, farm_runs in farms.items():
        where = f" of {_farm_label(listed)}" if several else ""
        by_total: dict[int, dict[int, list[Run]]] = {}
        for run in farm_runs:
            k, n = _shard_of(run)
            by_total.setdefault(n, {}).setdefault(k, []).append(run)
        for n, shards in sorted(by_total.items()):
            chosen: dict[int, list[Run]] = {}
            for k, shard_runs in sorted(shards.items()):
                if len(shard_runs) == 1:
                    chosen[k] = shard_runs
                    continue
                ordered = sorted(shard_runs, key=lambda r: r.header.started if r.header else "")
                ids = ", ".join(str(r.run_id) for r in ordered)
                if len({_contract_of(r) for r in ordered}) == 1:
                    notes.append(f"shard {k}/{n}{where} ran {_times(len(ordered))} ({ids}); using the later")
                    chosen[k] = ordered[-1:]
                else:
                    notes.append(f"shard {k}/{n}{where} ran {_times(len(ordered))} ({ids}) against different "
                                 "contracts; keeping every run (see the contracts below)")
                    chosen[k] = ordered
            missing = [k for k in range(1, n + 1) if k not in chosen]
            if missing:
                problems.append(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{k}/{n}' for k in missing)}"
                                f"{where} missing from the merge: their devices were not checked")
            keep += [r for k in sorted(chosen) for r in chosen[k]]
            notes.append(f"merged shards {', '.join(f'{k}/{n}' for k in sorted(chosen))}{where}")
            empty = [k for k in sorted(chosen)
                     if all(r.header is not None and not r.header.devices for r in chosen[k])]
            if empty:
                notes.append(f"shard{'s' if len(empty) > 1 else ''} {', '.join(f'{k}/{n}' for k in empty)}{where} "
                             f"had no device (more shards than the {len(listed)} devices of the farm): present, "
                             "nothing to check")
    return keep, notes, problems


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


SIDE_FILES = ("environment.properties", "categories.json", "executor.json")
COPY_MARKER = ".preload-copy.json"
"""In ``<out>/allure-results`` when tools.report made it (a copy or a merge of other results directories): it
may be replaced freely, its sources are elsewhere."""


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def set_aside(out: Path, names: Sequence[str]) -> Path | None:
    """Move ``out/<name>`` for each name that exists into ``out/.replaced/<UTC time>/``; return that directory,
    or None when nothing was there. What a report replaces is kept, never deleted."""
    present = [name for name in names if (out / name).exists() or (out / name).is_symlink()]
    if not present:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = out / ".replaced" / stamp
    n = 1
    while any((dest / name).exists() or (dest / name).is_symlink() for name in present):
        n += 1  # set aside twice within a second: never over what was set aside before
        dest = out / ".replaced" / f"{stamp}-{n}"
    dest.mkdir(parents=True, exist_ok=True)
    for name in present:
        os.replace(out / name, dest / name)
    return dest


def merge_results(dirs: Sequence[Path], out: Path) -> tuple[Path, Path | None]:
    """The Allure results of the report, in ``out/allure-results``; returns it and where a replaced one went.

    The inputs are never modified: unless the only input is ``out/allure-results`` itself (a run's own
    directory, as the main job gives it), its files are copied there (several directories are merged: allure-pytest
    names results by UUID; their side files are rewritten afterwards for the merged run). A previous
    ``out/allure-results`` that pytest wrote (not a copy of this tool) is set aside (:func:`set_aside`).
    """
    own = out / "allure-results"
    if len(dirs) == 1 and _same_path(dirs[0], own):
        if own.exists() and not own.is_dir():
            raise UsageError(f"{own}: not a directory (pytest --alluredir)")
        own.mkdir(parents=True, exist_ok=True)
        return own, None
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"{d}: no such Allure results directory (pytest --alluredir)")
    staged = out / ".allure-results.new"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for d in dirs:
        for f in d.iterdir():
            if f.is_file() and f.name != COPY_MARKER and (len(dirs) == 1 or f.name not in SIDE_FILES):
                shutil.copy2(f, staged / f.name)
    (staged / COPY_MARKER).write_text(json.dumps({"sources": [str(d.resolve()) for d in dirs]}) + "\n",
                                      encoding="utf-8")
    aside = None
    if (own / COPY_MARKER).is_file():
        shutil.rmtree(own)
    else:
        aside = set_aside(out, ["allure-results"])
    os.replace(staged, own)
    return own, aside


def selected_records(runs: Sequence[Run]) -> bytes:
    """The lines of ``runs`` as one records file: per run its header first, then its records, in file order.

    Lines are copied as written (unknown keys kept); with several runs each header lists them all
    (``merged_runs``), so a report of the file uses every one of them, not only its latest.
    """
    ids = [r.run_id for r in runs if r.run_id]
    files: dict[str, list[tuple[dict, bytes]]] = {}
    out: list[bytes] = []
    for run in runs:
        if run.source not in files:
            lines = []
            for raw in Path(run.source).read_bytes().split(b"\n"):
                try:
                    obj = json.loads(raw.decode("utf-8")) if raw.strip() else None
                except (UnicodeDecodeError, ValueError):
                    obj = None  # the cut last line of a killed run (read_runs dropped it too)
                if isinstance(obj, dict):
                    lines.append((obj, raw))
            files[run.source] = lines
        lines = files[run.source]
        headers = [obj for obj, _ in lines if obj.get("type") == "run" and obj.get("run_id") == run.run_id]
        header = headers[-1] if headers and run.run_id else None
        if header is not None:
            if len(ids) > 1:
                header = {**header, "merged_runs": ids}
            out.append(json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode())
        out += [raw for obj, raw in lines if obj.get("type") != "run" and obj.get("run_id") == run.run_id]
    return b"".join(line + b"\n" for line in out)


def write_records(sel: Selection, files: Sequence[Path], out: Path) -> tuple[Path | None, Path | None]:
    """Make ``out/records.jsonl`` the records of this report: unless it is the only input, write the selected runs
    there (:func:`selected_records`); a different file there is set aside first, with a ``junit.xml`` of another
    run beside it. Returns (the file written or None, where replaced files went or None)."""
    own = out / "records.jsonl"
    if len(files) == 1 and _same_path(files[0], own):
        return None, None
    content = selected_records(sel.runs)
    try:
        if own.read_bytes() == content:
            return None, None
    except OSError:
        pass
    aside = set_aside(out, ["records.jsonl", "junit.xml"])
    tmp = own.with_name(own.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, own)
    return own, aside


def stale_outputs(args: argparse.Namespace) -> list[str]:
    """Names in ``--out`` that this report will not write (``--no-html``: the Allure report and single file;
    ``--no-single-file``: the single file; no ``--screenshots``: screenshots): left there, they would show an
    earlier run beside this run's matrix, so :func:`set_aside` moves them away first."""
    names = []
    if args.no_html:
        names += ["allure-report", "allure-report-single.html"]
    elif args.no_single_file:
        names.append("allure-report-single.html")
    if args.no_html or not args.screenshots:
        names.append("screenshots")
    return names


def check_out(out: Path) -> None:
    """``--out`` must be a directory or a path where one can be created (checked before anything is written).

    Raises:
        UsageError: ``out`` or one of its parents is a file.
    """
    for path in (out, *out.parents):
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                what = "is" if path == out else f"is inside {path}, which is"
                raise UsageError(f"--out {out}: {what} a file, not a directory; give a directory (it is created)")
            return


def run(args: argparse.Namespace) -> int:
    """Build the reports; return the exit code. Errors of the harness family are printed, never raised."""
    started = time.monotonic()
    records_files = args.records or [DEFAULT_RECORDS]
    results_dirs = args.results or [DEFAULT_RESULTS]
    try:
        if args.gate_severity is not None:
            check_severity(args.gate_severity)
        check_out(args.out)
        sel = select_runs(records_files, all_runs=args.all_runs)
        gate_severity = check_severity(args.gate_severity or next(iter(sel.gate_severities), "critical"))
        if len(sel.gate_severities) > 1:
            sel.notes.append(f"the runs were gated at different severities ({', '.join(sel.gate_severities)}); "
                             f"this report gates at {gate_severity}"
                             + ("" if args.gate_severity else " (the lowest; --gate-severity chooses)"))
        for note in sel.notes:
            print(f"note: {note}")
        matrix = build_matrix(sel.records, expected=sel.expected, gate_severity=gate_severity,
                              coverage_problems=sel.coverage_problems)
        result = evaluate_gate(sel.records, gate_severity, expected=sel.expected,
                               coverage_problems=sel.coverage_problems)
        partial = bool(result.not_run or result.coverage_problems)
        paths = write_matrix(matrix, args.out)
        for kind in ("md", "html", "json"):
            if not args.brief:
                print(f"matrix {kind}: {paths[kind]}")
        written, aside = write_records(sel, records_files, args.out)
        if written is not None:
            print(f"records: {written} ({len(sel.runs)} run{'s' if len(sel.runs) != 1 else ''})")
        if aside is not None:
            print(f"note: {args.out} held another run's records.jsonl/junit.xml: moved to {aside}")
        timings = {"matrix": time.monotonic() - started}
        stale = stale_outputs(args)
        aside = set_aside(args.out, stale) if stale else None
        if aside is not None:
            print(f"note: {args.out} held an earlier run's {', '.join(n for n in stale if (aside / n).exists())}, "
                  f"which this report does not make: moved to {aside}")
        if not args.no_html:
            from harness.reporting.html_report import DEFAULT_REPORT_NAME, generate_report

            results, aside = merge_results(results_dirs, args.out)
            if len(results_dirs) > 1:
                print(f"allure results merged: {results} ({len(results_dirs)} directories)")
            if aside is not None:
                print(f"note: {args.out} held another run's allure-results: moved to {aside}")
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
    except OSError as exc:  # a directory that cannot be written, a disk that is full: said, never a traceback
        print(f"error: {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
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
