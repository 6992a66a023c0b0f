"""Command line: ``python -m virtual_device <command>``.

Commands:
  farm --images DIR_OR_FILE... --adb-port PORT
      Serve one virtual device per image (each on a free port, never 5555-5585 nor 5037), ``adb connect`` each to
      the adb server on PORT (a private one is started there when none answers), print one line per device
      ``<serial> <model> <image-name>``, then run until SIGINT/SIGTERM; at exit disconnect only those devices
      (and kill the adb server only if this command started it).
  import-getprop FILE [--image IMAGE.yaml]
      Import a real ``getprop`` dump (virtual_device.image.cli_import_getprop).
  build-apks [NAME...] [--out DIR] [--digests]
      Build the fixture APKs images name in ``apk:`` (virtual_device.apk_fixtures.cli); ``--digests`` prints
      the certificate SHA-256 of every fixture signing key.

Exit codes: 0 ok, 2 bad usage or bad image, 1 adb failure.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable

from harness.errors import DeviceError, ProfileError, UsageError
from virtual_device.farm import VirtualFarm
from virtual_device.server import forbidden_port
from virtual_device.testing import AdbServer, server_running


def cmd_farm(argv: list[str]) -> int:
    """``farm`` subcommand (see module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m virtual_device farm",
                                 description="Serve virtual devices and register them with an adb server.")
    ap.add_argument("--images", nargs="+", required=True, metavar="DIR_OR_FILE",
                    help="image YAML files, directories of them, or image names from virtual_device/images")
    ap.add_argument("--adb-port", type=int, required=True, metavar="PORT",
                    help="adb server port (not 5037 and not 5555-5585); a private server is started if none runs")
    args = ap.parse_args(argv)
    if forbidden_port(args.adb_port) or not 0 < args.adb_port < 65536:
        print(f"error: --adb-port {args.adb_port} is reserved or invalid; use a free port such as 15037",
              file=sys.stderr)
        return 2

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    adb = AdbServer(args.adb_port)
    own_server = not server_running(args.adb_port)
    connected: list[str] = []
    try:
        farm = VirtualFarm(args.images)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if own_server:
            adb.start()
        farm.start()
        for dev in farm.devices:
            answer = adb.client.connect(dev.serial, timeout=10)
            connected.append(dev.serial)
            if "connected to" not in answer and "authenticate" not in answer:
                raise DeviceError(f"adb connect failed: {answer}", serial=dev.serial)
            print(f"{dev.serial} {dev.model.replace(' ', '_')} {dev.name}")
        sys.stdout.flush()
        stop.wait()
        return 0
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DeviceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for serial in connected:
            adb.disconnect(serial)
        farm.stop()
        if own_server:
            adb.stop()


def cmd_import_getprop(argv: list[str]) -> int:
    """``import-getprop`` subcommand, implemented by virtual_device.image.cli_import_getprop."""
    from virtual_device.image import cli_import_getprop

    return cli_import_getprop(argv)


def cmd_build_apks(argv: list[str]) -> int:
    """``build-apks`` subcommand, implemented by virtual_device.apk_fixtures.cli."""
    from virtual_device.apk_fixtures import cli

    return cli(argv)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "farm": cmd_farm,
    "import-getprop": cmd_import_getprop,
    "build-apks": cmd_build_apks,
}


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``argv[0]`` to a command of :data:`COMMANDS`; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
