"""Signer reads: bytes read per app are constant in APK size and at most 1 MB (issue 10, "Signed by the partner").

Serves Word from three real partner-signed APKs on virtual devices behind the real adb server (the adb bundled in
adbutils, a private port), reads every app's signature the way the signer suite does (``harness.signatures``:
``pm path``, ``stat``, ``dd`` ranges through ``exec:``, all apps of a device at once) and prints per app the APK
size, the bytes read, the round trips of the device and the wall time:

* ``partner-v1v2``: a small APK (8 KiB: one read of the 64 KiB tail covers it whole);
* ``partner-v1v2-3000``: 3000 entries (a 190 KiB central directory, more than the tail);
* ``partner-v1v2-50m``: the same 3000 entries plus a 50 MiB stored entry (an Office-sized APK).

The 3000-entry and the 50 MiB APK must read the same number of bytes (only the padding differs), below 1 MB.

    .venv/bin/python benchmarks/signers.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.adb import AdbServerLink, ServerAddress  # noqa: E402
from harness.device import Device  # noqa: E402
from virtual_device.apk_fixtures import apk_dir, ensure_built  # noqa: E402
from virtual_device.image import IMAGES_DIR  # noqa: E402
from virtual_device.testing import AdbServer, Farm  # noqa: E402

VARIANTS = ("partner-v1v2", "partner-v1v2-3000", "partner-v1v2-50m")
PACKAGES = ("com.microsoft.office.word", "com.microsoft.office.excel", "com.microsoft.office.powerpoint",
            "com.microsoft.office.outlook", "com.skype.raider")
GOAL_BYTES = 1_000_000


def _images(tmp: Path) -> list[Path]:
    out = []
    for k, variant in enumerate(VARIANTS):
        data = yaml.safe_load((IMAGES_DIR / "mi5-cn.yaml").read_text())
        data["name"] = f"bench-{variant}"
        data["props"]["ro.serialno"] = f"bench{k}"
        for pkg in data["packages"]:
            if pkg["package"] == PACKAGES[0]:
                pkg["apk"] = variant
        path = tmp / f"bench-{variant}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the figures; exit 1 when a goal is missed (bytes over 1 MB, or not constant in APK size)."""
    argparse.ArgumentParser(prog="benchmarks/signers.py", description=__doc__.split("\n\n")[0],
                            epilog="No options: builds the fixture APKs on first use (about a minute), then measures."
                            ).parse_args(argv)
    ensure_built()
    ensure_built(["partner-v1v2-3000", "partner-v1v2-50m"])
    print(f"fixture APKs: {apk_dir()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp_text, AdbServer() as server, \
            Farm(_images(Path(tmp_text)), server) as farm:
        link = AdbServerLink(ServerAddress("127.0.0.1", server.port))
        entries = {e.serial: e for e in link.devices()}
        for variant, serial in zip(VARIANTS, farm.serials, strict=True):
            device = Device(entries[serial], link.device(serial))
            states = device.inventory(PACKAGES).packages
            trips_before = device.link.round_trips
            start = time.monotonic()
            inventory = device.apk_signers(states)
            elapsed = time.monotonic() - start
            assert not inventory.errors, inventory.errors
            word = inventory.packages[PACKAGES[0]]
            sig = word.apks()[0][1]
            rows.append((variant, sig.size, word.bytes_read, inventory.round_trips,
                         device.link.round_trips - trips_before, elapsed,
                         sum(p.bytes_read for p in inventory.packages.values()), len(inventory.packages)))
    print(f"{'Word APK served':20} {'APK size':>12} {'bytes read':>11} {'% of APK':>9} {'round trips':>12} "
          f"{'wall':>8}   device total")
    for variant, size, read, trips, counted, elapsed, total, apps in rows:
        print(f"{variant:20} {size:>12,} {read:>11,} {100 * read / size:>8.2f}% {trips:>5} ({counted} adb)"
              f" {1000 * elapsed:>6.0f} ms   {total:,} bytes for {apps} apps")
    large = {r[0]: r[2] for r in rows}
    constant = abs(large["partner-v1v2-50m"] - large["partner-v1v2-3000"]) <= 4096
    under = max(large.values()) <= GOAL_BYTES
    print(f"bytes read constant in APK size (3000 entries vs + 50 MiB): "
          f"{large['partner-v1v2-3000']:,} vs {large['partner-v1v2-50m']:,} -> {'yes' if constant else 'NO'}")
    print(f"goal <= {GOAL_BYTES:,} bytes per app: {'met' if under else 'MISSED'} (max {max(large.values()):,})")
    return 0 if constant and under else 1


if __name__ == "__main__":
    sys.exit(main())
