"""The device side of the wire protocol, driven by a raw socket (no adb server): handshake, AUTH refusal,
stream refusal, legacy flow control (one WRTE in flight), bad packets."""

from __future__ import annotations

import socket
import struct

import pytest

from virtual_device import transport as t
from virtual_device.farm import load_state
from virtual_device.server import Behaviour, DeviceServer, forbidden_port


class RawHost:
    """Minimal host side: send packets, read packets with a bounded timeout."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)

    def send(self, cmd: int, a0: int, a1: int, data: bytes = b"") -> None:
        self.sock.sendall(t.pack(cmd, a0, a1, data))

    def _exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def recv(self, timeout: float = 5.0) -> tuple[int, int, int, bytes]:
        self.sock.settimeout(timeout)
        cmd, a0, a1, length, check, magic = t.HEADER.unpack(self._exact(24))
        assert magic == cmd ^ 0xFFFFFFFF
        data = self._exact(length) if length else b""
        assert check == sum(data) & 0xFFFFFFFF
        return cmd, a0, a1, data

    def connect(self, max_payload: int = t.MAX_PAYLOAD) -> bytes:
        self.send(t.A_CNXN, t.A_VERSION, max_payload, b"host::features=shell_v2")
        cmd, a0, a1, banner = self.recv()
        assert (cmd, a0, a1) == (t.A_CNXN, t.A_VERSION, t.MAX_PAYLOAD)
        return banner


@pytest.fixture
def server(vd_image):
    with DeviceServer() as srv:
        yield srv, load_state(vd_image("vd-basic"))


def test_pack_header():
    raw = t.pack(t.A_OKAY, 1, 2, b"ab")
    assert raw[:4] == b"OKAY" and len(raw) == 26
    assert struct.unpack("<6I", raw[:24]) == (t.A_OKAY, 1, 2, 2, ord("a") + ord("b"), t.A_OKAY ^ 0xFFFFFFFF)


def test_banner_shape():
    b = t.make_banner({"ro.product.model": "MI 5", "ro.product.name": "gemini", "ro.product.device": "a;b:c"})
    assert b.startswith(b"device::ro.product.name=gemini;ro.product.model=MI 5;ro.product.device=a_b_c;features=")
    assert b"delayed_ack" not in b and b"abb_exec" not in b and len(b) < 4096


def test_handshake_and_refused_service(server):
    srv, state = server
    dev = srv.add_device(state)
    assert not forbidden_port(dev.port)
    host = RawHost(dev.port)
    assert b"ro.product.model=MI 5" in host.connect()
    host.send(t.A_OPEN, 77, 0, b"no-such-service:\0")
    assert host.recv() == (t.A_CLSE, 0, 77, b"")
    host.send(t.A_OPEN, 78, 0, b"tcp:9999\0")  # nothing registered there
    assert host.recv() == (t.A_CLSE, 0, 78, b"")
    assert dev.services_log == ["no-such-service:", "tcp:9999"]


def test_one_wrte_in_flight_until_okay(server):
    srv, state = server
    blob = bytes(range(256)) * 40  # 10240 bytes = 3 WRTEs of <= 4096

    async def sender(reader, writer):
        writer.write(blob)
        await writer.drain()

    state.tcp_services[7100] = sender
    dev = srv.add_device(state)
    host = RawHost(dev.port)
    host.connect(max_payload=4096)
    host.send(t.A_OPEN, 5, 0, b"tcp:7100\0")
    cmd, dev_id, host_id, _ = host.recv()
    assert (cmd, host_id) == (t.A_OKAY, 5)
    got = b""
    for _ in range(3):
        cmd, a0, a1, data = host.recv()
        assert (cmd, a0, a1) == (t.A_WRTE, dev_id, 5) and len(data) <= 4096
        got += data
        if len(got) < len(blob):
            with pytest.raises(TimeoutError):  # nothing more may come before our OKAY
                host.recv(timeout=0.3)
        host.send(t.A_OKAY, 5, dev_id)
    assert got == blob
    assert host.recv() == (t.A_CLSE, dev_id, 5, b"")


def test_host_wrte_is_acknowledged(server):
    srv, state = server
    seen = []

    async def sink(reader, writer):
        seen.append(await reader.readexactly(6))

    state.tcp_services[7200] = sink
    dev = srv.add_device(state)
    host = RawHost(dev.port)
    host.connect()
    host.send(t.A_OPEN, 9, 0, b"tcp:7200\0")
    _, dev_id, _, _ = host.recv()
    host.send(t.A_WRTE, 9, dev_id, b"abc")
    assert host.recv() == (t.A_OKAY, dev_id, 9, b"")
    host.send(t.A_WRTE, 9, dev_id, b"def")
    assert host.recv() == (t.A_OKAY, dev_id, 9, b"")
    assert host.recv() == (t.A_CLSE, dev_id, 9, b"")
    assert seen == [b"abcdef"]


def test_refuse_auth_answers_tokens_forever(server):
    srv, state = server
    dev = srv.add_device(state, behaviour=Behaviour(refuse_auth=True))
    host = RawHost(dev.port)
    host.send(t.A_CNXN, t.A_VERSION, t.MAX_PAYLOAD, b"host::")
    cmd, a0, _, token = host.recv()
    assert (cmd, a0, len(token)) == (t.A_AUTH, t.AUTH_TOKEN, 20)
    host.send(t.A_AUTH, t.AUTH_SIGNATURE, 0, b"\0" * 256)
    cmd, a0, _, token2 = host.recv()
    assert (cmd, a0) == (t.A_AUTH, t.AUTH_TOKEN) and token2 != token
    host.send(t.A_AUTH, t.AUTH_RSAPUBLICKEY, 0, b"key\0")
    with pytest.raises(TimeoutError):
        host.recv(timeout=0.3)
    host.send(t.A_OPEN, 1, 0, b"shell:echo hi\0")  # streams are ignored before the handshake
    with pytest.raises(TimeoutError):
        host.recv(timeout=0.3)


def test_bad_magic_drops_connection(server):
    srv, state = server
    dev = srv.add_device(state)
    host = RawHost(dev.port)
    host.sock.sendall(struct.pack("<6I", t.A_CNXN, 0, 0, 0, 0, 0))
    with pytest.raises((EOFError, ConnectionError)):
        host.recv()


def test_reserved_ports_are_rejected(server):
    srv, state = server
    with pytest.raises(ValueError):
        srv.add_device(state, port=5555)
    with pytest.raises(ValueError):
        srv.add_device(state, port=5037)
