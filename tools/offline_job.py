"""Judge files instead of phones: run the compliance suites on ROM builds or bugreports, build the reports, gate.

Shared by ``python -m tools.romcheck`` and ``python -m tools.bugreportcheck``. Like ``tools/job.py`` for devices:

1. runs pytest on ``suites/`` with ``--build PATH`` / ``--bugreport PATH`` (one per input) and ``--records``,
   ``--alluredir``, ``--junitxml`` under the output directory (default ``reports/``);
2. builds the compliance matrix and the Allure report from that run (``python -m tools.report``);
3. exits with the release gate's code (README "Exit codes"): 0 ship, 1 product defect, 10 a file could not be read
   (broken: corrupt zip, missing build.prop or section, unparsable manifest), 11 no required check ran,
   4 usage error or invalid profiles.

Each input is one row of the matrix (``build:<file>``, ``build:<folder>#<REGION>`` for a folder of region builds,
``bugreport:<file>``); the launch checks report "not applicable: needs a live device".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]


class Parser(argparse.ArgumentParser):
    """argparse with the project's usage exit code (4) instead of argparse's 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D102
        self.print_usage(sys.stderr)
        self.exit(4, f"{self.prog}: error: {message}\n")


def parser(prog: str, description: str, what: str, epilog_example: str) -> Parser:
    """The command line shared by the two tools; ``what`` names the positional inputs."""
    p = Parser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
               epilog=f"example:\n  {epilog_example}\n\nExit codes: 0 ship, 1 product defect, 4 usage error or "
                      "invalid profiles, 10 an input could not be read (broken), 11 no required check ran, "
                      "12 gate not evaluated, 13 partial.")
    p.add_argument("inputs", nargs="+", metavar=what.upper(), help=what)
    p.add_argument("--profiles", action="append", default=[], metavar="PATH",
                   help="device profile files or directories (default: device_profiles/)")
    p.add_argument("--region", default=None, metavar="XX",
                   help="state the market (ISO 3166 alpha-2) instead of reading it from properties")
    p.add_argument("--out", type=Path, default=ROOT / "reports", help="output directory (default reports/)")
    p.add_argument("--gate-severity", default="critical", choices=["blocker", "critical", "normal", "minor"],
                   help="lowest severity whose failure fails the run (default critical)")
    p.add_argument("--no-html", action="store_true", help="skip the Allure HTML report (matrix and gate only)")
    return p


def _clean(out: Path) -> None:
    """Nothing of an earlier run may pass for this run's result (Allure history stays in out/history)."""
    for stale in ("records.jsonl", "compliance.md", "compliance.html", "compliance.json", "junit.xml",
                  "allure-report-single.html"):
        with contextlib.suppress(FileNotFoundError):
            (out / stale).unlink()
    for stale_dir in ("allure-report", "allure-results", "screenshots"):
        shutil.rmtree(out / stale_dir, ignore_errors=True)


def run(kind: str, args: argparse.Namespace) -> int:
    """Run the suites on ``args.inputs`` as ``kind`` (``build`` or ``bugreport``), build the reports; the gate's
    exit code."""
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    missing = [p for p in args.inputs if not Path(p).exists()]
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return 4
    records = out / "records.jsonl"
    argv = [sys.executable, "-m", "pytest", str(ROOT / "suites"), "-p", "no:cacheprovider",
            "--alluredir", str(out / "allure-results"), "--junitxml", str(out / "junit.xml"),
            "--records", str(records), "--gate-severity", args.gate_severity, "-q", "--tb=line"]
    for path in args.inputs:
        argv += [f"--{kind}", str(Path(path).resolve())]
    for p in args.profiles:
        argv += ["--profiles", str(Path(p).resolve())]
    if args.region:
        argv += ["--region", args.region]
    print(f"Checking {len(args.inputs)} {kind}(s) with the compliance suites", flush=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    rc = subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode
    if rc == 5:
        rc = 11
    if not records.exists():
        print(f"No check ran (exit {rc}); no report built.", file=sys.stderr)
        return rc or 11
    report = [sys.executable, "-m", "tools.report", "--results", str(out / "allure-results"), "--records",
              str(records), "--out", str(out), "--gate-severity", args.gate_severity]
    if args.no_html:
        report.append("--no-html")
    rc = subprocess.run(report, cwd=ROOT, check=False).returncode
    print(f"\nReports: {out}/compliance.md (and .html, .json), {out}/junit.xml, {out}/records.jsonl")
    if not args.no_html:
        print(f"Allure: {out}/allure-report-single.html (opens from disk)")
    print(f"Exit code {rc} (see README: Exit codes)")
    return rc


def main_for(kind: str, prog: str, description: str, what: str, example: str,
             argv: Sequence[str] | None = None) -> int:
    """Parse the command line and :func:`run`."""
    args = parser(prog, description, what, example).parse_args(argv)
    return run(kind, args)
