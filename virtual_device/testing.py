"""Test helpers: a private adb server on a free port, and a farm of virtual devices connected to it.

Rules (specs/common.md, notes adb-transport.md §4): never touch the default server port 5037 nor ports 5555-5585;
run the adb server with a private ``HOME``/``ANDROID_USER_HOME`` (it writes ``.android/adbkey`` there),
``ADB_EMU=0`` (no emulator port scan) and ``ADB_USB=0`` (start-up in ~10 ms instead of 3 s); stop only the server
we started, with ``adb -P <port> kill-server``. The adb binary is the one bundled in the adbutils wheel.

Example::

    with AdbServer() as adb, Farm(["mi5-cn"], adb) as farm:
        d = farm.adb_devices[0]            # adbutils.AdbDevice
        assert d.shell("getprop ro.product.model") == "MI 5"
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import adbutils

from harness.adb import NoAutostartClient
from harness.errors import AdbError, AdbTimeout, DeviceUnavailable
from virtual_device.farm import VirtualFarm
from virtual_device.server import DeviceServer, VirtualDevice, forbidden_port

ADB_CALL_TIMEOUT_S = 20.0
CONNECT_TIMEOUT_S = 10.0
STATE_POLL_INTERVAL_S = 0.02


def adb_binary() -> str:
    """Path of the adb executable bundled in adbutils (adb 36.0.0 for adbutils 2.12.0)."""
    return adbutils.adb_path()


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now, never 5037 nor 5554-5585."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not forbidden_port(port):
            return port
    raise OSError("no free port outside 5037/5554-5585")


def server_running(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port`` and answers ``host:version``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"000chost:version")
            return s.recv(4) == b"OKAY"
    except OSError:
        return False


class AdbServer:
    """A private adb server: ``start()`` on a free port, ``stop()`` kills only that server.

    Attributes:
        port: the server port (``adb -P port``); ``client`` an ``adbutils.AdbClient`` bound to it.
        home: the private HOME / ANDROID_USER_HOME directory (removed by ``stop()``).
    """

    def __init__(self, port: int | None = None) -> None:
        if port is not None and forbidden_port(port):
            raise ValueError(f"adb server port {port} is reserved (5037, 5554-5585); pick another")
        self.port = port or free_port()
        self.home: Path | None = None
        # never adbutils' plain client: on a failed connect it runs `adb start-server` on the default port
        self.client = NoAutostartClient("127.0.0.1", self.port, socket_timeout=ADB_CALL_TIMEOUT_S)
        self._started = False

    @property
    def env(self) -> dict[str, str]:
        """Environment for every adb invocation against this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANDROID_", "ADB_"))}
        home = str(self.home) if self.home else env.get("HOME", "/tmp")
        env.update(HOME=home, ANDROID_USER_HOME=os.path.join(home, ".android"), ADB_EMU="0", ADB_USB="0",
                   ANDROID_ADB_SERVER_PORT=str(self.port))
        return env

    def adb(self, *args: str, timeout: float = ADB_CALL_TIMEOUT_S, check: bool = False,
            text: bool = True) -> subprocess.CompletedProcess[Any]:
        """Run ``adb -P <port> *args`` with a timeout (AdbTimeout) and return the CompletedProcess.

        With ``check=True`` a non-zero exit raises harness.errors.AdbError carrying cmd, rc and output.
        """
        cmd = [adb_binary(), "-P", str(self.port), *args]
        try:
            proc = subprocess.run(cmd, env=self.env, capture_output=True, timeout=timeout, text=text)
        except subprocess.TimeoutExpired as exc:
            raise AdbTimeout(f"`{' '.join(cmd)}` did not finish in {timeout} s", timeout=timeout, cmd=cmd) from exc
        if check and proc.returncode != 0:
            raise AdbError(f"`{' '.join(cmd)}` failed", cmd=cmd, rc=proc.returncode,
                           output=(proc.stdout or "") + (proc.stderr or ""))
        return proc

    def start(self) -> AdbServer:
        """Start the server (``adb -P port start-server``, ~10 ms with ADB_USB=0) and wait until it answers."""
        if self._started:
            return self
        self.home = Path(tempfile.mkdtemp(prefix="vd-adb-home-"))
        (self.home / ".android").mkdir()
        self.adb("start-server", check=True)
        self._started = True
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while not server_running(self.port):
            if time.monotonic() > deadline:
                self.stop()
                raise AdbError(f"adb server on port {self.port} did not answer within {CONNECT_TIMEOUT_S} s",
                               remedy="check that the adbutils adb binary runs on this host")
            time.sleep(STATE_POLL_INTERVAL_S)
        return self

    def stop(self) -> None:
        """Kill this server (``adb -P port kill-server``) and remove its private HOME; idempotent."""
        if self._started:
            self._started = False
            try:
                self.adb("kill-server", timeout=10)
            except AdbTimeout:
                pass
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    def connect(self, serial: str, timeout: float = CONNECT_TIMEOUT_S) -> str:
        """``adb connect serial`` through the host protocol; returns the server's answer text.

        Raises DeviceUnavailable when the answer is not ``connected to``/``already connected``.
        """
        answer = self.client.connect(serial, timeout=timeout)
        if "connected to" not in answer:
            raise DeviceUnavailable(f"adb connect failed: {answer}", serial=serial,
                                    remedy="is the virtual device listening on that port?")
        return answer

    def disconnect(self, serial: str) -> None:
        """``adb disconnect serial`` (errors ignored: the device may already be gone)."""
        try:
            self.client.disconnect(serial)
        except adbutils.AdbError:
            pass

    def state(self, serial: str) -> str:
        """The state the server reports for ``serial``: device, offline, unauthorized, ... or ``absent``."""
        for info in self.client.list(extended=True):
            if info.serial == serial:
                return info.state
        return "absent"

    def wait_state(self, serial: str, states: Iterable[str] = ("device",), timeout: float = CONNECT_TIMEOUT_S) -> str:
        """Poll (every 20 ms, at most ``timeout`` s) until ``serial`` is in one of ``states``; return it.

        Raises AdbTimeout naming the last state seen.
        """
        wanted = set(states)
        deadline = time.monotonic() + timeout
        while True:
            current = self.state(serial)
            if current in wanted:
                return current
            if time.monotonic() > deadline:
                raise AdbTimeout(f"{serial} stayed {current!r}, expected {sorted(wanted)} within {timeout} s",
                                 timeout=timeout, serial=serial)
            time.sleep(STATE_POLL_INTERVAL_S)

    def device(self, serial: str) -> adbutils.AdbDevice:
        """adbutils device object for ``serial`` on this server."""
        return self.client.device(serial)

    def __enter__(self) -> AdbServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Farm:
    """Virtual devices started from image files and connected to an :class:`AdbServer`.

    ``images``: image names (``mi5-cn``), YAML files or directories (see farm.resolve_images). With
    ``wait_state="device"`` (default) ``start()`` returns once every device is ``device`` in ``adb devices``;
    pass ``("unauthorized",)`` for devices that refuse AUTH, or None to skip the wait.
    """

    def __init__(self, images: Sequence[str | os.PathLike[str]], adb_server: AdbServer,
                 wait_state: Iterable[str] | None = ("device",), server: DeviceServer | None = None) -> None:
        self.adb_server = adb_server
        self.vfarm = VirtualFarm(images, server=server)
        self.wait_state = tuple(wait_state) if wait_state is not None else None
        self.connected: list[str] = []

    @property
    def devices(self) -> list[VirtualDevice]:
        """The virtual devices, in image order."""
        return self.vfarm.devices

    @property
    def serials(self) -> list[str]:
        """adb serials (``127.0.0.1:<port>``), in image order."""
        return [d.serial for d in self.devices]

    @property
    def adb_devices(self) -> list[adbutils.AdbDevice]:
        """adbutils device objects on the farm's adb server, in image order."""
        return [self.adb_server.device(s) for s in self.serials]

    def start(self) -> Farm:
        """Start the devices, ``adb connect`` each, wait for ``wait_state``."""
        self.vfarm.start()
        try:
            for dev in self.devices:
                answer = self.adb_server.client.connect(dev.serial, timeout=CONNECT_TIMEOUT_S)
                self.connected.append(dev.serial)
                if "connected to" not in answer and "authenticate" not in answer:
                    raise DeviceUnavailable(f"adb connect failed: {answer}", serial=dev.serial)
            if self.wait_state:
                for serial in self.serials:
                    self.adb_server.wait_state(serial, self.wait_state)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Disconnect the devices this farm connected, then stop serving them."""
        for serial in self.connected:
            self.adb_server.disconnect(serial)
        self.connected.clear()
        self.vfarm.stop()

    def __enter__(self) -> Farm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
