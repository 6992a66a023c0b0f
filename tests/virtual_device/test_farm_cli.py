"""``python -m virtual_device farm``: devices on free ports, registered with the adb server, cleaned up on SIGTERM."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from virtual_device.testing import AdbServer, free_port, server_running

ROOT = Path(__file__).resolve().parents[2]


def start_farm(args: list[str], expected_lines: int, timeout: float = 30.0) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "virtual_device", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: list[str] = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while len(lines) < expected_lines:
        if proc.poll() is not None:
            pytest.fail(f"farm exited rc={proc.returncode}: {proc.stderr.read()}")
        assert time.monotonic() < deadline, f"farm printed {lines} within {timeout} s"
        if sel.select(timeout=0.5):
            lines.append(proc.stdout.readline().strip())
    return proc, lines


def stop_farm(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_farm_registers_devices_and_disconnects_them(adb_server, vd_image):
    proc, lines = start_farm(["farm", "--images", str(vd_image("vd-basic")), str(vd_image("vd-slow")),
                              "--adb-port", str(adb_server.port)], expected_lines=2)
    try:
        serials = [ln.split()[0] for ln in lines]
        assert [ln.split()[1:] for ln in lines] == [["MI_5", "vd-basic"], ["MI_5", "vd-slow"]]
        for serial in serials:
            port = int(serial.rsplit(":", 1)[1])
            assert port != 5037 and not 5555 <= port <= 5585
            adb_server.wait_state(serial, ("device",))
        assert adb_server.device(serials[0]).shell("echo hi") == "hi"
    finally:
        assert stop_farm(proc) == 0
    for serial in serials:  # disconnected at exit: gone from the server at once
        assert adb_server.state(serial) == "absent"
    assert server_running(adb_server.port)  # the farm did not kill a server it did not start


def test_farm_starts_private_server_when_none_runs(vd_image):
    port = free_port()
    proc, lines = start_farm(["farm", "--images", str(vd_image("vd-basic")), "--adb-port", str(port)], 1)
    try:
        assert server_running(port)
        probe = AdbServer(port)  # attach without starting: only query it
        assert probe.state(lines[0].split()[0]) == "device"
    finally:
        assert stop_farm(proc) == 0
    deadline = time.monotonic() + 10
    while server_running(port):  # the farm kills the server it started
        assert time.monotonic() < deadline, "private adb server still running"
        time.sleep(0.05)


def test_farm_rejects_reserved_port_and_bad_image(tmp_path):
    run = [sys.executable, "-m", "virtual_device", "farm"]
    res = subprocess.run([*run, "--images", "x", "--adb-port", "5037"], cwd=ROOT, capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 2 and "reserved" in res.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nprops: {}\nnot_a_key: 1\n")
    res = subprocess.run([*run, "--images", str(bad), "--adb-port", str(free_port())], cwd=ROOT, capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 2 and "bad.yaml" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([*run, "--images", "no-such-image", "--adb-port", str(free_port())], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 2 and "not found" in res.stderr
