"""Command line for device profiles.

``python -m harness.profiles check [PATHS...]``
    Validate profiles (default: the repository's ``device_profiles/``). On errors: every error on stderr,
    one per line (``file:line: key: message (hint)``), then a count; exit 1. When valid: one summary line per
    profile on stdout (id, match, regions, number of apps) and per app set; exit 0.

``python -m harness.profiles show PROFILE_ID [--region XX] [--operator OP] [--profiles PATH ...]``
    Print the requirements of one profile, resolved for a region, as a table. Exit 2 for an unknown
    profile id or a malformed region, 1 when the profiles do not validate.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.errors import ProfileErrors
from harness.profiles.loader import DEFAULT_PROFILES_DIR, ProfileSet, display_path, load_profiles
from harness.profiles.models import ISO_REGIONS, AppRequirement, DeviceProfile


def _load(paths: Sequence[str] | None) -> ProfileSet | None:
    try:
        return load_profiles(list(paths) if paths else None)
    except ProfileErrors as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        n = len(exc.errors)
        print(f"{n} error{'s' if n != 1 else ''} in device profiles", file=sys.stderr)
        return None


def summary_line(profile: DeviceProfile) -> str:
    """``xiaomi-mi5: model=MI 5 device=gemini; regions CN,IN; 5 apps (device_profiles/xiaomi-mi5.yaml)``."""
    ops = ("; operators " + ", ".join(f"{c} ({n})" for c, n in profile.operators.items())) if profile.operators else ""
    return (f"{profile.id}: {profile.match.describe()}; regions {','.join(profile.regions)}{ops}; "
            f"{len(profile.apps)} apps ({display_path(profile.path)})")


def _cmd_check(args: argparse.Namespace) -> int:
    result = _load(args.paths)
    if result is None:
        return 1
    for profile in result.profiles:
        print(summary_line(profile))
    for path, app_set in result.app_sets.items():
        print(f"app set {app_set.app_set}: {len(app_set.apps)} apps ({display_path(path)})")
    return 0


def _version_text(req: AppRequirement) -> str:
    return req.version.describe() if req.version is not None else "any"


def _launch_text(req: AppRequirement) -> str:
    if req.launch is None:
        return "-"
    parts = []
    if req.launch.cold_start_ms is not None:
        parts.append(f"<= {req.launch.cold_start_ms} ms")
    if req.launch.first_screen is not None:
        fs = req.launch.first_screen
        if fs.text is not None:
            parts.append(f"text {fs.text!r}")
        if fs.resource_id is not None:
            parts.append(f"id {fs.resource_id}")
    return ", ".join(parts) or "launches"


def _placement_text(req: AppRequirement) -> str:
    if req.placement is None:
        return "-"
    where = f"folder {req.placement.folder!r}" if req.placement.folder is not None else "home screen"
    label = f", label {req.placement.label!r}" if req.placement.label is not None else ""
    return f"{where} p{req.placement.target_page}{label}"


def requirements_table(profile: DeviceProfile, region: str | None, operator: str | None = None) -> str:
    """The resolved requirements of ``profile`` for ``region`` as a plain-text table with a header."""
    reqs = profile.requirements(region, operator)
    head = ["PACKAGE", "NAME", "PRESENCE", "VERSION", "INSTALL KIND", "UPDATE OK", "ENABLED", "PARTITIONS",
            "SEVERITY", "LAUNCH", "PLACEMENT", "SOURCE"]
    rows = [[r.package, r.name, r.presence, _version_text(r), r.install_kind,
             "yes" if r.allow_updated else "no", "yes" if r.enabled else "no",
             ",".join(r.partitions) if r.partitions else "any", r.severity, _launch_text(r),
             _placement_text(r), r.source + (f" (override {r.override_source})" if r.override_source else "")]
            for r in reqs]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = [f"{profile.id} - {profile.name} ({display_path(profile.path)})",
             f"match: {profile.match.describe()}; regions: {','.join(profile.regions)}",
             f"region: {region or 'unknown'}"]
    if region and region not in profile.regions:
        lines.append(f"note: region {region} is not agreed for this profile; apps show their `elsewhere` presence")
    lines.append("")
    for row in [head, *rows]:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _cmd_show(args: argparse.Namespace) -> int:
    region = args.region.upper() if args.region else None
    if region is not None and region not in ISO_REGIONS:
        print(f"error: --region {args.region!r} is not an ISO 3166-1 alpha-2 code (e.g. CN, IN)", file=sys.stderr)
        return 2
    result = _load(args.profiles)
    if result is None:
        return 1
    try:
        profile = result.get(args.profile_id)
    except KeyError as exc:
        print(f"error: {exc.args[0]} (known: {', '.join(result.ids)})", file=sys.stderr)
        return 2
    print(requirements_table(profile, region, args.operator))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 valid, 1 profile errors, 2 usage errors)."""
    parser = argparse.ArgumentParser(prog="python -m harness.profiles",
                                     description="Validate and inspect device profiles (YAML contracts).")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate profiles and print every error at once")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help=f"profile files, app set files or directories (default: {DEFAULT_PROFILES_DIR})")
    check.set_defaults(func=_cmd_check)
    show = sub.add_parser("show", help="print the resolved requirements of one profile")
    show.add_argument("profile_id", metavar="PROFILE_ID")
    show.add_argument("--region", help="ISO alpha-2 region, e.g. IN (default: unknown region)")
    show.add_argument("--operator", help="the device's operator as MCC-MNC (e.g. 405-857)")
    show.add_argument("--profiles", nargs="+", metavar="PATH", help="where to load profiles from")
    show.set_defaults(func=_cmd_show)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    from harness.cli import run_main

    run_main(main)
