"""uiautomator2 for one device, with deadlines that are actually enforced.

uiautomator2 3.7.1 ignores its own HTTP timeouts: every adb socket it opens keeps adbutils' 600 s default
(the ``u2.jar`` push has no timeout at all), ``connect()`` has no timeout, and a failed RPC triggers a stop
(up to 10 s) + restart + one retry (notes ``uiautomator2-device-needs.md`` §1.5, §5.1). This module:

* drives uiautomator2 only through an explicit adbutils device built on the harness's own
  :class:`adbutils.AdbClient` (never ``adbutils.adb`` globals): ``u2.connect(<that device>)``;
* caps the per-read timeout of every socket uiautomator2 opens through that device (``tcp:9008`` requests,
  the ``sync:`` push, its shell calls) with :class:`_DeadlineAdbDevice`; only the long-lived
  ``app_process`` server stream is left open-ended, as it must stay open while the server runs;
* runs every call in a per-device worker thread and waits at most a hard deadline for it; a call that
  overruns raises :class:`~harness.errors.LaunchInfraError` and the driver refuses later calls (the stuck
  worker ends by its socket timeout) until :meth:`UiDriver.reset`;
* translates every failure: the device gone from adb → :class:`~harness.errors.DeviceUnavailable` (and the
  :class:`~harness.device.Device` is marked gone); anything else (server won't start, ``already registered``,
  RPC errors) → :class:`~harness.errors.LaunchInfraError`. Nothing here raises a uiautomator2 or adbutils type.

One :class:`UiDriver` per device per session (``harness.plugin.launch_fixtures`` keeps them); it connects
lazily on the first call and :meth:`close` stops the server stream this process started.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, TypeVar

import adbutils

from harness.errors import DeviceError, DeviceUnavailable, LaunchInfraError

if TYPE_CHECKING:
    from harness.device import Device

T = TypeVar("T")

CONNECT_DEADLINE_S = 90.0
"""Hard limit of ``u2.connect`` (md5 check, 3.7 MB push, ``app_process`` start, up to 30 s readiness wait)."""
RPC_DEADLINE_S = 20.0
"""Hard limit of one ordinary RPC (hierarchy dump, screenshot, key press) including u2's own retry."""
SOCKET_TIMEOUT_S = 15.0
"""Per-read timeout applied to every socket uiautomator2 opens (instead of adbutils' 600 s / none)."""

_log = logging.getLogger("harness.uidriver")


class _DeadlineAdbDevice(adbutils.AdbDevice):
    """An :class:`adbutils.AdbDevice` whose sockets never wait longer than ``cap`` seconds per read.

    ``shell(..., stream=True)`` (uiautomator2's ``app_process`` launch) keeps an unbounded socket: that stream
    is the server's lifetime, not a request.
    """

    def __init__(self, client: adbutils.AdbClient, serial: str, cap: float) -> None:
        super().__init__(client, serial=serial)
        self.cap = cap
        self._local = threading.local()

    def open_transport(self, command: str | None = None, timeout: float | None = None) -> Any:  # noqa: D102
        if getattr(self._local, "uncapped", False):
            return super().open_transport(command, timeout=None)
        capped = self.cap if timeout is None else min(float(timeout), self.cap)
        return super().open_transport(command, timeout=capped)

    def shell(self, cmdargs: Any, stream: bool = False, timeout: float | None = None,  # noqa: D102
              encoding: str | None = "utf-8", rstrip: bool = True) -> Any:
        if stream:
            self._local.uncapped = True
            try:
                return super().shell(cmdargs, stream=True, timeout=None, encoding=encoding, rstrip=rstrip)
            finally:
                self._local.uncapped = False
        return super().shell(cmdargs, stream=False, timeout=timeout or self.cap, encoding=encoding, rstrip=rstrip)


class UiDriver:
    """uiautomator2 on one :class:`~harness.device.Device`, every call bounded by a deadline.

    Args:
        device: the device (its ``link.adbutils_device`` supplies the adb client and serial).
        connect_deadline: seconds allowed for the first ``u2.connect`` (push + server start).
        rpc_deadline: default seconds allowed per call.
        socket_timeout: per-read cap of uiautomator2's sockets.

    Attributes:
        connect_s: how long the connect took (seconds), once connected.
    """

    def __init__(self, device: Device, *, connect_deadline: float = CONNECT_DEADLINE_S,
                 rpc_deadline: float = RPC_DEADLINE_S, socket_timeout: float = SOCKET_TIMEOUT_S) -> None:
        self.device = device
        self.serial = device.serial
        self.connect_deadline = connect_deadline
        self.rpc_deadline = rpc_deadline
        self.socket_timeout = socket_timeout
        self.connect_s: float | None = None
        self._u2: Any = None
        self._dev: _DeadlineAdbDevice | None = None
        self._stuck: str | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"u2-{self.serial}")

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _adb_device(self) -> _DeadlineAdbDevice:
        base = self.device.link.adbutils_device
        return _DeadlineAdbDevice(base._client, base.serial, self.socket_timeout)  # noqa: SLF001 - same client

    def _fail(self, what: str, exc: BaseException) -> DeviceError:
        """The harness error for a failed call: DeviceUnavailable when the device left adb, else LaunchInfraError."""
        if isinstance(exc, DeviceError):
            return exc
        if self.device.gone is not None:
            return self.device.gone
        try:
            state = self.device.link.state(timeout=5.0)
        except DeviceUnavailable as gone:
            state, err = "gone", gone
        except DeviceError:
            state, err = "unknown", None
        else:
            err = None
        if state not in ("device", "unknown"):
            gone = err or DeviceUnavailable(f"device went {state} during uiautomator2 {what}", serial=self.serial,
                                            remedy="reconnect the device and rerun")
            self.device.gone = gone
            return gone
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:400]
        return LaunchInfraError(f"uiautomator2 {what} failed: {detail}", serial=self.serial,
                                remedy="check the uiautomator2 server on the device (another UiAutomation client "
                                       "such as Appium or a second harness process?); rerun")

    def _call(self, what: str, fn: Callable[[], T], deadline: float) -> T:
        """Run ``fn`` on the worker thread; raise LaunchInfraError after ``deadline`` seconds."""
        self.device.check_reachable()
        if self._stuck is not None:
            raise LaunchInfraError(f"uiautomator2 is unusable on this device: an earlier call ({self._stuck}) hung",
                                   serial=self.serial, remedy="restart the device's uiautomator2 server; rerun")
        future: Future[T] = self._pool.submit(fn)
        try:
            return future.result(timeout=deadline)
        except FutureTimeout:
            self._stuck = what
            raise self._fail(what, TimeoutError(f"no answer within {deadline:g} s")) from None
        except Exception as exc:  # noqa: BLE001 - every library failure becomes a harness error
            raise self._fail(what, exc) from None

    def _client(self) -> Any:
        with self._lock:
            if self._u2 is None:
                import uiautomator2 as u2

                start = time.monotonic()
                dev = self._dev = self._adb_device()
                self._u2 = self._call("connect", lambda: u2.connect(dev), self.connect_deadline)
                self.connect_s = time.monotonic() - start
                _log.info("[%s] uiautomator2 connected in %.2f s", self.serial, self.connect_s)
            return self._u2

    # -- API ---------------------------------------------------------------------------------------------------
    def connect(self) -> None:
        """Connect now (push ``u2.jar`` if needed, start the server). Raises LaunchInfraError / DeviceUnavailable."""
        self._client()

    def info(self) -> dict[str, Any]:
        """``deviceInfo``: ``currentPackageName`` (``android`` while a system dialog is in front), display size..."""
        d = self._client()
        return self._call("deviceInfo", lambda: dict(d.info), self.rpc_deadline)

    def hierarchy(self) -> str:
        """The window hierarchy XML (all windows). Raises LaunchInfraError when the dump is empty."""
        d = self._client()
        xml = self._call("dumpWindowHierarchy", lambda: d.jsonrpc.dumpWindowHierarchy(False, 50), self.rpc_deadline)
        if not xml or "<node" not in xml:
            raise LaunchInfraError("uiautomator2 returned an empty window hierarchy", serial=self.serial,
                                   remedy="wake and unlock the device; rerun")
        return str(xml)

    def screenshot_jpeg(self) -> bytes:
        """The screen as JPEG bytes (``takeScreenshot(1, 80)``). Raises LaunchInfraError when no image comes back."""
        d = self._client()
        data = self._call("takeScreenshot", lambda: d.jsonrpc.takeScreenshot(1, 80), self.rpc_deadline)
        try:
            raw = base64.b64decode(data or b"")
        except (binascii.Error, ValueError, TypeError):
            raw = b""
        if not raw.startswith(b"\xff\xd8"):
            raise LaunchInfraError("uiautomator2 takeScreenshot returned no JPEG image", serial=self.serial)
        return raw

    def wait_for(self, *, text: str | None = None, resource_id: str | None = None, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` seconds for a node with ``text`` and/or ``resource_id`` (``waitForExists``)."""
        if text is None and resource_id is None:
            raise ValueError("wait_for needs text or resource_id")
        d = self._client()
        kwargs = {k: v for k, v in (("text", text), ("resourceId", resource_id)) if v is not None}
        dev = self._dev

        def wait() -> bool:  # the server blocks up to `timeout`: the socket must wait longer than that
            assert dev is not None
            dev.cap = timeout + self.socket_timeout
            try:
                return bool(d(**kwargs).wait(timeout=timeout))
            finally:
                dev.cap = self.socket_timeout

        return self._call("waitForExists", wait, timeout + self.rpc_deadline)

    def exists(self, *, text: str | None = None, resource_id: str | None = None) -> bool:
        """Whether such a node is on screen now (``exist``)."""
        d = self._client()
        kwargs = {k: v for k, v in (("text", text), ("resourceId", resource_id)) if v is not None}
        return bool(self._call("exist", lambda: d(**kwargs).exists, self.rpc_deadline))

    def wait_selector(self, selector: dict[str, Any], *, timeout: float = 5.0, gone: bool = False) -> bool:
        """Wait up to ``timeout`` seconds until a node matching the uiautomator2 ``selector`` (e.g.
        ``{"resourceIdMatches": ".*:id/workspace"}``) is on screen (``waitForExists``), or with ``gone`` until none
        is (``waitUntilGone``). Returns whether that happened in time."""
        d = self._client()
        dev = self._dev

        def wait() -> bool:  # the server blocks up to `timeout`: the socket must wait longer than that
            assert dev is not None
            dev.cap = timeout + self.socket_timeout
            try:
                obj = d(**selector)
                return bool(obj.wait_gone(timeout=timeout) if gone else obj.wait(timeout=timeout))
            finally:
                dev.cap = self.socket_timeout

        return self._call("waitUntilGone" if gone else "waitForExists", wait, timeout + self.rpc_deadline)

    def click(self, x: int, y: int) -> None:
        """Tap the screen at ``(x, y)`` pixels (``click``). Coordinates must be >= 1 (uiautomator2 reads smaller
        values as fractions of the screen)."""
        d = self._client()
        self._call(f"click {x},{y}", lambda: d.click(max(1, int(x)), max(1, int(y))), self.rpc_deadline)

    def swipe(self, start: tuple[int, int], end: tuple[int, int], *, duration_s: float = 0.1) -> None:
        """Swipe from ``start`` to ``end`` (pixels, >= 1) in ``duration_s`` seconds (``swipe`` with 200 steps/s)."""
        d = self._client()
        (sx, sy), (ex, ey) = ((max(1, int(a)), max(1, int(b))) for a, b in (start, end))
        self._call(f"swipe {sx},{sy}->{ex},{ey}", lambda: d.swipe(sx, sy, ex, ey, duration=duration_s),
                   self.rpc_deadline)

    def press(self, key: str) -> None:
        """``pressKey`` (``back``, ``home`` ...)."""
        d = self._client()
        self._call(f"pressKey {key}", lambda: d.press(key), self.rpc_deadline)

    def reset(self) -> None:
        """Forget the connection (and a hung call) so the next call connects again."""
        with self._lock:
            self._stuck = None
            self._u2 = None
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"u2-{self.serial}")

    def close(self) -> None:
        """Stop the server stream this process started (if any) and the worker thread; never raises."""
        u2dev, self._u2 = self._u2, None
        if u2dev is not None and self._stuck is None:
            try:
                self._pool.submit(lambda: u2dev.stop_uiautomator(wait=False)).result(timeout=5.0)
            except Exception as exc:  # noqa: BLE001 - teardown must not raise
                _log.debug("[%s] stop_uiautomator: %s", self.serial, exc)
        self._pool.shutdown(wait=False, cancel_futures=True)
