"""Long-running shell commands (``ShellResult.keep_open``, services.ShellIO) and exec-out stream rules.

This is the mechanism the uiautomator2 server (``app_process ... com.wetest.uia2.Main``, issue 4) builds on: the
command's stream stays open while it serves a device-side TCP port, and the port disappears when the host closes it.
"""

from __future__ import annotations

import time

import adbutils
import pytest

from virtual_device import shell as vshell
from virtual_device.shell import COMMANDS

PORT = 7300


async def _echo(reader, writer):
    writer.write(await reader.read(100))
    await writer.drain()


@pytest.fixture
def server_command():
    """Registers ``vd-test-server``: prints ``started``, serves tcp:7300 until its stream closes, exits 7."""

    def command(ctx, argv):
        state = ctx.state

        async def serve(io):
            state.tcp_services[PORT] = _echo
            try:
                await io.write(1, b"started\n")
                await io.closed.wait() if "--forever" in argv else None
            finally:
                state.tcp_services.pop(PORT, None)
            return 7

        ctx.out("booting\n")
        ctx.keep_open.append(serve)
        return 0

    vshell.register_command("vd-test-server", command)
    yield "vd-test-server"
    COMMANDS.pop("vd-test-server", None)


def _tcp_roundtrip(d) -> bytes:
    conn = d.create_connection(adbutils.Network.TCP, PORT)
    try:
        conn.settimeout(5)
        conn.sendall(b"x")
        return conn.recv(10)
    finally:
        conn.close()


def test_kept_open_stream_serves_until_host_closes(basic, server_command):
    _farm, dev, d = basic
    c = d.shell(f"{server_command} --forever", stream=True)
    try:
        c.conn.settimeout(5)
        got = b""
        while b"started\n" not in got:
            chunk = c.conn.recv(100)
            assert chunk, f"stream closed early: {got!r}"
            got += chunk
        assert got == b"booting\nstarted\n"
        assert _tcp_roundtrip(d) == b"x"
    finally:
        c.close()
    deadline = time.monotonic() + 5
    while PORT in dev.state.tcp_services:  # the host's CLSE reaches the device asynchronously
        assert time.monotonic() < deadline, "service still registered after the stream closed"
        time.sleep(0.02)
    with pytest.raises(adbutils.AdbError):
        _tcp_roundtrip(d)


def test_kept_open_v2_exit_code_comes_from_keep_open(basic, server_command):
    _farm, _dev, d = basic
    r = d.shell2(server_command, v2=True, timeout=5)
    assert (r.returncode, r.stdout) == (7, "booting\nstarted\n")


def test_exec_out_is_stdout_only(basic, adb_server):
    _farm, dev, _d = basic
    res = adb_server.adb("-s", dev.serial, "exec-out", "echo out; echo err >&2", check=True)
    assert res.stdout == "out\n"
