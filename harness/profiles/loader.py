"""Load device profiles from YAML, resolve includes and overrides, collect every error at once.

Entry point: :func:`load_profiles`. Each file is read with :func:`harness.yamlsource.load_yaml` (line
numbers, duplicate keys rejected), checked for shell metacharacters in every key and string value, then
validated into :mod:`harness.profiles.models`. Errors of all files are gathered and raised once as
:class:`harness.errors.ProfileErrors`, each rendered as ``file:line: key: message (hint)``.

Resolution order of a profile's app list: the apps of each ``include`` file in order, then the profile's own
``apps``, then ``overrides`` (each override is merged onto the app and the merged app validated again, so a
bad override value is reported at the override's line).
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import ProfileError, ProfileErrors
from harness.profiles.models import (
    CUSTOM_ERROR,
    SHELL_METACHARACTERS,
    AppSetFile,
    AppSpec,
    DeviceProfile,
    MatchSpec,
    ProfileFile,
)
from harness.yamlsource import KeyPath, Locations, load_yaml, validation_errors

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROFILES_DIR = REPO_ROOT / "device_profiles"
"""Where :func:`load_profiles` looks when given no paths."""

YAML_SUFFIXES = (".yaml", ".yml")

MAX_FILE_BYTES = 1024 * 1024
"""Largest profile or app-set file read (checked before YAML parsing: PyYAML needs seconds and ~80 bytes of memory
per byte of a huge file). The largest real profile is a few KB."""

_TYPE_HINTS = {
    "int_type": "write a whole number without quotes",
    "int_parsing": "write a whole number without quotes",
    "bool_type": "write true or false",
    "list_type": "write a list, e.g. [a, b] or one `- item` per line",
    "dict_type": "write a mapping (`key: value` lines)",
    "model_type": "write a mapping (`key: value` lines)",
    "too_short": "give at least one value (or leave the key out where it is optional)",
    "string_too_short": "give a non-empty value, or remove the key",
    "greater_than": "use a positive number",
    "greater_than_equal": "use a number >= 0",
}


def display_path(path: str | Path) -> str:
    """``path`` relative to the repository root when it lies inside it (as reports and errors show it)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(p)
    except (OSError, RuntimeError):  # a symbolic link loop: show the link itself, resolved up to its folder
        try:
            return str((p.parent.resolve() / p.name).relative_to(REPO_ROOT))
        except (ValueError, OSError, RuntimeError):
            return str(p)


def is_link_loop(path: Path) -> bool:
    """True when ``path`` is a symbolic link that never reaches a file (``loop.yaml -> loop.yaml``, a -> b -> a)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _link_loop_error(path: Path) -> ProfileError:
    """The error for a ``*.yaml`` symbolic link that loops (it names the link and where it points)."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return ProfileError(f"symbolic link loop: the link points to {target}, which leads back to itself",
                        path=display_path(path),
                        hint="point the link at a real profile or app set file, or remove it")


def format_key(loc: Iterable[str | int]) -> str:
    """``("overrides", "com.a.b", "severity")`` → ``overrides[com.a.b].severity``; ints become ``[i]``."""
    out = ""
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and ("." in part or " " in part)):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _error(path: str, locs: Locations | None, loc: KeyPath, message: str, hint: str | None = None) -> ProfileError:
    line = locs.line_for(loc) if locs is not None else None
    return ProfileError(message, path=path, line=line, key=format_key(loc) or None, hint=hint)


def _shell_scan(data: Any, locs: Locations, path: str) -> tuple[list[ProfileError], set[KeyPath]]:
    """Errors for every key or string value holding a character of :data:`SHELL_METACHARACTERS`.

    Returns the errors and the key paths reported, so the model validation does not report them again.
    """
    errors: list[ProfileError] = []
    bad: set[KeyPath] = set()

    def check(text: str, loc: KeyPath, what: str) -> None:
        found = sorted({c for c in text if c in SHELL_METACHARACTERS or ord(c) < 0x20}, key=text.index)
        if found:
            shown = " ".join(repr(c)[1:-1] if c in "\n\r" or ord(c) < 0x20 else c for c in found)
            errors.append(_error(path, locs, loc, f"{what} {text!r} contains shell metacharacter(s) {shown}",
                                 "remove them - contract values end up in adb shell commands; "
                                 "package names, versions, names and ids never need them"))
            bad.add(loc)

    def walk(node: Any, loc: KeyPath) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                sub = loc + (key if isinstance(key, str) else str(key),)
                if isinstance(key, str):
                    check(key, sub, "key")
                walk(value, sub)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, loc + (i,))
        elif isinstance(node, str):
            check(node, loc, "value")

    walk(data, ())
    return errors, bad


_EMPTY_HINTS = {
    "signers": "list the agreed SHA-256 digests, or remove `signers` (then no signer is agreed and none is checked)",
    "version": "give the rule, e.g. {exact: \"1.2.3\"}, or remove `version` (then any version is accepted)",
    "placement": "give the place, e.g. {home_screen: true} or {folder: Microsoft}, or remove `placement` (then no "
                 "placement is agreed)",
    "operators": "map each MCC-MNC to a name, e.g. {405-857: Jio}, or remove `operators` (then the operator check "
                 "does not apply)",
}


def _null_scan(data: Any, locs: Locations, path: str) -> tuple[list[ProfileError], set[KeyPath]]:
    """Errors for every key written without a value (``signers:``, ``version: ~``) and every empty list item.

    YAML reads an empty value as null, which would mean "not given" and silently switch a check off: the user
    wrote the key, so they meant a value. Only directly under an override (``overrides: {pkg: {version: null}}``)
    does null have a meaning: it removes the key from the included app (see device_profiles/README.md).
    Returns the errors and the key paths reported (the model validation does not report them again).
    """
    errors: list[ProfileError] = []
    bad: set[KeyPath] = set()

    def walk(node: Any, loc: KeyPath) -> None:
        if node is None:
            if len(loc) == 3 and loc[0] == "overrides":
                return  # `overrides: {pkg: {key: null}}` removes the key (documented)
            name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
            if isinstance(loc[-1], int):
                message, hint = "empty list item", "give it a value or remove the `-` line"
            else:
                message = f"`{name}` is present but has no value (YAML reads an empty value as null)"
                hint = _EMPTY_HINTS.get(name, f"give `{name}` a value, or remove the key if nothing is agreed")
                if loc[0] == "overrides" and len(loc) == 2:
                    hint = "give the keys to change under the package, or remove the override"
            errors.append(_error(path, locs, loc, message, hint))
            bad.add(loc)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, loc + (key if isinstance(key, str) else str(key),))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, loc + (i,))

    if isinstance(data, dict):
        walk(data, ())
    return errors, bad


def _under(loc: KeyPath, bad: set[KeyPath]) -> bool:
    return any(loc[: len(b)] == b for b in bad)


def _yaml_scalar(text: str) -> Any:
    """What YAML (1.1, as the loader reads it) makes of ``text`` written as a plain scalar; ``text`` when nothing."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _same_number(a: Any, b: Any) -> bool:
    return type(a) is type(b) and isinstance(a, (int, float)) and not isinstance(a, bool) and a == b


def _same_scalar(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _source_loc(locs: Locations, full: KeyPath) -> KeyPath:
    """``full`` (a pydantic location, whose mapping keys are the values YAML made of them) with every key that YAML
    read as a number or boolean (``460:00`` → 27600, ``0460`` → 304, ``NO`` → False) replaced by its text as
    written, as the loader's locations hold it; so the error gets the key's own line and shows the key as written."""
    out: KeyPath = ()
    for part in full:
        if out + (part,) in locs or isinstance(part, str):
            out += (part,)
            continue
        written = next((k[-1] for k in locs if len(k) == len(out) + 1 and k[:-1] == out and isinstance(k[-1], str)
                        and _same_scalar(_yaml_scalar(k[-1]), part)), None)
        out += (written if written is not None else part,)
    return out


_YAML_INT_TOKEN = re.compile(r"(?<![^\s,\[{])[-+]?(?:0[bx][0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*)"
                             r"(?=$|[\s,\]}#]|:\s|:$)")


def _odd_number_text(written: str) -> str | None:
    """The kind of number YAML 1.1 made of ``written`` when it does not look like a number to a reader:
    ``base-60`` for ``460:00``, ``octal`` for ``0460``, ``hexadecimal``/``binary``; None for plain decimals."""
    text = written.lstrip("+-")
    if ":" in text:
        return "base-60 (sexagesimal)"
    if text[:2] in ("0x", "0X"):
        return "hexadecimal"
    if text[:2] in ("0b", "0B"):
        return "binary"
    if len(text) > 1 and text[0] == "0" and text[1:].replace("_", "").isdigit():
        return "octal"
    return None


def _number_written(value: Any, line_text: str | None) -> str | None:
    """How a number YAML made (``value``) was written on ``line_text`` when YAML 1.1 read it in an odd base."""
    if line_text is None or not isinstance(value, int) or isinstance(value, bool):
        return None
    for m in _YAML_INT_TOKEN.finditer(line_text.split(" #", 1)[0]):
        if _odd_number_text(m.group()) and _same_number(_yaml_scalar(m.group()), value):
            return m.group()
    return None


def _odd_number_error(written: str, value: Any, message: str, kind: str) -> tuple[str, str]:
    """Message and hint for a value YAML read as a number in an odd base: say so and how to write it."""
    what = f"YAML 1.1 reads {written} as the {_odd_number_text(written)} number {value}"
    if "operator" in message:
        dashed = written.replace(":", "-")
        if ":" in written and re.fullmatch(r"[0-9]{3}-[0-9]{2,3}", dashed):
            return f"{what}, not an operator code", f"quote it and use a dash: '{dashed}'"
        return f"{what}, not an operator code", "write the MCC-MNC with a dash, e.g. '460-00'"
    if kind == "string_type":
        return f"{what}, not text", f"put it in quotes: \"{written}\""
    return f"{what} ({message})", f"put it in quotes: \"{written}\""


def _convert(exc: ValidationError, *, path: str, locs: Locations, model: type[BaseModel],
             prefix: KeyPath = (), skip: set[KeyPath] | None = None, source: Path | None = None) -> list[ProfileError]:
    """pydantic errors → ProfileErrors (via :func:`harness.yamlsource.validation_errors`), with better hints.

    Adds: this package's own messages and hints (``profile_value`` errors), did-you-mean for enum values,
    quoting advice for YAML values read as numbers or booleans (a key or value YAML 1.1 read in an odd base,
    ``460:00`` → 27600, is named as written: its text from the locations' keys or from ``source``'s line);
    drops errors under ``skip`` paths.
    """
    out: list[ProfileError] = []
    base = validation_errors(exc, path=path, locations=locs, model=model, prefix=prefix)
    lines: list[str] | None = None
    for err, perr in zip(exc.errors(), base, strict=True):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]")))
        is_key = "[key]" in err["loc"]
        if is_key and loc and isinstance(err.get("input"), (bool, int, float)):
            loc = loc[:-1] + (err["input"],)  # pydantic shows a key False as 0: use the key YAML made
        full = _source_loc(locs, prefix + loc)
        if skip and _under(full, skip):
            continue
        message, hint = perr.message, perr.hint
        kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
        if kind == CUSTOM_ERROR:
            message, hint = ctx["message"], ctx.get("hint")
        elif kind == "literal_error":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
            message = f"{value!r} is not allowed here"
            hint = f"did you mean `{close[0]}`?" if close else "valid values: " + ", ".join(choices)
        elif kind == "string_type":
            if isinstance(value, bool):
                hint = ("YAML reads yes/no/on/off/true/false - and the region code NO - as booleans: "
                        "put the value in quotes")
            elif isinstance(value, (int, float)):
                hint = f'YAML read this as a number: put it in quotes, e.g. "{value}"'
            else:
                hint = "write a text value"
        elif kind in _TYPE_HINTS and hint is None:
            hint = _TYPE_HINTS[kind]
        line = locs.line_for(full)
        written: str | None = None
        if is_key and full and isinstance(full[-1], str) and _odd_number_text(full[-1]):
            written = full[-1]
        elif source is not None and line is not None and isinstance(value, int) and not isinstance(value, bool):
            if lines is None:
                try:
                    lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    lines = []
            written = _number_written(value, lines[line - 1] if 0 < line <= len(lines) else None)
        if written is not None:
            message, hint = _odd_number_error(written, value, message, kind)
        out.append(ProfileError(message, path=path, line=line, key=format_key(full) or None, hint=hint))
    return out


@dataclass
class _Origin:
    """Where a resolved app's fields were written: the app entry, and the override (if any)."""

    path: str
    locs: Locations
    loc: KeyPath
    override_path: str | None = None
    override_locs: Locations | None = None
    override_loc: KeyPath = ()
    override_fields: frozenset[str] = frozenset()

    def where(self, field_name: str) -> tuple[str, Locations, KeyPath]:
        if self.override_locs is not None and self.override_path and field_name in self.override_fields:
            return self.override_path, self.override_locs, self.override_loc + (field_name,)
        return self.path, self.locs, self.loc + (field_name,)


@dataclass
class _LoadedAppSet:
    path: Path
    model: AppSetFile
    origins: dict[str, _Origin]


@dataclass
class ProfileSet:
    """The validated profiles of one :func:`load_profiles` call.

    Attributes:
        profiles: device profiles in load order (files sorted by name within a directory).
        app_sets: every app set loaded (included or given directly), by file path.
    """

    profiles: list[DeviceProfile]
    app_sets: dict[Path, AppSetFile] = field(default_factory=dict)

    def match(self, props: Mapping[str, str]) -> list[DeviceProfile]:
        """All profiles whose ``match`` accepts these ``getprop`` values (the caller treats 0 or >1 as an error)."""
        return [p for p in self.profiles if p.match.matches(props)]

    def get(self, profile_id: str) -> DeviceProfile:
        """The profile with this id; KeyError (with close ids in the message) when there is none."""
        for p in self.profiles:
            if p.id == profile_id:
                return p
        close = difflib.get_close_matches(profile_id, self.ids, n=3)
        raise KeyError(f"no profile {profile_id!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))

    @property
    def ids(self) -> list[str]:
        """Profile ids in load order."""
        return [p.id for p in self.profiles]

    def digest(self) -> str:
        """``sha256:<hex>`` over the bytes of every profile and app-set file (sorted by path): which contract a
        run checked. Files that cannot be read any more count as empty."""
        h = hashlib.sha256()
        for path in sorted({Path(p.path) for p in self.profiles} | {Path(a) for a in self.app_sets}, key=str):
            h.update(str(path.name).encode() + b"\0")
            try:
                h.update(path.read_bytes())
            except OSError:
                pass
            h.update(b"\0")
        return "sha256:" + h.hexdigest()


class _Loader:
    """One loading pass: caches app sets (each file's errors are reported once) and gathers errors."""

    def __init__(self) -> None:
        self.errors: list[ProfileError] = []
        self.app_sets: dict[Path, _LoadedAppSet | None] = {}
        self.sources: list[tuple[Locations, Path]] = []

    def source(self, locs: Locations) -> Path | None:
        """The file whose locations ``locs`` are (to quote a value as it was written)."""
        return next((path for known, path in self.sources if known is locs), None)

    def read(self, path: Path) -> tuple[Any, Locations] | None:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # load_yaml says why the file cannot be read
        if size > MAX_FILE_BYTES:
            self.errors.append(ProfileError(
                f"the file is {size} bytes: a profile or app set may be at most {MAX_FILE_BYTES // 1024 // 1024} MiB "
                f"({MAX_FILE_BYTES} bytes); it was not read", path=display_path(path),
                hint="a profile is a few KB: remove generated or pasted content such as a generated app list or a huge "
                     "comment; share apps between profiles with `include:`"))
            return None
        try:
            loaded = load_yaml(path)
            self.sources.append((loaded[1], path))
            return loaded
        except ProfileError as exc:
            if exc.path is not None:
                exc.path = display_path(exc.path)
                exc.args = (str(exc),)
            self.errors.append(exc)
            return None

    def app_set(self, path: Path, loaded: tuple[Any, Locations] | None = None) -> _LoadedAppSet | None:
        key = path.resolve()
        if key in self.app_sets:
            return self.app_sets[key]
        self.app_sets[key] = None
        loaded = loaded or self.read(path)
        if loaded is None:
            return None
        data, locs = loaded
        disp = display_path(path)
        n_before = len(self.errors)
        if not isinstance(data, dict):
            self.errors.append(_error(disp, locs, (), "an app set must be a mapping with `app_set:` and `apps:`",
                                      "start the file with `app_set: <name>`"))
            return None
        if "profile" in data and "app_set" not in data:
            self.errors.append(_error(disp, locs, ("profile",), "this file is a device profile, not an app set",
                                      "include only files under apps/ that start with `app_set:`"))
            return None
        shell_errors, bad = _shell_scan(data, locs, disp)
        null_errors, null_bad = _null_scan(data, locs, disp)
        self.errors += shell_errors + null_errors
        bad |= null_bad
        try:
            model = AppSetFile.model_validate(data)
        except ValidationError as exc:
            self.errors += _convert(exc, path=disp, locs=locs, model=AppSetFile, skip=bad, source=self.source(locs))
            return None
        if model.app_set != path.stem:
            self.errors.append(_error(disp, locs, ("app_set",), f"app_set {model.app_set!r} differs from the file name",
                                      f"write `app_set: {path.stem}` or rename the file to {model.app_set}.yaml"))
        if not model.apps:
            self.errors.append(_error(disp, locs, ("apps",), "the app set has no apps", "list at least one app"))
        origins: dict[str, _Origin] = {}
        for i, app in enumerate(model.apps):
            if app.package in origins:
                first = origins[app.package]
                self.errors.append(_error(disp, locs, ("apps", i, "package"),
                                          f"package {app.package} is listed twice (first at line "
                                          f"{first.locs.line_for(first.loc)})", "remove one of the entries"))
                continue
            app._source = f"{disp}:{locs.line_for(('apps', i))}"
            origins[app.package] = _Origin(disp, locs, ("apps", i))
        if len(self.errors) != n_before:
            return None
        result = _LoadedAppSet(path, model, origins)
        self.app_sets[key] = result
        return result

    def _include(self, profile_path: Path, disp: str, locs: Locations, i: int, inc: str) -> _LoadedAppSet | None:
        loc: KeyPath = ("include", i)
        rel = Path(inc)
        if rel.is_absolute() or ".." in rel.parts or rel.suffix not in YAML_SUFFIXES:
            self.errors.append(_error(disp, locs, loc, f"include {inc!r} is not a relative path to a .yaml file",
                                      "write it relative to the profile's folder, e.g. apps/microsoft-office.yaml"))
            return None
        target = profile_path.parent / rel
        if is_link_loop(target):
            self.errors.append(_error(disp, locs, loc, f"include {inc!r} is a symbolic link loop",
                                      f"{display_path(target)} points to {os.readlink(target)}, which leads back "
                                      "to itself: point the link at the app set file, or include the real file"))
            return None
        if not target.is_file():
            known = self._yaml_files_beside(profile_path)
            close = difflib.get_close_matches(inc, known, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else (
                "existing files: " + ", ".join(known) if known else "create the app set file")
            self.errors.append(_error(disp, locs, loc,
                                      f"include file {inc!r} not found (looked for {display_path(target)})", hint))
            return None
        return self.app_set(target)

    def _yaml_files_beside(self, profile_path: Path) -> list[str]:
        """The YAML files under the profile's folder (relative paths, for "did you mean"); a symbolic link loop
        among them is reported as an error naming it, never a crash."""
        folder = profile_path.parent
        own = profile_path.resolve()
        known = []
        try:
            candidates = sorted(folder.glob("**/*.y*ml"))
        except OSError:
            return []
        for p in candidates:
            if p.suffix not in YAML_SUFFIXES:
                continue
            if is_link_loop(p):
                self.errors.append(_link_loop_error(p))
                continue
            try:
                if p.resolve() == own:
                    continue
            except (OSError, RuntimeError):
                continue
            known.append(str(p.relative_to(folder)))
        return known

    def profile(self, path: Path, data: dict[str, Any], locs: Locations) -> DeviceProfile | None:
        disp = display_path(path)
        n_before = len(self.errors)
        shell_errors, bad = _shell_scan(data, locs, disp)
        null_errors, null_bad = _null_scan(data, locs, disp)
        self.errors += shell_errors + null_errors
        bad |= null_bad
        doc: ProfileFile | None = None
        try:
            doc = ProfileFile.model_validate(data)
        except ValidationError as exc:
            self.errors += _convert(exc, path=disp, locs=locs, model=ProfileFile, skip=bad, source=self.source(locs))
        if doc is not None and doc.profile != path.stem:
            self.errors.append(_error(disp, locs, ("profile",),
                                      f"profile id {doc.profile!r} differs from the file name",
                                      f"write `profile: {path.stem}` or rename the file to {doc.profile}.yaml"))

        includes: list[_LoadedAppSet] = []
        includes_ok = True
        raw_includes = data.get("include")
        if isinstance(raw_includes, list):
            for i, inc in enumerate(raw_includes):
                if not isinstance(inc, str) or not inc or _under(("include", i), bad):
                    includes_ok = False
                    continue
                loaded = self._include(path, disp, locs, i, inc)
                if loaded is None:
                    includes_ok = False
                elif any(loaded is other for other in includes):
                    self.errors.append(_error(disp, locs, ("include", i), f"{inc!r} is included twice",
                                              "remove the duplicate"))
                    includes_ok = False
                else:
                    includes.append(loaded)

        if doc is None or not includes_ok:
            self._check_overrides_alone(data, locs, disp, bad)
            return None
        apps = self._resolve(doc, includes, disp, locs, bad)
        if len(self.errors) != n_before or apps is None:
            return None
        return DeviceProfile(id=doc.profile, name=doc.name, path=path, match=doc.match, regions=list(doc.regions),
                             operators=dict(doc.operators) if doc.operators is not None else None, apps=apps)

    def _check_overrides_alone(self, data: dict[str, Any], locs: Locations, disp: str, bad: set[KeyPath]) -> None:
        """Validate override values even when the profile cannot be resolved (so all errors show at once)."""
        overrides = data.get("overrides")
        if not isinstance(overrides, dict):
            return
        for pkg, raw in overrides.items():
            if not isinstance(pkg, str) or not isinstance(raw, dict):
                continue
            fields = {k: v for k, v in raw.items() if k != "package"}
            try:
                AppSpec.model_validate({"package": "placeholder.app", "name": "placeholder", **fields})
            except ValidationError as exc:
                self.errors += _convert(exc, path=disp, locs=locs, model=AppSpec, prefix=("overrides", pkg), skip=bad,
                                        source=self.source(locs))

    def _resolve(self, doc: ProfileFile, includes: list[_LoadedAppSet], disp: str, locs: Locations,
                 bad: set[KeyPath]) -> list[AppSpec] | None:
        apps: dict[str, AppSpec] = {}
        origins: dict[str, _Origin] = {}
        for aset in includes:
            for app in aset.model.apps:
                if app.package in apps:
                    self.errors.append(_error(disp, locs, ("include",),
                                              f"package {app.package} comes from two includes "
                                              f"({apps[app.package].source} and {app.source})",
                                              "keep each app in one app set"))
                    continue
                apps[app.package] = app
                origins[app.package] = aset.origins[app.package]
        for i, app in enumerate(doc.apps):
            if app.package in apps:
                self.errors.append(_error(disp, locs, ("apps", i, "package"),
                                          f"package {app.package} is already defined at {apps[app.package].source}",
                                          "change its fields under `overrides:` instead of listing it again"))
                continue
            app._source = f"{disp}:{locs.line_for(('apps', i))}"
            apps[app.package] = app
            origins[app.package] = _Origin(disp, locs, ("apps", i))

        for pkg, raw in doc.overrides.items():
            loc: KeyPath = ("overrides", pkg)
            if _under(loc, bad):
                continue
            if pkg not in apps:
                close = difflib.get_close_matches(pkg, list(apps), n=1, cutoff=0.6)
                self.errors.append(_error(disp, locs, loc, f"override for package {pkg}, which is not in this profile",
                                          f"did you mean `{close[0]}`?" if close else
                                          "packages of this profile: " + ", ".join(apps) if apps else
                                          "include an app set or add the app under `apps:`"))
                continue
            fields = dict(raw)
            if "package" in fields:
                self.errors.append(_error(disp, locs, loc + ("package",), "an override cannot change `package`",
                                          "use `package_by_region` for a regional package name, or list the other "
                                          "package under `apps:`"))
                del fields["package"]
            base = apps[pkg]
            try:
                merged = AppSpec.model_validate({**base.model_dump(exclude_unset=True), **fields})
            except ValidationError as exc:
                self.errors += _convert(exc, path=disp, locs=locs, model=AppSpec, prefix=loc, skip=bad,
                                        source=self.source(locs))
                continue
            merged._source = base.source
            merged._override_source = f"{disp}:{locs.line_for(loc)}"
            apps[pkg] = merged
            o = origins[pkg]
            origins[pkg] = _Origin(o.path, o.locs, o.loc, disp, locs, loc, frozenset(fields))

        regions = set(doc.regions)
        for pkg, app in apps.items():
            if app.required_in is not None:
                extra = [r for r in app.required_in if r not in regions]
                if extra:
                    path, where_locs, loc = origins[pkg].where("required_in")
                    self.errors.append(_error(
                        path, where_locs, loc,
                        f"required_in lists {', '.join(extra)}, not among the regions of profile {doc.profile} "
                        f"({', '.join(doc.regions)})",
                        "required_in must be a subset of the profile's `regions`: add the region there or remove it"))
        self._contradictions(doc, apps, origins)
        if not apps:
            anchor: KeyPath = ("include",) if "include" in doc.model_fields_set else ("apps",)
            self.errors.append(_error(disp, locs, anchor, "the profile has no apps (after includes)",
                                      "add `include: [apps/<set>.yaml]` or an `apps:` list"))
            return None
        return list(apps.values())


    def _contradictions(self, doc: ProfileFile, apps: dict[str, AppSpec], origins: dict[str, _Origin]) -> None:
        """Rules that cannot all hold on one device of this profile (each an error at the key that says it)."""
        regions, operators = set(doc.regions), set(doc.operators or {})
        packages = set(apps)

        def error(pkg: str, field_name: str, message: str, hint: str) -> None:
            path, where_locs, loc = origins[pkg].where(field_name)
            self.errors.append(_error(path, where_locs, loc, message, hint))

        for pkg, app in apps.items():
            for field_name, keys in (("version_by_region", app.version_by_region),
                                     ("package_by_region", app.package_by_region)):
                extra = [r for r in keys if r not in regions]
                if extra:
                    error(pkg, field_name, f"{field_name} names {', '.join(extra)}, not among the regions of profile "
                          f"{doc.profile} ({', '.join(doc.regions)})",
                          f"remove those entries (override `{field_name}` for this profile if the app set is shared) "
                          "or add the region to `regions`")
            clash = {r: p for r, p in app.package_by_region.items() if p in packages and p != pkg}
            if clash:
                error(pkg, "package_by_region", "package_by_region maps " + ", ".join(
                    f"{r} to {p}" for r, p in clash.items()) + f", which is another app of profile {doc.profile}",
                    "two apps of one profile cannot be the same package: use the regional package name of THIS app")
            for field_name, codes in (("required_on", app.required_on or []),
                                      ("version_by_operator", list(app.version_by_operator))):
                extra = [c for c in codes if c not in operators]
                if extra:
                    agreed = ", ".join(doc.operators or {}) or "none"
                    error(pkg, field_name, f"{field_name} names operator {', '.join(extra)}, not among the operators "
                          f"of profile {doc.profile} ({agreed})",
                          "list the operator under the profile's `operators:` (MCC-MNC: name) or remove the entry")
            if app.install_kind == "system" and app.partitions is not None and set(app.partitions) <= {"data"}:
                error(pkg, "partitions", "install_kind: system with partitions: [data] can never hold: a factory "
                      "system app lives on a read-only partition, and an update in /data (allow_updated) is judged "
                      "by its factory copy's partition",
                      "list the system partitions the APK may be on (system, product, ...), or use install_kind: any")


def _profile_key_hint(data: Any) -> str:
    if isinstance(data, dict):
        keys = [str(k) for k in data]
        close = difflib.get_close_matches("profile", keys, n=1, cutoff=0.6)
        if close:
            return f"`{close[0]}` - did you mean `profile`?"
    return "a device profile starts with `profile: <id>` (the file name without .yaml); an app set with `app_set:`"


def _may_match_same_device(a: MatchSpec, b: MatchSpec) -> bool:
    """True when some device could match both specs (decidable cases only).

    Two specs are disjoint when a key given by both has no common value, or when both give different
    fingerprint patterns (regexes cannot be compared, so different patterns are trusted to be disjoint).
    """
    for key in MatchSpec.PROPS:
        va, vb = getattr(a, key), getattr(b, key)
        if va is not None and vb is not None and not set(va) & set(vb):
            return False
    return not (a.fingerprint is not None and b.fingerprint is not None and a.fingerprint != b.fingerprint)


def _not_a_file(path: Path) -> ProfileError:
    """The error for a ``*.yaml`` name that is not a regular file: a dangling link, a directory, a device node."""
    disp = display_path(path) if not path.is_symlink() else str(path)
    if is_link_loop(path):
        return _link_loop_error(path)
    if path.is_symlink() and not path.exists():
        return ProfileError(f"dangling symbolic link (its target {os.readlink(path)} does not exist)", path=disp,
                            hint="point the link at an existing profile, or remove it")
    if path.is_dir():
        return ProfileError("is a directory, not a YAML file", path=disp,
                            hint="rename it (only profile files may end in .yaml) or move it out of this directory")
    return ProfileError("is not a regular file", path=disp, hint="profiles are plain *.yaml text files")


def _overlap_errors(profiles: Sequence[DeviceProfile]) -> list[ProfileError]:
    """One error per group of profiles whose matches overlap (connected through pairs that could match one device).

    500 copies of one profile give one error naming the 500 files, not 124 750 pair errors. The error is reported
    at the ``match`` of the group's first file; the message gives the first overlapping pair as an example.
    """
    parent = list(range(len(profiles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    example: dict[int, tuple[int, int]] = {}
    for i, first in enumerate(profiles):
        for j in range(i + 1, len(profiles)):
            if _may_match_same_device(first.match, profiles[j].match):
                ri, rj = root(i), root(j)
                if ri != rj:
                    parent[rj] = ri
                    example.setdefault(ri, example.pop(rj, (i, j)))
    groups: dict[int, list[int]] = {}
    for i in range(len(profiles)):
        groups.setdefault(root(i), []).append(i)
    errors = []
    for r, members in groups.items():
        if len(members) < 2:
            continue
        a, b = example.get(r, (members[0], members[1]))
        names = sorted(display_path(profiles[m].path) for m in members)
        first = profiles[members[0]]
        errors.append(ProfileError(
            f"match overlaps in {len(members)} profiles ({', '.join(names)}): a device could match more than one, "
            f"e.g. {profiles[a].id!r} and {profiles[b].id!r} both match {profiles[b].match.describe()}",
            path=display_path(first.path), key="match",
            hint="make the model/device/name lists disjoint, or tell ROM builds apart with `fingerprint`"))
    return errors


def load_profiles(paths: Sequence[str | Path] | str | Path | None = None) -> ProfileSet:
    """Load, validate and resolve device profiles.

    Args:
        paths: files and/or directories. None means the repository's ``device_profiles/`` directory. A
            directory contributes every ``*.yaml`` directly inside it that has a top-level ``profile:`` key
            (app sets there are skipped: they are loaded through ``include``; a file with neither
            ``profile:`` nor ``app_set:`` is an error). A file given directly may be a profile or an app set
            (validated alone).

    Returns:
        A :class:`ProfileSet` with every profile resolved.

    Raises:
        ProfileErrors: every problem found in every file (YAML syntax, duplicate keys, unknown keys,
            invalid values, missing includes, unknown override packages, ...), each with file, line, key
            and a hint. Raised once, after all files were read.
    """
    if paths is None:
        paths = [DEFAULT_PROFILES_DIR]
    elif isinstance(paths, (str, Path)):
        paths = [paths]
    loader = _Loader()
    files: list[tuple[Path, bool]] = []
    seen: set[Path] = set()
    for given in paths:
        p = Path(given)
        if p.is_dir():
            named = sorted(f for f in p.iterdir() if f.suffix in YAML_SUFFIXES)
            found = [f for f in named if f.is_file()]
            loader.errors += [_not_a_file(f) for f in named if not f.is_file()]
            if not named:
                loader.errors.append(ProfileError("no .yaml files in this directory", path=display_path(p),
                                                  hint="give the device_profiles directory or profile files"))
            files += [(f, False) for f in found]
        elif p.is_file():
            files.append((p, True))
        elif p.is_symlink():
            loader.errors.append(_not_a_file(p))
        else:
            loader.errors.append(ProfileError("file or directory not found", path=str(given), hint="check the path"))

    profiles: list[DeviceProfile] = []
    by_id: dict[str, DeviceProfile] = {}
    for path, explicit in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        loaded = loader.read(path)
        if loaded is None:
            continue
        data, locs = loaded
        disp = display_path(path)
        if isinstance(data, dict) and "profile" in data:
            prof = loader.profile(path, data, locs)
            if prof is None:
                continue
            if prof.id in by_id:
                loader.errors.append(_error(disp, locs, ("profile",), f"profile id {prof.id!r} is used twice "
                                            f"(also {display_path(by_id[prof.id].path)})",
                                            "give each profile its own id"))
                continue
            by_id[prof.id] = prof
            profiles.append(prof)
        elif isinstance(data, dict) and "app_set" in data:
            if explicit:
                loader.app_set(path, loaded)
        elif data is None:
            loader.errors.append(ProfileError("the file is empty", path=disp,
                                              hint="a device profile starts with `profile: <id>`"))
        else:
            loader.errors.append(_error(disp, locs, (), "not a device profile: no top-level `profile:` key",
                                        _profile_key_hint(data)))
    loader.errors += _overlap_errors(profiles)
    if not loader.errors and not profiles and not any(explicit for _, explicit in files):
        loader.errors.append(ProfileError("no device profiles found", path=", ".join(str(p) for p in paths),
                                          hint="profiles are *.yaml files with a top-level `profile:` key"))
    if loader.errors:
        unique: dict[str, ProfileError] = {}
        for err in loader.errors:
            unique.setdefault(str(err), err)
        ordered = sorted(unique.values(), key=lambda e: (e.path or "", e.line or 0))
        raise ProfileErrors(ordered)
    app_sets = {s.path: s.model for s in loader.app_sets.values() if s is not None}
    return ProfileSet(profiles=profiles, app_sets=app_sets)
