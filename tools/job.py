"""The main job: check every device (or the bundled virtual farm) and build the reports.

``python -m tools.job [options] [-- PYTEST ARGS]`` (``bash tools/run.sh`` sets up first; see ``--help``)

1. Checks everything it was given before it touches a device or a report: the options, the device profiles,
   and the pytest arguments after ``--`` (pytest itself parses them: ``--lf``, ``-k EXPR``, ``-m``, paths such
   as ``suites/test_version.py``, which then replace the default ``suites/``). A mistake exits 4 with the
   message, and ``reports/`` stays as the last good run left it.
2. Chooses the devices: the given ``--adb-server`` hosts; else the local adb server (127.0.0.1:5037) when it
   is running and lists at least one device; else (``--farm auto``, the default) the bundled virtual farm: a
   private adb server on a free port plus one virtual device per image in ``virtual_device/images/`` (never
   the default server, never ports 5555-5585).
3. Runs the compliance suites with pytest through the real adb server. Everything of the run is written to a
   staging directory (``reports/.staging-*``): records, JUnit, Allure results, then the matrix and the Allure
   HTML report (``tools.report``, with the Allure history of earlier runs).
4. Only a run that checked something replaces the previous reports (``reports/``; ``history/`` is carried
   over); a run that could not start (no device, no adb server) leaves them as they were.
5. Prints the gate summary once, a compact devices × apps grid and the verdict, and exits with the release
   gate's code (see README "Exit codes").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
#: What a run publishes into reports/ (everything else there is left alone).
OUTPUTS = ("records.jsonl", "junit.xml", "allure-results", "allure-report", "allure-report-single.html",
           "compliance.md", "compliance.html", "compliance.json", "screenshots", "history")
EXIT_USAGE = 4
EXIT_NO_CHECKS = 11
EXIT_INTERRUPTED = 130


def _local_server_has_devices() -> bool:
    """True when an adb server answers on 127.0.0.1:5037 and lists a device (never starts one)."""
    from harness.adb import AdbServerLink, ServerAddress

    try:
        return bool(AdbServerLink(ServerAddress("127.0.0.1", 5037), timeout=5.0).devices())
    except Exception:  # noqa: BLE001 - any failure means "use the farm"
        return False


@contextlib.contextmanager
def virtual_farm(images: Sequence[str]) -> Iterator[str]:
    """Start a private adb server and the virtual farm; yield the server's ``host:port``."""
    from virtual_device.testing import AdbServer, Farm

    with AdbServer() as server, Farm(list(images), server) as farm:
        for dev in farm.devices:
            print(f"  virtual device {dev.serial}  {dev.model}  ({dev.name})", flush=True)
        yield f"127.0.0.1:{server.port}"


class _Parser(argparse.ArgumentParser):
    """argparse with the project's usage exit code (4) instead of argparse's 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The job's options (documented in the README)."""
    parser = _Parser(prog="bash tools/run.sh", description=__doc__.split("\n")[0],
                     epilog="Pytest options go after `--`, e.g. `bash tools/run.sh -- -k Excel suites/test_version.py`"
                            " or `-- --lf`. Exit codes: 0 ship, 1 product defect, 4 usage error or invalid "
                            "profiles, 10 infrastructure errors only, 11 no required check ran, 12 gate not "
                            "evaluated, 13 partial (required checks did not run), 130 interrupted.")
    parser.add_argument("--adb-server", action="append", default=[], metavar="HOST:PORT",
                        help="adb server (farm host) to take devices from; repeatable (default: local server)")
    parser.add_argument("--serial", action="append", default=[], help="check only this device; repeatable")
    parser.add_argument("--region", default=None, metavar="XX",
                        help="state the devices' market (ISO 3166 alpha-2) instead of reading it from properties")
    parser.add_argument("--operator", default=None, metavar="MCC-MNC",
                        help="state the devices' mobile operator (e.g. 405-857) instead of reading it from properties")
    parser.add_argument("--profiles", action="append", default=[], metavar="PATH",
                        help="device profile files or directories (default: device_profiles/)")
    parser.add_argument("--gate-severity", default="critical", choices=["blocker", "critical", "normal", "minor"],
                        help="lowest severity whose failure fails the run (default critical)")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="check only the K-th of N shards of the farm (merge the shards with tools.report)")
    parser.add_argument("--device-wait", default=None, metavar="SECONDS",
                        help="wait this long for a device that dropped mid-run, then rerun its check once (30)")
    parser.add_argument("--build", action="append", default=[], metavar="PATH",
                        help="judge a ROM build instead of devices (tools.romcheck uses this); repeatable")
    parser.add_argument("--bugreport", action="append", default=[], metavar="PATH",
                        help="judge a bugreport instead of devices (tools.bugreportcheck uses this); repeatable")
    parser.add_argument("--farm", choices=["auto", "always", "never"], default="auto",
                        help="use the bundled virtual farm: when no device is attached (auto), always, or never")
    parser.add_argument("--images", nargs="+", default=[str(ROOT / "virtual_device" / "images")],
                        help="virtual farm images (names, files or directories)")
    parser.add_argument("--reports", type=Path, default=REPORTS, metavar="DIR",
                        help="where the reports go (default reports/); only a run that checked something replaces "
                             "what is there")
    parser.add_argument("--no-html", action="store_true", help="skip the Allure HTML report")
    parser.add_argument("--screenshots", action="store_true",
                        help="also screenshot the report pages (headless Chromium) into reports/screenshots/")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments (after --)")
    return parser


def validate(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Check the options, the profiles and the pytest arguments; return ``(problems, pytest paths)``.

    ``pytest paths`` are the test paths the user gave after ``--`` (empty: run ``suites/``). Nothing here
    touches a device or ``reports/``.
    """
    problems: list[str] = []
    from harness.errors import Error
    from harness.plugin.session import option_problems
    from harness.profiles import load_profiles

    problems += option_problems(region=args.region, operator=args.operator, shard=args.shard,
                                device_wait=args.device_wait, serials=args.serial, adb_servers=args.adb_server)
    try:
        load_profiles(args.profiles or None)
    except Error as exc:
        problems.append(f"invalid device profiles:\n{exc}")
    # only the user's arguments: a harness option's value (a --build path) would pass for a test path here
    check = [sys.executable, "-m", "pytest", *args.pytest_args, "--preload-check-args"]
    proc = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    marker = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@preload-args ")]
    if proc.returncode != 0 or not marker:
        text = "\n".join(ln.removeprefix("Exit: ") for ln in (proc.stderr + proc.stdout).splitlines()
                         if ln.strip() and not ln.startswith(("!", "="))) or f"exit {proc.returncode}"
        problems.append(f"pytest arguments after `--` are not valid: {text.strip()}")
        return problems, []
    info = json.loads(marker[-1].split(" ", 1)[1])
    return problems, info["paths"] if info["from_args"] else []


def _harness_options(args: argparse.Namespace, servers: Sequence[str]) -> list[str]:
    argv = ["--gate-severity", args.gate_severity]
    for s in servers:
        argv += ["--adb-server", s]
    for s in args.serial:
        argv += ["--serial", s]
    for p in args.profiles:
        argv += ["--profiles", p]
    if args.region is not None:  # passed on as given, never dropped: an empty value is pytest's error too
        argv += ["--region", args.region]
    if args.operator is not None:
        argv += ["--operator", args.operator]
    if args.shard is not None:
        argv += ["--shard", args.shard]
    if args.device_wait is not None:
        argv += ["--device-wait", str(args.device_wait)]
    for kind in ("build", "bugreport"):
        for path in getattr(args, kind):
            argv += [f"--{kind}", str(Path(path).resolve())]
    return argv


def pytest_argv(args: argparse.Namespace, servers: Sequence[str], stage: Path, user_paths: Sequence[str]) -> list[str]:
    """The pytest command of the run (everything written under ``stage``)."""
    argv = [sys.executable, "-m", "pytest"]
    if not user_paths:
        argv.append(str(ROOT / "suites"))
    argv += ["--alluredir", str(stage / "allure-results"), "--junitxml", str(stage / "junit.xml"),
             "--records", str(stage / "records.jsonl"), "-q", "-rfE", "--no-compliance-summary"]
    return argv + _harness_options(args, servers) + list(args.pytest_args)


def publish(stage: Path, reports: Path = REPORTS) -> list[str]:
    """Move the run's outputs from ``stage`` into ``reports`` (each replaced whole); return what was published.

    An output this run did not make (the Allure HTML of a ``--no-html`` run, screenshots) is removed, so that
    ``reports`` never mixes two runs; ``history/`` (the Allure trend) is kept when the run did not update it.
    """
    done = []
    for name in OUTPUTS:
        new = stage / name
        old = reports / name
        if not new.exists() and name == "history":
            continue
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
        if new.exists():
            os.replace(new, old)
            done.append(name)
    return done


def checked_something(records: Path) -> bool:
    """Whether the run's records hold a check that ran on a device or file (passed or failed): a run whose every
    record is an infrastructure error or a skip (no device reachable, a ``--serial`` not attached) checked
    nothing, and must not replace the reports of one that did."""
    from harness.reporting.records import read_runs

    try:
        return any(r.outcome in ("passed", "failed") for run in read_runs(records) for r in run.records)
    except Exception:  # noqa: BLE001 - unreadable records: let tools.report say what is wrong with them
        return True


def reports_problem(reports: Path, option: str = "--reports") -> str | None:
    """What is wrong with ``--reports`` (it or a parent is a file; it cannot be created), or None. Checked first:
    a run must not end in a traceback after the devices were checked. ``option``: how the caller's command line
    names the directory (``--out`` for ``tools.romcheck`` / ``tools.bugreportcheck``)."""
    for path in (reports, *reports.parents):
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                what = "is" if path == reports else f"is inside {path}, which is"
                return f"{option} {reports}: {what} a file, not a directory; give a directory (it is created)"
            if not os.access(path, os.W_OK | os.X_OK):
                return f"{option} {reports}: {path} is not writable"
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job; returns the exit code (the gate's, 4 for usage errors, 11 when nothing ran)."""
    args = build_parser().parse_args(argv)
    bad_reports = reports_problem(args.reports)
    if bad_reports:
        print(f"error: {bad_reports}\nNothing was run (exit {EXIT_USAGE}).", file=sys.stderr)
        return EXIT_USAGE
    print("Checking the options, the profiles and the pytest arguments", flush=True)
    problems, user_paths = validate(args)
    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        print(f"Nothing was run; {args.reports} is unchanged (exit {EXIT_USAGE}).", file=sys.stderr)
        return EXIT_USAGE
    reports = args.reports.resolve()
    reports.mkdir(parents=True, exist_ok=True)
    stage = reports / f".staging-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        if (reports / "history").is_dir():  # the Allure trend continues from the last published run
            shutil.copytree(reports / "history", stage / "history")
        return _run(args, stage, user_paths, reports)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _run(args: argparse.Namespace, stage: Path, user_paths: Sequence[str], reports: Path) -> int:
    files = len(args.build) + len(args.bugreport)
    use_farm = not files and (args.farm == "always" or (args.farm == "auto" and not args.adb_server
                                                         and not _local_server_has_devices()))
    if use_farm and args.shard:
        print("error: --shard splits a farm that every machine lists the same way; the virtual farm this job starts "
              "is new (new ports) each run, so its shards would not add up. Start one farm (`.venv/bin/python -m "
              "virtual_device farm --images virtual_device/images --adb-port 5137`) and pass --adb-server "
              f"127.0.0.1:5137 to every shard. Nothing was run; {reports} is unchanged (exit {EXIT_USAGE}).",
              file=sys.stderr)
        return EXIT_USAGE
    farm_started = False
    with contextlib.ExitStack() as stack:
        if files:
            servers = []
        elif use_farm:
            print("No device attached: starting the bundled virtual farm", flush=True)
            from harness.errors import Error

            try:
                servers = [stack.enter_context(virtual_farm(args.images))]
            except Error as exc:
                print(f"error: cannot start the virtual farm: {exc}", file=sys.stderr)
                return EXIT_USAGE
            farm_started = True
        else:
            servers = args.adb_server or ["127.0.0.1:5037"]
        print("Running the compliance suites on " + (", ".join(servers) if servers else
                                                    f"{files} file(s) (no live device: launch checks do not apply)"),
              flush=True)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        try:
            rc = subprocess.run(pytest_argv(args, servers, stage, user_paths), cwd=ROOT, env=env,
                                check=False).returncode
        except KeyboardInterrupt:
            what = "the virtual farm and its adb server were stopped; " if farm_started else ""
            print(f"\ninterrupted: {what}{reports} is unchanged", file=sys.stderr)
            return EXIT_INTERRUPTED
    records = stage / "records.jsonl"
    if rc == 5:  # pytest: no test selected (e.g. -k matched nothing)
        rc = EXIT_NO_CHECKS
    if not records.exists():
        code = rc or EXIT_NO_CHECKS  # e.g. --fixtures, --help: pytest ran no test and wrote no records
        print(f"No check ran (exit {code}); {reports} is unchanged.", file=sys.stderr)
        return code
    if rc not in (2, 3) and not checked_something(records):
        kept = reports / ".unpublished"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(stage, kept, ignore=shutil.ignore_patterns("history"))
        code = rc if rc not in (0, 5) else EXIT_NO_CHECKS
        print(f"No check ran on any device (exit {code}); {reports} is unchanged. This run's records (its run "
              f"header; a shard merge takes them as this shard's): {kept}/records.jsonl", file=sys.stderr)
        return code
    report_argv = [sys.executable, "-m", "tools.report", "--results", str(stage / "allure-results"),
                   "--records", str(records), "--out", str(stage), "--gate-severity", args.gate_severity,
                   "--grid", "--brief"]
    if args.no_html:
        report_argv.append("--no-html")
    elif args.screenshots:
        report_argv.append("--screenshots")
    report_rc = subprocess.run(report_argv, cwd=ROOT, check=False).returncode
    published = publish(stage, reports)
    if report_rc not in (0, 1, 10, 11, 13):
        print(f"warning: building the reports failed (exit {report_rc}); published what was built: "
              f"{', '.join(published)}", file=sys.stderr)
    print(f"\nReports: {reports}/compliance.md (and .html, .json), {reports}/junit.xml, {reports}/records.jsonl")
    if not args.no_html:
        print(f"Allure: {reports}/allure-report-single.html (opens from disk); {reports}/allure-report/ "
              f"(serve it: .venv/bin/python -m http.server -d {reports}/allure-report 8000)")
    code = rc if rc in (2, 3) else report_rc if report_rc in (0, 1, 10, 11, 13) else rc
    print(f"Exit code {code} (see README: Exit codes)")
    return code


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM (a cancelled CI job): unwind like Ctrl-C so the farm and its private adb server are stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; the reports directory is unchanged", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
