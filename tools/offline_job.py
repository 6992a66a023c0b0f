"""Judge files instead of phones: run the compliance suites on ROM builds or bugreports, build the reports, gate.

Shared by ``python -m tools.romcheck`` and ``python -m tools.bugreportcheck``. Like ``tools/job.py`` for devices:

1. hands the inputs to the main job (:mod:`tools.job` with ``--build PATH`` / ``--bugreport PATH``): it checks the
   options and profiles first, runs pytest on ``suites/`` into a staging directory, builds the compliance matrix
   and the Allure report (``python -m tools.report``) and replaces the output directory (default ``reports/``)
   only when something was checked;
2. exits with the release gate's code (README "Exit codes"): 0 ship, 1 product defect, 10 a file could not be read
   (broken: corrupt zip, missing build.prop or section, unparsable manifest), 11 no required check ran,
   4 usage error or invalid profiles.

Each input is one row of the matrix (``build:<file>``, ``build:<folder>#<REGION>`` for a folder of region builds,
``bugreport:<file>``); the launch checks report "not applicable: needs a live device".
"""

from __future__ import annotations

import argparse
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


def input_kind_problem(kind: str, path: Path) -> str | None:
    """Why ``path`` (which exists) cannot be an input of ``kind`` at all, or None: a bugreport is a file (zip or
    text), a build a file (target_files zip) or a directory; a device node, FIFO or socket is neither."""
    if kind == "bugreport":
        if path.is_dir():
            return "a directory: give a bugreport zip or text file (one argument per bugreport)"
        if not path.is_file():
            return "not a regular file: give a bugreport zip or text file"
    elif not (path.is_file() or path.is_dir()):
        return ("not a regular file or directory: give a target_files zip, a directory of unpacked partitions or a "
                "folder of region builds")
    return None


def input_notes(kind: str, path: Path) -> list[str]:
    """What the tool says before judging ``path``: for a folder of region builds, the children it does not read
    (:func:`harness.sources.build.folder_children`; they are also in each row's evidence)."""
    if kind != "build" or not path.is_dir():
        return []
    from harness.sources.build import folder_children, is_build_dir, partition_folders

    if is_build_dir(path) or partition_folders(path):
        return []
    builds, ignored = folder_children(path)
    if not builds or not ignored:
        return []
    return [f"{path}: not builds, not judged: {', '.join(ignored)} (judged: "
            f"{', '.join(b.name for b in builds)})"]


def run(kind: str, args: argparse.Namespace) -> int:
    """Run the suites on ``args.inputs`` as ``kind`` (``build`` or ``bugreport``) through the main job
    (:mod:`tools.job`: arguments checked first, a staging directory, the last good reports kept when nothing
    could be checked), build the reports; return the gate's exit code."""
    from tools import job

    missing = [p for p in args.inputs if not Path(p).exists()]
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}; {args.out} is unchanged", file=sys.stderr)
        return 4
    wrong = [f"{p} ({problem})" for p in args.inputs if (problem := input_kind_problem(kind, Path(p)))]
    if wrong:
        print(f"error: {'; '.join(wrong)}; {args.out} is unchanged", file=sys.stderr)
        return 4
    for p in args.inputs:
        for note in input_notes(kind, Path(p)):
            print(f"note: {note}", file=sys.stderr)
    bad_out = job.reports_problem(args.out, option="--out")
    if bad_out:
        print(f"error: {bad_out}\nNothing was run; {args.out} is unchanged (exit {job.EXIT_USAGE}).", file=sys.stderr)
        return job.EXIT_USAGE
    argv = ["--reports", str(args.out), "--farm", "never", "--gate-severity", args.gate_severity]
    for path in args.inputs:
        argv += [f"--{kind}", str(Path(path).resolve())]
    for p in args.profiles:
        argv += ["--profiles", str(Path(p).resolve())]
    if args.region:
        argv += ["--region", args.region]
    if args.no_html:
        argv.append("--no-html")
    return job.main(argv)


def main_for(kind: str, prog: str, description: str, what: str, example: str,
             argv: Sequence[str] | None = None) -> int:
    """Parse the command line and :func:`run`."""
    args = parser(prog, description, what, example).parse_args(argv)
    return run(kind, args)
