"""The real adb CLI (bundled in adbutils, adb 36) against a virtual device on a private adb server."""

from __future__ import annotations

import hashlib
import io
import os

from PIL import Image


def test_devices_lists_virtual_device_with_model(basic, adb_server):
    _farm, dev, _d = basic
    out = adb_server.adb("devices", "-l", check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith(dev.serial))
    assert line.split()[1] == "device"
    assert "model:MI_5" in line and "device:gemini" in line and "product:gemini" in line


def test_shell_exit_codes(basic, adb_server):
    _farm, dev, _d = basic
    ok = adb_server.adb("-s", dev.serial, "shell", "echo hi")
    assert (ok.returncode, ok.stdout) == (0, "hi\n")
    three = adb_server.adb("-s", dev.serial, "shell", "echo hi; exit 3")
    assert (three.returncode, three.stdout) == (3, "hi\n")
    missing = adb_server.adb("-s", dev.serial, "shell", "no_such_cmd")
    assert missing.returncode == 127
    assert "no_such_cmd: inaccessible or not found" in missing.stderr
    assert dev.services_log[0].startswith("shell,v2,")  # the CLI used shell protocol v2


def test_push_pull_round_trip_md5(basic, adb_server, tmp_path):
    _farm, dev, _d = basic
    payload = os.urandom(3 * 1024 * 1024 + 17)  # several 64 KiB sync DATA chunks and 1 MiB WRTEs
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    src.write_bytes(payload)
    adb_server.adb("-s", dev.serial, "push", str(src), "/data/local/tmp/blob.bin", check=True)
    assert dev.state.fs.read("/data/local/tmp/blob.bin") == payload
    adb_server.adb("-s", dev.serial, "pull", "/data/local/tmp/blob.bin", str(back), check=True)
    assert hashlib.md5(back.read_bytes()).hexdigest() == hashlib.md5(payload).hexdigest()


def test_push_into_unwritable_place_reports_remote_error(basic, adb_server, tmp_path):
    _farm, dev, _d = basic
    src = tmp_path / "x.txt"
    src.write_text("x")
    res = adb_server.adb("-s", dev.serial, "push", str(src), "/nonexistent_root/x.txt")
    assert res.returncode != 0
    assert "secure_mkdirs() failed" in res.stderr


def test_pull_missing_file_fails(basic, adb_server, tmp_path):
    _farm, dev, _d = basic
    res = adb_server.adb("-s", dev.serial, "pull", "/sdcard/missing.bin", str(tmp_path / "m"))
    assert res.returncode != 0
    assert "No such file or directory" in res.stderr


def test_exec_out_screencap_is_png(basic, adb_server):
    _farm, dev, _d = basic
    res = adb_server.adb("-s", dev.serial, "exec-out", "screencap -p", text=False, check=True)
    assert res.stdout.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(res.stdout)) as img:
        assert img.size == (1080, 1920)
    assert any(s.startswith("exec:screencap") for s in dev.services_log)


def test_get_state_and_features(basic, adb_server):
    _farm, dev, _d = basic
    assert adb_server.adb("-s", dev.serial, "get-state", check=True).stdout.strip() == "device"
    features = adb_server.adb("-s", dev.serial, "features", check=True).stdout.split()
    assert "shell_v2" in features and "stat_v2" in features
    assert "delayed_ack" not in features and "abb_exec" not in features


def test_seed_image_directory_boots_as_a_farm(virtual_farm, adb_server):
    from virtual_device.farm import IMAGES_DIR, load_state

    farm = virtual_farm(IMAGES_DIR)
    assert len(farm.devices) == len(list(IMAGES_DIR.glob("*.yaml"))) >= 8
    out = adb_server.adb("devices", "-l", check=True).stdout
    for dev, path in zip(farm.devices, farm.vfarm.images, strict=True):
        model = load_state(path).props["ro.product.model"]
        line = next(ln for ln in out.splitlines() if ln.startswith(dev.serial + " "))
        assert line.split()[1] == "device" and f"model:{model.replace(' ', '_')}" in line
        assert adb_server.device(dev.serial).prop.model == model
