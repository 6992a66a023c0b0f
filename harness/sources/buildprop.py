"""``build.prop`` files of a ROM build → the properties a booted phone would print with ``getprop``.

A build carries its properties in one file per partition; Android's ``init`` reads them at boot in a fixed order
and derives a few more. This module does the same, from the AOSP sources (``system/core/init/property_service.cpp``,
tags ``android-8.1.0_r1`` … ``android-15.0.0_r1``):

* **Line format** (``LoadProperties``): leading white space is skipped; ``#`` starts a comment line; trailing white
  space is cut; ``import <path> [filter]`` reads another file at that point (``${prop}`` expanded, Android 10+);
  otherwise ``key=value`` split at the first ``=`` (white space around it removed); a line without ``=`` is
  ignored, as are the keys ``ctl.*``, ``sys.powerctl`` and ``selinux.restorecon_recursive``. A filter ``ro.*`` is
  a prefix match, any other filter an exact key.
* **File order** (:func:`load_order`): Android 8.x ``prop.default``, ``/odm/default.prop``, ``/vendor/default.prop``,
  ``/system/build.prop``, ``/odm/build.prop``, ``/vendor/build.prop``, ``/factory/factory.prop`` (``ro.*`` only);
  Android 9 adds ``/product/build.prop`` right after ``prop.default``; Android 10 reads ``prop.default``,
  ``/system/build.prop``, ``/vendor/default.prop``, ``/vendor/build.prop``, ``/odm/etc/build.prop`` (or the legacy
  ``/odm/default.prop`` + ``/odm/build.prop``), ``/product/build.prop``, ``/product_services/build.prop``;
  Android 11 adds ``/system_ext/build.prop`` after system; Android 12+ reads ``/system/build.prop``,
  ``/system_ext/etc/build.prop``, ``/system_dlkm/etc/build.prop``, ``/vendor/default.prop``, ``/vendor/build.prop``,
  ``/vendor_dlkm/etc/build.prop``, ``/odm_dlkm/etc/build.prop``, ``/odm/etc/build.prop``, ``/product/etc/build.prop``
  (each ``<part>/etc/build.prop`` falling back to the legacy ``<part>/default.prop`` + ``<part>/build.prop``).
* **Duplicates**: up to Android 9 (API 28) an ``ro.*`` property is write-once — the FIRST value read wins (later
  ones fail with "Read-only property was already set") — while other keys take the last value. From Android 10
  (API 29) every file goes into one map first: the LAST value read wins for every key, ``ro.*`` included.
* **Derived** (API 29+): ``ro.product.{brand,device,manufacturer,model,name}`` left empty are taken from
  ``ro.product.<partition>.<field>`` in ``ro.product.property_source_order`` (Samsung One UI 6.1 in the corpus:
  ``odm,vendor,product,system``; invalid or absent → the default ``product,product_services,odm,vendor,system``
  on Android 10, ``product,odm,vendor,system_ext,system`` from 11); an empty ``ro.build.fingerprint`` is built
  as ``brand/name/device:release/id/incremental:type/tags`` (``release_or_codename`` from Android 12).

Corpus: ``/work/shared/corpus/builds/`` — a MIUI 9 single ``system/build.prop`` (Android 8.1, ``import`` lines to
``/persist`` and ``/vendor``, a quoted value, a double space) and a Samsung One UI 6.1 system ``build.prop``
(``ro.product.system.*`` only, duplicate keys, a property source order).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.errors import SourceError

DISALLOWED_KEYS = frozenset({"sys.powerctl", "selinux.restorecon_recursive"})
"""Keys init refuses to read from a property file (plus every ``ctl.*``)."""

PRODUCT_FIELDS = ("brand", "device", "manufacturer", "model", "name")
"""``ro.product.<field>`` values init derives from the partition copies."""

_SOURCES_Q = ("odm", "product", "product_services", "system", "vendor")
_SOURCES_R = ("odm", "product", "system_ext", "system", "vendor")
_ORDER_Q = "product,product_services,odm,vendor,system"
_ORDER_R = "product,odm,vendor,system_ext,system"
_MAX_IMPORT_DEPTH = 8
MAX_FILES_LOADED = 64
"""Property files read for one build, imports included (a real build reads about 10): beyond this the build is
broken — an ``import`` fan-out (a file importing others many times over) would otherwise grow as n^depth."""
MAX_LINES_LOADED = 200_000
"""Property lines read for one build, imports included (a real build has a few thousand)."""
_EXPAND_RE = re.compile(r"\$\{([^}:]+)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class PropLine:
    """``key=value`` at ``line`` (1-based) of a property file."""

    key: str
    value: str
    line: int


@dataclass(frozen=True)
class ImportLine:
    """``import <path> [filter]`` at ``line`` (1-based) of a property file."""

    path: str
    filter: str | None
    line: int


def parse_build_prop(text: str, *, source: str) -> list[PropLine | ImportLine]:
    """The entries of one property file, in file order (see the module docstring for the line rules).

    Args:
        text: the file, decoded (any line ending).
        source: the file's name for messages (``SYSTEM/build.prop``).

    Raises:
        SourceError: the text holds NUL bytes (a binary file, not a property file).
    """
    if "\x00" in text:
        raise SourceError("binary data, not a property file", path=source,
                          remedy="point at the partition's build.prop (key=value lines)")
    out: list[PropLine | ImportLine] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("import ") or line.startswith("import\t"):
            rest = line[7:].strip().split(None, 1)
            if rest:
                out.append(ImportLine(rest[0], rest[1].strip() if len(rest) > 1 else None, number))
            continue
        key, sep, value = line.partition("=")
        key = key.rstrip()
        if not sep or not key:
            continue
        if key.startswith("ctl.") or key in DISALLOWED_KEYS:
            continue
        out.append(PropLine(key, value.lstrip(), number))
    return out


def _matches(key: str, flt: str | None) -> bool:
    if not flt:
        return True
    return key.startswith(flt[:-1]) if flt.endswith("*") else key == flt


@dataclass(frozen=True)
class PropFile:
    """One file of the load order: its on-device path and, for ``<part>/etc/build.prop``, the legacy paths
    read instead when it is absent; ``filter`` as in an ``import`` line."""

    path: str
    legacy: tuple[str, ...] = ()
    filter: str | None = None


def load_order(sdk: int) -> list[PropFile]:
    """The property files init reads at boot on API level ``sdk``, first to last (module docstring)."""
    default = PropFile("/system/etc/prop.default", ("/prop.default", "/default.prop"))
    factory = PropFile("/factory/factory.prop", filter="ro.*")
    if sdk <= 28:
        files = [default]
        if sdk == 28:
            files.append(PropFile("/product/build.prop"))
        return files + [PropFile("/odm/default.prop"), PropFile("/vendor/default.prop"),
                        PropFile("/system/build.prop"), PropFile("/odm/build.prop"), PropFile("/vendor/build.prop"),
                        factory]
    if sdk <= 30:
        files = [default, PropFile("/system/build.prop")]
        if sdk == 30:
            files.append(PropFile("/system_ext/build.prop"))
        files += [PropFile("/vendor/default.prop"), PropFile("/vendor/build.prop"),
                  PropFile("/odm/etc/build.prop", ("/odm/default.prop", "/odm/build.prop")),
                  PropFile("/product/build.prop")]
        if sdk == 29:
            files.append(PropFile("/product_services/build.prop"))
        return files + [factory]
    return [PropFile("/system/build.prop"),
            PropFile("/system_ext/etc/build.prop", ("/system_ext/default.prop", "/system_ext/build.prop")),
            PropFile("/system_dlkm/etc/build.prop"), PropFile("/vendor/default.prop"), PropFile("/vendor/build.prop"),
            PropFile("/vendor_dlkm/etc/build.prop"), PropFile("/odm_dlkm/etc/build.prop"),
            PropFile("/odm/etc/build.prop", ("/odm/default.prop", "/odm/build.prop")),
            PropFile("/product/etc/build.prop", ("/product/default.prop", "/product/build.prop"))]


Reader = Callable[[str], "tuple[str, str] | None"]
"""``reader(device_path)`` → ``(text, name for messages)`` of that file in the build, or None when absent."""


@dataclass
class ResolvedProps:
    """The properties of a build as ``getprop`` would print them after boot.

    Attributes:
        props: key → value.
        origin: key → where the value came from (``SYSTEM/build.prop:12``, or ``derived from ro.product.vendor.model``).
        files: the property files read, in order (names for messages).
        notes: what was skipped and why (an ``import`` of a file that is not in the build, e.g. ``/persist``).
        sdk: the API level whose rules were applied.
    """

    props: dict[str, str] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sdk: int = 0


def _expand(raw: str, props: dict[str, str]) -> str:
    return _EXPAND_RE.sub(lambda m: props.get(m.group(1)) or (m.group(2) or ""), raw)


def build_sdk(entries: list[PropLine | ImportLine], *, source: str) -> int:
    """API level of the system ``build.prop`` entries: ``ro.build.version.sdk`` (else ``ro.system.build.version.sdk``).

    Raises:
        SourceError: neither is a positive integer (names the file and line).
    """
    values = {e.key: e for e in entries if isinstance(e, PropLine)}
    for key in ("ro.build.version.sdk", "ro.system.build.version.sdk"):
        entry = values.get(key)
        if entry is not None:
            if re.fullmatch(r"[0-9]{1,3}", entry.value) and int(entry.value) > 0:
                return int(entry.value)
            raise SourceError(f"{key} is not a positive integer ({entry.value!r})", path=source, line=entry.line)
    raise SourceError("no ro.build.version.sdk (nor ro.system.build.version.sdk): cannot tell which Android "
                      "version's property rules apply", path=source,
                      remedy="this is not the system partition's build.prop, or the build is incomplete")


def resolve(reader: Reader, *, source: str | None = None) -> ResolvedProps:
    """Read the build's property files in init's order and return the resolved properties.

    ``/system/build.prop`` must exist; every other file is optional (absent partitions are normal). ``source``
    (the build, for messages) is named in the error when it does not.

    An ``import`` of a file already being read on the same import chain (same file and filter) is not followed
    (a note says so); imports nest at most ``_MAX_IMPORT_DEPTH`` deep; at most :data:`MAX_FILES_LOADED` files and
    :data:`MAX_LINES_LOADED` lines are read in all.

    Raises:
        SourceError: no ``/system/build.prop`` in the build, a binary property file, an API level that cannot be
            read (file and line named), or more files or lines than the caps (naming the import line that went
            over).
    """
    system = reader("/system/build.prop")
    if system is None:
        raise SourceError("missing build.prop: no /system/build.prop in the build (SYSTEM/build.prop in a "
                          "target_files zip, system/build.prop or system/system/build.prop unpacked)",
                          path=source, remedy="give a target_files zip or a directory of unpacked partitions")
    sdk = build_sdk(parse_build_prop(system[0], source=system[1]), source=system[1])
    out = ResolvedProps(sdk=sdk)
    write_once = sdk <= 28
    budget = {"files": 0, "lines": 0}

    def load(path: str, flt: str | None, chain: tuple[tuple[str, str | None], ...],
             where: str | None = None) -> bool:
        found = reader(path)
        if found is None:
            return False
        text, name = found
        budget["files"] += 1
        if budget["files"] > MAX_FILES_LOADED:
            raise SourceError(f"more than {MAX_FILES_LOADED} property files read (import lines fan out: the same "
                              "files imported over and over); not a build init could boot", path=source,
                              member=where or name,
                              remedy="check the import lines of the build's property files")
        entries = parse_build_prop(text, source=name)
        budget["lines"] += len(entries)
        if budget["lines"] > MAX_LINES_LOADED:
            raise SourceError(f"more than {MAX_LINES_LOADED} property lines read (imports included)", path=source,
                              member=where or name, remedy="check the import lines of the build's property files")
        out.files.append(name)
        chain = (*chain, (path, flt))
        for entry in entries:
            if isinstance(entry, ImportLine):
                target = _expand(entry.path, out.props) if sdk >= 29 else entry.path
                if flt is not None:  # init ignores import lines while reading a filtered file
                    continue
                if (target, entry.filter) in chain:
                    note = f"{name}:{entry.line}: import {target} not followed (it imports itself, directly or not)"
                    if note not in out.notes:
                        out.notes.append(note)
                elif len(chain) > _MAX_IMPORT_DEPTH:
                    out.notes.append(f"{name}:{entry.line}: import {target} not followed (imports nested deeper "
                                     f"than {_MAX_IMPORT_DEPTH})")
                elif not load(target, entry.filter, chain, f"{name}:{entry.line}"):
                    out.notes.append(f"{name}:{entry.line}: import {target}: not in the build (device-specific or "
                                     "absent); init skips it too")
                continue
            if not _matches(entry.key, flt):
                continue
            if write_once and entry.key.startswith("ro.") and entry.key in out.props:
                continue  # Android 9 and older: ro.* is write-once, the first value stays
            out.props[entry.key] = entry.value
            out.origin[entry.key] = f"{name}:{entry.line}"
        return True

    for pf in load_order(sdk):
        if not load(pf.path, pf.filter, ()):
            for legacy in pf.legacy:
                load(legacy, pf.filter, ())
    if sdk >= 29:
        _derive_product_props(out)
        _derive_fingerprint(out)
    return out


def _derive_product_props(out: ResolvedProps) -> None:
    allowed, default = (_SOURCES_Q, _ORDER_Q) if out.sdk == 29 else (_SOURCES_R, _ORDER_R)
    order = out.props.get("ro.product.property_source_order", "")
    if not order or any(s not in allowed for s in order.split(",")):
        if order:
            out.notes.append(f"ro.product.property_source_order={order!r} names an unknown partition; init uses "
                             f"the default order {default}")
        order = default
    for fld in PRODUCT_FIELDS:
        base = f"ro.product.{fld}"
        if out.props.get(base):
            continue
        for src in order.split(","):
            value = out.props.get(f"ro.product.{src}.{fld}")
            if value:
                out.props[base] = value
                out.origin[base] = f"derived from ro.product.{src}.{fld} ({out.origin.get(f'ro.product.{src}.{fld}')})"
                break


def _derive_fingerprint(out: ResolvedProps) -> None:
    if out.props.get("ro.build.fingerprint"):
        return
    p = out.props

    def get(key: str) -> str:
        return p.get(key) or "unknown"

    release = get("ro.build.version.release_or_codename") if out.sdk >= 31 else get("ro.build.version.release")
    p["ro.build.fingerprint"] = (f"{get('ro.product.brand')}/{get('ro.product.name')}/{get('ro.product.device')}:"
                                 f"{release}/{get('ro.build.id')}/{get('ro.build.version.incremental')}:"
                                 f"{get('ro.build.type')}/{get('ro.build.tags')}")
    out.origin["ro.build.fingerprint"] = "derived from brand/name/device:release/id/incremental:type/tags"
