"""Real APK files on a virtual device: images name fixture APKs (``apk:``), the device serves their bytes at the
package's code path through ``dd`` / ``stat`` (toybox formats), ``exec:`` and ``sync:`` RECV, like a phone."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from harness.errors import ProfileError
from virtual_device.apk_fixtures import apk_dir, ensure_built
from virtual_device.image import load_image, load_named_image
from virtual_device.shell import run
from virtual_device.state import DeviceState

WORD_APK = "/system/app/Word/Word.apk"


@pytest.fixture(scope="module")
def fixtures():
    return ensure_built()


@pytest.fixture
def mi5(fixtures):
    return DeviceState.from_image(load_named_image("mi5-cn"))


def _image_with(tmp_path, base: str, **package_changes) -> DeviceState:
    from tests.e2e.conftest import IMAGES

    data = yaml.safe_load((IMAGES / f"{base}.yaml").read_text())
    for pkg in data["packages"]:
        for key, value in package_changes.get(pkg["package"], {}).items():
            pkg[key] = value
    if "props_from" in data:
        data["props_from"] = str((IMAGES / data["props_from"]).resolve())
    path = tmp_path / f"{base}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return DeviceState.from_image(load_image(path))


def test_image_apk_is_served_at_the_code_path(mi5):
    real = (apk_dir() / "partner-v1v2.apk").read_bytes()
    assert mi5.fs.read(WORD_APK) == real
    assert mi5.fs.stat(WORD_APK).size == len(real)


def test_factory_copy_and_splits_get_their_own_apks(tmp_path, fixtures):
    state = _image_with(tmp_path, "mimax-in-updated", **{"com.microsoft.office.word": {"splits": ["config.hi"]}})
    word = state.package("com.microsoft.office.word")
    assert word.factory is not None and word.factory.apk and word.apk
    live, factory = (apk_dir() / "partner-rotated.apk").read_bytes(), (apk_dir() / "partner-v1v2.apk").read_bytes()
    assert state.fs.read(word.code_path) == live
    assert state.fs.read(f"{word.code_dir}/split_config.hi.apk") == live
    assert state.fs.read(word.factory.code_path) == factory


def test_unknown_apk_fixture_is_an_image_error_with_line(tmp_path, fixtures):
    with pytest.raises(ProfileError) as exc:
        _image_with(tmp_path, "mi5-cn", **{"com.microsoft.office.word": {"apk": "no-such-fixture"}})
    text = str(exc.value)
    assert "mi5-cn.yaml:" in text and "packages[0].apk" in text and "no-such-fixture" in text


def test_dd_reads_blocks_like_toybox(mi5):
    data = mi5.fs.read(WORD_APK)
    r = run(mi5, f"dd if={WORD_APK} bs=512 skip=2 count=3")
    assert r.stdout == data[1024:2560] and r.exit_code == 0
    assert r.stderr.decode().startswith("3+0 records in\n3+0 records out\n1536 bytes (1.5 K) copied, ")
    tail = run(mi5, f"dd if={WORD_APK} bs=4096 skip={len(data) // 4096}")
    assert tail.stdout == data[(len(data) // 4096) * 4096:]
    assert tail.stderr.decode().startswith(f"0+1 records in\n0+1 records out\n{len(tail.stdout)} bytes")
    assert run(mi5, f"dd if={WORD_APK} bs=4096 skip=1000 count=1").stdout == b""  # past the end: nothing
    assert run(mi5, f"dd if={WORD_APK} bs=1k count=1 status=none").stderr == b""
    assert run(mi5, f"dd if={WORD_APK} bs=4096 count=1 2>/dev/null").chunks == [(1, data[:4096])]


def test_dd_errors(mi5):
    r = run(mi5, "dd if=/no/such.apk bs=4096")
    assert (r.stdout, r.stderr, r.exit_code) == (b"", b"dd: /no/such.apk: No such file or directory\n", 1)
    assert run(mi5, "dd if=/system/app/Word bs=512").stderr == b"dd: /system/app/Word: read error: Is a directory\n"
    assert run(mi5, f"dd if={WORD_APK} bs=0").exit_code == 1
    assert run(mi5, f"dd if={WORD_APK} frob=1").stderr == b"dd: bad arg frob=1\n"


def test_stat_size_and_errors(mi5):
    size = len(mi5.fs.read(WORD_APK))
    assert run(mi5, f"stat -c %s {WORD_APK}").stdout == f"{size}\n".encode()
    r = run(mi5, f"stat -c '%s %n' {WORD_APK} /nope.apk")
    assert r.stdout == f"{size} {WORD_APK}\n".encode()
    assert r.stderr == b"stat: '/nope.apk': No such file or directory\n" and r.exit_code == 1
    assert run(mi5, f"stat {WORD_APK}").stdout.startswith(f"  File: `{WORD_APK}'\n  Size: {size}\t".encode())


def test_android_5_has_toolbox_dd_and_ls_but_no_stat(fixtures):
    state = DeviceState.from_image(load_named_image("redmi3-id"))
    r = run(state, "stat -c %s /system/data-app/Skype/Skype.apk")
    assert r.exit_code == 127 and b"stat: inaccessible or not found" in r.stderr
    size = len(state.fs.read("/system/data-app/Skype/Skype.apk"))
    line = run(state, "ls -l /system/data-app/Skype/Skype.apk").stdout.decode()
    assert line.startswith("-rw-r--r-- root     root     ") and f" {size} " in line  # no link count column
    assert b"bytes transferred in" in run(state, "dd if=/system/data-app/Skype/Skype.apk bs=512 count=1").stderr


def test_apk_bytes_through_the_real_adb_server(virtual_farm, fixtures):
    farm = virtual_farm("mi5-cn")
    d = farm.adb_devices[0]
    real = (apk_dir() / "partner-v1v2.apk").read_bytes()
    assert d.sync.read_bytes(WORD_APK) == real  # sync: RECV
    conn = d.open_transport()
    conn.send_command(f"exec:dd if={WORD_APK} bs=4096 count=1 2>/dev/null")
    conn.check_okay()
    got = conn.read_until_close(encoding=None)
    assert got == real[:4096]
    assert hashlib.sha256(d.sync.read_bytes(WORD_APK)).hexdigest() == hashlib.sha256(real).hexdigest()
