"""harness.adb against a real adb server and a virtual device: timeouts, loss, and no stray servers."""

from __future__ import annotations

import dataclasses
import socket
import subprocess

import pytest

from harness.adb import AdbServerLink, ServerAddress, ShellScript
from harness.errors import AdbTimeout, DeviceUnavailable
from virtual_device.testing import AdbServer, Farm, adb_binary, free_port


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_shell_quotes_every_argument_and_reports_exit_codes():
    with AdbServer() as server, Farm(["mi5-cn"], server) as farm:
        link = AdbServerLink(ServerAddress("127.0.0.1", server.port)).device(farm.serials[0])
        hostile = "x; echo INJECTED $(id) `id` && exit 7"
        result = link.shell(["echo", hostile])
        assert result.stdout == hostile + "\n" and result.exit_code == 0
        assert link.shell(["pm", "path", "com.not.installed"]).exit_code == 1
        assert link.shell(ShellScript().add(["getprop", "ro.product.model"])).stdout.strip() == "MI 5"
        assert link.round_trips == 3


def test_a_hanging_device_times_out():
    with AdbServer() as server, Farm(["mi5-cn"], server) as farm:
        link = AdbServerLink(ServerAddress("127.0.0.1", server.port), command_timeout=2).device(farm.serials[0])
        dev = farm.devices[0]
        dev.behaviour = dataclasses.replace(dev.behaviour, hang_on="dumpsys")
        with pytest.raises(AdbTimeout):
            link.shell(["dumpsys", "package", "com.microsoft.office.word"])


def test_a_dead_farm_host_is_reported_and_no_local_server_is_started(monkeypatch):
    """adbutils would run `adb start-server` on a failed connect; the harness must not (shared farms)."""
    stray_port = free_port()
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(stray_port))  # where adbutils' fallback would start one
    try:
        with AdbServer() as server, Farm(["mi5-cn"], server) as farm:
            link = AdbServerLink(ServerAddress("127.0.0.1", server.port)).device(farm.serials[0])
            assert link.shell(["echo", "ok"]).stdout == "ok\n"
            server.stop()
            with pytest.raises(DeviceUnavailable, match="adb server stopped answering"):
                link.shell(["echo", "again"])
        assert not _listening(stray_port)
    finally:
        if _listening(stray_port):  # only a server this test caused
            subprocess.run([adb_binary(), "-P", str(stray_port), "kill-server"], timeout=20, check=False)


def test_unreachable_server_is_probed_without_starting_one(tmp_path):
    port = free_port()
    from harness.errors import AdbServerError

    with pytest.raises(AdbServerError, match=f"no adb server at 127.0.0.1:{port}"):
        AdbServerLink(ServerAddress("127.0.0.1", port)).devices()
    assert not _listening(port)


def test_exec_out_returns_raw_bytes_and_discards_stderr_on_request():
    with AdbServer() as server, Farm(["mi5-cn"], server) as farm:
        link = AdbServerLink(ServerAddress("127.0.0.1", server.port)).device(farm.serials[0])
        result = link.exec_out(["screencap", "-p"])
        assert result.data.startswith(b"\x89PNG\r\n\x1a\n") and b"\r\r\n" not in result.data
        script = ShellScript().add(["echo", "a b"]).add(["cat", "/no/such/file"], discard_stderr=True)
        assert script.render() == "echo 'a b'; cat /no/such/file 2>/dev/null"
        assert link.exec_out(script).data == b"a b\n"
        assert link.round_trips == 2


def test_exec_out_output_cap_and_timeout():
    from harness.errors import AdbError

    with AdbServer() as server, Farm(["mi5-cn"], server) as farm:
        link = AdbServerLink(ServerAddress("127.0.0.1", server.port), command_timeout=2).device(farm.serials[0])
        with pytest.raises(AdbError, match="exceeded 1000 bytes"):
            link.exec_out(["screencap", "-p"], max_bytes=1000)
        dev = farm.devices[0]
        dev.behaviour = dataclasses.replace(dev.behaviour, hang_on="screencap")
        with pytest.raises(AdbTimeout):
            link.exec_out(["screencap", "-p"])
