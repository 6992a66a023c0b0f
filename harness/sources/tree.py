"""A ROM build's files by their on-device path: a ``target_files`` zip or a directory of unpacked partitions.

Both layouts are read lazily and streamed: :meth:`BuildTree.open` returns a file object on one member, nothing
is extracted and no partition is read into memory. Paths inside the build are mapped to the paths the phone
will see (``/system/app/Word/Word.apk``), so the rest of the harness (``harness.inventory.partition_of``,
``DATA_APP_DIRS``) applies unchanged.

* ``target_files`` zip (AOSP ``build/make/tools/releasetools`` layout): ``SYSTEM/`` → ``/system/``,
  ``VENDOR/`` → ``/vendor/``, ``PRODUCT/``, ``SYSTEM_EXT/``, ``ODM/``, ``OEM/``, ``VENDOR_DLKM/``, ``ODM_DLKM/``,
  ``SYSTEM_DLKM/``, ``PRODUCT_SERVICES/`` likewise; ``BOOT/RAMDISK/`` and ``ROOT/`` → ``/`` (``prop.default``);
  ``CUST/`` → ``/cust/`` (MIUI's cust partition).
* unpacked partitions: the same names in lower (or upper) case as top-level folders (``system/``, ``product/``,
  ``cust/`` …). A system-as-root dump keeps the system partition in ``system/system/`` (e.g. the HyperOS dump
  in ``/work/shared/corpus/builds/apk-folders_xiaomi-muyu.txt``: ``system/system/app``): used when
  ``system/system/build.prop`` exists.

A partition that the build does not have separately is looked up where a phone without it keeps it:
``/vendor`` → ``/system/vendor``, ``/product`` → ``/system/product``, ``/system_ext`` → ``/system/system_ext``,
``/odm`` → ``/vendor/odm``.

Entries a reader must not pass over in silence are listed in :attr:`BuildTree.problems` while :meth:`members`
runs (the caller decides which matter: :mod:`harness.sources.build` refuses those in its APK folders): a ``*.apk``
that is not a regular file (a directory, a dangling symlink, a symlink loop, a FIFO), a symlinked folder that
leads back into its own parents or to a folder already walked, and a zip member whose name has a ``.``/``..``
component, an empty one or a backslash (``SYSTEM/app/Word/../Word/Word.apk``, ``SYSTEM\\app\\Word.apk``), or a name
the zip holds twice.
A zip member is read through :func:`harness.sources.zipmember.open_member`: a member whose data is damaged (a
corrupt deflate stream, a CRC-32 mismatch, data that ends early) is a :class:`~harness.errors.SourceError` naming
the zip and the member wherever it is read (``build.prop``, an APK's manifest or signature).
In an unpacked build, a symlinked folder is followed (as Android follows it on the phone) where ``follow(device
path)`` says so — the APK folders — and only there: elsewhere (``system/vendor -> /vendor`` in a system-as-root
dump) the host's own folders are not walked.
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.errors import SourceError
from harness.sources.zipmember import open_member

PARTITIONS: dict[str, str] = {
    "SYSTEM": "/system", "VENDOR": "/vendor", "PRODUCT": "/product", "SYSTEM_EXT": "/system_ext", "ODM": "/odm",
    "OEM": "/oem", "VENDOR_DLKM": "/vendor_dlkm", "ODM_DLKM": "/odm_dlkm", "SYSTEM_DLKM": "/system_dlkm",
    "PRODUCT_SERVICES": "/product_services", "CUST": "/cust", "BOOT/RAMDISK": "", "ROOT": "",
}
"""Top-level folder of a build → on-device mount point (``""``: the root file system)."""

FALLBACKS: dict[str, str] = {"/vendor": "/system/vendor", "/product": "/system/product",
                             "/system_ext": "/system/system_ext", "/odm": "/vendor/odm"}
"""Where a phone without that partition keeps its files."""

MAX_PROP_FILE_BYTES = 4 * 1024 * 1024
"""A property file larger than this is not a property file (read refuses it instead of loading it)."""


@dataclass(frozen=True)
class TreeProblem:
    """An entry of the build that :meth:`BuildTree.members` did not yield as a file, and why.

    Attributes:
        device_path: where it would be on the phone (``/system/app/Word/Word.apk``).
        member: its name in the build (``system/app/Word/Word.apk``; a zip member's name as stored).
        reason: what is wrong (``a directory, not an APK file``, ``symlink loop`` …).
        anywhere: the entry makes the whole build unreadable wherever it is (a zip member name that cannot be
            placed), not only in an APK folder.
    """

    device_path: str
    member: str
    reason: str
    anywhere: bool = False


class BuildTree:
    """Files of one build by on-device path. Subclasses: :class:`ZipBuild`, :class:`DirBuild`.

    Attributes:
        source: the zip or directory, as given (for messages).
        problems: entries not yielded by the last full :meth:`members` pass (module docstring), in walk order.
    """

    source: str
    problems: list[TreeProblem]

    def members(self) -> Iterator[tuple[str, str]]:
        """Every regular file as ``(device path, member name)``; member names are what messages show."""
        raise NotImplementedError

    def open(self, member: str) -> IO[bytes]:
        """A binary, seekable file object on ``member`` (streamed; close it)."""
        raise NotImplementedError

    def size(self, member: str) -> int:
        """Uncompressed size of ``member`` in bytes."""
        raise NotImplementedError

    def has_partition(self, mount: str) -> bool:
        """True when the build has ``mount`` (``/vendor``) as a partition of its own."""
        raise NotImplementedError

    def find(self, device_path: str) -> str | None:
        """The member holding ``device_path``, following :data:`FALLBACKS` for absent partitions; None if absent."""
        index = self._index()
        if device_path in index:
            return index[device_path]
        for mount, fallback in FALLBACKS.items():
            if device_path.startswith(mount + "/") and not self.has_partition(mount):
                alt = fallback + device_path[len(mount):]
                if alt in index:
                    return index[alt]
        return None

    def read_text(self, device_path: str) -> tuple[str, str] | None:
        """``(text, member name)`` of a small text file (a property file), or None when the build lacks it.

        Raises:
            SourceError: the member is larger than :data:`MAX_PROP_FILE_BYTES` or the zip member is corrupt.
        """
        member = self.find(device_path)
        if member is None:
            return None
        if self.size(member) > MAX_PROP_FILE_BYTES:
            raise SourceError(f"{self.size(member)} bytes: too large for a property file", path=self.source,
                              member=member)
        with self.open(member) as fh:
            data = self._read(fh, member)
        return data.decode("utf-8", errors="replace"), member

    def _read(self, fh: IO[bytes], member: str) -> bytes:
        try:
            return fh.read()
        except OSError as exc:  # a file of an unpacked build (a zip member's damage is a SourceError already)
            raise SourceError(f"cannot read: {exc}", path=self.source, member=member,
                              remedy="copy or unpack the build again") from None

    _index_cache: dict[str, str] | None = None

    def _index(self) -> dict[str, str]:
        if self._index_cache is None:
            self._index_cache = dict(self.members())
        return self._index_cache


def _device_path(parts: tuple[str, ...], names: dict[str, str]) -> str | None:
    """Map a member's path components to the device path, or None for files outside any partition."""
    if len(parts) >= 3 and f"{parts[0]}/{parts[1]}".upper() == "BOOT/RAMDISK":
        return "/" + "/".join(parts[2:])
    top = parts[0].upper()
    if top not in names or len(parts) < 2:
        return None
    mount = names[top]
    return f"{mount}/" + "/".join(parts[1:])


class ZipBuild(BuildTree):
    """An AOSP ``target_files`` zip (members ``SYSTEM/build.prop``, ``SYSTEM/app/…``), read with :mod:`zipfile`.

    Raises (constructor):
        SourceError: not a zip, a damaged zip, or a zip without a ``SYSTEM/`` tree (an OTA package's
            ``payload.bin`` is named as such).
    """

    def __init__(self, path: Path) -> None:
        self.source = str(path)
        try:
            self.zip = zipfile.ZipFile(path)  # reads the central directory only
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(f"corrupt zip: {exc}", path=self.source,
                              remedy="give an intact target_files zip (or the unpacked partitions)") from None
        self._infos = {i.filename: i for i in self.zip.infolist() if not i.is_dir()}
        tops = {name.split("/", 1)[0].upper() for name in self._infos}
        if "SYSTEM" not in tops:
            what = ("an OTA package (payload.bin), not a target_files zip" if "payload.bin" in self._infos
                    else "no SYSTEM/ tree: not a target_files zip")
            raise SourceError(what, path=self.source,
                              remedy="give the build's target_files zip (SYSTEM/, VENDOR/, PRODUCT/ … trees) or a "
                                     "directory of unpacked partitions")
        self._parts = {PARTITIONS[t] for t in tops if t in PARTITIONS}
        self._dirs = [i.filename for i in self.zip.infolist() if i.is_dir()]
        counts: dict[str, int] = {}
        for info in self.zip.infolist():
            counts[info.filename] = counts.get(info.filename, 0) + 1
        self._duplicates = sorted(name for name, n in counts.items() if n > 1)
        self.problems = []

    def members(self) -> Iterator[tuple[str, str]]:  # noqa: D102
        self.problems = [TreeProblem(_device_path(tuple(n.split("/")), PARTITIONS) or "?", n,
                                     "the zip holds several entries of this name: which one the build uses cannot "
                                     "be told", anywhere=True) for n in self._duplicates]
        for name in self._dirs:  # a directory entry named like an APK: nothing PackageManager could install
            dev = _device_path(tuple(name.rstrip("/").split("/")), PARTITIONS)
            if dev is not None and name.rstrip("/").endswith(".apk"):
                self.problems.append(TreeProblem(dev, name, "a directory entry, not an APK file"))
        for name in self._infos:
            parts = tuple(name.split("/"))
            dev = _device_path(parts, PARTITIONS)
            if "\\" in name or any(p in ("", ".", "..") for p in parts):
                self.problems.append(TreeProblem(dev or "?", name, "member name with a backslash or an empty, '.' "
                                                 "or '..' component: where it lands on the phone cannot be told",
                                                 anywhere=True))
                continue
            if dev is not None:
                yield dev, name

    def open(self, member: str) -> IO[bytes]:
        """A file object on ``member`` whose reads raise :class:`~harness.errors.SourceError` (naming the zip and the
        member) when its data is damaged (:mod:`harness.sources.zipmember`): a corrupt APK or ``build.prop`` member
        makes the build broken wherever it is read."""
        return open_member(self.zip, self._infos[member], path=self.source,
                           remedy="give an intact target_files zip (copy or download the build again)")

    def size(self, member: str) -> int:  # noqa: D102
        return self._infos[member].file_size

    def has_partition(self, mount: str) -> bool:  # noqa: D102
        return mount in self._parts

    def close(self) -> None:
        """Close the zip file."""
        self.zip.close()


class DirBuild(BuildTree):
    """A directory of unpacked partitions (``system/``, ``vendor/``, ``product/``, ``cust/`` …, any case).

    Raises (constructor):
        SourceError: the directory has no ``system`` (or ``SYSTEM``) folder.
    """

    def __init__(self, path: Path, *, follow: Callable[[str], bool] | None = None) -> None:
        self.source = str(path)
        self.root = path
        self.problems = []
        self._follow = follow or (lambda _device_dir: False)
        self._tops: dict[str, Path] = {}
        for child in sorted(path.iterdir()):
            name = child.name.upper()
            if child.is_dir() and name in PARTITIONS and name not in self._tops:
                self._tops[name] = child
        boot = path / "BOOT" / "RAMDISK"
        if not boot.is_dir():
            boot = path / "boot" / "ramdisk"
        if "SYSTEM" not in self._tops:
            raise SourceError("no system/ (or SYSTEM/) folder: not a build", path=self.source,
                              remedy="give a directory holding the unpacked partitions (system/, vendor/, "
                                     "product/ …) or a target_files zip")
        system = self._tops["SYSTEM"]
        if not (system / "build.prop").is_file() and (system / "system" / "build.prop").is_file():
            self._tops["SYSTEM"] = system / "system"  # system-as-root dump: the partition is system/system/
        self._boot = boot if boot.is_dir() else None

    def members(self) -> Iterator[tuple[str, str]]:  # noqa: D102
        self.problems = []
        roots = [(PARTITIONS[name], top) for name, top in self._tops.items()]
        if self._boot is not None:
            roots.append(("", self._boot))
        followed: set[tuple[int, int]] = set()
        for mount, top in roots:
            st = os.stat(top)
            yield from self._walk(str(top), mount, os.path.relpath(top, self.root), ((st.st_dev, st.st_ino),),
                                  followed)

    def _walk(self, folder: str, device_dir: str, member_dir: str, parents: tuple[tuple[int, int], ...],
              followed: set[tuple[int, int]]) -> Iterator[tuple[str, str]]:
        """Regular files under ``folder`` (sorted by name), recording :class:`TreeProblem` entries on the way."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.problems.append(TreeProblem(device_dir, member_dir, f"folder not readable: {exc.strerror}"))
            return
        for entry in entries:
            device = f"{device_dir}/{entry.name}"
            member = entry.name if member_dir == "." else f"{member_dir}/{entry.name}"
            apk = entry.name.endswith(".apk")
            try:
                st = os.stat(entry.path)  # follows symlinks
            except OSError as exc:
                if apk or (entry.is_symlink() and self._follow(device)):
                    what = "symlink loop" if exc.errno == errno.ELOOP else f"dangling symlink ({exc.strerror})"
                    self.problems.append(TreeProblem(device, member, what))
                continue
            if stat.S_ISREG(st.st_mode):
                yield device, member
                continue
            if not stat.S_ISDIR(st.st_mode):
                if apk:
                    self.problems.append(TreeProblem(device, member, "not a regular file (a FIFO, socket or device)"))
                continue
            if apk:
                self.problems.append(TreeProblem(device, member, "a directory, not an APK file"))
            key = (st.st_dev, st.st_ino)
            if entry.is_symlink():
                if not self._follow(device):
                    continue
                if key in parents:
                    self.problems.append(TreeProblem(device, member, f"symlink loop: the folder links back to "
                                                                     f"one of its parents ({os.readlink(entry.path)})"))
                    continue
                if key in followed:
                    self.problems.append(TreeProblem(device, member, "a folder reached a second time through a "
                                                                     f"symlink ({os.readlink(entry.path)})"))
                    continue
                followed.add(key)
            elif key in parents:
                continue
            yield from self._walk(entry.path, device, member, (*parents, key), followed)

    def open(self, member: str) -> IO[bytes]:  # noqa: D102
        try:
            return open(self.root / member, "rb")  # noqa: SIM115 - the caller closes it
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror}", path=self.source, member=member) from None

    def size(self, member: str) -> int:  # noqa: D102
        return (self.root / member).stat().st_size

    def has_partition(self, mount: str) -> bool:  # noqa: D102
        return any(PARTITIONS[name] == mount for name in self._tops)

    def close(self) -> None:
        """Nothing to close."""


def open_build(path: Path, *, follow: Callable[[str], bool] | None = None) -> BuildTree:
    """The build at ``path``: a zip file → :class:`ZipBuild`; a directory → :class:`DirBuild` (``follow``: which
    symlinked folders, by device path, are walked into; default none).

    Raises:
        SourceError: neither a zip nor a build directory (see the classes).
    """
    if path.is_dir():
        return DirBuild(path, follow=follow)
    return ZipBuild(path)


def is_build_dir(path: Path) -> bool:
    """True when ``path`` is a directory with a ``system``/``SYSTEM`` folder (one build, not a set of builds)."""
    return path.is_dir() and any(c.is_dir() and c.name.upper() == "SYSTEM" for c in path.iterdir())
