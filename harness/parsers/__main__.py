"""`python -m harness.parsers KIND FILE [--package P] [--user N] [--sdk API]`: parse a saved output, print JSON.

KIND is one of getprop, dumpsys-package, pm-list-packages, pm-path, pm-list-users, am-start, resolve-activity,
focus, focus-windows, devices, logcat-crash. FILE is a path or ``-`` for stdin (read as UTF-8, undecodable bytes
replaced). Leading JSON keys per KIND are fixed (see :data:`KINDS`); more keys may follow.

Exit codes: 0 parsed; 1 the text is not that command's output (``ParseError``, message names the command);
2 usage error (unknown KIND, unreadable FILE, missing ``--package``). No traceback is ever printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.errors import Error, ParseError
from harness.parsers import (
    focus_windows,
    parse_am_start,
    parse_devices,
    parse_dumpsys_package,
    parse_focus,
    parse_getprop,
    parse_logcat_crash,
    parse_pm_list_packages,
    parse_pm_list_users,
    parse_pm_path,
    parse_resolve_activity,
)


def _asdict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _asdict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _asdict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_asdict(v) for v in obj]
    return obj


def _ordered(data: dict[str, Any], first: Sequence[str]) -> dict[str, Any]:
    out = {k: data[k] for k in first}
    out.update((k, v) for k, v in data.items() if k not in out)
    return out


def _getprop(text: str, args: argparse.Namespace) -> Any:
    from harness.facts import DeviceFacts  # late: facts imports this package

    facts = DeviceFacts.from_props(parse_getprop(text))
    data = facts.to_dict(include_props=False)
    region = data.pop("region")
    data["region"] = facts.region.region
    data.update({"region_source": region["source"], "rom_flavour": region["rom_flavour"],
                 "region_conflicts": region["conflicts"], "region_signals": region["signals"]})
    data["props_count"] = len(facts.props)
    return _ordered(data, ("sdk", "release", "model", "device", "manufacturer", "region", "emulator"))


def _dumpsys_package(text: str, args: argparse.Namespace) -> Any:
    dump = _asdict(parse_dumpsys_package(text, args.package, user=args.user, sdk=args.sdk))
    return _ordered(dump, ("installed", "version_name", "version_code", "code_path", "system", "updated_system",
                           "factory_version_name", "factory_version_code", "factory_code_path", "enabled"))


def _am_start(text: str, args: argparse.Namespace) -> Any:
    return _ordered(_asdict(parse_am_start(text, args.package)),
                    ("status", "launch_state", "total_time_ms", "activity", "error"))


def _focus(text: str, args: argparse.Namespace) -> Any:
    return _ordered(_asdict(parse_focus(text)), ("package", "activity"))


def _devices(text: str, args: argparse.Namespace) -> Any:
    return [_ordered(_asdict(e), ("serial", "state", "model")) for e in parse_devices(text)]


def _logcat(text: str, args: argparse.Namespace) -> Any:
    return [_ordered(_asdict(r), ("package", "kind", "exception")) for r in parse_logcat_crash(text)]


KINDS: dict[str, Callable[[str, argparse.Namespace], Any]] = {
    "getprop": _getprop,
    "dumpsys-package": _dumpsys_package,
    "pm-list-packages": lambda text, args: _asdict(parse_pm_list_packages(text)),
    "pm-path": lambda text, args: parse_pm_path(text),
    "pm-list-users": lambda text, args: _asdict(parse_pm_list_users(text)),
    "am-start": _am_start,
    "resolve-activity": lambda text, args: {"component": parse_resolve_activity(text)},
    "focus": _focus,
    "focus-windows": lambda text, args: _asdict(focus_windows(text)),
    "devices": _devices,
    "logcat-crash": _logcat,
}
"""KIND → function(text, args) returning the JSON-ready answer."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 ParseError, 2 usage)."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.parsers",
        description="Parse a saved Android command output and print the result as JSON.")
    parser.add_argument("kind", metavar="KIND", choices=sorted(KINDS), help="one of: " + ", ".join(sorted(KINDS)))
    parser.add_argument("file", metavar="FILE", help="file holding the command's output, or - for stdin")
    parser.add_argument("--package", help="package name (required for dumpsys-package; am-start: requested one)")
    parser.add_argument("--user", type=int, default=0, help="Android user for dumpsys-package (default 0)")
    parser.add_argument("--sdk", type=int, default=None,
                        help="device API level for dumpsys-package (>= 24: empty output is an error)")
    args = parser.parse_args(argv)
    if args.kind == "dumpsys-package" and not args.package:
        parser.error("dumpsys-package needs --package <name>")
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    text = data.decode("utf-8", errors="replace")
    try:
        result = KINDS[args.kind](text, args)
    except ParseError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 1
    except Error as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    from harness.cli import run_main

    run_main(main)
