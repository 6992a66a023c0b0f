"""The main job: check every device (or the bundled virtual farm) and build the reports.

``python -m tools.job [--adb-server HOST:PORT ...] [--serial S ...] [--farm auto|always|never]``

1. Chooses the devices: the given ``--adb-server`` hosts; else the local adb server (127.0.0.1:5037)
   when it is running and lists at least one device; else (``--farm auto``, the default) the
   bundled virtual farm: a private adb server on a free port plus one virtual device per image in
   ``virtual_device/images/`` (never the default server, never ports 5555-5585).
2. Runs the compliance suites with pytest through the real adb server, writing
   ``reports/allure-results/``, ``reports/records.jsonl`` and ``reports/junit.xml``.
3. Builds the compliance matrix and the Allure HTML report (``tools.report``) and prints the summary.
4. Exits with the release gate's code (see README "Exit codes").

Bad profiles, no device, an unreachable farm host: a clear message and a non-zero exit, and no
report is built from a run that did not happen.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"


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


def _pytest_argv(args: argparse.Namespace, servers: Sequence[str]) -> list[str]:
    argv = [sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider",
            "--alluredir", str(REPORTS / "allure-results"), "--clean-alluredir",
            "--junitxml", str(REPORTS / "junit.xml"), "--records", str(REPORTS / "records.jsonl"),
            "--gate-severity", args.gate_severity, "-q", "--tb=short"]
    for s in servers:
        argv += ["--adb-server", s]
    for s in args.serial:
        argv += ["--serial", s]
    if args.region:
        argv += ["--region", args.region]
    for p in args.profiles:
        argv += ["--profiles", p]
    return argv + list(args.pytest_args)


class _Parser(argparse.ArgumentParser):
    """argparse with the project's usage exit code (4) instead of argparse's 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        self.print_usage(sys.stderr)
        self.exit(4, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job; returns the exit code (the gate's, or pytest's for usage errors)."""
    parser = _Parser(prog="bash tools/run.sh", description=__doc__.split("\n")[0],
                     epilog="Exit codes: 0 ship, 1 product defect, 4 usage error or invalid profiles, "
                            "10 infrastructure errors only, 11 no required check ran, 12 gate not evaluated.")
    parser.add_argument("--adb-server", action="append", default=[], metavar="HOST:PORT",
                        help="adb server (farm host) to take devices from; repeatable (default: local server)")
    parser.add_argument("--serial", action="append", default=[], help="check only this device; repeatable")
    parser.add_argument("--region", default=None, metavar="XX",
                        help="state the devices' market (ISO 3166 alpha-2) instead of reading it from properties")
    parser.add_argument("--profiles", action="append", default=[], metavar="PATH",
                        help="device profile files or directories (default: device_profiles/)")
    parser.add_argument("--gate-severity", default="critical", choices=["blocker", "critical", "normal", "minor"],
                        help="lowest severity whose failure fails the run (default critical)")
    parser.add_argument("--farm", choices=["auto", "always", "never"], default="auto",
                        help="use the bundled virtual farm: when no device is attached (auto), always, or never")
    parser.add_argument("--images", nargs="+", default=[str(ROOT / "virtual_device" / "images")],
                        help="virtual farm images (names, files or directories)")
    parser.add_argument("--no-html", action="store_true", help="skip the Allure HTML report")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)

    REPORTS.mkdir(exist_ok=True)
    records = REPORTS / "records.jsonl"
    if records.exists():
        records.unlink()  # one run's records; history lives in the Allure report's history
    # nothing of an earlier run may pass for this run's result (Allure history lives in reports/history)
    for stale in ("compliance.md", "compliance.html", "compliance.json", "junit.xml", "allure-report-single.html"):
        with contextlib.suppress(FileNotFoundError):
            (REPORTS / stale).unlink()
    for stale_dir in ("allure-report", "screenshots"):
        shutil.rmtree(REPORTS / stale_dir, ignore_errors=True)

    use_farm = args.farm == "always" or (args.farm == "auto" and not args.adb_server
                                         and not _local_server_has_devices())
    with contextlib.ExitStack() as stack:
        if use_farm:
            print("No device attached: starting the bundled virtual farm", flush=True)
            from harness.errors import Error

            try:
                servers = [stack.enter_context(virtual_farm(args.images))]
            except Error as exc:
                print(f"error: cannot start the virtual farm: {exc}", file=sys.stderr)
                return 4
        else:
            servers = args.adb_server or ["127.0.0.1:5037"]
        print("Running the compliance suites on " + ", ".join(servers), flush=True)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        rc = subprocess.run(_pytest_argv(args, servers), cwd=ROOT, env=env, check=False).returncode

    if rc == 5:  # pytest: no test selected (e.g. -k matched nothing)
        rc = 11
    if not records.exists():
        # no half-written report: nothing that a reader (or CI) could take for a result
        with contextlib.suppress(FileNotFoundError):
            (REPORTS / "junit.xml").unlink()
        shutil.rmtree(REPORTS / "allure-results", ignore_errors=True)
        print(f"No check ran (exit {rc}); no report built.", file=sys.stderr)
        return rc or 11
    report_argv = [sys.executable, "-m", "tools.report", "--results", str(REPORTS / "allure-results"),
                   "--records", str(records), "--out", str(REPORTS), "--gate-severity", args.gate_severity]
    if args.no_html:
        report_argv.append("--no-html")
    else:  # what people see: the overview, a failing test with its evidence, the matrix (reports/screenshots/)
        report_argv.append("--screenshots")
    report_rc = subprocess.run(report_argv, cwd=ROOT, check=False).returncode
    if report_rc not in (0, 1, 10, 11):
        print(f"warning: building the reports failed (exit {report_rc})", file=sys.stderr)
    print(f"\nReports: {REPORTS}/compliance.md (and .html, .json), {REPORTS}/junit.xml")
    if not args.no_html:
        print(f"Allure: {REPORTS}/allure-report-single.html (opens from disk); {REPORTS}/allure-report/ "
              f"(serve it: .venv/bin/python -m http.server -d {REPORTS}/allure-report 8000)")
    print(f"Exit code {rc} (see README: Exit codes)")
    return rc


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM (a cancelled CI job): unwind like Ctrl-C so the farm and its private adb server are stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: the virtual farm and its adb server were stopped; no report was built",
              file=sys.stderr)
        sys.exit(130)
