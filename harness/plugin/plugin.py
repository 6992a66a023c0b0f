"""The pytest plugin: options, parametrization, fixtures, Allure labels, records and the release gate.

Registered by the repository's root ``conftest.py``. Fixtures only wire library objects together;
the logic lives in :mod:`harness.checks` (pure), :mod:`harness.device` and :mod:`harness.inventory`.
Per-run state lives in ``config.stash`` (no module globals), per-device state on the
:class:`~harness.device.Device` objects, per-test state in fixtures and ``item.stash``.

Suites ask for one of two parametrized fixtures:

* ``device_case``: one test per device of the run (device-level checks, e.g. region);
* ``app_case``: one test per (device, required app) pair.

Devices are discovered once per process, when the first such test is parametrized, so running the
project's own tests never touches adb.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import Error, ProfileErrors, ProfileMatchError
from harness.plugin.farm import FarmPlugin, case_of, job_record_fields
from harness.plugin.outcome import VERDICT_KEY, Expect, category_name, classify, infra_category
from harness.plugin.runinfo import DEVICE_SEVERITY, RUN_WIRE, build_header, start_run
from harness.plugin.scheduling import DeviceScheduling
from harness.plugin.session import (
    ALL,
    DeviceCase,
    NoDevicesError,
    RunContext,
    discover,
    discover_offline,
    from_wire,
    option_problems,
    parse_shard,
    to_wire,
)
from harness.reporting.allure_results import annotate
from harness.reporting.gate import EXIT_INFRASTRUCTURE, EXIT_NO_CHECKS, EXIT_USAGE, evaluate_gate, summary_lines
from harness.reporting.records import Record, RecordWriter, RunHeader, observed_state

CONTEXT_KEY = pytest.StashKey[RunContext]()
WRITER_KEY = pytest.StashKey[RecordWriter]()
RECORDS_KEY = pytest.StashKey[list[Record]]()
FATAL_KEY = pytest.StashKey[tuple[str, int]]()
FATAL_DEVICES_KEY = pytest.StashKey[RunContext]()
HEADER_KEY = pytest.StashKey[RunHeader]()
WIRE_KEY = "preload_harness_context"
SUITES_DIR = Path(__file__).resolve().parents[2] / "suites"

PROFILES_DIGEST_KEY = pytest.StashKey[str]()
EMPTY_SHARD_KEY = pytest.StashKey[str]()
"""Set when this run's shard has no device (more shards than devices): the message saying so."""


def _empty_shard(config: pytest.Config, ctx: RunContext) -> RunContext:
    """Remember that ``ctx`` is an empty shard: no test runs, the run header is written, the run exits 11."""
    n = ctx.shard.split("/")[1] if ctx.shard else "?"
    config.stash[EMPTY_SHARD_KEY] = (
        f"shard {ctx.shard} has no device: the farm lists {len(ctx.listed)} device(s), fewer than the {n} shards; "
        f"nothing to check here (exit {EXIT_NO_CHECKS}). Its run header is written to {_records_path(config)}, so a "
        f"merge of the {n} shards given that file counts this shard as present")
    config.stash[CONTEXT_KEY] = ctx
    return ctx


def _records_path(config: pytest.Config) -> Path:
    """``--records``, relative to where pytest was started (like ``--alluredir`` and ``--junitxml``)."""
    path = Path(config.getoption("records"))
    return path if path.is_absolute() else Path(config.invocation_params.dir) / path


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the compliance run (all under "preload-harness")."""
    group = parser.getgroup("preload-harness", "partner-app preload compliance")
    group.addoption("--adb-server", action="append", default=[], metavar="HOST:PORT",
                    help="adb server (farm host) to take devices from; repeatable; default 127.0.0.1:5037")
    group.addoption("--serial", action="append", default=[], metavar="SERIAL",
                    help="device to check (repeatable), or 'all' (the default: every device of the servers)")
    group.addoption("--region", default=None, metavar="XX",
                    help="state the devices' market (ISO 3166 alpha-2) instead of reading it from properties")
    group.addoption("--operator", default=None, metavar="MCC-MNC",
                    help="state the devices' mobile operator (e.g. 405-857) instead of reading it from properties")
    group.addoption("--profiles", action="append", default=[], metavar="PATH",
                    help="device profile files or directories (default: device_profiles/)")
    group.addoption("--gate-severity", default="critical", choices=["blocker", "critical", "normal", "minor"],
                    help="lowest severity whose failure fails the run (exit 1); default critical")
    group.addoption("--records", default="reports/records.jsonl", metavar="FILE",
                    help="append one JSON line per test here (default reports/records.jsonl; a relative path is "
                         "taken from the current directory, as --alluredir is)")
    group.addoption("--adb-timeout", type=float, default=30.0, metavar="SECONDS",
                    help="timeout of each adb read, in seconds (default 30)")
    group.addoption("--no-compliance-summary", action="store_true",
                    help="do not print the compliance summary (a caller such as tools/run.sh prints it)")
    group.addoption("--preload-check-args", action="store_true",
                    help="only check the arguments and test paths, print them, and exit (used by tools/run.sh)")
    group.addoption("--build", action="append", default=[], metavar="PATH",
                    help="judge a ROM build (target_files zip or unpacked partitions) instead of adb devices; "
                         "repeatable")
    group.addoption("--bugreport", action="append", default=[], metavar="PATH",
                    help="judge a bugreport (adb bugreport zip or text) instead of adb devices; repeatable")
    group.addoption("--shard", default=None, metavar="K/N",
                    help="check only the K-th of N shards of the farm (devices sorted by farm host and serial); "
                         "run K = 1..N on N machines and merge with `python -m tools.report`")


def run_mode_problems(config: pytest.Config) -> list[str]:
    """pytest modes that collect the checks but never run them (``--setup-only``, ``--setup-plan``): a check's
    verdict comes from its call, so such a run would record set-up passes as passed checks. Refused as usage
    errors (exit 4), one sentence each; ``--collect-only`` is the way to list the checks."""
    return [f"{flag}: runs no check (only the fixtures' set-up), so it gives no verdict; use --collect-only to list "
            "the checks, or leave it out to run them"
            for flag, dest in (("--setup-only", "setuponly"), ("--setup-plan", "setupplan"))
            if getattr(config.option, dest, False)]


def _option_problems(config: pytest.Config) -> list[str]:
    """Every usage error in this run's harness options (:func:`~harness.plugin.session.option_problems`) and pytest
    modes (:func:`run_mode_problems`): the same list whether the run starts or only checks its arguments."""
    return option_problems(region=config.getoption("region"), operator=config.getoption("operator"),
                           shard=config.getoption("shard"), device_wait=config.getoption("device_wait"),
                           adb_timeout=config.getoption("adb_timeout"), serials=config.getoption("serial"),
                           adb_servers=config.getoption("adb_server")) + run_mode_problems(config)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _stop(config: pytest.Config, message: str, code: int, ctx: RunContext | None = None) -> RunContext:
    """Remember a fatal problem; :func:`pytest_collection_modifyitems` ends the run with it.

    (``pytest.exit`` inside ``pytest_generate_tests`` would be turned into a collection error.) ``ctx``: the
    devices found, when their problems are the reason (they get a record each before the run ends).
    """
    config.stash[FATAL_KEY] = (message, code)
    empty = RunContext(servers=ctx.servers if ctx else [], devices=[])
    config.stash[CONTEXT_KEY] = empty
    if ctx is not None:
        config.stash[FATAL_DEVICES_KEY] = ctx
    return empty


def run_context(config: pytest.Config) -> RunContext:
    """The run's devices, discovered on first use; a bad profile or no device stops the run cleanly."""
    if CONTEXT_KEY in config.stash:
        return config.stash[CONTEXT_KEY]
    from harness.profiles import load_profiles  # deferred: only compliance runs load profiles

    region = config.getoption("region")
    problems = _option_problems(config)
    if problems:
        return _stop(config, "\n".join(problems), 4)
    from harness.operator import normalize_code

    operator = normalize_code(config.getoption("operator"))
    shard = parse_shard(config.getoption("shard"))
    try:
        profiles = load_profiles(config.getoption("profiles") or None)
    except ProfileErrors as exc:
        return _stop(config, f"invalid device profiles ({len(exc.errors)} errors):\n{exc}", 4)
    except Error as exc:
        return _stop(config, f"invalid device profiles:\n{exc}", 4)
    config.stash[PROFILES_DIGEST_KEY] = profiles.digest()
    wire = getattr(config, "workerinput", {}).get(WIRE_KEY)
    if wire is not None:  # pytest-xdist worker: test exactly the devices the controller discovered
        if wire.get("fatal"):
            return _stop(config, *wire["fatal"])
        ctx = from_wire(wire, profiles=profiles, region_override=region.upper() if region else None,
                        operator_override=operator,
                        command_timeout=config.getoption("adb_timeout"))
        if ctx.shard is not None and not ctx.devices:
            return _empty_shard(config, ctx)
        config.stash[CONTEXT_KEY] = ctx
        return ctx
    sources = [("build", p) for p in config.getoption("build")] + [
        ("bugreport", p) for p in config.getoption("bugreport")]
    if sources:
        if config.getoption("adb_server") or config.getoption("serial") or shard is not None:
            return _stop(config, "--build/--bugreport judge files: leave out --adb-server, --serial and --shard", 4)
        ctx = discover_offline(sources, profiles=profiles, region_override=region.upper() if region else None,
                               operator_override=operator)
        config.stash[CONTEXT_KEY] = ctx
        return ctx
    serials = config.getoption("serial") or [ALL]
    try:
        ctx = discover(server_specs=config.getoption("adb_server"), serials=serials, profiles=profiles,
                       region_override=region.upper() if region else None, operator_override=operator,
                       command_timeout=config.getoption("adb_timeout"), shard=shard,
                       device_wait=config.getoption("device_wait"))
    except NoDevicesError as exc:
        return _stop(config, f"no device to check: {exc}", EXIT_INFRASTRUCTURE)
    except Error as exc:
        return _stop(config, str(exc), 4)
    if ctx.shard is not None and not ctx.devices:
        return _empty_shard(config, ctx)
    if not any(d.problem is None for d in ctx.devices):
        lines = "\n".join(f"  {d.model or d.serial}: {' '.join(str(d.problem).split())}" for d in ctx.devices)
        n = len(ctx.devices)
        what = f"--serial named {n}, none usable" if config.getoption("serial") else f"{n} found, none usable"
        return _stop(config, f"no device can be checked ({what}):\n{lines}",
                     EXIT_INFRASTRUCTURE, ctx)
    config.stash[CONTEXT_KEY] = ctx
    return ctx


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """End the run, before any test, when profiles are invalid or no device can be checked: no test runs and
    :func:`pytest_sessionfinish` sets the exit code (no ``pytest.exit``, whose ``_pytest.outcomes.Exit`` banner
    would reach the user)."""
    if FATAL_KEY in config.stash:
        if not _is_worker(config):  # the controller has said it already
            _announce_fatal(config)
        items.clear()
    elif EMPTY_SHARD_KEY in config.stash:
        if not _is_worker(config):
            _announce_empty_shard(config)
        items.clear()


ANNOUNCED_KEY = pytest.StashKey[bool]()


def _announce_empty_shard(config: pytest.Config) -> None:
    """Say once that this shard has no device (the controller, with or without pytest-xdist)."""
    if EMPTY_SHARD_KEY in config.stash and not config.stash.get(ANNOUNCED_KEY, False):
        config.stash[ANNOUNCED_KEY] = True
        tw = config.get_terminal_writer()
        tw.line()
        tw.line(f"preload-harness: {config.stash[EMPTY_SHARD_KEY]}", yellow=True)


def _announce_fatal(config: pytest.Config) -> None:
    """Print the fatal problem once; give every device found a record of its problem (the matrix lists them)."""
    fatal = config.stash.get(FATAL_KEY, None)
    if fatal is not None:
        message, code = fatal
        devices = config.stash.get(FATAL_DEVICES_KEY, None)
        recorder = config.pluginmanager.get_plugin("preload-harness-recorder")
        if devices is not None and recorder is not None:
            recorder.add_unreported_problems(devices)
        tw = config.get_terminal_writer()
        tw.line()
        for line in f"preload-harness: {message}".splitlines():
            tw.line(line, red=True)
        what = "infrastructure: no device could be checked" if code == EXIT_INFRASTRUCTURE else "stopped"
        tw.line(f"preload-harness {what} before any test ran (exit {code})", red=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``device_case`` per device and ``app_case`` per (device, required app)."""
    if "app_case" in metafunc.fixturenames:
        cases = run_context(metafunc.config).app_cases()
        metafunc.parametrize("app_case", cases, ids=[c.id for c in cases])
    elif "device_case" in metafunc.fixturenames:
        devices = run_context(metafunc.config).devices
        marker = metafunc.definition.get_closest_marker("check")
        if marker is not None and marker.args[:1] != ("region",):
            # a device that cannot be checked is reported once, by its region test, not by every device check
            devices = [d for d in devices if d.problem is None]
        metafunc.parametrize("device_case", devices, ids=[d.id for d in devices])


def _check_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("check")
    return marker.args[0] if marker and marker.args else None


def _meta(item: pytest.Item) -> dict | None:
    """The record fields known before the test runs (device, profile, app, severity)."""
    device, app = case_of(item)
    check = _check_of(item)
    if device is None or check is None:
        return None
    if device.problem is not None:  # the test reports the device's problem, not its check
        check = "profile_match" if isinstance(device.problem, ProfileMatchError) else "device"
    f = device.facts
    req = app.requirement if app else None
    run_id, _started = start_run(item.config)
    return {
        "nodeid": item.nodeid, "check": check, "serial": device.serial, "host": device.server,
        "run_id": run_id, "device_serial": device.device_serial,
        "build": f.props.get("ro.build.version.incremental") if f else None,
        "model": device.model, "profile": device.profile.id if device.profile else None,
        "region": device.region, "operator": device.operator, "fingerprint": f.fingerprint if f else None,
        "android": f.release if f else None, "sdk": f.sdk if f else None,
        "package": req.package if req else None, "app": req.name if req else None,
        "severity": req.severity if req else DEVICE_SEVERITY,
    }


def _check_args_and_exit(config: pytest.Config) -> None:
    """``--preload-check-args``: the arguments parsed (pytest said so by getting here); check the test paths,
    print them as ``@@preload-args {"paths": [...], "from_args": bool}`` and stop before any device is touched."""
    base = Path(config.invocation_params.dir)
    missing = []
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if not (path if path.is_absolute() else base / path).exists():
            missing.append(arg)
    if missing:
        pytest.exit(f"file or directory not found: {', '.join(missing)}", returncode=4)
    problems = _option_problems(config) + _expression_problems(config)
    if problems:
        pytest.exit("; ".join(problems), returncode=4)
    from_args = config.args_source == pytest.Config.ArgsSource.ARGS
    print("@@preload-args " + json.dumps({"paths": list(config.args), "from_args": from_args}), flush=True)
    pytest.exit("arguments checked", returncode=0)


def _expression_problems(config: pytest.Config) -> list[str]:
    """``-k`` / ``-m`` expressions that pytest would reject at collection (checked here before any device)."""
    try:
        from _pytest.mark.expression import Expression
    except ImportError:  # pytest's module moved: pytest itself still rejects a bad expression at collection
        return []
    problems = []
    for flag, value in (("-k", config.getoption("keyword")), ("-m", config.getoption("markexpr"))):
        if value:
            try:
                Expression.compile(value)
            except Exception as exc:  # noqa: BLE001 - pytest's ParseError (private class)
                problems.append(f"wrong expression passed to '{flag}': {value}: {exc}")
    return problems


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the ``check`` marker and the run's plugins; leaner Allure results (no fixture noise)."""
    if config.getoption("preload_check_args", False):
        _check_args_and_exit(config)
    config.addinivalue_line("markers", "check(name): which compliance check a suite test performs")
    config.stash[RECORDS_KEY] = []
    from harness.reporting.allure_results import install as lean_allure_results

    lean_allure_results(config)
    config.pluginmanager.register(FarmPlugin(config, lambda: config.stash.get(CONTEXT_KEY, None)),
                                  "preload-harness-farm")
    if not _is_worker(config):
        config.pluginmanager.register(_Recorder(config), "preload-harness-recorder")
        if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None):
            config.pluginmanager.register(_XdistController(config), "preload-harness-xdist")


def is_compliance_run(config: pytest.Config) -> bool:
    """True when the run's arguments include the compliance suites (``suites/`` or a path inside/above it)."""
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0])
        path = (path if path.is_absolute() else base / path).resolve()
        if path == SUITES_DIR or SUITES_DIR in path.parents or path in SUITES_DIR.parents:
            return True
    return False


class _XdistController:
    """With pytest-xdist, the controller discovers the devices once and hands them to every worker.

    Workers that discovered on their own could see different devices (a flaky one answering one worker
    and not the other), and xdist aborts a run whose workers collected different tests.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Discover before the workers start; a bad profile or no device stops the run here, once."""
        if is_compliance_run(self.config):
            run_context(self.config)
            _announce_fatal(self.config)  # the workers get the stop with the run context and collect nothing
            _announce_empty_shard(self.config)

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):  # noqa: ANN001, ANN201
        """Device affinity whatever ``--dist`` says: each device's tests run in one worker process."""
        if not is_compliance_run(config):
            return None
        ctx = run_context(config)
        farm = config.pluginmanager.get_plugin("preload-harness-farm")
        tr = config.pluginmanager.get_plugin("terminalreporter")
        dist = config.getoption("dist", "load")
        if tr is not None and dist not in ("load", "no"):
            tr.write_line(f"preload-harness: --dist {dist} replaced by device scheduling "
                          "(every test of a device runs in one worker process)")
        return DeviceScheduling(config, log, [d.id for d in ctx.devices],
                                on_schedule=farm.on_schedule if farm is not None else None)

    def pytest_configure_node(self, node) -> None:  # noqa: ANN001 - xdist WorkerController
        """Send the discovered run context (or the fatal stop) to a starting worker."""
        if not is_compliance_run(self.config):
            return
        ctx = run_context(self.config)
        wire = to_wire(ctx)
        wire["fatal"] = list(self.config.stash.get(FATAL_KEY, ())) or None
        node.workerinput[WIRE_KEY] = wire
        node.workerinput[RUN_WIRE] = list(start_run(self.config))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    """Attach the outcome classification and the record fields to each phase report (xdist-safe)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    meta = _meta(item)
    if meta is None:
        return
    if call.when == "setup":  # after allure-pytest named the test from its node id
        annotate(item.config, title=_title(item))
    kind, infra = classify(call.when, call.excinfo, report.skipped)
    verdict = item.stash.get(VERDICT_KEY, None)
    data = {"when": call.when, "outcome": kind, "infra": infra}
    if call.when == "setup":
        data["meta"] = meta
    if verdict is not None and call.when == "call":
        tag = verdict.tags
        data.update(category=category_name(verdict.category), expected=verdict.expected,
                    found=verdict.found, reason=tag + verdict.reason)
    state = getattr(item, "funcargs", {}).get("package_state") if call.when == "call" else None
    if state is not None:  # what the check looked at, for tools.release diff (records carry it as "observed")
        data["observed"] = observed_state(state)
    if call.when == "teardown":
        data.update(job_record_fields(item))
    if call.excinfo is not None and kind != "skipped":
        data["error"] = " ".join(str(call.excinfo.value).split())[:500]
        _shorten_longrepr(item, call, report, kind)
    elif report.skipped and isinstance(report.longrepr, tuple):
        data["error"] = str(report.longrepr[2]).removeprefix("Skipped: ")
    report.user_properties.append(("preload_harness", json.dumps(data)))


def _shorten_longrepr(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport, kind: str) -> None:
    """A product failure shows its message (tag, device, expected, found, evidence) and an infrastructure error its
    one-line cause and remedy: no traceback of harness internals. ``-v`` or ``--tb=long`` keeps pytest's own."""
    config = item.config
    if config.getoption("verbose", 0) > 0 or config.getoption("tbstyle", "auto") in ("long", "native"):
        return
    exc = call.excinfo.value if call.excinfo is not None else None
    if kind == "failed" and isinstance(exc, AssertionError) and item.stash.get(VERDICT_KEY, None) is not None:
        report.longrepr = str(exc)
    elif kind == "broken" and isinstance(exc, Error):
        from harness.reporting.text import neutralize

        cause = neutralize(" ".join(str(exc).split()))
        report.longrepr = f"{type(exc).__name__}: {cause}\n(infrastructure, not a product defect; " \
                          "--tb=long shows the traceback)"


def _merge(phases: list[dict]) -> dict | None:
    meta = next((p["meta"] for p in phases if "meta" in p), None)
    if meta is None:
        return None
    outcome, category, reason, expected, found = "passed", None, "", None, None
    for p in phases:
        if p["outcome"] == "passed":
            continue
        if outcome in ("failed", "broken"):
            break
        outcome = p["outcome"]
        category = p.get("category") or p.get("infra")
        # a failed check's one-line tagged reason; an error's exception text; a skip's reason
        reason = (p.get("reason") if outcome == "failed" else None) or p.get("error") or p.get("reason") or ""
    for p in phases:
        expected = p.get("expected", expected)
        found = p.get("found", found)
        if outcome == "passed" and p.get("reason"):
            reason = p["reason"]
    if outcome == "failed" and category is None:
        category = next((p.get("category") for p in phases if p.get("category")), None)
    work = {k: p[k] for p in phases for k in ("device_s", "recovered_after_s", "observed") if k in p}
    return {**meta, "outcome": outcome, "category": category, "reason": reason[:500],
            "expected": expected, "found": found, **work}


class _Recorder:
    """Registered per run (controller only): turns each finished test into a record in ``--records``."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.phases: dict[str, list[dict]] = {}

    def _writer(self) -> RecordWriter:
        writer = self.config.stash.get(WRITER_KEY, None)
        if writer is None:
            writer = RecordWriter(_records_path(self.config))
            self.config.stash[WRITER_KEY] = writer
            ctx = self.config.stash.get(FATAL_DEVICES_KEY, None) or self.config.stash.get(CONTEXT_KEY, None)
            if ctx is not None:
                header = build_header(self.config, ctx, self.config.stash.get(PROFILES_DIGEST_KEY, None))
                self.config.stash[HEADER_KEY] = writer.write_header(header)
        return writer

    def write_header(self) -> None:
        """Write the run header now (it is otherwise written with the first record): for a run without records,
        such as a shard with no device."""
        self._writer()

    def add_unreported_problems(self, ctx: RunContext) -> list[Record]:
        """Record devices whose problem no collected test reported (e.g. ``-k`` or a subset of suites ran).

        A device that could not be checked must never vanish from the results: it gets a ``broken``
        record of its own, so the matrix lists it and the gate cannot say "ship".
        """
        seen = {r.serial for r in self.config.stash[RECORDS_KEY]}
        added = []
        for d in ctx.devices:
            if d.problem is None or d.serial in seen:
                continue
            record = self._writer().write({
                "nodeid": f"preload-harness::device[{d.id}]",
                "check": "profile_match" if isinstance(d.problem, ProfileMatchError) else "device",
                "serial": d.serial, "host": d.server, "model": d.model, "severity": DEVICE_SEVERITY,
                "run_id": start_run(self.config)[0], "device_serial": d.device_serial,
                "outcome": "broken", "category": infra_category(d.problem),
                "reason": " ".join(str(d.problem).split())[:500]})
            self.config.stash[RECORDS_KEY].append(record)
            added.append(record)
        return added

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect phase data; at teardown append the test's record (flushed at once)."""
        data = [json.loads(v) for k, v in report.user_properties if k == "preload_harness"]
        current = [d for d in data if d["when"] == report.when]
        if not current:
            return
        phase = dict(current[-1], duration=report.duration)
        phases = self.phases.setdefault(report.nodeid, [])
        phases.append(phase)
        if report.when != "teardown":
            return
        merged = _merge(self.phases.pop(report.nodeid))
        if merged is None:
            return
        merged["duration_s"] = round(sum(p.get("duration", 0.0) for p in phases), 4)
        self.config.stash[RECORDS_KEY].append(self._writer().write(merged))


CURRENT_ITEM_KEY = pytest.StashKey[pytest.Item]()


@pytest.fixture(scope="session")
def expect(pytestconfig: pytest.Config) -> Expect:
    """``expect(verdict, attachments=...)``: assert / skip / pass on a check's verdict, with evidence.

    Session-scoped (one object; it judges the test that is running) so that Allure does not write a set-up
    record for it in every test. A test that uses ``package_state`` gets that package's ``dumpsys package``
    section and inventory record attached on failure without asking.
    """
    return Expect(lambda: pytestconfig.stash[CURRENT_ITEM_KEY], _expect_labels)


def _expect_labels(item: pytest.Item) -> tuple[str, str | None, dict[str, str]]:
    device, app = case_of(item)
    label = f"{device.model or '?'} ({device.serial})" if device else "device"
    subject = f"{app.requirement.name} ({app.requirement.package})" if app else None
    state = getattr(item, "funcargs", {}).get("package_state")
    evidence = {}
    if app is not None and state is not None:
        evidence = {f"dumpsys package {app.requirement.package}": state.section,
                    "inventory record": json.dumps(state.to_json(), indent=2)}
    return label, subject, evidence


def _title(item: pytest.Item) -> str | None:
    device, app = case_of(item)
    check = _check_of(item)
    if device is None or check is None:
        return None
    what = f"{app.requirement.name}: {check.replace('_', ' ')}" if app else check.replace("_", " ")
    return f"{what} on {device.model or 'unknown model'} ({device.device_serial})"


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember the running test (for ``expect``); Allure epic (model · region) / feature (app) / story (check),
    severity and parameters.

    A hook rather than an autouse fixture: Allure writes a set-up record for every fixture of every test.
    The device is identified by its own serial (``ro.serialno``), so history links across runs; the adb serial
    and farm host are parameters excluded from the history id.
    """
    item.config.stash[CURRENT_ITEM_KEY] = item
    device, app = case_of(item)
    check = _check_of(item)
    if device is None or check is None:
        return
    region = device.region or "unknown region"
    severity = app.requirement.severity if app else DEVICE_SEVERITY
    params: list[tuple[str, object, bool]] = [
        ("serial", device.device_serial, False), ("model", device.model or "unknown", False),
        ("region", region, False),
        ("build fingerprint", device.facts.fingerprint if device.facts else "unknown", False),
        ("operator", device.profile.operator_label(device.operator) if device.profile else device.operator or
         "unknown", True),
        ("adb serial", device.serial, True), ("farm host", device.server, True)]
    if app:
        params.append(("package", app.requirement.package, False))
    annotate(item.config, labels=[("epic", f"{device.model or 'unknown model'} · {region}"),
                                  ("feature", app.requirement.name if app else "Device"), ("story", check),
                                  ("severity", severity)], parameters=params)


@pytest.fixture
def device_ready(device_case: DeviceCase) -> DeviceCase:
    """The device case, after raising its problem (unreachable, no profile) as this test's error.

    Device-level checks judge the facts read at discovery, so a device that stopped answering later
    in the run still gets its region verdict.
    """
    if device_case.problem is not None:
        raise device_case.problem
    return device_case


def stopped_early(config: pytest.Config) -> str | None:
    """pytest-xdist's reason when it ended the run on purpose (``-x`` / ``--maxfail``, ``--sw``: "stopping after 1
    failures"), or None. xdist reports such a stop as an interruption (exit 2), where a serial run ends normally;
    the gate treats both alike (a run that stopped early is partial), so the exit code does not depend on ``-n``.
    A Ctrl-C (xdist: "... received keyboard-interrupt") stays an interruption."""
    dsession = config.pluginmanager.get_plugin("dsession")
    reason = getattr(dsession, "shouldstop", None)
    if isinstance(reason, str) and reason and "keyboard-interrupt" not in reason:
        return reason
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write Allure environment/categories; replace the exit status by the release gate's code."""
    config = session.config
    from harness.reporting.allure_results import flush as flush_allure

    for problem in flush_allure(config):
        config.get_terminal_writer().line(f"preload-harness: cannot write an Allure result: {problem}")
    if _is_worker(config):
        return
    ctx = config.stash.get(CONTEXT_KEY, None)
    recorder = config.pluginmanager.get_plugin("preload-harness-recorder")
    if ctx is not None and recorder is not None and FATAL_KEY not in config.stash:
        recorder.add_unreported_problems(ctx)
    if EMPTY_SHARD_KEY in config.stash and recorder is not None:
        recorder.write_header()  # this shard ran, on the farm it listed, with no device: a merge counts it
    records = config.stash.get(RECORDS_KEY, [])
    alluredir = getattr(config.option, "allure_report_dir", None)
    if alluredir and ctx is not None and FATAL_KEY not in config.stash:
        from harness.reporting.allure_env import write_categories, write_environment

        devices = [{"serial": d.serial, "device_serial": d.device_serial, "model": d.model,
                    "profile": d.profile.id if d.profile else None,
                    "fingerprint": d.facts.fingerprint if d.facts else None,
                    "build": d.facts.props.get("ro.build.version.incremental") if d.facts else None,
                    "android": d.facts.release if d.facts else None, "sdk": d.facts.sdk if d.facts else None,
                    "region": d.region, "host": d.server} for d in ctx.devices]
        header = config.stash.get(HEADER_KEY, None)
        extra = {"run.id": header.run_id, "run.started": header.started} if header else {}
        if ctx.shard:
            extra["run.shard"] = ctx.shard
        try:
            write_environment(alluredir, devices, extra=extra)
            write_categories(alluredir)
        except OSError as exc:
            session.config.get_terminal_writer().line(f"preload-harness: cannot write Allure environment: {exc}")
    writer = config.stash.get(WRITER_KEY, None)
    if writer is not None:
        writer.close()
    fatal = config.stash.get(FATAL_KEY, None)
    if fatal is not None and exitstatus not in (2, 3):
        session.exitstatus = fatal[1]
        return
    if EMPTY_SHARD_KEY in config.stash:
        if exitstatus not in (2, 3):
            session.exitstatus = EXIT_NO_CHECKS
        return
    if not records:
        if ctx is not None and exitstatus == 0:
            session.exitstatus = EXIT_NO_CHECKS
        return
    if exitstatus in (2, 3, 4) and not stopped_early(config):  # interrupted, internal error, usage error
        return
    header = config.stash.get(HEADER_KEY, None)
    try:
        session.exitstatus = evaluate_gate(records, config.getoption("gate_severity"),
                                           expected=header.expected if header else None).code
    except Error:
        session.exitstatus = EXIT_USAGE


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    """Print the compliance summary: the gate, what blocks it, skips grouped by reason, adb round trips."""
    records = config.stash.get(RECORDS_KEY, [])
    ctx = config.stash.get(CONTEXT_KEY, None)
    if not records or ctx is None or config.getoption("no_compliance_summary"):
        return
    tr = terminalreporter
    tr.section("preload compliance")
    header = config.stash.get(HEADER_KEY, None)
    lines = summary_lines(records, config.getoption("gate_severity"), expected=header.expected if header else None)
    if exitstatus in (2, 3) and not stopped_early(config):  # pytest's code stands, the gate was not applied
        what = "interrupted" if exitstatus == 2 else "stopped by an internal error"
        lines[0] = (f"run {what} (exit {exitstatus}): no verdict; the records written so far are kept "
                    f"(the gate would say: {lines[0].removeprefix('gate ')})")
    for line in lines:
        tr.line(line)
    for line in skip_lines(records):
        tr.line(line)
    if not _is_worker(config) and getattr(config.option, "numprocesses", None):
        tr.line("adb round trips: counted in the worker processes (-n); run without -n to see them per device")
        return
    line = round_trips_line({d.serial: d.device.link.round_trips for d in ctx.devices if d.device is not None})
    if line:
        tr.line(line)


def round_trips_line(trips: dict[str, int], listed: int = 16) -> str:
    """The summary's round-trip line: ``serial=N`` per device for up to ``listed`` devices; on a larger farm the
    counts grouped (``5 on 120 devices, 7 on 8 devices``), so one line stays one line. ``""`` without devices."""
    if not trips:
        return ""
    head = "adb round trips per device (getprop + inventory + signer reads + launch commands): "
    if len(trips) <= listed:
        return head + ", ".join(f"{serial}={n}" for serial, n in trips.items())
    from collections import Counter

    groups = Counter(trips.values())
    return head + ", ".join(f"{n} on {count} device{'s' if count != 1 else ''}"
                            for n, count in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])))


def skip_lines(records: list[Record], limit: int = 8) -> list[str]:
    """Not-applicable skips grouped by reason (most frequent first), without source locations."""
    from collections import Counter

    from harness.reporting.text import neutralize

    reasons = Counter(" ".join(r.reason.split()) for r in records if r.outcome == "skipped")
    if not reasons:
        return []
    lines = [f"not applicable ({sum(reasons.values())} skipped):"]
    for reason, n in reasons.most_common(limit):
        lines.append(f"  {n:>4} × {neutralize(reason)[:160]}")
    if len(reasons) > limit:
        lines.append(f"  … and {len(reasons) - limit} other reasons")
    return lines
