"""Serve many virtual devices from one process: one asyncio loop on a background thread, one TCP port per device.

Each device listens on 127.0.0.1 on a free port chosen by the kernel (ephemeral range), never on 5037 nor on the
emulator ports 5555-5585 that every adb server auto-attaches (notes adb-transport.md §1.10, §4). The adb server
attaches it with ``adb connect 127.0.0.1:<port>``; its serial is then ``127.0.0.1:<port>``.

Typical in-process use::

    with DeviceServer() as server:
        dev = server.add_device(state, name="mi5-cn")
        ...  # adb connect dev.serial; the test may mutate dev.state (take dev.state.lock for compound changes)

Shell commands run synchronously on the loop thread under ``state.lock`` (they are in-memory and take micro- to
milliseconds); a test thread holding that lock for long delays every device of the server, so keep it short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from virtual_device import services
from virtual_device.transport import DeviceConnection, ServiceHandler, make_banner

log = logging.getLogger(__name__)
T = TypeVar("T")

HOST = "127.0.0.1"
ADB_SERVER_DEFAULT_PORT = 5037
EMULATOR_PORTS = range(5554, 5586)  # 5555..5585 are scanned by every adb server; include the console ports


def forbidden_port(port: int) -> bool:
    """True for ports a virtual device or private adb server must never use (5037 and 5554-5585)."""
    return port == ADB_SERVER_DEFAULT_PORT or port in EMULATOR_PORTS


@dataclass(frozen=True)
class Behaviour:
    """Fault injection read from ``image.behaviour`` (vd-interface.md): see services.py for their effect.

    latency_ms: added before each shell/exec answer; offline_after: number of shell/exec commands answered before
    the device drops off (None = never); back_after_s: with offline_after, the device accepts connections again
    this many seconds after the drop (a transient loss, once; None = it stays away); hang_on: substring of a
    command line that is accepted and never answered; refuse_auth: answer CNXN with AUTH tokens forever (adb
    shows ``unauthorized``).
    """

    latency_ms: float = 0.0
    offline_after: int | None = None
    back_after_s: float | None = None
    hang_on: str | None = None
    refuse_auth: bool = False

    @classmethod
    def from_state(cls, state: Any) -> Behaviour:
        """Read ``state.image.behaviour`` (any object with those attributes; missing ones take the defaults)."""
        beh = getattr(getattr(state, "image", None), "behaviour", None)
        if beh is None:
            return cls()
        return cls(latency_ms=float(getattr(beh, "latency_ms", 0) or 0),
                   offline_after=getattr(beh, "offline_after", None),
                   back_after_s=getattr(beh, "back_after_s", None),
                   hang_on=getattr(beh, "hang_on", None) or None,
                   refuse_auth=bool(getattr(beh, "refuse_auth", False)))


class VirtualDevice:
    """One virtual device served on its own TCP port.

    Attributes:
        state: the DeviceState (virtual_device.state) the shell and sync services act on.
        name: image name (or any label).
        port: TCP port on 127.0.0.1 (0 until started); ``serial`` is ``127.0.0.1:<port>`` as adb names it.
        behaviour: the :class:`Behaviour` in force (may be replaced by tests).
        commands: number of shell/exec commands received (offline_after counts these).
        offline: while True the device refuses every connection (it comes back only with ``back_after_s``).
        drops: how many times the device dropped off (``offline_after`` fires once when ``back_after_s`` is set).
        services_log: every OPEN service string received, in order (tests assert on it).
    """

    def __init__(self, state: Any, name: str = "device", behaviour: Behaviour | None = None) -> None:
        self.state = state
        self.name = name
        self.behaviour = behaviour if behaviour is not None else Behaviour.from_state(state)
        self.port = 0
        self.commands = 0
        self.offline = False
        self.drops = 0
        self.services_log: list[str] = []
        self.connections: set[DeviceConnection] = set()
        self._server: asyncio.base_events.Server | None = None

    @property
    def refuse_auth(self) -> bool:
        """True when the device never authorises the host (``unauthorized``)."""
        return self.behaviour.refuse_auth

    @property
    def serial(self) -> str:
        """The serial the adb server gives the device after ``adb connect``: ``127.0.0.1:<port>``."""
        return f"{HOST}:{self.port}"

    @property
    def props(self) -> dict[str, str]:
        """The device's system properties (``state.props``)."""
        return dict(getattr(self.state, "props", {}) or {})

    @property
    def model(self) -> str:
        """``ro.product.model``, or "unknown"."""
        return self.props.get("ro.product.model", "unknown")

    def banner(self) -> bytes:
        """CNXN banner built from the props and the features the transport implements."""
        return make_banner(self.props)

    def open_service(self, service: str) -> ServiceHandler | None:
        """Log ``service`` and return its handler (None = refuse); a device gone offline refuses everything."""
        self.services_log.append(service)
        if self.offline:
            return None
        return services.resolve(self, service)

    def drop_connections(self) -> None:
        """Abort every live TCP connection (the adb server marks the device offline and starts reconnecting)."""
        for conn in list(self.connections):
            conn.drop()

    def go_offline(self) -> None:
        """Drop every connection and refuse all later ones: the device stays ``offline`` (then disappears),
        unless ``behaviour.back_after_s`` brings it back (call on the device's event loop)."""
        self.offline = True
        self.drops += 1
        self.drop_connections()
        if self.behaviour.back_after_s is not None:
            asyncio.get_running_loop().call_later(self.behaviour.back_after_s, self.come_back)

    def come_back(self) -> None:
        """Accept connections again (the adb server reconnects within its retry interval, 0.25 to 3 s)."""
        self.offline = False

    async def _handle_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.offline:
            writer.transport.abort()
            return
        conn = DeviceConnection(self, reader, writer)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:``port`` (0 = a free port outside the adb-reserved ranges)."""
        if port and forbidden_port(port):
            raise ValueError(f"port {port} is reserved for the default adb server or emulators (5037, 5554-5585)")
        for _attempt in range(20):
            server = await asyncio.start_server(self._handle_client, HOST, port)
            chosen = server.sockets[0].getsockname()[1]
            if not forbidden_port(chosen):
                self._server, self.port = server, chosen
                return
            server.close()
        raise OSError("could not find a free port outside 5037/5554-5585")

    async def stop(self) -> None:
        """Stop listening and abort every connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        self.drop_connections()


class DeviceServer:
    """Runs an asyncio loop on a daemon thread and serves any number of :class:`VirtualDevice` on it.

    Thread-safe entry points: ``add_device``, ``remove_device``, ``call``, ``stop``. Use as a context manager.
    """

    def __init__(self) -> None:
        self.devices: list[VirtualDevice] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The background loop (starts the server if needed)."""
        if self._loop is None:
            self.start()
        assert self._loop is not None
        return self._loop

    def start(self) -> DeviceServer:
        """Start the loop thread (idempotent)."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="virtual-device-loop", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("virtual device loop did not start within 10 s")
        self._loop = loop
        return self

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the loop and return its result (TimeoutError after ``timeout`` seconds)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call_soon(self, fn: Any, *args: Any) -> None:
        """Schedule ``fn(*args)`` on the loop thread (for compound state changes from the test thread)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def add_device(self, state: Any, name: str = "device", port: int = 0,
                   behaviour: Behaviour | None = None) -> VirtualDevice:
        """Create a VirtualDevice for ``state`` and start serving it; returns it with ``port`` set."""
        dev = VirtualDevice(state, name=name, behaviour=behaviour)
        self.call(dev.start(port))
        self.devices.append(dev)
        return dev

    def remove_device(self, dev: VirtualDevice) -> None:
        """Stop serving ``dev`` (its connections are aborted)."""
        if dev in self.devices:
            self.devices.remove(dev)
        self.call(dev.stop())

    def go_offline(self, dev: VirtualDevice) -> None:
        """Make ``dev`` drop off now and refuse reconnection (thread-safe wrapper of VirtualDevice.go_offline)."""
        async def _off() -> None:
            dev.go_offline()
        self.call(_off())

    def stop(self) -> None:
        """Stop every device, then the loop and its thread (idempotent)."""
        if self._loop is None:
            return
        for dev in list(self.devices):
            with contextlib.suppress(Exception):
                self.call(dev.stop(), timeout=5)
        self.devices.clear()
        loop, self._loop = self._loop, None

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> DeviceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
