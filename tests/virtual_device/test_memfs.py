"""virtual_device.fs.MemFS: the file tree behind sync: and the shell file commands."""

from __future__ import annotations

import pytest

from virtual_device.fs import DEFAULT_DIRS, MemFS


def test_default_dirs_exist():
    fs = MemFS()
    for d in DEFAULT_DIRS:
        assert fs.isdir(d), d


def test_write_read_stat_list_remove():
    fs = MemFS()
    fs.write("/sdcard/a.txt", b"hello", mode=0o755, mtime=1000)
    assert fs.read("/sdcard//./a.txt") == b"hello"
    st = fs.stat("/sdcard/a.txt")
    assert (st.mode, st.size, st.mtime, st.is_dir) == (0o100755, 5, 1000, False)
    assert [n for n, _ in fs.listdir("/sdcard")] == ["a.txt"]
    fs.remove("/sdcard/a.txt")
    assert fs.stat("/sdcard/a.txt") is None and not fs.exists("/sdcard/a.txt")


def test_errors():
    fs = MemFS()
    with pytest.raises(FileNotFoundError):
        fs.write("/nope/a.txt", b"x")
    with pytest.raises(FileNotFoundError):
        fs.read("/sdcard/missing")
    with pytest.raises(IsADirectoryError):
        fs.read("/sdcard")
    fs.write("/sdcard/f", b"")
    with pytest.raises(NotADirectoryError):
        fs.listdir("/sdcard/f")
    with pytest.raises(FileExistsError):
        fs.mkdir("/sdcard/f")
    fs.mkdir("/sdcard/d")
    fs.write("/sdcard/d/x", b"")
    with pytest.raises(OSError, match="not empty"):
        fs.remove("/sdcard/d")
    with pytest.raises(ValueError):
        fs.stat("relative/path")


def test_mkdir_parents_and_recursive_remove():
    fs = MemFS()
    fs.mkdir("/data/local/tmp/a/b/c")
    fs.write("/data/local/tmp/a/b/c/f", b"1")
    assert fs.isdir("/data/local/tmp/a/b")
    with pytest.raises(FileNotFoundError):
        fs.mkdir("/x/y", parents=False)
    fs.remove("/data/local/tmp/a", recursive=True)
    assert not fs.exists("/data/local/tmp/a/b/c/f") and fs.isdir("/data/local/tmp")
