"""Source kind ``build``: judge a ROM build before any phone is flashed (``--build PATH``).

``PATH`` is one of:

* an AOSP ``target_files`` zip (``SYSTEM/``, ``VENDOR/``, ``PRODUCT/``, ``SYSTEM_EXT/``, ``ODM/`` … trees);
* a directory of unpacked partitions (``system/``, ``vendor/``, ``product/``, ``cust/`` …), see
  :mod:`harness.sources.tree`;
* a directory holding several such builds — one per region, as MIUI ships China, Global, India … ROMs of one
  release: each becomes its own row, ``build:<dir>#<REGION>``.

Facts: the properties of every partition's ``build.prop`` resolved as init does at boot
(:mod:`harness.sources.buildprop`), then the phone's own rules (:class:`harness.facts.DeviceFacts`,
:mod:`harness.region`) — a build and a phone of that build get the same model, fingerprint and region.

Package states: every ``*.apk`` (base APKs; splits are listed with their base) in the folders PackageManager
scans on each partition — ``<partition>/app`` (system app), ``<partition>/priv-app`` (privileged system app) for
``/system``, ``/system_ext``, ``/product``, ``/vendor``, ``/odm``, ``/oem`` (and their in-system copies
``/system/product`` … on builds without that partition) — and in the removable-preload folders of
:data:`harness.inventory.DATA_APP_DIRS` (MIUI ``/system/data-app``, ``/product/data-app``, ``/cust/app`` …). Each
becomes the :class:`~harness.inventory.PackageState` a phone would report after first boot: installed and
listed for user 0, install kind ``system`` (app, priv-app) or ``removable_preload`` (data-app folders),
partition and code path by the same rules as on a phone (``partition_of``), versions from the manifest, enabled
unless the manifest says ``<application android:enabled="false">``; the signatures of its APKs (base and splits)
read by the device signer check's own reader (:mod:`harness.sources.signer`), and the digests Android uses on the
build's API level. A package found in several places: the system copy with the
highest ``versionCode`` is the one PackageManager keeps (then a removable copy); every place is in the evidence.

An APK is a regular file named ``*.apk`` (lower case: Android's ``isApkFile`` ignores ``Word.APK``). Any APK in
those folders that cannot be read makes the whole build *broken* (a :class:`~harness.errors.SourceError` naming
the build, the APK and the reason): an unreadable APK could be a required or a forbidden app, so no verdict about
presence would be sound. So does an entry there that is not a regular file (a folder named ``Word.apk``, a symlink
loop, a dangling link), a zip member whose name cannot be placed (``..``, backslashes), and a folder of APKs that
PackageManager would refuse as one package (two packages or versionCodes, a base twice, splits without a base:
``ApkLiteParseUtils`` "Inconsistent package"). A symlinked app folder is followed, as Android follows it.

A folder of region builds takes its ``.zip`` files and its sub-folders holding partition folders; one with
partition folders but no ``system/`` is an incomplete build (a broken row); any other child (``.tgz``,
``.ZIP.1``) is named in a note (:attr:`~harness.sources.Target.notes`), never skipped in silence.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from harness.apksig import ApkSignature
from harness.errors import ParseError, SourceError
from harness.inventory import DATA_APP_DIRS, PackageState, partition_of
from harness.region import resolve_region
from harness.signatures import ApkCopy, PackageSigners
from harness.sources import Target
from harness.sources.apk import ApkInfo, read_apk
from harness.sources.buildprop import ResolvedProps, resolve
from harness.sources.signer import read_signature, signer_digests
from harness.sources.tree import PARTITIONS, BuildTree, is_build_dir, open_build

HOST = "rom-build"
"""What stands where a farm host stands, for a build row."""

_MOUNTS = ("/system", "/system_ext", "/product", "/vendor", "/odm", "/oem",
           "/system/product", "/system/system_ext", "/system/vendor", "/vendor/odm")
_MAX_DEPTH = 3  # <root>/X.apk, <root>/Dir/Dir.apk, <root>/customized/Dir/x.apk (MIUI cust)


@dataclass(frozen=True)
class ScanRoot:
    """A folder PackageManager (or MIUI's preinstaller) installs APKs from: device path prefix ending in ``/``,
    install kind and whether its apps are privileged."""

    prefix: str
    install_kind: str
    privileged: bool = False


SCAN_ROOTS: tuple[ScanRoot, ...] = (
    *(ScanRoot(d, "removable_preload") for d in DATA_APP_DIRS),
    *(ScanRoot(f"{m}/priv-app/", "system", True) for m in _MOUNTS),
    *(ScanRoot(f"{m}/app/", "system") for m in _MOUNTS),
)
"""Every folder an APK of the build is taken from (longest prefixes first is not needed: they do not nest)."""


def scan_root(device_path: str) -> ScanRoot | None:
    """The :class:`ScanRoot` an APK at ``device_path`` is installed from, or None (not a preinstalled app)."""
    for root in SCAN_ROOTS:
        if device_path.startswith(root.prefix):
            depth = device_path[len(root.prefix):].count("/") + 1
            return root if depth <= _MAX_DEPTH else None
    return None


@dataclass(frozen=True)
class FoundApk:
    """One APK of the build: where it is, what its manifest says and its signature (or why it cannot be read)."""

    device_path: str
    member: str
    root: ScanRoot
    info: ApkInfo
    signature: ApkSignature | ParseError | None = None

    @property
    def code_path(self) -> str:
        """``codePath`` as ``dumpsys package`` prints it: the APK's folder for ``<root>/<Dir>/<file>.apk``
        (Android 5+ layout), the APK itself for a file directly in the root (Android 4.4 layout)."""
        rest = self.device_path[len(self.root.prefix):]
        return self.device_path.rsplit("/", 1)[0] if "/" in rest else self.device_path


def in_scan_folder(device_dir: str) -> bool:
    """True when the folder ``device_dir`` (``/system/app/Word``) is inside a scan root, shallow enough to hold an
    APK PackageManager installs: a symlinked folder there is followed (Android follows it)."""
    for root in SCAN_ROOTS:
        if device_dir.startswith(root.prefix):
            return device_dir[len(root.prefix):].count("/") + 1 < _MAX_DEPTH
    return False


def _tree_problems(tree: BuildTree) -> None:
    """SourceError for the first entry of an APK folder that :meth:`BuildTree.members` could not yield as a file
    (an ``*.apk`` folder, symlink loop, dangling link, a ``..`` zip name): the app there could be required or
    forbidden, so no presence verdict would be sound."""
    relevant = [p for p in tree.problems
                if p.anywhere or scan_root(p.device_path) or scan_root(posixpath.normpath(p.device_path))
                or in_scan_folder(p.device_path)]
    if relevant:
        first = relevant[0]
        more = f" (and {len(relevant) - 1} more: {', '.join(p.member for p in relevant[1:4])})" if len(relevant) > 1 \
            else ""
        what = first.reason if first.anywhere else (f"{first.reason}: an entry of an APK folder "
                                                    f"({first.device_path}) that cannot be read as an APK")
        raise SourceError(f"{what}{more}", path=tree.source, member=first.member,
                          remedy="unpack or pack the build again (regular .apk files, each member name once, no "
                                 "symlink loops, no '..' names)")


def _check_folders(apks: list[FoundApk], source: str) -> None:
    """What PackageManager checks when it parses a folder of APKs as one package (AOSP ``ApkLiteParseUtils.
    composePackageLiteFromApks``): one package and one versionCode in the folder, each split name once, a base APK.
    Android skips a folder that breaks one of these ("Inconsistent package …"); here the build is broken.

    Raises:
        SourceError: naming the folder and the two APKs that disagree.
    """
    folders: dict[str, list[FoundApk]] = {}
    for apk in apks:
        folders.setdefault(apk.code_path, []).append(apk)
    for folder, group in folders.items():
        first = group[0]
        seen: dict[str | None, FoundApk] = {}
        for apk in group:
            what = None
            if apk.info.package != first.info.package:
                what = (f"inconsistent package: {apk.member} is {apk.info.package}, {first.member} is "
                        f"{first.info.package}")
            elif apk.info.version_code != first.info.version_code:
                what = (f"inconsistent versionCode: {apk.member} has {apk.info.version_code}, {first.member} has "
                        f"{first.info.version_code}")
            elif apk.info.split in seen:
                name = f"split {apk.info.split!r}" if apk.info.split else "a base APK"
                what = f"{name} twice: {seen[apk.info.split].member} and {apk.member}"
            if what:
                raise SourceError(f"folder {folder} holds APKs Android will not install together ({what}); "
                                  "PackageManager rejects the folder at boot", path=source, member=apk.member,
                                  remedy="one app per folder: a base APK and its splits, same package and version")
            seen[apk.info.split] = apk
        if None not in seen:
            names = ", ".join(a.member for a in group)
            raise SourceError(f"folder {folder} holds split APKs but no base APK ({names}): PackageManager rejects "
                              "it ('Missing base APK')", path=source, member=first.member)


def scan_apks(tree: BuildTree, sdk: int | None = None) -> tuple[dict[str, list[FoundApk]], dict[str, list[FoundApk]]]:
    """Read every APK of the scan roots: ``({package: [copies]}, {code path: [split APKs]})``.

    An APK is a regular file whose name ends in ``.apk`` — lower case, as Android's ``ApkLiteParseUtils.isApkFile``
    wants (``Word.APK`` is not installed). ``sdk`` is the build's API level (which signature schemes count).

    Raises:
        SourceError: an APK's manifest cannot be read (see :func:`harness.sources.apk.read_apk`); an entry of an APK
            folder is not a regular file or has a ``..`` name; a folder holds APKs of two packages, two base APKs or
            splits without a base. A signature that cannot be read is kept on the :class:`FoundApk` instead (the
            signer check reports it).
    """
    found: dict[str, list[FoundApk]] = {}
    splits: dict[str, list[FoundApk]] = {}
    every: list[FoundApk] = []
    for device_path, member in sorted(tree.members()):
        if not device_path.endswith(".apk"):
            continue
        root = scan_root(device_path)
        if root is None:
            continue
        with tree.open(member) as fh:
            info = read_apk(fh, source=tree.source, member=member)
            signature = read_signature(fh, device_path=device_path, source=tree.source, member=member, sdk=sdk)
        apk = FoundApk(device_path, member, root, info, signature)
        every.append(apk)
        if info.split:
            splits.setdefault(apk.code_path, []).append(apk)
            continue
        found.setdefault(info.package, []).append(apk)
    _tree_problems(tree)
    _check_folders(every, tree.source)
    return found, splits


def _chosen(copies: list[FoundApk]) -> FoundApk:
    system = [c for c in copies if c.root.install_kind == "system"]
    pool = system or copies
    return max(pool, key=lambda c: (c.info.version_code or 0, -pool.index(c)))


def package_signers(copies: list[FoundApk], splits: dict[str, list[FoundApk]]) -> PackageSigners | ParseError:
    """The signatures of the package's APKs as a phone would have them: the kept copy's base APK, then its splits;
    the first unreadable signature instead, when there is one."""
    apk = _chosen(copies)
    apks = [apk, *splits.get(apk.code_path, [])]
    for a in apks:
        if isinstance(a.signature, ParseError):
            return a.signature
    return PackageSigners(apk.info.package, (ApkCopy("active", tuple(a.signature for a in apks
                                                                      if isinstance(a.signature, ApkSignature))),))


def package_state(copies: list[FoundApk], splits: dict[str, list[FoundApk]], source: str,
                  sdk: int | None = None) -> PackageState:
    """The :class:`PackageState` a phone of this build reports for the package of ``copies`` (module docstring);
    ``sdk`` is the build's API level (which signature scheme counts for the digests)."""
    apk = _chosen(copies)
    info = apk.info
    kind = apk.root.install_kind
    code_path = apk.code_path
    partition = partition_of(code_path)
    folder = apk.root.prefix.rstrip("/")
    what = "removable preload" if kind == "removable_preload" else (
        "privileged system app" if apk.root.privileged else "system app")
    evidence = [f"{apk.member}: package={info.package} versionName={info.version_name} "
                f"versionCode={info.version_code}",
                f"folder {folder}: {what}, partition {partition}, codePath {code_path}"]
    if not info.enabled:
        evidence.append('AndroidManifest.xml: <application android:enabled="false">: ships disabled')
    digests = signer_digests(apk.signature, sdk)
    evidence.append("signer SHA-256: " + (", ".join(digests) if digests else
                                          f"not readable ({apk.signature})" if isinstance(apk.signature, ParseError)
                                          else "none"))
    if isinstance(apk.signature, ApkSignature):
        evidence.append(f"APK integrity: {apk.signature.integrity}")
    for other in copies:
        if other is not apk:
            evidence.append(f"also at {other.member}: versionName={other.info.version_name} "
                            f"versionCode={other.info.version_code} (not the copy PackageManager keeps)")
    section = "\n".join([f"ROM build {source}", *evidence, "", info.manifest])
    return PackageState(
        package=info.package, known=True, installed=True, listed=True, version_name=info.version_name,
        version_code=info.version_code, code_path=code_path, partition=partition, install_kind=kind,
        system=kind == "system", enabled=info.enabled, enabled_state=0 if info.enabled else None,
        splits=tuple(["base", *(s.info.split or "" for s in splits.get(code_path, []))])
        if splits.get(code_path) else (),
        evidence=tuple(evidence), section=section, signer_digests=digests)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._:@/+#-]", "_", text)[:200] or "_"


def build_target(path: Path, *, serial: str | None = None) -> tuple[Target, ResolvedProps]:
    """One build → its :class:`Target` (and the resolved properties, for tools that show where values came from).

    Raises:
        SourceError: corrupt zip, no ``build.prop``, an unreadable APK (names file, member, line).
    """
    tree = open_build(path, follow=in_scan_folder)
    try:
        resolved = resolve(tree.read_text, source=str(path))
        sdk_text = resolved.props.get("ro.build.version.sdk", "")
        sdk = int(sdk_text) if sdk_text.isdigit() else None
        found, splits = scan_apks(tree, sdk)
    finally:
        tree.close()  # type: ignore[attr-defined]
    source = str(path)
    states = {pkg: package_state(copies, splits, source, sdk) for pkg, copies in found.items()}
    signers = {pkg: package_signers(copies, splits) for pkg, copies in found.items()}
    scanned = "the app, priv-app and data-app folders of its partitions (and /cust/app)"
    props_note = "properties from " + ", ".join(resolved.files)

    def lookup(pkg: str) -> PackageState:
        if pkg in states:
            return states[pkg]
        line = f"{source}: no APK of {pkg} in {scanned}"
        return PackageState(package=pkg, known=False, installed=False, listed=False, evidence=(line,),
                            section=f"ROM build {source}\n{line}\n{props_note}\n" + "\n".join(resolved.notes))

    target = Target(serial=serial or _safe(f"build:{path.name}"), host=HOST, props=dict(resolved.props),
                    packages=lookup, source=source,
                    evidence={pkg: st.section for pkg, st in states.items()}, signers=signers)
    return target, resolved


def load(path: Path) -> list[Target]:
    """The targets of ``--build PATH``: one per build (several for a folder of region builds, see
    :func:`folder_children`: a region build that cannot be read, or has partition folders but no ``system/``, is a
    target with ``problem`` set; the children that are not builds are named in every target's ``notes``).

    Raises:
        SourceError: the path is not a build nor a folder of builds, a build with partition folders but no
            ``system/`` (incomplete), or a build that cannot be read.
    """
    if path.is_file() or is_build_dir(path):
        return [build_target(path)[0]]
    if partition_folders(path):
        raise _incomplete(path)
    children, ignored = folder_children(path)
    if not children:
        raise SourceError("neither a build nor a folder of builds (no system/ or SYSTEM/ folder, no .zip)"
                          + (f"; ignored: {', '.join(ignored)}" if ignored else ""),
                          path=str(path), remedy="give a target_files zip, a directory of unpacked partitions, "
                                                 "or a folder holding one of those per region")
    note = (f"{path}: not builds, not judged: {', '.join(ignored)} (only target_files .zip files and folders of "
            "unpacked partitions are read)") if ignored else None
    built: list[tuple[Path, Target | None, SourceError | None]] = []
    for child in children:
        try:
            if partition_folders(child) and not is_build_dir(child):
                raise _incomplete(child)
            built.append((child, build_target(child)[0], None))
        except SourceError as exc:  # one unreadable region build is its own broken row, not the others' problem
            built.append((child, None, exc))
    regions = [resolve_region(t.props).region if t else None for _, t, _ in built]
    named: list[Target] = []
    for (child, target, problem), region in zip(built, regions, strict=True):
        tag = region if region and regions.count(region) == 1 else child.stem
        serial = _safe(f"build:{path.name}#{tag}")
        if target is None:
            named.append(Target(serial=serial, host=HOST, props={}, packages={}, source=str(child), problem=problem,
                                notes=(note,) if note else ()))
        else:
            named.append(Target(serial=serial, host=HOST, props=target.props, packages=target.packages,
                                source=target.source, evidence=target.evidence, signers=target.signers,
                                notes=(note,) if note else ()))
    return named


def partition_folders(path: Path) -> list[str]:
    """Names of ``path``'s sub-folders that are partitions of a build (``system``, ``vendor``, ``PRODUCT`` …)."""
    if not path.is_dir():
        return []
    return sorted(c.name for c in path.iterdir() if c.is_dir() and c.name.upper() in PARTITIONS)


def _incomplete(path: Path) -> SourceError:
    return SourceError(f"incomplete build: it has {', '.join(f'{n}/' for n in partition_folders(path))} but no "
                       "system/ folder (no build.prop of the system partition, no system apps)", path=str(path),
                       remedy="unpack the system partition too (system/ or system/system/ for a system-as-root dump)")


def folder_children(path: Path) -> tuple[list[Path], list[str]]:
    """The builds of a folder of region builds and the names of the children that are not read.

    A build is a ``.zip`` file (case-insensitive suffix: a target_files zip) or a folder holding at least one
    partition folder (one without ``system/`` is an *incomplete* build: :func:`load` makes it a broken row).
    Everything else (``.tgz``, ``.ZIP.1``, notes, empty folders) is returned by name in the second list, so the
    caller can say it was not judged.
    """
    builds: list[Path] = []
    ignored: list[str] = []
    for child in sorted(path.iterdir()):
        if (child.is_file() and child.suffix.lower() == ".zip") or partition_folders(child):
            builds.append(child)
        else:
            ignored.append(child.name + ("/" if child.is_dir() else ""))
    return builds, ignored
