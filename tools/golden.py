"""Turn a golden phone (or a ROM build, or a bugreport) into a contract: a new device profile YAML.

``python -m tools.golden capture (--serial S [--adb-server HOST:PORT] | --build PATH | --bugreport PATH)
[--apps device_profiles/apps/microsoft-office.yaml | --package P ...] [--out device_profiles] [--region XX]
[--force]``

Writes ``<out>/<profile>.yaml`` (``<manufacturer>-<model>``, e.g. ``xiaomi-redmi-8a.yaml``) with: ``match`` on the
observed ``ro.product.model`` and ``ro.product.device``; ``regions``: the region seen (or ``--region``); per app
of the list that is installed: the observed version (``exact`` versionName, or the versionCode as a one-value
range when there is no name), install kind (``system``, ``removable_preload``; an updated system app becomes
``system`` with ``allow_updated: true``; a user install ``any``), partition, ``enabled: false`` if it was
disabled, and ``signers``: the SHA-256 of the certificate(s) Android uses for the app's APKs on that API level (read
by the signer check's own reader: from the APKs of a build, by byte ranges from a phone; a bugreport holds no APK,
so no ``signers`` then). Comments say where each value came from (property file and line, ``dumpsys package``
line, APK path). Apps of the list that are
not installed are listed in a comment, not required.

The device is only read (``getprop``, ``pm list packages``, ``dumpsys package``, ``pm path`` and ``dd`` reads of
the APKs' signature byte ranges), exactly as a run reads it.
An existing file is never overwritten without ``--force``; nothing is written where a profile of ``--out``
already matches the model (the folder would become invalid: a device must match exactly one profile). The result
passes ``python -m harness.profiles check`` and a run of the suites against the same device (use ``--profiles
<out>`` when a profile of ``device_profiles/`` matches the same model, as the tool then says). Exit 0 written; 4
usage error (file exists, a profile of ``--out`` matches, no app found, region unknown); 10 the source could not
be read.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import Error, ProfileError
from harness.facts import DeviceFacts
from harness.inventory import PackageState
from harness.profiles import load_profiles
from harness.profiles.models import PARTITIONS
from harness.signatures import SignerInventory
from tools.offline_job import Parser

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_APPS = ROOT / "device_profiles" / "apps" / "microsoft-office.yaml"
EXIT_WRITTEN, EXIT_USAGE, EXIT_SOURCE = 0, 4, 10


@dataclass
class Observation:
    """What was read from the golden source: facts, package states, where each came from."""

    source: str
    facts: DeviceFacts
    states: dict[str, PackageState]
    origin: dict[str, str]
    signers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per installed package whose signatures were read: the certificate SHA-256 digests Android uses (sorted)."""


def signer_digests(inv: SignerInventory) -> dict[str, tuple[str, ...]]:
    """``{package: sorted SHA-256 hex}`` of the certificates Android uses (API ``inv.sdk``) over every APK of each
    package read in ``inv`` (active copy; an updated system app's factory copy is signed alike or the signer check
    says so); packages whose signatures could not be read are left out."""
    out: dict[str, tuple[str, ...]] = {}
    for package, found in inv.packages.items():
        digests = {s.cert.sha256 for c in found.copies if c.role == "active" for sig in c.signatures
                   for s in sig.effective(inv.sdk)[1]}
        if digests:
            out[package] = tuple(sorted(digests))
    return out


def observe_file(kind: str, path: str, packages: Sequence[str], region: str | None) -> Observation:
    """Facts and package states of a ROM build or bugreport (the same sources as ``--build``/``--bugreport``).

    Raises:
        SourceError: the file cannot be read; UsageError: a folder of several builds (capture one build).
    """
    from harness.errors import UsageError
    from harness.sources import OfflineDevice, load_targets

    targets = load_targets(kind, path)
    if len(targets) != 1:
        raise UsageError(f"{path} holds {len(targets)} builds: capture one of them")
    target = targets[0]
    if target.problem is not None:
        raise target.problem
    device = OfflineDevice(target, region_override=region)
    origin: dict[str, str] = {}
    if kind == "build":
        from harness.sources.build import build_target

        origin = build_target(Path(path))[1].origin
    inv = device.inventory(list(packages))
    return Observation(f"{'ROM build' if kind == 'build' else 'bugreport'} {path}", device.facts(), inv.packages,
                       origin, signer_digests(device.apk_signers(inv.packages)))


def observe_device(serial: str, servers: Sequence[str], packages: Sequence[str], region: str | None) -> Observation:
    """Facts and package states of a live device, read-only, through the same discovery and inventory as a run.

    ``serial``: the adb serial (``adb devices``), or the device's own serial (``ro.serialno``, as reports show it).

    Raises:
        DeviceError: the device is not attached, offline, or its output cannot be read.
    """
    from harness.errors import ProfileMatchError
    from harness.plugin.session import ALL, discover

    profiles = load_profiles()
    ctx = discover(server_specs=list(servers) or None, serials=[serial], profiles=profiles, region_override=region)
    case = next(c for c in ctx.devices if c.serial == serial)
    if case.facts is None:  # not an adb serial: maybe the device's own serial
        try:
            every = discover(server_specs=list(servers) or None, serials=[ALL], profiles=profiles,
                             region_override=region).devices
        except Error:
            every = []
        case = next((c for c in every if c.device_serial == serial and c.facts is not None), case)
    if case.problem is not None and not isinstance(case.problem, ProfileMatchError):
        raise case.problem
    assert case.device is not None and case.facts is not None
    inv = case.device.inventory(list(packages))
    return Observation(f"device {serial} on {case.server}", case.facts, inv.packages, {},
                       signer_digests(case.device.apk_signers(inv.packages)))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "device"


def _q(value: str) -> str:
    """A YAML scalar as safe_dump writes it (quotes when needed)."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip().removesuffix("\n...")


def render_profile(obs: Observation, apps: list[dict], *, command: str) -> tuple[str, str]:
    """``(profile id, YAML text)`` of the golden profile (module docstring).

    Raises:
        UsageError: no app of the list is installed, or the region is unknown.
    """
    from harness.errors import UsageError

    f = obs.facts
    if not f.model or not f.device:
        raise UsageError(f"{obs.source}: ro.product.model / ro.product.device unknown: cannot write a match")
    region = f.region.region
    if region is None:
        raise UsageError(f"{obs.source}: the region cannot be determined from its properties; pass --region XX")
    profile = _slug(f"{f.manufacturer or f.brand or ''}-{f.model}")
    display = f"{f.manufacturer or ''} {f.model}".strip() + " (golden)"
    when = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    p = obs.origin
    lines = [f"# Golden profile captured by `{command}` on {when}.",
             f"# Source: {obs.source}; fingerprint {f.fingerprint}.",
             "# Every value is what that source showed: review it before it becomes the contract.",
             f"profile: {profile}",
             f"name: {_q(display)}",
             "match:",
             f"  model: [{_q(f.model)}]  # ro.product.model" + (f" ({p['ro.product.model']})"
                                                                if "ro.product.model" in p else ""),
             f"  device: [{_q(f.device)}]  # ro.product.device" + (f" ({p['ro.product.device']})"
                                                                   if "ro.product.device" in p else ""),
             f"regions: [{region}]  # region {region} from {f.region.source}"
             + (f" ({p[f.region.source]})" if f.region.source in p else ""),
             "apps:"]
    absent: list[str] = []
    written = 0
    for app in apps:
        state = obs.states.get(app["package"])
        if state is None or not state.installed:
            absent.append(f"{app.get('name', app['package'])} ({app['package']})")
            continue
        written += 1
        lines += [f"  - package: {app['package']}", f"    name: {_q(app.get('name', app['package']))}"]
        where = next((e.strip() for e in state.evidence if "versionName" in e), "")
        lines.append(f"    # observed: versionName {state.version_name}, versionCode {state.version_code}"
                     + (f" — {where}" if where else ""))
        if state.version_name:
            lines.append(f"    version: {{exact: {_q(state.version_name)}}}")
        elif state.version_code is not None:
            lines.append(f"    version: {{code_min: {state.version_code}, code_max: {state.version_code}}}")
        kind = state.install_kind
        partition = state.factory_partition if state.updated_system else state.partition
        lines.append(f"    # observed: {kind} at {state.code_path} (partition {partition})"
                     + (f", factory copy at {state.factory_code_path}" if state.updated_system else ""))
        if kind in ("system", "updated_system"):
            lines.append("    install_kind: system")
            lines.append(f"    allow_updated: {'true' if kind == 'updated_system' else 'false'}")
        elif kind == "removable_preload":
            lines.append("    install_kind: removable_preload")
        else:
            lines.append("    install_kind: any  # a user/store install, not a preload")
        if partition in PARTITIONS and partition != "data":
            lines.append(f"    partitions: [{partition}]")
        if not state.enabled:
            lines.append(f"    enabled: false  # observed disabled for user 0 (state {state.enabled_state})")
        digests = obs.signers.get(app["package"])
        if digests:
            lines.append(f"    signers: [{', '.join(digests)}]  # observed signing certificate SHA-256")
        if app.get("severity"):
            lines.append(f"    severity: {app['severity']}")
    if absent:
        lines.append("# not installed on the golden source, so not required here: " + "; ".join(absent))
    if not written:
        raise UsageError(f"{obs.source}: none of the {len(apps)} apps of the list is installed: nothing to capture")
    return profile, "\n".join(lines) + "\n"


def _apps(args: argparse.Namespace) -> list[dict]:
    if args.package:
        return [{"package": p} for p in args.package]
    data = yaml.safe_load(Path(args.apps).read_text(encoding="utf-8")) or {}
    return [{k: a[k] for k in ("package", "name", "severity") if k in a} for a in data.get("apps", [])]


def capture(argv: Sequence[str]) -> int:
    """``capture`` subcommand; returns the exit code."""
    p = Parser(prog="python -m tools.golden capture", description="Capture a golden profile (see --help of "
               "python -m tools.golden).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--serial", help="a live device (read-only)")
    src.add_argument("--build", help="a ROM build (target_files zip or unpacked partitions)")
    src.add_argument("--bugreport", help="a bugreport (zip or text)")
    p.add_argument("--adb-server", action="append", default=[], metavar="HOST:PORT",
                   help="adb server of --serial (default the local server)")
    apps = p.add_mutually_exclusive_group()
    apps.add_argument("--apps", default=str(DEFAULT_APPS), help="app set whose apps to capture "
                      "(default device_profiles/apps/microsoft-office.yaml)")
    apps.add_argument("--package", action="append", default=[], help="capture this package; repeatable")
    p.add_argument("--region", default=None, metavar="XX", help="state the region instead of reading it")
    p.add_argument("--out", type=Path, default=ROOT / "device_profiles", help="directory (default device_profiles/)")
    p.add_argument("--force", action="store_true", help="overwrite an existing profile file")
    args = p.parse_args(argv)
    try:
        app_list = _apps(args)
    except (OSError, yaml.YAMLError) as exc:
        print(f"error: cannot read the app list {args.apps}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    packages = [a["package"] for a in app_list]
    command = "python -m tools.golden capture " + " ".join(argv)
    region = args.region.upper() if args.region else None
    try:
        if args.serial:
            obs = observe_device(args.serial, args.adb_server, packages, region)
        else:
            kind, path = ("build", args.build) if args.build else ("bugreport", args.bugreport)
            obs = observe_file(kind, path, packages, region)
        profile, text = render_profile(obs, app_list, command=command)
    except Error as exc:
        from harness.errors import UsageError

        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_SOURCE
    target = args.out / f"{profile}.yaml"
    if target.exists() and not args.force:
        print(f"error: {target} exists; not overwritten (use --force, or --out another directory)", file=sys.stderr)
        return EXIT_USAGE
    beside = _other_matches(args.out, target, obs.facts)
    if beside:
        print(f"error: {', '.join(beside)} already matches this model ({obs.facts.model}); {target} beside it would "
              f"make {args.out} invalid (a device must match exactly one profile), so it was not written. Capture "
              f"into another folder (--out /tmp/golden) and run with --profiles that folder, or replace "
              f"{beside[0]}.", file=sys.stderr)
        return EXIT_USAGE
    args.out.mkdir(parents=True, exist_ok=True)
    previous = target.read_bytes() if target.exists() else None
    target.write_text(text, encoding="utf-8")
    try:
        load_profiles([target.parent] if previous is None and _valid(args.out) else [target])
    except ProfileError as exc:  # never leave a file (or a folder) the harness refuses
        if previous is None:
            target.unlink()
        else:
            target.write_bytes(previous)
        print(f"error: the captured profile does not validate, not written:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {target}")
    default = ROOT / "device_profiles"
    if args.out.resolve() != default.resolve():
        for other in _other_matches(default, target, obs.facts):
            print(f"note: {other} also matches this model; a device must match one profile: run with "
                  f"--profiles {args.out}")
    return EXIT_WRITTEN


def _valid(folder: Path) -> bool:
    """Whether the profiles of ``folder`` load (a folder that is already invalid is not ours to judge)."""
    try:
        load_profiles([folder])
    except ProfileError:
        return False
    return True


def _other_matches(folder: Path, target: Path, facts: DeviceFacts) -> list[str]:
    """Profiles of ``folder`` (other than ``target``) whose ``match`` takes this device; [] when none or the
    folder cannot be loaded."""
    if not folder.is_dir():
        return []
    try:
        profiles = load_profiles([folder])
    except ProfileError:
        return []
    return [str(pr.path) for pr in profiles.profiles
            if Path(pr.path).resolve() != target.resolve() and pr.match.matches(facts.props)]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tools.golden capture …`` (module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else EXIT_USAGE
    if argv[0] != "capture":
        print(f"error: unknown command {argv[0]!r}; use: python -m tools.golden capture --help", file=sys.stderr)
        return EXIT_USAGE
    return capture(argv[1:])


if __name__ == "__main__":
    from harness.cli import run_main

    run_main(main)
