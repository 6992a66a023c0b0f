"""Device (adbd) side of the ADB transport protocol over TCP: packets, handshake, AUTH, streams.

Source of truth: AOSP ``packages/modules/adb`` (``adb.h``, ``adb.cpp``, ``transport.cpp``, ``sockets.cpp``) and the
measurements in ``shared/notes/adb-transport.md`` §1, verified with adb 36.0.0 (bundled in adbutils 2.12.0).

Packet = 24-byte little-endian header ``command, arg0, arg1, data_length, data_check, magic`` + payload.
``data_check`` is the plain byte sum (the host never verifies it); ``magic = command ^ 0xFFFFFFFF`` is checked.
The device answers the host CNXN with its own CNXN (version 0x01000001, max payload 1 MiB) and a banner
``device::ro.product.name=..;ro.product.model=..;ro.product.device=..;features=..`` -- or, when it refuses
authorisation, with ``AUTH(TOKEN)`` forever, which the adb server shows as ``unauthorized``.

Streams: ``OPEN(host_id, 0, "service\\0")`` is accepted with ``OKAY(dev_id, host_id)`` or refused with
``CLSE(0, host_id)``. Flow control is the legacy one: ONE device WRTE in flight per stream until the host's OKAY;
every host WRTE is acknowledged with an OKAY. ``delayed_ack`` is deliberately not advertised (§1.6).

Device-side TCP services (``tcp:<port>``, e.g. the uiautomator2 server on 9008) follow :data:`TcpServiceFactory`:
an ``async def factory(reader, writer) -> None`` called once per host stream, where ``reader`` is a real
:class:`asyncio.StreamReader` (``read``, ``readexactly``, ``readline``, ``readuntil``; ``b""``/IncompleteReadError at
the host's close) and ``writer`` a :class:`StreamWriter` (``write``, ``await drain()``, ``close``,
``await wait_closed()``, ``is_closing``). The stream is closed (CLSE) when the factory returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_AUTH = 0x48545541
A_STLS = 0x534C5453

COMMAND_NAMES = {A_SYNC: "SYNC", A_CNXN: "CNXN", A_OPEN: "OPEN", A_OKAY: "OKAY", A_CLSE: "CLSE", A_WRTE: "WRTE",
                 A_AUTH: "AUTH", A_STLS: "STLS"}

A_VERSION_MIN = 0x01000000
A_VERSION = 0x01000001  # A_VERSION_SKIP_CHECKSUM
MAX_PAYLOAD_V1 = 4096
MAX_PAYLOAD = 1024 * 1024

AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSAPUBLICKEY = 3

#: Features the virtual device implements and advertises (notes §1.8). Never add ``delayed_ack`` (breaks under
#: ADB_BURST_MODE), ``abb``/``abb_exec`` (``adb install`` would use them) nor ``sendrecv_v2*`` (SND2/RCV2).
FEATURES = ("shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir", "apex", "fixed_push_symlink_timestamp",
            "remount_shell", "track_app", "push_sync")

HEADER = struct.Struct("<6I")

#: ``async def factory(reader: asyncio.StreamReader, writer: StreamWriter) -> None`` serving one ``tcp:<port>`` stream.
TcpServiceFactory = Callable[[asyncio.StreamReader, "StreamWriter"], Awaitable[None]]

#: ``async def handler(stream: Stream) -> None`` serving one accepted OPEN; the stream is closed when it returns.
ServiceHandler = Callable[["Stream"], Awaitable[None]]


class ProtocolError(Exception):
    """The host sent bytes that are not a valid ADB packet (bad magic, oversized payload)."""


def pack(command: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    """Encode one packet: 24-byte header (byte-sum checksum, magic) followed by ``data``."""
    return HEADER.pack(command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, command ^ 0xFFFFFFFF) + data


def make_banner(props: dict[str, str], features: tuple[str, ...] = FEATURES) -> bytes:
    """Return the CNXN banner bytes ``device::ro.product.name=N;ro.product.model=M;ro.product.device=D;features=..``.

    The adb server splits it on ``:`` and ``;`` (notes §1.3), so those characters are removed from prop values;
    the result is capped below 4096 bytes like real adbd's banner.
    """
    def clean(v: str) -> str:
        return v.replace(";", "_").replace(":", "_").replace("\0", "")

    parts = [f"{k}={clean(props.get(k, ''))}" for k in ("ro.product.name", "ro.product.model", "ro.product.device")]
    banner = "device::" + ";".join(parts) + ";features=" + ",".join(features)
    return banner.encode()[:4000]


class DeviceEndpoint(Protocol):
    """What a :class:`DeviceConnection` needs from the device it serves (implemented by server.VirtualDevice)."""

    refuse_auth: bool

    def banner(self) -> bytes:
        """CNXN payload."""

    def open_service(self, service: str) -> ServiceHandler | None:
        """Return the handler of ``service`` (the OPEN string without NULs), or None to refuse it."""


class Stream:
    """One accepted adb stream on a :class:`DeviceConnection`.

    Attributes:
        service: the OPEN service string, e.g. ``shell,v2:echo hi``.
        local_id / remote_id: device-side and host-side stream ids.
        reader: asyncio.StreamReader fed with the payload of every host WRTE; EOF when the host closes.
        closed: asyncio.Event set when the host closed the stream or the TCP connection went away.
    """

    def __init__(self, conn: DeviceConnection, local_id: int, remote_id: int, service: str) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self.reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
        self.closed = asyncio.Event()
        self._ready = asyncio.Event()  # set = no WRTE waiting for the host's OKAY
        self._ready.set()
        self._sent_close = False

    @property
    def max_payload(self) -> int:
        """Largest WRTE payload allowed on this connection (bytes)."""
        return self.conn.max_payload

    async def write(self, data: bytes) -> None:
        """Send ``data`` as WRTE packets of at most max_payload bytes, each after the host's OKAY of the previous one.

        Raises ConnectionResetError when the host closed the stream or the connection.
        """
        view = memoryview(data)
        step = self.max_payload
        for off in range(0, len(view), step):
            await self._ready.wait()
            if self.closed.is_set() or self._sent_close:
                raise ConnectionResetError(f"stream {self.service!r} closed by the host")
            self._ready.clear()
            self.conn.send(A_WRTE, self.local_id, self.remote_id, bytes(view[off:off + step]))

    async def write_messages(self, messages: list[bytes]) -> None:
        """Send whole protocol messages, packing several per WRTE but never splitting one across two WRTEs.

        Used by sync: adbutils reads sync headers with a single ``recv`` (notes §4, "adbutils quirks").
        """
        buf = bytearray()
        for msg in messages:
            if buf and len(buf) + len(msg) > self.max_payload:
                await self.write(bytes(buf))
                buf.clear()
            buf += msg
        if buf:
            await self.write(bytes(buf))

    async def close(self) -> None:
        """Wait for the last WRTE's OKAY (bounded), then send CLSE once; a closed stream is left alone."""
        if self._sent_close:
            return
        if not self.closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), 5.0)
        if self._sent_close:
            return
        self._sent_close = True
        if not self.closed.is_set():
            self.conn.send(A_CLSE, self.local_id, self.remote_id)
        self.conn.forget(self)

    # -- called by the connection ------------------------------------------------------------------------------
    def _on_okay(self) -> None:
        self._ready.set()

    def _on_data(self, data: bytes) -> None:
        if not self.reader.at_eof():
            self.reader.feed_data(data)

    def _on_host_close(self) -> None:
        self.closed.set()
        self._ready.set()
        if not self.reader.at_eof():
            self.reader.feed_eof()


class StreamWriter:
    """asyncio.StreamWriter look-alike over a :class:`Stream`, for :data:`TcpServiceFactory` handlers."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._flusher: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._closing = False

    def write(self, data: bytes) -> None:
        """Queue ``data``; it is sent in the background (``await drain()`` to wait for it)."""
        if self._closing:
            raise ConnectionResetError("writer is closed")
        self._buf += data
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    def writelines(self, lines: list[bytes]) -> None:
        """Queue every item of ``lines``."""
        for line in lines:
            self.write(line)

    async def _flush(self) -> None:
        try:
            while self._buf:
                chunk = bytes(self._buf)
                self._buf.clear()
                await self._stream.write(chunk)
        except ConnectionError as exc:
            self._error = exc

    async def drain(self) -> None:
        """Wait until queued data was sent; raises ConnectionResetError if the host closed the stream."""
        while self._flusher is not None and not self._flusher.done():
            await self._flusher
        if self._error is not None:
            raise ConnectionResetError(str(self._error))

    def can_write_eof(self) -> bool:
        """Half-close is not supported by adb streams."""
        return False

    def is_closing(self) -> bool:
        """True after close() or once the host closed the stream."""
        return self._closing or self._stream.closed.is_set()

    def close(self) -> None:
        """Flush queued data, then close the adb stream (CLSE)."""
        self._closing = True
        asyncio.get_running_loop().create_task(self.wait_closed())

    async def wait_closed(self) -> None:
        """Flush and close the adb stream."""
        self._closing = True
        with contextlib.suppress(ConnectionError):
            await self.drain()
        await self._stream.close()

    def get_extra_info(self, name: str, default: object = None) -> object:
        """Only ``peername`` is known (the adb server side of the transport)."""
        if name == "peername":
            return self._stream.conn.peername
        return default


class DeviceConnection:
    """One TCP connection from the adb server to a device: handshake, AUTH, stream table.

    ``run()`` serves until the socket closes; ``drop()`` aborts it (device goes offline mid-command).
    """

    def __init__(self, device: DeviceEndpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.device = device
        self.reader = reader
        self.writer = writer
        self.peername = writer.get_extra_info("peername")
        self.max_payload = MAX_PAYLOAD
        self.version = A_VERSION
        self.online = False
        self.streams: dict[int, Stream] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self._next_id = 1
        self._closed = False

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        """Queue one packet on the socket (no-op once the connection is closed)."""
        if not self._closed:
            self.writer.write(pack(command, arg0, arg1, data))

    def forget(self, stream: Stream) -> None:
        """Remove a closed stream from the table."""
        self.streams.pop(stream.local_id, None)

    def drop(self) -> None:
        """Abort the TCP connection at once (what a device that dies or loses its link looks like to the host)."""
        if not self._closed:
            self._closed = True
            self.writer.transport.abort()
        self._teardown()

    async def run(self) -> None:
        """Read and dispatch packets until the host closes the connection or a protocol error occurs."""
        try:
            while True:
                header = await self.reader.readexactly(HEADER.size)
                command, arg0, arg1, length, _check, magic = HEADER.unpack(header)
                if magic != command ^ 0xFFFFFFFF:
                    raise ProtocolError(f"bad magic {magic:#x} for command {command:#x}")
                if length > MAX_PAYLOAD:
                    raise ProtocolError(f"payload {length} > {MAX_PAYLOAD}")
                data = await self.reader.readexactly(length) if length else b""
                self._dispatch(command, arg0, arg1, data)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except ProtocolError as exc:
            log.warning("dropping connection from %s: %s", self.peername, exc)
        finally:
            self._closed = True
            with contextlib.suppress(Exception):
                self.writer.transport.abort()
            self._teardown()

    def _teardown(self) -> None:
        for stream in list(self.streams.values()):
            stream._on_host_close()
        self.streams.clear()
        for task in list(self.tasks):
            task.cancel()

    def _dispatch(self, command: int, arg0: int, arg1: int, data: bytes) -> None:
        if command == A_CNXN:
            self.version = min(arg0, A_VERSION)
            self.max_payload = max(MAX_PAYLOAD_V1, min(arg1, MAX_PAYLOAD))
            if self.device.refuse_auth:
                self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
            else:
                self.online = True
                self.send(A_CNXN, A_VERSION, MAX_PAYLOAD, self.device.banner())
        elif command == A_AUTH:
            # Only reached when we sent a token (refuse_auth): reject every signature with a fresh token and stay
            # silent after the public key -> the host marks the device "unauthorized" (notes §1.9).
            if self.device.refuse_auth and arg0 == AUTH_SIGNATURE:
                self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
        elif not self.online:
            return  # nothing but CNXN/AUTH before the handshake (real adbd ignores them too)
        elif command == A_OPEN:
            self._open(arg0, data)
        elif command == A_OKAY:
            stream = self.streams.get(arg1)
            if stream is not None:
                stream._on_okay()
        elif command == A_WRTE:
            stream = self.streams.get(arg1)
            if stream is not None:
                stream._on_data(data)
                self.send(A_OKAY, stream.local_id, stream.remote_id)
        elif command == A_CLSE:
            stream = self.streams.pop(arg1, None)
            if stream is not None:
                stream._on_host_close()

    def _open(self, remote_id: int, data: bytes) -> None:
        service = data.rstrip(b"\0").decode("utf-8", "replace")
        try:
            handler = self.device.open_service(service)
        except Exception:  # a bug in a service resolver must not kill the transport
            log.exception("resolving service %r", service)
            handler = None
        if handler is None:
            self.send(A_CLSE, 0, remote_id)
            return
        local_id = self._next_id
        self._next_id += 1
        stream = Stream(self, local_id, remote_id, service)
        self.streams[local_id] = stream
        self.send(A_OKAY, local_id, remote_id)
        task = asyncio.get_running_loop().create_task(self._serve(stream, handler))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, stream: Stream, handler: ServiceHandler) -> None:
        try:
            await handler(stream)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("service %r failed", stream.service)
        finally:
            if not self._closed:
                await stream.close()
