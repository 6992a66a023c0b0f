"""Benchmark the virtual device through the REAL adb server (the one bundled in adbutils).

Prints:
1. latency: median / p90 / p99 round trip of one ``shell:echo hi`` through the adb server, measured with a raw
   socket client speaking the adb host protocol (``host:transport:<serial>`` then ``shell:echo hi``, read to close),
   ``--samples`` samples (target: median < 5 ms);
2. throughput: ``--devices`` devices served by ONE separate process (``python -m virtual_device farm``), one adbutils
   client thread per device, ``--calls`` ``d.shell("echo hi")`` per thread; shells/s, per-call median/p99, devices
   that answered, errors (target: all devices answer, 0 errors). Note adbutils' own cost: every
   AdbConnection.close() sleeps 10 ms and shell() opens two connections (notes adb-transport.md §2.5).

Uses a private adb server on a free port (never 5037 / 5555-5585), killed at the end.

    .venv/bin/python benchmarks/virtual_device.py [--samples 200] [--devices 32] [--calls 50] [--image FILE]
"""

from __future__ import annotations

import argparse
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from virtual_device.testing import AdbServer  # noqa: E402

DEFAULT_IMAGE = ROOT / "tests" / "virtual_device" / "images" / "vd-basic.yaml"


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("adb server closed the connection")
        buf += chunk
    return buf


def _request(s: socket.socket, text: str) -> None:
    data = text.encode()
    s.sendall(b"%04x" % len(data) + data)
    status = _recv_exact(s, 4)
    if status != b"OKAY":
        length = int(_recv_exact(s, 4), 16)
        raise RuntimeError(f"{text}: {status!r} {_recv_exact(s, length)!r}")


def raw_shell(port: int, serial: str, cmd: str) -> bytes:
    """One shell v1 command through the adb server with the raw host protocol; returns the output."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        _request(s, f"host:transport:{serial}")
        _request(s, f"shell:{cmd}")
        out = bytearray()
        while chunk := s.recv(65536):
            out += chunk
        return bytes(out)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (0..100) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def start_farm(image: Path, count: int, adb_port: int,
               timeout: float = 60.0) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``python -m virtual_device farm`` with ``count`` copies of ``image``; return (process, serials)."""
    proc = subprocess.Popen([sys.executable, "-m", "virtual_device", "farm", "--images", *[str(image)] * count,
                             "--adb-port", str(adb_port)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    serials: list[str] = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while len(serials) < count:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"farm started {len(serials)}/{count} devices in {timeout} s (rc={proc.poll()})")
        if sel.select(timeout=1):
            line = proc.stdout.readline()
            if line.strip():
                serials.append(line.split()[0])
    return proc, serials


def main() -> int:
    """Run both benchmarks and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--devices", type=int, default=32)
    ap.add_argument("--calls", type=int, default=50, help="adbutils shell calls per client thread")
    ap.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    args = ap.parse_args()

    with AdbServer() as adb:
        t0 = time.monotonic()
        farm, serials = start_farm(args.image, args.devices, adb.port)
        try:
            for serial in serials:
                adb.wait_state(serial, ("device",))
            print(f"farm: {len(serials)} devices in one process, online in {time.monotonic() - t0:.2f} s "
                  f"(adb server port {adb.port})")

            serial = serials[0]
            for _ in range(20):  # warm-up
                raw_shell(adb.port, serial, "echo hi")
            lat = []
            for _ in range(args.samples):
                t = time.perf_counter()
                out = raw_shell(adb.port, serial, "echo hi")
                lat.append((time.perf_counter() - t) * 1000)
                if out != b"hi\n":
                    raise RuntimeError(f"unexpected output {out!r}")
            print(f"latency raw host-protocol shell:echo hi, n={args.samples}: median {statistics.median(lat):.2f} ms"
                  f"  p90 {pct(lat, 90):.2f} ms  p99 {pct(lat, 99):.2f} ms  (target median < 5 ms)")

            devices = [adb.device(s) for s in serials]
            barrier = threading.Barrier(len(devices) + 1)
            per_call: list[float] = []
            errors: list[str] = []
            answered: set[str] = set()
            lock = threading.Lock()

            def client(d: object) -> None:
                barrier.wait()
                mine, bad = [], []
                for _ in range(args.calls):
                    t = time.perf_counter()
                    try:
                        out = d.shell("echo hi", timeout=10)  # type: ignore[attr-defined]
                        if out != "hi":
                            bad.append(f"{d.serial}: {out!r}")  # type: ignore[attr-defined]
                    except Exception as exc:  # noqa: BLE001 - counted and reported
                        bad.append(f"{d.serial}: {exc!r}")  # type: ignore[attr-defined]
                    mine.append((time.perf_counter() - t) * 1000)
                with lock:
                    per_call.extend(mine)
                    errors.extend(bad)
                    if len(bad) < args.calls:
                        answered.add(d.serial)  # type: ignore[attr-defined]

            threads = [threading.Thread(target=client, args=(d,)) for d in devices]
            for th in threads:
                th.start()
            barrier.wait()
            t = time.perf_counter()
            for th in threads:
                th.join()
            wall = time.perf_counter() - t
            total = len(devices) * args.calls
            print(f"throughput adbutils d.shell('echo hi'), {len(devices)} devices / {len(devices)} threads / "
                  f"{total} calls: {total / wall:.0f} shells/s in {wall:.2f} s; per call median "
                  f"{statistics.median(per_call):.1f} ms p99 {pct(per_call, 99):.1f} ms; devices answered "
                  f"{len(answered)}/{len(devices)}; errors {len(errors)}")
            for e in errors[:5]:
                print(f"  error: {e}")
            return 0 if not errors and len(answered) == len(devices) else 1
        finally:
            farm.send_signal(signal.SIGTERM)
            try:
                farm.wait(20)
            except subprocess.TimeoutExpired:
                farm.kill()


if __name__ == "__main__":
    sys.exit(main())
