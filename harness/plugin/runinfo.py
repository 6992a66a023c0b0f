"""What a run was: its header record (id, start, options, contract digest, shard, devices, expected checks).

The header (:class:`~harness.reporting.records.RunHeader`) is the first line the run writes to ``records.jsonl``;
every record carries its ``run_id``. Its ``expected`` list is every check the contract requires on the run's
devices, whatever tests were selected: the gate compares it with the records, so a ``-k`` subset, a suite left
out or a run that died cannot pass for a whole run ("partial", exit 13).
"""

from __future__ import annotations

import datetime as _dt
from importlib import metadata

import pytest

from harness.plugin.session import RunContext
from harness.reporting.records import APP_CHECKS, DEVICE_LEVEL_CHECKS, ExpectedCheck, RunHeader, new_run_id

DEVICE_SEVERITY = "critical"
"""Severity of the device-level checks (region, reachability, profile match)."""

RUN_KEY = pytest.StashKey[tuple[str, str]]()  # (run id, started)


def harness_version() -> str:
    """The installed preload-harness version (``pyproject.toml``), or ``unknown``."""
    try:
        return metadata.version("preload-harness")
    except metadata.PackageNotFoundError:
        return "unknown"


RUN_WIRE = "preload_harness_run"
"""Key of the controller's ``(run id, start)`` in a pytest-xdist worker's ``workerinput``."""


def start_run(config: pytest.Config) -> tuple[str, str]:
    """This run's ``(run id, UTC start)``: created once by the controller; a pytest-xdist worker uses the
    controller's (sent in ``workerinput``), so every record of the run carries the same id."""
    if RUN_KEY not in config.stash:
        wired = getattr(config, "workerinput", {}).get(RUN_WIRE)
        if wired:
            config.stash[RUN_KEY] = (str(wired[0]), str(wired[1]))
            return config.stash[RUN_KEY]
        started = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        config.stash[RUN_KEY] = (new_run_id(), started)
    return config.stash[RUN_KEY]


def expected_checks(ctx: RunContext) -> list[ExpectedCheck]:
    """Every check the contract requires on the run's usable devices: per required app the app checks of the
    suites (:data:`~harness.reporting.records.APP_CHECKS`), per device the device-level ones. A device with a
    problem is covered by its problem record instead."""
    out: list[ExpectedCheck] = []
    for d in ctx.devices:
        if d.problem is not None:
            continue
        ident = {"host": d.server, "serial": d.serial, "model": d.model, "region": d.region,
                 "device_serial": d.device_serial}
        out += [ExpectedCheck(check=c, severity=DEVICE_SEVERITY, **ident) for c in DEVICE_LEVEL_CHECKS]
        for req in sorted(d.requirements, key=lambda r: r.package):
            out += [ExpectedCheck(check=c, package=req.package, app=req.name, severity=req.severity, **ident)
                    for c in APP_CHECKS]
    return out


def device_summary(ctx: RunContext) -> list[dict[str, object]]:
    """The run's devices as header entries (identity, build, profile, problem)."""
    out: list[dict[str, object]] = []
    for d in ctx.devices:
        f = d.facts
        out.append({"host": d.server, "serial": d.serial, "device_serial": d.device_serial, "model": d.model,
                    "region": d.region, "profile": d.profile.id if d.profile else None,
                    "fingerprint": f.fingerprint if f else None,
                    "build": f.props.get("ro.build.version.incremental") if f else None,
                    "problem": " ".join(str(d.problem).split())[:300] if d.problem is not None else None})
    return out


def build_header(config: pytest.Config, ctx: RunContext, profiles_digest: str | None) -> RunHeader:
    """The run header of this pytest run (controller side)."""
    run_id, started = start_run(config)
    option = config.option
    options = {
        "adb_server": list(getattr(option, "adb_server", []) or []), "serial": list(getattr(option, "serial", [])),
        "region": getattr(option, "region", None), "operator": getattr(option, "operator", None),
        "gate_severity": getattr(option, "gate_severity", None),
        "shard": getattr(option, "shard", None), "profiles": list(getattr(option, "profiles", []) or []),
        "keyword": getattr(option, "keyword", "") or None, "markexpr": getattr(option, "markexpr", "") or None,
        "last_failed": bool(getattr(option, "lf", False)), "numprocesses": getattr(option, "numprocesses", None),
    }
    return RunHeader(run_id=run_id, started=started, harness_version=harness_version(),
                     argv=[str(a) for a in config.invocation_params.args], options=options,
                     profiles_digest=profiles_digest, shard=ctx.shard, listed=list(ctx.listed),
                     devices=device_summary(ctx), expected=expected_checks(ctx))
