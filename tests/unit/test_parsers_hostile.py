"""Hostile input: garbage, binary, empty, huge. A parser must raise ParseError naming the command for text
that is not its command's output, return the legitimate empty answer where one exists, and stay linear."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.errors import DeviceError, ParseError
from harness.facts import DeviceFacts
from harness.parsers import (
    parse_am_start,
    parse_devices,
    parse_dumpsys_package,
    parse_focus,
    parse_getprop,
    parse_logcat_crash,
    parse_pm_list_packages,
    parse_pm_list_users,
    parse_pm_path,
    parse_resolve_activity,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "corpus"

PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "getprop": (parse_getprop, "getprop"),
    "dumpsys-package": (lambda t: parse_dumpsys_package(t, "com.example.app"), "dumpsys package com.example.app"),
    "pm-list-packages": (parse_pm_list_packages, "pm list packages"),
    "pm-path": (parse_pm_path, "pm path"),
    "pm-list-users": (parse_pm_list_users, "pm list users"),
    "am-start": (parse_am_start, "am start"),
    "resolve-activity": (parse_resolve_activity, "cmd package resolve-activity"),
    "focus": (parse_focus, "dumpsys window"),
    "devices": (parse_devices, "adb devices"),
    "logcat-crash": (parse_logcat_crash, "logcat"),
}

GARBAGE = [
    "/system/bin/sh: dumpsys: inaccessible or not found\n",
    "Can't find service: package\n",
    "<html><body>502 Bad Gateway</body></html>\n",
    "lorem ipsum dolor sit amet\nconsectetur adipiscing elit\n",
]


@pytest.mark.parametrize("kind", sorted(PARSERS))
@pytest.mark.parametrize("garbage", GARBAGE, ids=["sh-not-found", "no-service", "html", "prose"])
def test_garbage_raises_parse_error_naming_the_command(kind: str, garbage: str) -> None:
    func, command = PARSERS[kind]
    with pytest.raises(ParseError) as exc:
        func(garbage)
    assert exc.value.command == command
    assert command in str(exc.value)
    assert isinstance(exc.value, DeviceError)  # infrastructure family: "broken", never a product failure


@pytest.mark.parametrize("kind", sorted(PARSERS))
def test_binary_raises(kind: str) -> None:
    func, command = PARSERS[kind]
    blob = bytes(range(256)).decode("latin-1") * 8
    with pytest.raises(ParseError) as exc:
        func(blob)
    assert exc.value.command == command
    with pytest.raises(ParseError):
        func("package:com.a.b\n\x00\x00\x00")


EMPTY_IS_VALID: dict[str, Any] = {"pm-list-packages": [], "pm-path": [], "logcat-crash": []}


@pytest.mark.parametrize("kind", sorted(PARSERS))
@pytest.mark.parametrize("empty", ["", "\n", "\r\n  \r\n"], ids=["empty", "newline", "blank-crlf"])
def test_empty_output(kind: str, empty: str) -> None:
    """Empty is a valid answer only where the command prints nothing on success (pm list -d, pm path of an
    uninstalled package, an empty log buffer, dumpsys package of an unknown package on Android <= 6);
    elsewhere it means the command did not answer."""
    func, command = PARSERS[kind]
    if kind == "dumpsys-package":
        # Android 6 and older print nothing for an unknown package; API >= 24 always print something.
        d = func(empty)
        assert not d.found and not d.installed and d.evidence[0].startswith("(empty output")
        with pytest.raises(ParseError) as exc:
            parse_dumpsys_package(empty, "com.example.app", sdk=24)
        assert exc.value.command == command
        assert not parse_dumpsys_package(empty, "com.example.app", sdk=23).found
    elif kind in EMPTY_IS_VALID:
        assert func(empty) == EMPTY_IS_VALID[kind]
    else:
        with pytest.raises(ParseError) as exc:
            func(empty)
        assert exc.value.command == command


def test_huge_version_name_kept_whole_and_fast() -> None:
    """A 1 MiB versionName (spaces, brackets, unicode) survives exactly; parsing stays linear."""
    name = ("9.9 [beta] ünïcode " * 60000)[: 1 << 20].rstrip()
    text = ("Packages:\n  Package [com.example.app] (abc123):\n    userId=10001\n    codePath=/data/app/x\n"
            f"    versionCode=7 minSdk=21 targetSdk=33\n    versionName={name}\n"
            "    pkgFlags=[ HAS_CODE ]\n    User 0: ceDataInode=1 installed=true enabled=0\n")
    start = time.perf_counter()
    d = parse_dumpsys_package(text, "com.example.app")
    assert time.perf_counter() - start < 2.0
    assert d.version_name == name and d.version_code == 7 and d.installed


def test_many_packages_linear() -> None:
    """An all-packages dump with 5000 blocks; the last one is found quickly."""
    block = ("  Package [com.example.p{i}] (a{i}):\n    codePath=/data/app/p{i}\n    versionCode={i} targetSdk=30\n"
             "    versionName=1.{i}\n    pkgFlags=[ HAS_CODE ]\n    User 0: installed=true enabled=0\n")
    text = "Packages:\n" + "".join(block.format(i=i) for i in range(5000))
    start = time.perf_counter()
    d = parse_dumpsys_package(text, "com.example.p4999")
    assert time.perf_counter() - start < 3.0
    assert d.version_name == "1.4999" and d.version_code == 4999


def test_facts_sdk_missing_or_not_numeric() -> None:
    """sdk comes only from ro.build.version.sdk: missing or non-numeric is a ParseError, never a guess."""
    with pytest.raises(ParseError) as exc:
        DeviceFacts.from_props({"ro.build.version.release": "13"})
    assert exc.value.command == "getprop" and "missing" in str(exc.value)
    with pytest.raises(ParseError, match="not a positive integer"):
        DeviceFacts.from_props({"ro.build.version.sdk": "T"})
    with pytest.raises(ParseError):
        DeviceFacts.from_getprop("[ro.build.version.sdk]: [33.1]\n")


# ---------------------------------------------------------------- CLI errors

def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "harness.parsers", *args], cwd=ROOT, capture_output=True,
                          input=stdin, timeout=60, env=env)


def test_cli_unknown_kind_exit_2() -> None:
    proc = _cli("no-such-kind", str(CORPUS / "adb-devices_two-devices_tab-separated.txt"))
    assert proc.returncode == 2
    assert b"invalid choice" in proc.stderr and b"Traceback" not in proc.stderr


def test_cli_missing_file_exit_2(tmp_path: Path) -> None:
    proc = _cli("getprop", str(tmp_path / "absent.txt"))
    assert proc.returncode == 2
    assert b"cannot read" in proc.stderr and b"absent.txt" in proc.stderr and b"Traceback" not in proc.stderr
    proc = _cli("getprop", str(tmp_path))  # a directory
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr


def test_cli_dumpsys_package_needs_package() -> None:
    proc = _cli("dumpsys-package", str(CORPUS / "dumpsys-package_not-installed_com.funnyenglish.app.txt"))
    assert proc.returncode == 2 and b"--package" in proc.stderr and b"Traceback" not in proc.stderr


@pytest.mark.parametrize("kind, command", [("getprop", b"getprop"), ("dumpsys-package", b"dumpsys package"),
                                           ("focus", b"dumpsys window"), ("devices", b"adb devices"),
                                           ("am-start", b"am start"), ("pm-list-packages", b"pm list packages")])
def test_cli_parse_error_exit_1_names_command(tmp_path: Path, kind: str, command: bytes) -> None:
    bad = tmp_path / "garbage.txt"
    bad.write_bytes(b"lorem ipsum\n")
    args = [kind, str(bad)] + (["--package", "com.example.app"] if kind == "dumpsys-package" else [])
    proc = _cli(*args)
    assert proc.returncode == 1
    assert command in proc.stderr and b"Traceback" not in proc.stderr and proc.stdout == b""


def test_cli_binary_file_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "blob.bin"
    bad.write_bytes(bytes(range(256)) * 4)
    proc = _cli("getprop", str(bad))
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr


def test_cli_reads_stdin() -> None:
    data = (CORPUS / "pm-path_split-apks_android7-9_com.withbuddies.diceellen_excerpt.txt").read_bytes()
    proc = _cli("pm-path", "-", stdin=data)
    assert proc.returncode == 0 and b"/data/app/com.withbuddies.diceellen-1/base.apk" in proc.stdout
