"""adbutils 2.12.0 against a virtual device: shell v1/v2, sync, forward, tcp streams, device info helpers."""

from __future__ import annotations

import io
import os
import socket
from concurrent.futures import ThreadPoolExecutor

import adbutils
import pytest

from virtual_device.testing import free_port


def test_shell_and_prop(basic):
    _farm, dev, d = basic
    assert d.shell("echo hi") == "hi"
    assert d.shell(["echo", "a b"]) == "a b"
    assert d.prop.model == "MI 5"
    assert d.getprop("ro.build.version.sdk") == "24"
    assert d.get_state() == "device"
    assert "shell:echo hi" in dev.services_log  # adbutils shell() is always protocol v1


def test_shell2_exit_codes_v1_and_v2(basic):
    _farm, dev, d = basic
    r = d.shell2("echo out; echo err >&2; false")
    assert r.returncode == 1 and "out" in r.output
    assert d.shell2("no_such_cmd").returncode == 127
    r2 = d.shell2("echo hi; exit 3", v2=True)
    assert (r2.returncode, r2.stdout) == (3, "hi\n")
    r3 = d.shell2("no_such_cmd", v2=True)
    assert r3.returncode == 127 and "inaccessible or not found" in r3.stderr and r3.stdout == ""
    assert "shell,v2:echo hi; exit 3" in dev.services_log


def test_shell2_v1_exit_stops_command_list(basic):
    _farm, _dev, d = basic
    # `exit N` ends the list, so adbutils' `; echo X4EXIT:$?` never runs: same error as on a real phone
    with pytest.raises(adbutils.AdbError, match="shell output invalid"):
        d.shell2("exit 3")


def test_sync_push_pull_stat_list(basic, tmp_path):
    _farm, dev, d = basic
    payload = os.urandom(200_000)
    d.sync.push(io.BytesIO(payload), "/sdcard/blob.bin")
    assert dev.state.fs.read("/sdcard/blob.bin") == payload
    st = d.sync.stat("/sdcard/blob.bin")
    assert st.size == len(payload) and st.mode & 0o170000 == 0o100000
    assert "blob.bin" in [f.path for f in d.sync.list("/sdcard")]
    assert d.sync.read_bytes("/sdcard/blob.bin") == payload
    d.sync.pull("/sdcard/blob.bin", tmp_path / "b.bin")
    assert (tmp_path / "b.bin").read_bytes() == payload
    assert not d.sync.exists("/sdcard/none.bin")
    with pytest.raises(adbutils.AdbError, match="No such file"):
        d.sync.read_bytes("/sdcard/none.bin")


def test_sync_push_into_directory_appends_name(basic, tmp_path):
    _farm, dev, d = basic
    src = tmp_path / "named.txt"
    src.write_text("hello")
    d.sync.push(src, "/data/local/tmp")
    assert dev.state.fs.read("/data/local/tmp/named.txt") == b"hello"
    assert d.shell("cat /data/local/tmp/named.txt") == "hello"


async def _echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data.upper())
        await writer.drain()
    writer.close()


def test_forward_to_device_tcp_service(basic):
    _farm, dev, d = basic
    dev.state.tcp_services[7000] = _echo
    local = free_port()
    d.forward(f"tcp:{local}", "tcp:7000")
    assert any(f.local == f"tcp:{local}" for f in d.forward_list())
    with socket.create_connection(("127.0.0.1", local), timeout=5) as s:
        s.sendall(b"ping")
        got = b""
        while len(got) < 4:
            chunk = s.recv(16)
            assert chunk, "stream closed before the echo"
            got += chunk
    assert got == b"PING"
    assert "tcp:7000" in dev.services_log


def test_create_connection_big_payload_and_refused_port(basic):
    _farm, dev, d = basic
    dev.state.tcp_services[7000] = _echo
    blob = os.urandom(3 * 1024 * 1024)  # more than one max-payload WRTE in each direction
    conn = d.create_connection(adbutils.Network.TCP, 7000)
    conn.settimeout(10)
    conn.sendall(blob)
    got = bytearray()
    while len(got) < len(blob):
        chunk = conn.recv(1 << 20)
        assert chunk
        got += chunk
    conn.close()
    assert bytes(got) == blob.upper()
    with pytest.raises(adbutils.AdbError):
        d.create_connection(adbutils.Network.TCP, 7001)  # nothing listens: CLSE(0, id)


def test_package_helpers(basic):
    _farm, _dev, d = basic
    assert "com.microsoft.office.word" in d.list_packages()
    info = d.app_info("com.microsoft.office.word")
    assert info is not None and info.version_name == "16.0.7070.2036" and info.version_code == 2002707036
    assert d.app_info("com.nope.missing") is None
    assert d.app_current().package == "com.miui.home"
    d.app_start("com.microsoft.office.word", "com.microsoft.office.apphost.LaunchActivity")
    assert d.app_current().package == "com.microsoft.office.word"


def test_screenshot_and_window_size(basic):
    _farm, _dev, d = basic
    assert d.window_size() == (1080, 1920)
    img = d.screenshot(error_ok=False)
    assert img.size == (1080, 1920)


def test_many_devices_in_one_process_answer_concurrently(virtual_farm, vd_image):
    farm = virtual_farm([vd_image("vd-basic")] * 8)
    assert len(set(farm.serials)) == 8 and len({dev.port for dev in farm.devices}) == 8

    def work(d):
        return [d.shell(f"echo {d.serial}") for _ in range(5)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, farm.adb_devices))
    assert results == [[s] * 5 for s in farm.serials]
