"""In-memory file system of a virtual device (what `sync:` and shell file commands see).

Paths are absolute POSIX paths (``/sdcard/x.txt``); ``.`` and ``..`` components and repeated slashes are
normalised. Modes are full ``st_mode`` values (``0o100644`` regular file, ``0o040755`` directory), sizes are
bytes, mtimes are whole seconds since the epoch, as the adb sync protocol carries them (AOSP
``file_sync_protocol.h``: STAT replies ``mode, size, mtime`` as u32). Thread-safe: every method takes one lock,
so the test thread and the device's asyncio loop thread may both use it.
"""

from __future__ import annotations

import posixpath
import stat as _stat
import threading
import time
from dataclasses import dataclass

S_IFDIR = 0o040000
S_IFREG = 0o100000
DEFAULT_FILE_MODE = 0o100644
DEFAULT_DIR_MODE = 0o040771

#: Directories every virtual device starts with (vd-interface.md).
DEFAULT_DIRS = ("/", "/data", "/data/local", "/data/local/tmp", "/sdcard", "/system", "/system/app",
                "/system/data-app", "/data/app")


@dataclass(frozen=True)
class FileStat:
    """``mode`` (st_mode with type bits), ``size`` (bytes; 4096 for directories), ``mtime`` (epoch seconds)."""

    mode: int
    size: int
    mtime: int

    @property
    def is_dir(self) -> bool:
        """True for a directory."""
        return _stat.S_ISDIR(self.mode)


@dataclass
class _Node:
    mode: int
    mtime: int
    data: bytes = b""


def normpath(path: str) -> str:
    """Return the absolute normalised form of ``path``; raises ValueError if it is not absolute."""
    if not path.startswith("/"):
        raise ValueError(f"not an absolute device path: {path!r}")
    return "/" + posixpath.normpath(path).lstrip("/")


class MemFS:
    """A tree of files and directories held in memory.

    Errors follow the ``os`` module: FileNotFoundError (missing path or parent), IsADirectoryError,
    NotADirectoryError, FileExistsError; the sync service turns them into ``FAIL`` messages.
    """

    def __init__(self, dirs: tuple[str, ...] = DEFAULT_DIRS) -> None:
        self._lock = threading.RLock()
        now = int(time.time())
        self._nodes: dict[str, _Node] = {"/": _Node(DEFAULT_DIR_MODE, now)}
        for d in dirs:
            self.mkdir(d, parents=True)

    # -- queries ---------------------------------------------------------------------------------------------
    def stat(self, path: str) -> FileStat | None:
        """Return the FileStat of ``path`` or None when it does not exist."""
        with self._lock:
            node = self._nodes.get(normpath(path))
            if node is None:
                return None
            size = 4096 if _stat.S_ISDIR(node.mode) else len(node.data)
            return FileStat(node.mode, size, node.mtime)

    def exists(self, path: str) -> bool:
        """True when ``path`` is a file or directory."""
        return self.stat(path) is not None

    def isdir(self, path: str) -> bool:
        """True when ``path`` is a directory."""
        st = self.stat(path)
        return st is not None and st.is_dir

    def read(self, path: str) -> bytes:
        """Return the content of the regular file ``path`` (FileNotFoundError, IsADirectoryError)."""
        with self._lock:
            p = normpath(path)
            node = self._nodes.get(p)
            if node is None:
                raise FileNotFoundError(2, "No such file or directory", p)
            if _stat.S_ISDIR(node.mode):
                raise IsADirectoryError(21, "Is a directory", p)
            return node.data

    def listdir(self, path: str) -> list[tuple[str, FileStat]]:
        """Return ``[(name, FileStat)]`` of the entries directly inside directory ``path``, sorted by name."""
        with self._lock:
            p = normpath(path)
            node = self._nodes.get(p)
            if node is None:
                raise FileNotFoundError(2, "No such file or directory", p)
            if not _stat.S_ISDIR(node.mode):
                raise NotADirectoryError(20, "Not a directory", p)
            prefix = p if p.endswith("/") else p + "/"
            out = []
            for k in sorted(self._nodes):
                if k != p and k.startswith(prefix) and "/" not in k[len(prefix):]:
                    st = self.stat(k)
                    assert st is not None
                    out.append((k[len(prefix):], st))
            return out

    # -- changes ---------------------------------------------------------------------------------------------
    def mkdir(self, path: str, parents: bool = True, mode: int = DEFAULT_DIR_MODE) -> None:
        """Create directory ``path`` (and missing parents when ``parents``); existing directories are kept."""
        with self._lock:
            p = normpath(path)
            node = self._nodes.get(p)
            if node is not None:
                if not _stat.S_ISDIR(node.mode):
                    raise FileExistsError(17, "File exists", p)
                return
            parent = posixpath.dirname(p)
            if not self.isdir(parent):
                if not parents:
                    raise FileNotFoundError(2, "No such file or directory", parent)
                self.mkdir(parent, parents=True, mode=mode)
            self._nodes[p] = _Node(S_IFDIR | (mode & 0o7777), int(time.time()))

    def write(self, path: str, data: bytes, mode: int = DEFAULT_FILE_MODE, mtime: int | None = None) -> None:
        """Create or replace regular file ``path``; FileNotFoundError if its parent directory is missing.

        ``mode`` may be permission bits only (``0o755``) or a full st_mode; the type is always regular file.
        """
        with self._lock:
            p = normpath(path)
            if not self.isdir(posixpath.dirname(p)):
                raise FileNotFoundError(2, "No such file or directory", posixpath.dirname(p))
            old = self._nodes.get(p)
            if old is not None and _stat.S_ISDIR(old.mode):
                raise IsADirectoryError(21, "Is a directory", p)
            when = int(time.time()) if mtime is None else int(mtime)
            self._nodes[p] = _Node(S_IFREG | (mode & 0o7777), when, bytes(data))

    def remove(self, path: str, recursive: bool = False) -> None:
        """Delete a file, or a directory (empty unless ``recursive``); FileNotFoundError if missing."""
        with self._lock:
            p = normpath(path)
            node = self._nodes.get(p)
            if node is None:
                raise FileNotFoundError(2, "No such file or directory", p)
            if _stat.S_ISDIR(node.mode):
                children = [k for k in self._nodes if k.startswith(p.rstrip("/") + "/")]
                if children and not recursive:
                    raise OSError(39, "Directory not empty", p)
                for k in children:
                    del self._nodes[k]
            if p != "/":
                del self._nodes[p]
