"""adb access: the only module that talks to adbutils.

Layer 1 of the harness (Mobly's "command proxy"): one explicit :class:`adbutils.AdbClient` per adb
server (a farm host given as ``host:port``), no module globals, no implicit "only device".

* Every device command is an argv list; :func:`quote_argv` quotes each argument with
  :func:`shlex.quote`, so no profile value or package name is ever spliced into a shell string.
  Harness-built compound scripts go through :class:`ShellScript`, which only joins quoted commands
  with fixed separators.
* Every call has a timeout (seconds). adbutils applies a socket timeout to each read on the
  connection, including the OKAY that answers the OPEN, so a device that never answers raises
  :class:`~harness.errors.AdbTimeout` instead of hanging (``shared/notes/adb-transport.md`` §4).
* Shell commands use the shell v2 protocol when the device advertises ``shell_v2`` (Android 7+):
  the exit packet proves the output is complete; a stream cut mid-command raises
  :class:`~harness.errors.DeviceUnavailable` rather than returning truncated text. Older devices
  fall back to v1 with adbutils' ``X4EXIT`` marker, whose absence is detected the same way.
* adbutils exceptions are translated into the one hierarchy of :mod:`harness.errors`; nothing here
  raises an adbutils type.
* The harness never kills the adb server, never disconnects devices and never starts a server:
  adbutils would run ``adb start-server`` locally whenever a connection fails (even for a remote
  farm host whose server died mid-run); :class:`NoAutostartClient` connects without that fallback.
"""

from __future__ import annotations

import logging
import shlex
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import adbutils
from adbutils import AdbClient, AdbConnection, AdbDevice
from adbutils.errors import AdbConnectionError
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

from harness.errors import AdbError, AdbServerError, AdbTimeout, DeviceUnavailable, UsageError

DEFAULT_TIMEOUT_S = 30.0
"""Default per-read timeout of a device command, in seconds."""

DEFAULT_SERVER = "127.0.0.1:5037"

_log = logging.getLogger("harness.adb")


@dataclass(frozen=True)
class ServerAddress:
    """An adb server endpoint (``host:port``); the farm host a device is attached to."""

    host: str
    port: int

    @classmethod
    def parse(cls, spec: str) -> ServerAddress:
        """Parse ``host:port``, ``host`` (port 5037) or ``:port`` (localhost).

        Raises :class:`~harness.errors.UsageError` for anything else, naming the option.
        """
        text = spec.strip()
        host, sep, port_text = text.rpartition(":")
        if not sep:
            host, port_text = text, "5037"
        host = host or "127.0.0.1"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536 or not host or any(c.isspace() for c in host):
            raise UsageError(f"--adb-server {spec!r}: expected host:port, e.g. 127.0.0.1:5037 or farm-host-3:5037")
        return cls(host, int(port_text))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DeviceEntry:
    """One line of ``adb devices -l`` as the server reports it (state: device, offline, unauthorized, ...)."""

    serial: str
    state: str
    server: ServerAddress
    model: str | None = None
    product: str | None = None
    device: str | None = None
    transport_id: str | None = None


@dataclass(frozen=True)
class CommandResult:
    """What one device command returned.

    ``command`` is the exact shell text sent; ``exit_code`` the remote exit status; ``stdout`` and
    ``stderr`` decoded as UTF-8 with replacement (v1 shells merge stderr into stdout);
    ``duration_s`` the wall time in seconds.
    """

    command: str
    exit_code: int
    stdout: str
    stderr: str = ""
    duration_s: float = 0.0

    @property
    def output(self) -> str:
        """stdout followed by stderr."""
        return self.stdout + self.stderr


def quote_argv(argv: Sequence[str]) -> str:
    """Join one command's arguments for ``sh -c``, each quoted with :func:`shlex.quote`."""
    if not argv:
        raise ValueError("empty command")
    return " ".join(shlex.quote(str(a)) for a in argv)


@dataclass
class ShellScript:
    """A compound shell command built only from quoted argv lists and fixed harness text.

    ``add(argv)`` appends a quoted command; ``add_raw(text)`` appends harness-owned text (markers such
    as ``echo @@PH:abc:rc:$?``) and refuses anything that is not plain ASCII without quotes, so that
    untrusted values can only enter through :meth:`add`.
    """

    parts: list[str] = field(default_factory=list)

    def add(self, argv: Sequence[str], *, discard_stderr: bool = False) -> ShellScript:
        """Append one command (argv list); ``discard_stderr`` appends ``2>/dev/null`` to it.

        Discarding stderr matters for the ``exec:`` service, whose raw stream carries the command's stderr
        interleaved with its stdout (AOSP ``adb/daemon/shell_service.cpp``: a raw subprocess without the shell
        protocol gets one socket for stdout and stderr): ``dd`` reports its record counts there.
        """
        self.parts.append(quote_argv(argv) + (" 2>/dev/null" if discard_stderr else ""))
        return self

    def add_raw(self, text: str) -> ShellScript:
        """Append harness-owned shell text; raises ValueError on quotes, newlines or non-ASCII."""
        if any(c in text for c in "'\"\n\\`") or not text.isascii():
            raise ValueError(f"raw shell text must be harness-owned constant text: {text!r}")
        self.parts.append(text)
        return self

    def render(self) -> str:
        """The script, commands joined with ``; ``."""
        return "; ".join(self.parts)


@dataclass(frozen=True)
class ExecResult:
    """What one ``exec:`` command returned: ``command`` (the shell text sent), ``data`` (the raw bytes of its
    output stream, stdout and stderr as the device merged them; no exit code exists for ``exec:``) and
    ``duration_s`` (wall time in seconds)."""

    command: str
    data: bytes
    duration_s: float = 0.0


DEFAULT_EXEC_MAX_BYTES = 64 * 1024 * 1024
"""Default cap on the bytes one ``exec:`` call may return (a runaway command cannot fill the host's memory)."""


class NoAutostartConnection(AdbConnection):
    """An adbutils connection that never runs ``adb start-server``.

    adbutils 2.12.0 answers any failed connect by running ``adb start-server`` on the LOCAL default
    port (5037) and trying again (``AdbConnection._safe_connect``). For a farm host whose server died,
    that would start a stray local server and point the harness at the wrong devices. Here a failed
    connect raises (adbutils' AdbTimeout / AdbConnectionError), which :func:`_translate` reports.
    """

    def _safe_connect(self) -> socket.socket:
        return self._create_socket()

    def close(self) -> None:
        """Close without adbutils' fixed 10 ms sleep after ``shutdown(SHUT_WR)``.

        The harness reads every answer to its end (the shell v2 exit packet, a host reply) before closing, so
        nothing is left for the sleep to let through; the sleep was two thirds of a device round trip on a
        fast link (issue: farm-scale runs).
        """
        sock = self._AdbConnection__conn  # type: ignore[attr-defined]  # adbutils keeps it name-mangled
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        sock.close()
        self._AdbConnection__conn = None


class NoAutostartClient(AdbClient):
    """:class:`adbutils.AdbClient` whose connections never start a server (:class:`NoAutostartConnection`).

    Use it for every adb server the harness or its tools talk to.
    """

    def __init__(self, host: str, port: int, socket_timeout: float | None = None) -> None:
        super().__init__(host=host, port=port, socket_timeout=socket_timeout)
        self._default_timeout = socket_timeout

    def make_connection(self, timeout: float | None = None) -> AdbConnection:
        """A connection to the server with ``timeout`` (s) on every read; raises instead of starting a server."""
        conn = NoAutostartConnection(self.host, self.port)
        timeout = timeout or self._default_timeout
        if timeout:
            conn.conn.settimeout(timeout)
        return conn


def _translate(exc: BaseException, *, serial: str | None, command: str, timeout: float) -> Exception:
    """Map an adbutils / socket exception to the harness hierarchy."""
    text = str(exc).strip() or exc.__class__.__name__
    if isinstance(exc, (adbutils.AdbTimeout, socket.timeout, TimeoutError)):
        return AdbTimeout(f"no answer within {timeout:g} s to `{command}`", serial=serial, cmd=command,
                          timeout=timeout, remedy="check that the device is responsive (screen, adbd); rerun")
    low = text.lower()
    if isinstance(exc, AdbConnectionError) or "connect to adb server" in low:
        return DeviceUnavailable(f"the adb server stopped answering ({text})", serial=serial,
                                 remedy="check the farm host's adb server (is it running and reachable?) and rerun")
    if "unauthorized" in low:
        return DeviceUnavailable("device is unauthorized", serial=serial,
                                 remedy="accept the USB debugging prompt on the device (or add this host's adbkey)")
    if "offline" in low:
        return DeviceUnavailable("device is offline", serial=serial,
                                 remedy="reconnect the device (cable, `adb connect`) and rerun")
    if "not found" in low and "device" in low:
        return DeviceUnavailable("device is no longer attached to the adb server", serial=serial,
                                 remedy="reattach or reconnect it and rerun")
    if isinstance(exc, (EOFError, ConnectionError, OSError)) or "closed" in low or "shell output invalid" in low:
        return DeviceUnavailable(f"connection lost during `{command}` ({text})", serial=serial,
                                 remedy="the device went away mid-command; check the link and rerun")
    return AdbError(text, serial=serial, cmd=command)


class DeviceLink:
    """adb access to one device on one server (layer 1): run commands, read screenshots.

    Build it with :meth:`AdbServerLink.device`. Thread-safe as far as adbutils is (each call opens
    its own connection to the adb server). ``round_trips`` counts device commands sent.
    """

    def __init__(self, client: AdbClient, serial: str, server: ServerAddress,
                 *, default_timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.serial = serial
        self.server = server
        self.default_timeout = default_timeout
        self.round_trips = 0
        self._client = client
        self._device = AdbDevice(client, serial=serial)
        self._log = logging.getLogger(f"harness.device.{serial}")

    @property
    def adbutils_device(self) -> AdbDevice:
        """The explicit adbutils device (for uiautomator2, which must never use adbutils' globals)."""
        return self._device

    def state(self, timeout: float = 10.0) -> str:
        """``device``, ``offline``, ``unauthorized``... as the adb server sees it; raises DeviceUnavailable if gone."""
        try:
            with self._client.make_connection(timeout=timeout) as c:
                c.send_command(f"host-serial:{self.serial}:get-state")
                c.check_okay()
                return c.read_string_block()
        except Exception as exc:  # noqa: BLE001 - translated below
            raise _translate(exc, serial=self.serial, command="get-state", timeout=timeout) from None

    def wait_for_device(self, timeout: float) -> float | None:
        """Wait until the adb server lists this device in state ``device`` again (``adb wait-for-device``).

        Polls ``host-serial:<serial>:get-state`` with a backoff from 0.25 s to 2 s (tenacity), each poll bounded
        by its own timeout. Returns the seconds waited, or None when the device was not back within ``timeout``
        seconds. Never raises for an absent or offline device; that is what it waits through.
        """
        start = time.monotonic()

        def poll() -> str:
            try:
                return self.state(timeout=min(5.0, max(0.5, timeout)))
            except (DeviceUnavailable, AdbError) as exc:
                return f"unavailable: {exc}"

        retrying = Retrying(stop=stop_after_delay(max(0.0, timeout)),
                            wait=wait_exponential(multiplier=0.25, min=0.25, max=2.0),
                            retry=retry_if_result(lambda state: state != "device"), reraise=True)
        try:
            retrying(poll)
        except RetryError:
            return None
        return time.monotonic() - start

    def shell(self, argv: Sequence[str] | ShellScript, *, timeout: float | None = None) -> CommandResult:
        """Run one command (argv list, each argument quoted) or a :class:`ShellScript`.

        Returns a :class:`CommandResult`; a non-zero exit code is not an error here (callers decide).
        Raises :class:`~harness.errors.AdbTimeout` (no answer within ``timeout`` s between reads),
        :class:`~harness.errors.DeviceUnavailable` (offline, unauthorized, gone, stream cut) or
        :class:`~harness.errors.AdbError`.
        """
        command = argv.render() if isinstance(argv, ShellScript) else quote_argv(argv)
        timeout = self.default_timeout if timeout is None else timeout
        start = time.monotonic()
        self.round_trips += 1
        try:
            ret = self._device.shell2(command, timeout=timeout, rstrip=False, v2=True)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a harness error
            err = _translate(exc, serial=self.serial, command=command[:200], timeout=timeout)
            self._log.warning("%s -> %s", command[:200], err)
            raise err from None
        duration = time.monotonic() - start
        stdout = ret.stdout if (ret.stdout or ret.stderr) else ret.output
        result = CommandResult(command=command, exit_code=ret.returncode, stdout=stdout, stderr=ret.stderr,
                               duration_s=duration)
        self._log.debug("%s -> rc=%s %d bytes in %.3f s", command[:200], ret.returncode, len(result.output), duration)
        return result

    def exec_out(self, argv: Sequence[str] | ShellScript, *, timeout: float | None = None,
                 max_bytes: int = DEFAULT_EXEC_MAX_BYTES) -> ExecResult:
        """Run one command (argv list, each argument quoted) or a :class:`ShellScript` through the ``exec:``
        service (``adb exec-out``) and return its raw output bytes: binary-safe, no PTY, no CRLF translation.

        The stream carries stdout and stderr merged and no exit code (AOSP ``adb/daemon/shell_service.cpp``,
        raw subprocess without the shell protocol), and a stream cut short looks like a normal end: callers
        frame their output with markers (and ``discard_stderr``) to tell a complete answer from a cut one.
        Output is read in 64 KiB chunks into a list (adbutils' ``read_until_close`` concatenates quadratically).

        Args:
            argv: the command, or a script built from quoted commands.
            timeout: seconds allowed for the device to answer the OPEN and between two reads (default: the
                link's ``default_timeout``).
            max_bytes: more output than this raises :class:`~harness.errors.AdbError` (bytes).

        Raises:
            AdbTimeout: no data within ``timeout`` seconds. DeviceUnavailable: offline, unauthorized, gone.
            AdbError: the device refused the service, or the output exceeded ``max_bytes``.
        """
        command = argv.render() if isinstance(argv, ShellScript) else quote_argv(argv)
        timeout = self.default_timeout if timeout is None else timeout
        start = time.monotonic()
        self.round_trips += 1
        chunks: list[bytes] = []
        total = 0
        try:
            conn = self._device.open_transport(timeout=timeout)
            try:
                conn.send_command("exec:" + command)
                conn.check_okay()
                while True:
                    chunk = conn.conn.recv(65536)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > max_bytes:
                        raise AdbError(f"`exec:` output exceeded {max_bytes} bytes", serial=self.serial,
                                       cmd=command[:200], remedy="the command printed far more than expected")
                    chunks.append(chunk)
            finally:
                conn.close()
        except AdbError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes a harness error
            err = _translate(exc, serial=self.serial, command=command[:200], timeout=timeout)
            self._log.warning("exec %s -> %s", command[:200], err)
            raise err from None
        duration = time.monotonic() - start
        self._log.debug("exec %s -> %d bytes in %.3f s", command[:200], total, duration)
        return ExecResult(command=command, data=b"".join(chunks), duration_s=duration)

    def screencap_png(self, timeout: float = 20.0) -> bytes:
        """The current screen as PNG bytes (``screencap -p`` over a v1 shell: binary-safe since Android 7).

        Raises :class:`~harness.errors.AdbError` when the bytes are not a PNG.
        """
        self.round_trips += 1
        try:
            data = self._device.shell(["screencap", "-p"], timeout=timeout, encoding=None)
        except Exception as exc:  # noqa: BLE001
            raise _translate(exc, serial=self.serial, command="screencap -p", timeout=timeout) from None
        if not isinstance(data, bytes) or not data.startswith(b"\x89PNG\r\n\x1a\n"):
            raise AdbError("screencap -p did not return a PNG", serial=self.serial, cmd="screencap -p",
                           output=repr(bytes(data[:40])) if data else "")
        return data


class AdbServerLink:
    """One adb server (a farm host) reached through its own explicit :class:`adbutils.AdbClient`."""

    def __init__(self, address: ServerAddress, *, timeout: float = 10.0,
                 command_timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.address = address
        self.timeout = timeout
        self.command_timeout = command_timeout
        self._client = NoAutostartClient(address.host, address.port, socket_timeout=timeout)

    def probe(self) -> None:
        """Raise :class:`~harness.errors.AdbServerError` unless something listens at the address.

        Done with a plain socket so that adbutils never starts a local server as a side effect.
        """
        try:
            with socket.create_connection((self.address.host, self.address.port), timeout=self.timeout):
                pass
        except OSError as exc:
            raise AdbServerError(
                f"no adb server at {self.address} ({exc.strerror or exc})",
                remedy="start it there (`adb start-server`, or `adb -a nodaemon server` on a farm host) "
                       "or fix --adb-server") from None

    def devices(self) -> list[DeviceEntry]:
        """All devices the server lists (``host:devices-l``), in every state, sorted by serial."""
        self.probe()
        try:
            infos = self._client.list(extended=True)
        except Exception as exc:  # noqa: BLE001
            raise AdbServerError(f"adb server {self.address} did not list devices: {exc}") from None
        out = [DeviceEntry(serial=i.serial, state=i.state, server=self.address, model=i.tags.get("model"),
                           product=i.tags.get("product"), device=i.tags.get("device"),
                           transport_id=i.tags.get("transport_id")) for i in infos]
        return sorted(out, key=lambda e: e.serial)

    def device(self, serial: str) -> DeviceLink:
        """A :class:`DeviceLink` for ``serial`` on this server (no round trip)."""
        return DeviceLink(self._client, serial, self.address, default_timeout=self.command_timeout)


def servers_from_specs(specs: Iterable[str] | None, *,
                       command_timeout: float = DEFAULT_TIMEOUT_S) -> list[AdbServerLink]:
    """One :class:`AdbServerLink` per ``--adb-server`` value (default: the local server), duplicates removed."""
    addresses: list[ServerAddress] = []
    for spec in list(specs or []) or [DEFAULT_SERVER]:
        addr = ServerAddress.parse(spec)
        if addr not in addresses:
            addresses.append(addr)
    return [AdbServerLink(a, command_timeout=command_timeout) for a in addresses]
