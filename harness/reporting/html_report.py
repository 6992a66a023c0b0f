"""Allure HTML report, generated offline by the project's pinned Allure 2 CLI, with history and trend.

Generator: ``allure-commandline`` 2.46.1 from npm, installed into ``tools/report_toolchain/node_modules`` by
``bash tools/setup_report_toolchain.sh`` (``npm ci`` from the committed package-lock.json); it runs on Java 17+.
Why Allure 2 and not Allure 3 (shared/notes/allure-toolchain.md §2): both generate offline, but Allure 2 has a
supported analytics opt-out (``ALLURE_NO_ANALYTICS=true``; Allure 3 hard-codes Google Analytics), reads
``categories.json`` from the results directory (Allure 3's default UI ignores it), has ``--single-file``, and
needs no Node 22. Allure 3's quality gate is not needed: the gate is :mod:`harness.reporting.gate`.

Layout under ``out_dir`` (normally ``reports/``)::

    allure-report/              browsable report (serve it over http; file:// shows "Failed to fetch")
    allure-report-single.html   the same report in one file, works over file:// (for mailing/archiving)
    history/                    Allure history carried to the next run (history.json, history-trend.json, …)

History (note §2a and allure2#923): Allure 2 keeps history only if the previous report's ``history/`` is in the
results directory when generating. :func:`generate_report` copies ``out_dir/history`` (or, if absent, the
previous ``allure-report/history``) into ``<results>/history`` first, and saves the new report's history back
into ``out_dir/history`` afterwards, so the second run shows a two-point trend.

A report is idempotent per run: beside the history it saves, ``history/preload-history.json`` names the runs the
report was built from (their run ids) and ``history/preload-base/`` keeps the history it was built on. A report
of the same run ids again (a rebuild) starts from that base, so it replaces its own trend point instead of adding
one more.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import Error

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLCHAIN_DIR = REPO_ROOT / "tools" / "report_toolchain"
SETUP_COMMAND = "bash tools/setup_report_toolchain.sh"
#: Strings that would mean the report phones home; checked after every generation.
ANALYTICS_MARKERS: tuple[str, ...] = ("googletagmanager", "google-analytics", "gtag(")
DEFAULT_REPORT_NAME = "preload-harness compliance"
#: In ``history/``: the run ids the saved history's last point was built from, and the history before it.
HISTORY_SIDECAR = "preload-history.json"
HISTORY_BASE = "preload-base"


class ToolchainMissing(Error):
    """The report generator (npm allure-commandline) or the Java runtime it needs is not installed."""


class ReportGenerationError(Error):
    """The generator ran but failed, timed out, or produced a report that loads analytics."""


@dataclass(frozen=True)
class ReportPaths:
    """What :func:`generate_report` produced: ``report_dir`` (browsable), ``single_file`` (or None),
    ``history_dir`` (kept for the next run), ``trend_points`` (runs in the trend, this one included),
    ``seconds`` (wall time of generation), ``size_bytes`` (report dir + single file) and ``history_kept`` (False:
    this run was kept out of the next report's trend)."""

    report_dir: Path
    single_file: Path | None
    history_dir: Path
    trend_points: int
    seconds: float
    size_bytes: int
    history_kept: bool = True


def allure_executable(toolchain_dir: Path = TOOLCHAIN_DIR) -> Path:
    """Path of the pinned ``allure`` launcher, after checking Java is available.

    Raises:
        ToolchainMissing: ``node_modules/.bin/allure`` is absent or no ``java`` is on PATH/JAVA_HOME; the
            message names the setup command.
    """
    exe = toolchain_dir / "node_modules" / ".bin" / "allure"
    if not exe.exists():
        raise ToolchainMissing(f"Allure report generator not installed: {exe} is missing; "
                               f"run `{SETUP_COMMAND}` (npm ci of {toolchain_dir / 'package-lock.json'})")
    java_home = os.environ.get("JAVA_HOME")
    has_java = shutil.which("java") or (java_home and (Path(java_home) / "bin" / "java").exists())
    if not has_java:
        raise ToolchainMissing(f"Java runtime not found (the Allure 2 generator needs Java 17+); run `{SETUP_COMMAND}` "
                               "as root (installs Debian's openjdk-17-jre-headless) or set JAVA_HOME")
    return exe


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _trend_length(history_dir: Path) -> int:
    try:
        data = json.loads((history_dir / "history-trend.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    return len(data) if isinstance(data, list) else 0


def _run_allure(exe: Path, jobs: list[list[str]], *, timeout_s: float) -> None:
    """Run ``allure <args>`` for every args list in ``jobs`` concurrently (one JVM each); all must succeed."""
    env = dict(os.environ, ALLURE_NO_ANALYTICS="true")  # must be "true", not "1" (note §2a)
    deadline = time.monotonic() + timeout_s
    procs = [(args, subprocess.Popen([str(exe), *args], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)) for args in jobs]
    failures: list[str] = []
    try:
        for args, proc in procs:
            try:
                out, _ = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired as exc:
                raise ReportGenerationError(f"allure {args[0]} did not finish within {timeout_s:.0f} s") from exc
            if proc.returncode != 0:
                tail = "\n".join(out.strip().splitlines()[-15:])
                failures.append(f"allure {' '.join(args)} exited {proc.returncode}:\n{tail}")
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    if failures:
        raise ReportGenerationError("\n".join(failures))


def _check_no_analytics(files: list[Path]) -> None:
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        found = [m for m in ANALYTICS_MARKERS if m in text]
        if found:
            raise ReportGenerationError(f"{f} contains analytics ({', '.join(found)}); the generator must run with "
                                        "ALLURE_NO_ANALYTICS=true")


def write_executor(results_dir: Path, build_order: int, name: str = DEFAULT_REPORT_NAME, *,
                   build_note: str = "") -> Path:
    """Write ``executor.json`` (build number shown on the trend chart, ``run N`` plus ``build_note`` such as
    ``(partial)``) unless the run wrote its own (a CI executor with another ``name``); ours, left by a previous
    report of the same results, is replaced."""
    path = results_dir / "executor.json"
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        existing = None
    if not isinstance(existing, dict) or existing.get("name") == DEFAULT_REPORT_NAME:
        path.write_text(json.dumps({"name": DEFAULT_REPORT_NAME, "type": "local", "buildOrder": build_order,
                                    "buildName": f"run {build_order}{' ' + build_note if build_note else ''}",
                                    "reportName": name}) + "\n", encoding="utf-8")
    return path


def _history_base(previous: Path, run_ids: Sequence[str]) -> Path | None:
    """The history a report of ``run_ids`` builds on: the previous history, or, when that was saved by a report
    of the same runs (its sidecar says so), the history that report was built on. None: no history yet."""
    if not previous.is_dir():
        return None
    try:
        meta = json.loads((previous / HISTORY_SIDECAR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = None
    if run_ids and isinstance(meta, dict) and sorted(map(str, meta.get("run_ids") or [])) == sorted(run_ids):
        return previous / HISTORY_BASE  # may be absent: the earlier report of these runs was the first one
    return previous


def _copy_history_files(src: Path | None, dst: Path) -> None:
    """``dst`` recreated with the history files of ``src`` (not its sidecar or base), if any."""
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    if src is not None and src.is_dir():
        for f in src.iterdir():
            if f.is_file() and f.name != HISTORY_SIDECAR:
                shutil.copy2(f, dst / f.name)


def generate_report(results_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                    toolchain_dir: Path = TOOLCHAIN_DIR, name: str = DEFAULT_REPORT_NAME, single_file: bool = True,
                    timeout_s: float = 600.0, keep_history: bool = True, build_note: str = "",
                    run_ids: Sequence[str] = ()) -> ReportPaths:
    """Generate ``out_dir/allure-report/`` (and ``allure-report-single.html``) from ``results_dir``.

    Steps: carry the previous history into ``results_dir/history``; write ``executor.json``; run
    ``allure generate --clean`` (analytics off) into a temporary directory, concurrently with the single-file
    generation if asked; check that no page loads analytics; swap the new report into place (a failed
    generation leaves the previous report intact); save the new history into ``out_dir/history``.

    Args:
        results_dir: allure-pytest results (``--alluredir``), with environment.properties and categories.json.
        out_dir: where the report, the single file and the history go (``reports/``).
        toolchain_dir: directory holding package.json and node_modules of the pinned generator.
        name: report title.
        single_file: also build the single-file report.
        keep_history: save the new report's history for the next run. False for a run that must stay out of the
            trend (a partial run: the report shows the trend so far, the next report does not count this run).
        build_note: added to the run's name on the trend chart (``run 7 (partial)``).
        run_ids: the runs the report is built from. A report of the same runs as the one that saved the history
            (a rebuild) replaces that report's trend point instead of adding one (module docstring).
        timeout_s: limit for the generator calls (they run concurrently), seconds.

    Raises:
        ToolchainMissing: generator or Java not installed (message names the setup command).
        ReportGenerationError: results directory missing/empty, generator failure or timeout, analytics found.
    """
    results = Path(results_dir)
    out = Path(out_dir)
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise ReportGenerationError(f"{results}: no allure results (*-result.json); run pytest with "
                                    f"--alluredir={results} first")
    exe = allure_executable(toolchain_dir)
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    report_dir = out / "allure-report"
    history_keep = out / "history"
    previous = history_keep if history_keep.is_dir() else report_dir / "history"
    run_ids = sorted({str(r) for r in run_ids})
    base = _history_base(previous, run_ids)
    results_history = results / "history"
    if base is not None:
        _copy_history_files(base, results_history)
    write_executor(results, _trend_length(results_history) + 1, name, build_note=build_note)

    with tempfile.TemporaryDirectory(prefix=".allure-gen-", dir=out) as tmp:
        staged = Path(tmp) / "allure-report"
        single_path: Path | None = None
        staged_single = Path(tmp) / "single"
        jobs = [["generate", str(results), "-o", str(staged), "--clean", "--name", name, "--lang", "en"]]
        if single_file:
            jobs.append(["generate", str(results), "-o", str(staged_single), "--clean", "--single-file",
                         "--name", name, "--lang", "en"])
        _run_allure(exe, jobs, timeout_s=timeout_s)
        _check_no_analytics([staged / "index.html"] + ([staged_single / "index.html"] if single_file else []))
        old = Path(tmp) / "old-report"
        if report_dir.exists():
            report_dir.rename(old)
        staged.rename(report_dir)
        if single_file:
            single_path = out / "allure-report-single.html"
            os.replace(staged_single / "index.html", single_path)

    new_history = report_dir / "history"
    # results/history is the history this report was built on (the previous report is gone by now)
    if keep_history and new_history.is_dir():
        tmp_keep = out / ".history.new"
        shutil.rmtree(tmp_keep, ignore_errors=True)
        shutil.copytree(new_history, tmp_keep)
        if run_ids:  # what a rebuild of these runs starts from
            _copy_history_files(results_history, tmp_keep / HISTORY_BASE)
            (tmp_keep / HISTORY_SIDECAR).write_text(json.dumps({"run_ids": run_ids}) + "\n", encoding="utf-8")
        shutil.rmtree(history_keep, ignore_errors=True)
        tmp_keep.rename(history_keep)
    elif not keep_history and not history_keep.is_dir():
        # keep the history from before this run, so the next report does not take this run's (allure-report/history)
        _copy_history_files(results_history, history_keep)
    seconds = time.monotonic() - started
    size = _dir_size(report_dir) + (single_path.stat().st_size if single_path else 0)
    return ReportPaths(report_dir=report_dir, single_file=single_path, history_dir=history_keep,
                       trend_points=_trend_length(report_dir / "history"), seconds=seconds, size_bytes=size,
                       history_kept=keep_history)
