"""Services a virtual device serves on an accepted OPEN: shell (v1, v2), exec, sync, tcp, root, reboot.

Service strings are those the real adb server forwards (notes adb-transport.md §1.5, §3):

* ``shell:<cmd>`` -- protocol v1: stdout and stderr merged in emission order, no exit code, end = CLSE.
* ``shell,v2[,TERM=..][,raw|pty]:<cmd>`` -- protocol v2 (AOSP ``shell_protocol.h``): packets ``id u8 | len u32le |
  data`` with ids 1 stdout, 2 stderr, 3 exit (one byte); host packets 0 stdin, 4 close-stdin, 5 window-size are
  accepted (OKAYed by the transport) and ignored.
* ``exec:<cmd>`` -- raw stdout only (``adb exec-out``).
* ``sync:`` -- file sync (AOSP ``file_sync_protocol.h``), parsed as a byte stream: STAT, LIST, SEND, RECV, STA2,
  LST2, LIS2, QUIT; each reply is one whole message per WRTE (several may share one WRTE, none is split).
* ``tcp:<port>`` -- a device-side TCP service registered in ``state.tcp_services`` (see transport.TcpServiceFactory);
  unregistered ports are refused with ``CLSE(0, id)``.
* ``root:`` / ``reboot:`` -- canned answers; reboot drops the transport, the adb server reconnects by itself.

Shell and exec commands are executed by ``virtual_device.shell.run(state, cmdline) -> ShellResult`` (helper
VD-shell). Long-running commands (uiautomator2's ``app_process``): if ``ShellResult.keep_open`` is an async callable,
it is awaited after the chunks were sent as ``await result.keep_open(io)`` with a :class:`ShellIO`; the stream
stays open until it returns (or the host closes the stream, which sets ``io.closed``); its return value, if an int,
replaces the exit code.

Device behaviours (``image.behaviour``) are applied here, per shell/exec command: ``latency_ms`` before the answer,
``hang_on`` (accept, never answer), ``offline_after`` (the N+1-th command gets half its output, then the device drops
the TCP connection and refuses every reconnection; with ``back_after_s`` it accepts connections again that many
seconds later, and does not drop a second time).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import posixpath
import re
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from virtual_device.transport import ServiceHandler, Stream, StreamWriter

if TYPE_CHECKING:
    from virtual_device.server import VirtualDevice

log = logging.getLogger(__name__)

SHELL_RE = re.compile(r"^shell(?:,(?P<args>[^:]*))?:(?P<cmd>.*)\Z", re.S)

# shell protocol v2 packet ids (AOSP shell_protocol.h)
ID_STDIN, ID_STDOUT, ID_STDERR, ID_EXIT, ID_CLOSE_STDIN, ID_WINDOW_SIZE = range(6)

SYNC_DATA_MAX = 64 * 1024
SYNC_PATH_MAX = 1024
STAT_V1 = struct.Struct("<4sIII")  # id, mode, size, mtime
DENT_V1 = struct.Struct("<4sIIII")  # id, mode, size, mtime, namelen
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")  # id, error, dev, ino, mode, nlink, uid, gid, size, atime, mtime, ctime
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")  # STAT_V2 fields + namelen
REQ = struct.Struct("<4sI")


@dataclass
class ShellIO:
    """Handed to ``ShellResult.keep_open``: ``await write(fd, data)`` sends output (fd 1 stdout, 2 stderr), ``closed``
    is set when the host closes the stream; ``stdin`` is an asyncio.StreamReader of what the host sent (v2 stdin
    packet payloads for v2, raw bytes for v1)."""

    write: Callable[[int, bytes], Awaitable[None]]
    closed: asyncio.Event
    stdin: asyncio.StreamReader | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def resolve(device: VirtualDevice, service: str) -> ServiceHandler | None:
    """Return the handler for OPEN ``service`` on ``device``, or None to refuse it (CLSE(0, id))."""
    m = SHELL_RE.match(service)
    if m:
        args = (m.group("args") or "").split(",")
        cmd = m.group("cmd")
        if "v2" in args:
            return lambda stream: shell_v2(device, stream, cmd)
        return lambda stream: shell_v1(device, stream, cmd)
    if service.startswith("exec:"):
        cmd = service[len("exec:"):]
        return lambda stream: exec_service(device, stream, cmd)
    if service == "sync:":
        return lambda stream: sync_service(device, stream)
    if service.startswith("tcp:"):
        port_text = service[len("tcp:"):].split(":")[-1]
        if not port_text.isdigit():
            return None
        factory = device.state.tcp_services.get(int(port_text))
        if factory is None:
            return None
        return lambda stream: tcp_service(stream, factory)
    if service == "root:":
        return lambda stream: stream.write(b"adbd is already running as root\n")
    if service.startswith("reboot:"):
        return lambda stream: reboot_service(device, stream)
    return None


# -- shell / exec ------------------------------------------------------------------------------------------------
async def _execute(device: VirtualDevice, stream: Stream, cmdline: str,
                   encode: Callable[[Any], bytes]) -> Any | None:
    """Apply behaviours and run ``cmdline``; None means "no answer will come" (hang or dropped connection).

    ``encode(result)`` gives the bytes the service would send; offline_after sends the first half of them.
    """
    from virtual_device import shell as vshell  # VD-shell's interpreter; imported late to keep layers loose

    device.commands += 1
    with contextlib.suppress(AttributeError, TypeError):
        device.state.commands_run += 1
    beh = device.behaviour
    if beh.hang_on and beh.hang_on in cmdline:
        await stream.closed.wait()
        return None
    if beh.latency_ms:
        await asyncio.sleep(beh.latency_ms / 1000.0)
    try:
        with device.state.lock:
            result = vshell.run(device.state, cmdline)
    except Exception as exc:  # report interpreter bugs to the client instead of hanging it
        log.exception("shell.run(%r) failed", cmdline)
        return _Fallback([(2, f"virtual_device: internal error: {exc!r}\n".encode())], 255)
    transient_done = beh.back_after_s is not None and device.drops > 0
    if beh.offline_after is not None and device.commands > beh.offline_after and not transient_done:
        out = encode(result)
        with contextlib.suppress(ConnectionError):
            if len(out) > 1:
                await stream.write(out[: len(out) // 2])
                await stream._ready.wait()
        device.go_offline()
        return None
    return result


@dataclass
class _Fallback:
    chunks: list[tuple[int, bytes]]
    exit_code: int


async def _hold(result: Any, stream: Stream, write: Callable[[int, bytes], Awaitable[None]],
                stdin: asyncio.StreamReader | None = None) -> int:
    hold = getattr(result, "keep_open", None)
    code = int(result.exit_code)
    if callable(hold):
        ret = await hold(ShellIO(write=write, closed=stream.closed, stdin=stdin or stream.reader))
        if isinstance(ret, int):
            code = ret
    return code


async def shell_v1(device: VirtualDevice, stream: Stream, cmdline: str) -> None:
    """``shell:<cmd>``: write stdout+stderr merged in order; the caller's CLSE marks the end (no exit code)."""
    await _raw_service(device, stream, cmdline, stdout_only=False)


async def _raw_service(device: VirtualDevice, stream: Stream, cmdline: str, *, stdout_only: bool) -> None:
    """The raw (unframed) services: ``shell:`` (stdout+stderr merged) and ``exec:`` (stdout only)."""
    select = _stdout if stdout_only else _merged
    result = await _execute(device, stream, cmdline, select)
    if result is None:
        return
    out = select(result)
    if out:
        await stream.write(out)

    async def write(fd: int, data: bytes) -> None:
        if fd == 1 or not stdout_only:
            await stream.write(data)

    await _hold(result, stream, write)


def _merged(result: Any) -> bytes:
    return b"".join(data for _fd, data in result.chunks)


def _stdout(result: Any) -> bytes:
    return b"".join(data for fd, data in result.chunks if fd == 1)


def _v2_output(result: Any) -> bytes:
    return b"".join(v2_packet(ID_STDERR if fd == 2 else ID_STDOUT, data) for fd, data in result.chunks if data)


def v2_packet(packet_id: int, data: bytes) -> bytes:
    """Encode one shell-protocol-v2 packet ``id u8 | len u32le | data``."""
    return struct.pack("<BI", packet_id, len(data)) + data


async def shell_v2(device: VirtualDevice, stream: Stream, cmdline: str) -> None:
    """``shell,v2:<cmd>``: stdout/stderr packets in order, then the exit packet."""
    stdin = asyncio.StreamReader()
    drain = asyncio.get_running_loop().create_task(_v2_stdin(stream, stdin))
    try:
        result = await _execute(device, stream, cmdline, _v2_output)
        if result is None:
            return
        out = _v2_output(result)

        async def write(fd: int, data: bytes) -> None:
            await stream.write(v2_packet(ID_STDERR if fd == 2 else ID_STDOUT, data))

        if not callable(getattr(result, "keep_open", None)):
            await stream.write(out + v2_packet(ID_EXIT, bytes([result.exit_code & 0xFF])))
            return
        if out:
            await stream.write(out)
        code = await _hold(result, stream, write, stdin)
        await stream.write(v2_packet(ID_EXIT, bytes([code & 0xFF])))
    finally:
        drain.cancel()


async def _v2_stdin(stream: Stream, stdin: asyncio.StreamReader) -> None:
    """Consume host v2 packets (stdin, close-stdin, window-size) so they are OKAYed and never pile up."""
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            head = await stream.reader.readexactly(5)
            packet_id, length = struct.unpack("<BI", head)
            data = await stream.reader.readexactly(length) if length else b""
            if packet_id == ID_STDIN:
                stdin.feed_data(data)
            elif packet_id == ID_CLOSE_STDIN:
                stdin.feed_eof()
    if not stdin.at_eof():
        stdin.feed_eof()


async def exec_service(device: VirtualDevice, stream: Stream, cmdline: str) -> None:
    """``exec:<cmd>``: raw stdout only (``adb exec-out``); stderr is discarded."""
    await _raw_service(device, stream, cmdline, stdout_only=True)


# -- sync --------------------------------------------------------------------------------------------------------
def _fail(message: str) -> bytes:
    data = message.encode()
    return REQ.pack(b"FAIL", len(data)) + data


def _stat_v2(ident: bytes, st: Any, err: int = 0) -> bytes:
    if st is None:
        return STAT_V2.pack(ident, err or errno.ENOENT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    return STAT_V2.pack(ident, 0, 0x10301, 0, st.mode, 1, 2000, 2000, st.size, st.mtime, st.mtime, st.mtime)


async def sync_service(device: VirtualDevice, stream: Stream) -> None:
    """``sync:``: serve requests from the byte stream until QUIT or the host closes the stream."""
    fs = device.state.fs
    rd = stream.reader
    while True:
        try:
            ident, length = REQ.unpack(await rd.readexactly(REQ.size))
        except asyncio.IncompleteReadError:
            return
        if ident == b"QUIT":
            return
        if length > SYNC_PATH_MAX:
            await stream.write(_fail(f"path too long: {length}"))
            return
        path = (await rd.readexactly(length)).decode("utf-8", "surrogateescape")
        if ident == b"STAT":
            st = _safe_stat(fs, path)
            reply = STAT_V1.pack(b"STAT", st.mode, st.size, st.mtime) if st else STAT_V1.pack(b"STAT", 0, 0, 0)
            await stream.write(reply)
        elif ident in (b"STA2", b"LST2"):
            await stream.write(_stat_v2(ident, _safe_stat(fs, path)))
        elif ident in (b"LIST", b"LIS2"):
            await _sync_list(fs, stream, path, v2=ident == b"LIS2")
        elif ident == b"SEND":
            if not await _sync_send(fs, stream, path):
                return
        elif ident == b"RECV":
            await _sync_recv(fs, stream, path)
        else:
            await stream.write(_fail(f"unknown sync request {ident!r}"))
            return


def _safe_stat(fs: Any, path: str) -> Any:
    try:
        return fs.stat(path)
    except ValueError:
        return None


async def _sync_list(fs: Any, stream: Stream, path: str, v2: bool) -> None:
    try:
        entries = fs.listdir(path)
    except (OSError, ValueError):
        entries = []
    msgs = []
    for name, st in entries:
        raw = name.encode("utf-8", "surrogateescape")
        if v2:
            msgs.append(DENT_V2.pack(b"DNT2", 0, 0x10301, 0, st.mode, 1, 2000, 2000, st.size, st.mtime, st.mtime,
                                     st.mtime, len(raw)) + raw)
        else:
            msgs.append(DENT_V1.pack(b"DENT", st.mode, st.size, st.mtime, len(raw)) + raw)
    msgs.append(DENT_V2.pack(b"DONE", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) if v2 else DENT_V1.pack(b"DONE", 0, 0, 0, 0))
    await stream.write_messages(msgs)


def _mkdirs(fs: Any, parent: str) -> str | None:
    """Create ``parent`` like adbd's secure_mkdirs: only below an existing top-level directory. Error text or None."""
    if fs.isdir(parent):
        return None
    top = "/" + parent.strip("/").split("/")[0]
    if not fs.isdir(top):
        return "secure_mkdirs() failed: No such file or directory"
    try:
        fs.mkdir(parent, parents=True)
    except OSError as exc:
        return f"secure_mkdirs() failed: {exc.strerror}"
    return None


async def _sync_send(fs: Any, stream: Stream, spec: str) -> bool:
    """SEND ``path,mode`` + DATA... + DONE mtime -> ``OKAY 0`` or ``FAIL msg``; False ends the sync session."""
    path, _, mode_text = spec.rpartition(",")
    if not path:
        path, mode_text = spec, "33188"
    try:
        mode = int(mode_text)
    except ValueError:
        mode = 0o100644
    rd = stream.reader
    chunks: list[bytes] = []
    while True:
        ident, length = REQ.unpack(await rd.readexactly(REQ.size))
        if ident == b"DATA":
            chunks.append(await rd.readexactly(length))
        elif ident == b"DONE":
            mtime = length
            break
        else:
            await stream.write(_fail(f"invalid data message {ident!r}"))
            return False
    try:
        if not path.startswith("/"):
            raise ValueError("remote path must be absolute")
        error = _mkdirs(fs, posixpath.dirname(posixpath.normpath(path)))
        if error is None:
            fs.write(path, b"".join(chunks), mode=mode, mtime=mtime or None)
    except (OSError, ValueError) as exc:
        error = f"couldn't create file: {getattr(exc, 'strerror', None) or exc}"
    if error is not None:
        await stream.write(_fail(error))
        return False
    await stream.write(REQ.pack(b"OKAY", 0))
    return True


async def _sync_recv(fs: Any, stream: Stream, path: str) -> None:
    """RECV path -> DATA chunks (<= 64 KiB) + DONE, or FAIL with the errno text."""
    try:
        data = fs.read(path)
    except (OSError, ValueError) as exc:
        await stream.write(_fail(getattr(exc, "strerror", None) or str(exc)))
        return
    view = memoryview(data)
    msgs = [REQ.pack(b"DATA", len(view[i:i + SYNC_DATA_MAX])) + bytes(view[i:i + SYNC_DATA_MAX])
            for i in range(0, len(view), SYNC_DATA_MAX)]
    msgs.append(REQ.pack(b"DONE", 0))
    await stream.write_messages(msgs)


# -- tcp / reboot ------------------------------------------------------------------------------------------------
async def tcp_service(stream: Stream, factory: Any) -> None:
    """Run a registered TcpServiceFactory on the stream; flush and close when it returns."""
    writer = StreamWriter(stream)
    try:
        await factory(stream.reader, writer)
    finally:
        with contextlib.suppress(ConnectionError):
            await writer.drain()


async def reboot_service(device: VirtualDevice, stream: Stream) -> None:
    """``reboot:``: close the stream, then drop the transport; the device keeps listening (it "boots" at once)."""
    await stream.close()
    asyncio.get_running_loop().call_later(0.05, device.drop_connections)
