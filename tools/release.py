"""What changed between two releases: per model/region and app, versions, signers, install kind, verdicts.

``python -m tools.release diff OLD NEW [--profiles P] [--json FILE|-]``

OLD and NEW are each a run's ``records.jsonl`` (its latest run, or the shards ``tools.report`` merged into it; any
source: phones, builds, bugreports) or a ROM
build (``target_files`` zip, unpacked partitions, a folder of region builds). A build is judged in-process by the
same sources and pure checks the suites use (``harness.sources``, ``harness.checks``: presence, version,
install_kind, enabled, app_region, region; launch needs a phone and is left out).

Rows are model/region pairs; where several devices share a model and region (a farm of identical phones) each
device is its own row, paired by its own serial (``ro.serialno``); a single row of a model/region on each side is
paired whatever its serial (two builds, a replaced phone). Per app it reports: version up / down / changed (by
versionCode, else versionName), signer changed, app appeared / vanished, install kind or partition changed, and
every check whose verdict changed (``passed`` → ``failed`` …). A row only on one side is "added" / "removed". A
check that one side did not run (a partial run, a check only phones have) is not compared: the row counts it
under ``not_compared`` and a partial side is named in ``notes``.

Output: plain text on stdout (a ROM release note can be written from it) and, with ``--json``, the JSON form
(schema in the README, "release diff JSON", ``schema_version`` 1). Exit: 0 no difference, 1 differences found (like
``diff``), 4 usage error, 10 an input could not be read (a build that cannot be read, a records file that is not
JSON lines or has an invalid line: file:line named).
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import Error
from harness.reporting.records import ExpectedCheck, Record, Run, observed_state
from tools.offline_job import Parser

SCHEMA_VERSION = 1
EXIT_SAME, EXIT_CHANGED, EXIT_USAGE, EXIT_SOURCE = 0, 1, 4, 10
_VERDICT_ORDER = {"failed": 0, "broken": 1, "skipped": 2, "passed": 3}


@dataclass
class Row:
    """One device (or build) of one side: identity, per package the observed state and per check the outcome."""

    model: str | None
    region: str | None
    device_serial: str | None = None
    profile: str | None = None
    fingerprint: str | None = None
    build: str | None = None
    apps: dict[str, str] = field(default_factory=dict)  # package -> display name
    observed: dict[str, dict[str, Any]] = field(default_factory=dict)  # package -> observed_state
    verdicts: dict[tuple[str | None, str], str] = field(default_factory=dict)  # (package, check) -> outcome


@dataclass
class Side:
    """One input: what it was, its rows by (model, region, device serial), and the required checks it did not
    run (``not_run``: 0 for a build or a whole run)."""

    label: str
    rows: dict[tuple[str, str, str], Row]
    not_run: int = 0


def _key(model: str | None, region: str | None, device: str | None = None) -> tuple[str, str, str]:
    return (model or "?", region or "?", device or "")


def side_from_run(run: Run, label: str) -> Side:
    """Rows of one records run (its latest record per nodeid), one per device."""
    return side_from_records(run.records, run.header.expected if run.header else None, label)


def side_from_records(records: Sequence[Record], expected: Sequence[ExpectedCheck] | None, label: str) -> Side:
    """Rows of the records of one run, or of the runs ``tools.report`` merged (its latest record per nodeid), one
    per device; ``expected``: the checks the run(s) required (None: not known), for the partial note."""
    from harness.reporting.gate import missing_checks

    rows: dict[tuple[str, str, str], Row] = {}
    latest = {r.nodeid: r for r in records}
    for r in latest.values():
        device = r.device_serial or r.serial
        row = rows.setdefault(_key(r.model, r.region, device), Row(r.model, r.region, device))
        row.profile = row.profile or r.profile
        row.fingerprint = row.fingerprint or r.fingerprint
        row.build = row.build or r.build
        if r.package:
            row.apps[r.package] = r.app or r.package
            if r.observed is not None:
                row.observed.setdefault(r.package, r.observed)
        row.verdicts[(r.package, r.check)] = r.outcome
    not_run = len(missing_checks(records, expected)) if expected is not None else 0
    return Side(label, rows, not_run)


def side_from_build(path: str, profiles: Sequence[str]) -> Side:
    """Rows of a ROM build (or folder of region builds), judged by the suites' pure checks.

    Raises:
        Error: profiles invalid (ProfileError) or a build that cannot be read (SourceError).
    """
    from harness import checks
    from harness.plugin.session import discover_offline
    from harness.profiles import load_profiles

    ctx = discover_offline([("build", path)], profiles=load_profiles(list(profiles) or None))
    rows: dict[tuple[str, str, str], Row] = {}
    for case in ctx.devices:
        if case.problem is not None and case.facts is None:
            raise case.problem
        f = case.facts
        row = rows.setdefault(_key(case.model, case.region, case.serial), Row(case.model, case.region, case.serial))
        row.profile = case.profile.id if case.profile else None
        row.fingerprint = f.fingerprint if f else None
        row.build = f.props.get("ro.build.version.incremental") if f else None
        if case.problem is not None or case.profile is None or case.device is None:
            row.verdicts[(None, "profile_match")] = "broken"
            continue
        reg = f.region if f else None
        row.verdicts[(None, "region")] = _outcome(checks.check_device_region(
            case.profile.regions, reg.region if reg else None, source=reg.source if reg else None))
        inv = case.device.inventory(case.all_packages())
        for req in case.requirements:
            state = inv.packages[req.package]
            row.apps[req.package] = req.name
            row.observed[req.package] = observed_state(state)
            for name, fn in (("presence", checks.check_presence), ("version", checks.check_version),
                             ("install_kind", checks.check_install_kind), ("enabled", checks.check_enabled),
                             ("app_region", checks.check_app_region)):
                row.verdicts[(req.package, name)] = _outcome(fn(req, state))
    return Side(f"build {path}", rows)


def _outcome(verdict: Any) -> str:
    return {"pass": "passed", "fail": "failed", "not_applicable": "skipped"}[verdict.status]


def load_side(path: str, profiles: Sequence[str]) -> Side:
    """A records file (``*.jsonl``, latest run) or a build.

    Raises:
        Error: unreadable records (RecordsFileError), profiles or build.
    """
    p = Path(path)
    if p.is_file() and p.suffix == ".jsonl":
        from tools.report import select_runs

        sel = select_runs([p])  # the latest run, or every run tools.report merged into this file
        if not sel.runs:
            from harness.errors import UsageError

            raise UsageError(f"{path}: no run in this records file")
        ids = ", ".join(r.run_id or "?" for r in sel.runs)
        return side_from_records(sel.records, sel.expected, f"records {path} (run{'s' if len(sel.runs) > 1 else ''} "
                                 f"{ids})")
    return side_from_build(path, profiles)


def _version(o: dict[str, Any] | None) -> str:
    if not o or not o.get("installed"):
        return "absent"
    return f"{o.get('version_name')} ({o.get('version_code')})"


def app_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The changes of one app between two observed states (None: not observed)."""
    out: list[dict[str, Any]] = []
    was = bool(old and old.get("installed"))
    now = bool(new and new.get("installed"))
    if was != now:
        out.append({"what": "appeared" if now else "vanished", "old": _version(old), "new": _version(new)})
        return out
    if not (was and now):
        return out
    assert old is not None and new is not None
    if (old.get("version_code"), old.get("version_name")) != (new.get("version_code"), new.get("version_name")):
        oc, nc = old.get("version_code"), new.get("version_code")
        direction = "changed" if oc is None or nc is None or oc == nc else ("up" if nc > oc else "down")
        out.append({"what": "version", "direction": direction, "old": _version(old), "new": _version(new)})
    if old.get("signer_digests") != new.get("signer_digests") and (old.get("signer_digests") is not None
                                                                   or new.get("signer_digests") is not None):
        out.append({"what": "signer", "old": old.get("signer_digests"), "new": new.get("signer_digests")})
    for what in ("install_kind", "partition"):
        if old.get(what) != new.get(what):
            out.append({"what": what, "old": old.get(what), "new": new.get(what)})
    if old.get("enabled") != new.get("enabled"):
        out.append({"what": "enabled", "old": old.get("enabled"), "new": new.get("enabled")})
    return out


def pair_rows(old: Side, new: Side) -> list[tuple[Row | None, Row | None]]:
    """Pair the rows of two sides: per model/region, a single row on each side pairs whatever its device serial;
    otherwise rows pair by device serial, and what is left is added / removed (sorted by model, region, serial)."""
    groups: dict[tuple[str, str], tuple[list[Row], list[Row]]] = {}
    for index, side in enumerate((old, new)):
        for (model, region, _device), row in side.rows.items():
            groups.setdefault((model, region), ([], []))[index].append(row)
    pairs: list[tuple[Row | None, Row | None]] = []
    for _key_mr, (olds, news) in sorted(groups.items()):
        if len(olds) == 1 and len(news) == 1:
            pairs.append((olds[0], news[0]))
            continue
        by_serial = {r.device_serial: r for r in news}
        for o in sorted(olds, key=lambda r: r.device_serial or ""):
            pairs.append((o, by_serial.pop(o.device_serial, None)))
        pairs += [(None, n) for _s, n in sorted(by_serial.items(), key=lambda kv: kv[0] or "")]
    return pairs


def diff(old: Side, new: Side) -> dict[str, Any]:
    """The JSON form of the differences (README "release diff JSON")."""
    rows: list[dict[str, Any]] = []
    pairs = pair_rows(old, new)
    crowded = {mr for side in (old, new) for mr, n in Counter((r.model, r.region) for r in side.rows.values()).items()
               if n > 1}  # model/regions with several devices on a side: their rows name the device
    for o, n in pairs:
        ident = n or o
        assert ident is not None
        entry: dict[str, Any] = {"model": ident.model, "region": ident.region, "profile": ident.profile,
                                 "device_serial": ident.device_serial if (ident.model, ident.region) in crowded
                                 else None,
                                 "old": _ident(o), "new": _ident(n), "device_checks": [], "apps": [],
                                 "not_compared": 0}
        if o is None or n is None:
            entry["status"] = "added" if o is None else "removed"
            rows.append(entry)
            continue
        for (pkg, check) in sorted({k for k in (*o.verdicts, *n.verdicts) if k[0] is None}, key=str):
            was, now = o.verdicts.get((pkg, check)), n.verdicts.get((pkg, check))
            if was is None or now is None:
                entry["not_compared"] += 1
            elif was != now:
                entry["device_checks"].append(_verdict_change(check, was, now))
        for pkg in sorted(set(o.apps) | set(n.apps)):
            changes = app_changes(o.observed.get(pkg), n.observed.get(pkg)) if (
                pkg in o.observed and pkg in n.observed) else []
            verdicts = []
            for c in sorted({c for (p, c) in (*o.verdicts, *n.verdicts) if p == pkg}):
                was, now = o.verdicts.get((pkg, c)), n.verdicts.get((pkg, c))
                if was is None or now is None:  # one side did not run it: not a change of verdict
                    entry["not_compared"] += 1
                elif was != now:
                    verdicts.append(_verdict_change(c, was, now))
            if changes or verdicts:
                entry["apps"].append({"package": pkg, "app": n.apps.get(pkg) or o.apps.get(pkg),
                                      "changes": changes, "verdicts": verdicts})
        entry["status"] = "changed" if entry["apps"] or entry["device_checks"] else "same"
        rows.append(entry)
    notes = [f"{name} is a partial run: {side.not_run} required check{'s' if side.not_run != 1 else ''} did not "
             "run; checks one side did not run are not compared"
             for name, side in (("OLD", old), ("NEW", new)) if side.not_run]
    changed = [r for r in rows if r["status"] != "same"]
    verdicts = [v for r in rows for v in r["device_checks"] + [v for a in r["apps"] for v in a["verdicts"]]]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "old": old.label, "new": new.label, "notes": notes,
        "summary": {"rows": len(rows), "rows_changed": len(changed),
                    "apps_changed": sum(len(r["apps"]) for r in rows),
                    "verdicts_worse": sum(1 for v in verdicts if v["direction"] == "worse"),
                    "verdicts_better": sum(1 for v in verdicts if v["direction"] == "better"),
                    "not_compared": sum(r["not_compared"] for r in rows)},
        "rows": rows,
    }


def _ident(row: Row | None) -> dict[str, Any] | None:
    return None if row is None else {"fingerprint": row.fingerprint, "build": row.build}


def _verdict_change(check: str, old: str | None, new: str | None) -> dict[str, Any]:
    o, n = _VERDICT_ORDER.get(old or "", -1), _VERDICT_ORDER.get(new or "", -1)
    direction = "changed" if o < 0 or n < 0 else ("better" if n > o else "worse")
    return {"check": check, "old": old, "new": new, "direction": direction}


def render_text(data: dict[str, Any]) -> str:
    """The plain-text form: one block per changed row, one line per change."""
    lines = [f"release diff: {data['old']}  →  {data['new']}"]
    s = data["summary"]
    lines.append(f"{s['rows_changed']} of {s['rows']} model/region rows changed; {s['apps_changed']} apps changed; "
                 f"verdicts: {s['verdicts_worse']} worse, {s['verdicts_better']} better"
                 + (f"; {s['not_compared']} checks not compared (not run on one side)" if s.get("not_compared")
                    else ""))
    lines += [f"note: {n}" for n in data.get("notes", [])]
    for row in data["rows"]:
        if row["status"] == "same":
            continue
        head = f"\n{row['model'] or '?'} · {row['region'] or '?'}" + (
            f" ({row['device_serial']})" if row.get("device_serial") else "")
        if row["status"] in ("added", "removed"):
            side = row["new"] if row["status"] == "added" else row["old"]
            lines.append(f"{head}: {row['status']} (only in {'NEW' if row['status'] == 'added' else 'OLD'}; "
                         f"build {side['build'] if side else '?'})")
            continue
        o, n = row["old"], row["new"]
        lines.append(head + (f"  build {o['build']} → {n['build']}" if o["build"] != n["build"] else ""))
        for v in row["device_checks"]:
            lines.append(f"  device: {v['check']} {v['old']} → {v['new']} ({v['direction']})")
        for app in row["apps"]:
            name = f"{app['app']} ({app['package']})"
            for c in app["changes"]:
                what = c["what"]
                if what == "version":
                    lines.append(f"  {name}: version {c['direction']} {c['old']} → {c['new']}")
                elif what in ("appeared", "vanished"):
                    lines.append(f"  {name}: {what} ({c['old']} → {c['new']})")
                elif what == "signer":
                    lines.append(f"  {name}: signer changed {_digests(c['old'])} → {_digests(c['new'])}")
                else:
                    lines.append(f"  {name}: {what.replace('_', ' ')} {c['old']} → {c['new']}")
            for v in app["verdicts"]:
                lines.append(f"  {name}: check {v['check']} {v['old']} → {v['new']} ({v['direction']})")
    return "\n".join(lines) + "\n"


def _digests(value: list[str] | None) -> str:
    return "not known" if value is None else ",".join(d[:16] + "…" for d in value)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tools.release diff OLD NEW`` (module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else EXIT_USAGE
    if argv[0] != "diff":
        print(f"error: unknown command {argv[0]!r}; use: python -m tools.release diff --help", file=sys.stderr)
        return EXIT_USAGE
    p = Parser(prog="python -m tools.release diff", description="Differences between two runs or builds.")
    p.add_argument("old", help="records.jsonl of the earlier run, or the earlier ROM build")
    p.add_argument("new", help="records.jsonl of the later run, or the later ROM build")
    p.add_argument("--profiles", action="append", default=[], metavar="PATH",
                   help="profiles for judging builds (default device_profiles/)")
    p.add_argument("--json", metavar="FILE", help="also write the JSON form here ('-' for stdout instead of text)")
    args = p.parse_args(argv[1:])
    for path in (args.old, args.new):
        if not Path(path).exists():
            print(f"error: no such file or directory: {path}", file=sys.stderr)
            return EXIT_USAGE
    try:
        data = diff(load_side(args.old, args.profiles), load_side(args.new, args.profiles))
    except Error as exc:
        from harness.errors import DeviceError
        from harness.reporting.records import RecordsFileError

        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SOURCE if isinstance(exc, DeviceError | RecordsFileError) else EXIT_USAGE
    if args.json == "-":
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(render_text(data), end="")
        if args.json:
            Path(args.json).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return EXIT_CHANGED if data["summary"]["rows_changed"] else EXIT_SAME


if __name__ == "__main__":
    from harness.cli import run_main

    run_main(main)
