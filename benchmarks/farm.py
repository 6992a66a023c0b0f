"""Farm-scale benchmark: does a run take as long as its slowest device, not the sum of its devices?

Builds virtual farms of copies of one image (default ``mi5-cn``, compliant) with an added latency on every shell
command (default 300 ms, about what a batched ``dumpsys package`` costs on a 2016 phone), each copy with its own
``ro.serialno``, behind real adb servers (the one bundled in adbutils, private ports), and times whole
``pytest`` runs of the compliance suites as a user would start them (Allure results and records written).
Prints, in one run, side by side:

* non-launch suites (every suite but launch and home screen: presence, version, placement, region, signer ...):
  1 device vs ``--devices`` devices on one adb server,
  and the same with ``-n 4``;
* launch suite: 1 device vs ``--launch-devices`` devices;
* non-launch suites on ``--big`` devices spread over ``--hosts`` adb servers (farm hosts on loopback), with the
  peak memory (max RSS) of the pytest process;
* the same check written naively: ``adb shell pm path`` + ``adb shell dumpsys package`` per app, one device after
  another, on the ``--devices`` farm;
* at 0 ms added latency: the marginal host cost of one pytest item (wall time per added test between the
  1-device and the N-device run), the part of the wall time that parallel devices cannot hide.

Targets (issue "farm-scale"): non-launch N/1 <= 1.5, launch N/1 <= 1.5, big N/1 <= 2.5, parallel/naive <= 0.03.

    .venv/bin/python benchmarks/farm.py [--latency-ms 300] [--devices 32] [--launch-devices 12]
                                        [--big 128] [--hosts 4] [--skip naive,big,launch,xdist,host-cost]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from virtual_device.testing import AdbServer, Farm, adb_binary  # noqa: E402

IMAGES = ROOT / "virtual_device" / "images"
UI_SUITES = {"test_launch.py", "test_home_screen.py"}
"""Suites that drive the phone's screen (launch, home screen); the others read package state only."""
NON_LAUNCH = sorted(f"suites/{p.name}" for p in (ROOT / "suites").glob("test_*.py") if p.name not in UI_SUITES)
LAUNCH = ["suites/test_launch.py"]


@dataclass
class Run:
    """One timed command: wall seconds, exit code, peak RSS (MiB) of the pytest process (0: not measured), items."""

    wall_s: float
    rc: int
    maxrss_mib: float
    items: int = 0
    outcomes: dict[str, int] | None = None


def copies(base: str, n: int, latency_ms: float, out: Path, prefix: str) -> list[Path]:
    """``n`` copies of image ``base`` with ``latency_ms`` added to every shell command and distinct serials."""
    data = yaml.safe_load((IMAGES / f"{base}.yaml").read_text())
    if "props_from" in data and not Path(data["props_from"]).is_absolute():
        data["props_from"] = str((IMAGES / data["props_from"]).resolve())
    paths = []
    for i in range(n):
        d = json.loads(json.dumps(data))
        serial = f"{prefix}{i:04d}"
        d["name"] = f"{base}-{prefix}{i:04d}"
        d.setdefault("props", {})
        d["props"]["ro.serialno"] = serial
        d["props"]["ro.boot.serialno"] = serial
        d["behaviour"] = dict(d.get("behaviour") or {}, latency_ms=latency_ms)
        p = out / f"{d['name']}.yaml"
        p.write_text(yaml.safe_dump(d, sort_keys=False))
        paths.append(p)
    return paths


@contextlib.contextmanager
def farm_hosts(images: Sequence[Path], hosts: int) -> Iterator[tuple[list[str], list[list[str]]]]:
    """``hosts`` private adb servers with the images dealt round-robin; yields (server specs, serials per host)."""
    chunks = [list(images[i::hosts]) for i in range(hosts)]
    with contextlib.ExitStack() as stack:
        specs, serials = [], []
        for chunk in chunks:
            server = stack.enter_context(AdbServer())
            farm = stack.enter_context(Farm(chunk, server))
            specs.append(f"127.0.0.1:{server.port}")
            serials.append(farm.serials)
        yield specs, serials


# Runs pytest and prints the process's own peak RSS (VmHWM of /proc/self/status, in kB) at exit. getrusage's
# ru_maxrss would not do: Linux carries the forking parent's high-water mark across exec into the child.
_PYTEST_WITH_HWM = (
    "import sys, pytest\n"
    "rc = pytest.main(sys.argv[1:])\n"
    "hwm = next((l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')), '0')\n"
    "print(f'@@vmhwm_kb {hwm}', flush=True)\n"
    "sys.exit(int(rc))\n")


def timed(argv: Sequence[str], *, env: dict[str, str] | None = None) -> Run:
    """Run ``argv``; return its wall time and, for pytest runs, the peak RSS the process reported."""
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    wall = time.monotonic() - start
    output = proc.stdout.decode(errors="replace")
    if proc.returncode not in (0, 1, 10, 13):  # 13: partial (a non-launch run leaves launch checks not run)
        sys.stderr.write(output[-3000:])
    hwm = [line.split()[1] for line in output.splitlines() if line.startswith("@@vmhwm_kb ")]
    return Run(wall, proc.returncode, int(hwm[-1]) / 1024 if hwm else 0.0)


def pytest_run(suites: Sequence[str], servers: Sequence[str], serials: Sequence[str] = (),
               extra: Sequence[str] = ()) -> Run:
    """Time ``pytest <suites>`` against ``servers`` (all devices, or ``serials``); count records by outcome."""
    with tempfile.TemporaryDirectory(prefix="farm-bench-") as tmp:
        records = Path(tmp) / "records.jsonl"
        argv = [sys.executable, "-c", _PYTEST_WITH_HWM, *suites, "-p", "no:cacheprovider", "-q", "--progress", "off",
                "--records", str(records), "--alluredir", str(Path(tmp) / "allure-results"), *extra]
        for s in servers:
            argv += ["--adb-server", s]
        for s in serials:
            argv += ["--serial", s]
        run = timed(argv)
        outcomes: dict[str, int] = {}
        if records.exists():
            for line in records.read_text().splitlines():
                record = json.loads(line)
                if record.get("type") == "run":  # the run header, not a check
                    continue
                outcomes[record["outcome"]] = outcomes.get(record["outcome"], 0) + 1
        run.items = sum(outcomes.values())
        run.outcomes = outcomes
        return run


def naive(port: int, serials: Sequence[str], packages: Sequence[str]) -> Run:
    """The check as a shell loop: ``adb shell pm path`` + ``adb shell dumpsys package`` per app, device by device."""
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(port))
    start = time.monotonic()
    for serial in serials:
        for pkg in packages:
            for cmd in (["pm", "path", pkg], ["dumpsys", "package", pkg]):
                timed([adb_binary(), "-P", str(port), "-s", serial, "shell", *cmd], env=env)
    return Run(time.monotonic() - start, 0, 0.0)


def fmt(run: Run | None) -> str:
    """``12.34 s`` (and outcome counts)."""
    if run is None:
        return "skipped"
    counts = ", ".join(f"{v} {k}" for k, v in sorted((run.outcomes or {}).items()))
    mem = f"{run.maxrss_mib:6.0f} MiB" if run.maxrss_mib else " " * 10
    return f"{run.wall_s:7.2f} s  rc {run.rc:<2}  {mem}" + (f"  ({counts})" if counts else "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run every scenario and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image", default="mi5-cn", help="seed image to copy (default mi5-cn, compliant)")
    ap.add_argument("--latency-ms", type=float, default=300.0, help="added to every shell command (default 300)")
    ap.add_argument("--devices", type=int, default=32, help="devices of the non-launch and naive runs (32)")
    ap.add_argument("--launch-devices", type=int, default=12, help="devices of the launch run (12)")
    ap.add_argument("--big", type=int, default=128, help="devices of the multi-host run (128)")
    ap.add_argument("--hosts", type=int, default=4, help="adb servers of the multi-host run (4)")
    ap.add_argument("--skip", default="", help="comma list of: naive, big, launch, xdist, host-cost")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    image = yaml.safe_load((IMAGES / f"{args.image}.yaml").read_text())
    packages = [p["package"] for p in image["packages"]]
    rows: list[tuple[str, str]] = []
    ratios: list[tuple[str, float, float]] = []

    def row(label: str, run: Run | None) -> None:
        rows.append((label, fmt(run)))
        print(f"  {label:<58} {fmt(run)}", flush=True)

    print(f"farm benchmark: image {args.image}, +{args.latency_ms:g} ms per shell command, "
          f"{os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="farm-bench-img-") as tmp:
        imgs = copies(args.image, max(args.devices, args.launch_devices), args.latency_ms, Path(tmp), "fb")
        with farm_hosts(imgs, 1) as (specs, serials):
            all_serials = serials[0]
            one = pytest_run(NON_LAUNCH, specs, all_serials[:1])
            row("non-launch suites, 1 device", one)
            many = pytest_run(NON_LAUNCH, specs, all_serials[: args.devices])
            row(f"non-launch suites, {args.devices} devices", many)
            ratios.append((f"non-launch {args.devices}/1", many.wall_s / one.wall_s, 1.5))
            if "xdist" not in skip:
                row(f"non-launch suites, {args.devices} devices, -n 4",
                    pytest_run(NON_LAUNCH, specs, all_serials[: args.devices], ["-n", "4"]))
            if "launch" not in skip:
                l1 = pytest_run(LAUNCH, specs, all_serials[:1])
                row("launch suite, 1 device", l1)
                ln = pytest_run(LAUNCH, specs, all_serials[: args.launch_devices])
                row(f"launch suite, {args.launch_devices} devices", ln)
                ratios.append((f"launch {args.launch_devices}/1", ln.wall_s / l1.wall_s, 1.5))
            if "naive" not in skip:
                port = int(specs[0].rsplit(":", 1)[1])
                nv = naive(port, all_serials[: args.devices], packages)
                row(f"naive shell loop (pm path + dumpsys per app), {args.devices} devices", nv)
                ratios.append((f"parallel / naive, {args.devices} devices", many.wall_s / nv.wall_s, 0.03))
    if "big" not in skip:
        with tempfile.TemporaryDirectory(prefix="farm-bench-big-") as tmp:
            imgs = copies(args.image, args.big, args.latency_ms, Path(tmp), "bg")
            with farm_hosts(imgs, args.hosts) as (specs, serials):
                b1 = pytest_run(NON_LAUNCH, specs, serials[0][:1])
                row(f"non-launch suites, 1 device ({args.hosts} adb servers listed)", b1)
                bn = pytest_run(NON_LAUNCH, specs)
                row(f"non-launch suites, {args.big} devices on {args.hosts} adb servers", bn)
                ratios.append((f"big {args.big}/1 on {args.hosts} hosts", bn.wall_s / b1.wall_s, 2.5))
                print(f"  peak memory of the {args.big}-device run: {bn.maxrss_mib:.0f} MiB (max RSS)", flush=True)
    if "host-cost" not in skip:
        with tempfile.TemporaryDirectory(prefix="farm-bench-0ms-") as tmp:
            imgs = copies(args.image, args.devices, 0.0, Path(tmp), "zc")
            with farm_hosts(imgs, 1) as (specs, serials):
                z1 = pytest_run(NON_LAUNCH, specs, serials[0][:1])
                zn = pytest_run(NON_LAUNCH, specs)
                row("non-launch suites, 1 device, 0 ms added", z1)
                row(f"non-launch suites, {args.devices} devices, 0 ms added", zn)
                per_item = (zn.wall_s - z1.wall_s) / max(1, zn.items - z1.items)
                print(f"  host cost per pytest item (marginal, 0 ms added): {1000 * per_item:.2f} ms "
                      f"({zn.items - z1.items} items added)", flush=True)
    print("\nratios (target):")
    ok = True
    for label, value, target in ratios:
        good = value <= target
        ok &= good
        print(f"  {label:<40} {value:6.3f}  (<= {target})  {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
